//! Reorganisation (机构改革): a unit renamed, units merged into one, a unit split into new ones,
//! each taking effect on a date (SPEC "Tenancy and organisation"). Records keep the unit ids
//! they were made with, so history stays attributed to the unit as it was: a dissolved unit
//! keeps its id and name, a renamed unit keeps its former names with the day each ended.
//!
//! A reorganisation is a small state machine: it is `planned` until its effective date, then
//! `applied` (by the store, on the day, inside one transaction); a planned one may be
//! `cancelled`. Applied and cancelled are final.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;

/// What a reorganisation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReorgKind {
    /// 更名: one unit gets a new name; its id, code and records stay.
    Rename,
    /// 合并: several units are dissolved into one (existing or new); their staff, sub-units,
    /// windows and accounts move to it.
    Merge,
    /// 拆分: new units are made from one; named staff, sub-units and accounts move to them; the
    /// source may be kept or dissolved.
    Split,
}

impl ReorgKind {
    /// Every kind.
    pub const ALL: [ReorgKind; 3] = [ReorgKind::Rename, ReorgKind::Merge, ReorgKind::Split];

    /// The name used in code, tables and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            ReorgKind::Rename => "rename",
            ReorgKind::Merge => "merge",
            ReorgKind::Split => "split",
        }
    }
}

impl fmt::Display for ReorgKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ReorgKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ReorgKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("未知的调整类型“{s}”，应为 rename、merge 或 split"))
    }
}

/// Where a reorganisation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReorgState {
    /// Recorded; takes effect on its date.
    Planned,
    /// Carried out.
    Applied,
    /// Withdrawn before its date.
    Cancelled,
}

impl ReorgState {
    /// Every state.
    pub const ALL: [ReorgState; 3] = [
        ReorgState::Planned,
        ReorgState::Applied,
        ReorgState::Cancelled,
    ];

    /// The name used in code, tables and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            ReorgState::Planned => "planned",
            ReorgState::Applied => "applied",
            ReorgState::Cancelled => "cancelled",
        }
    }
}

impl FromStr for ReorgState {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ReorgState::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown reorganisation state {s:?}"))
    }
}

/// What may happen to a reorganisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReorgAction {
    /// Carry it out; only on or after its effective date.
    Apply,
    /// Withdraw it.
    Cancel,
}

/// Why an action is refused, in words for the clerk.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReorgRefusal {
    /// The effective date has not come.
    #[error("生效日期 {0} 未到，到期后自动执行")]
    NotYetDue(NaiveDate),
    /// Already carried out: an applied reorganisation is undone by another one.
    #[error("该机构调整已生效，不能撤销或再次执行；如需恢复，请另行登记调整")]
    AlreadyApplied,
    /// Withdrawn.
    #[error("该机构调整已撤销")]
    Cancelled,
}

/// The state after `action` on a reorganisation in `state` effective on `effective_on`,
/// when today (in Asia/Shanghai) is `today`.
pub fn next(
    state: ReorgState,
    action: ReorgAction,
    effective_on: NaiveDate,
    today: NaiveDate,
) -> Result<ReorgState, ReorgRefusal> {
    match (state, action) {
        (ReorgState::Planned, ReorgAction::Apply) if effective_on > today => {
            Err(ReorgRefusal::NotYetDue(effective_on))
        }
        (ReorgState::Planned, ReorgAction::Apply) => Ok(ReorgState::Applied),
        (ReorgState::Planned, ReorgAction::Cancel) => Ok(ReorgState::Cancelled),
        (ReorgState::Applied, _) => Err(ReorgRefusal::AlreadyApplied),
        (ReorgState::Cancelled, _) => Err(ReorgRefusal::Cancelled),
    }
}

/// A unit's name on `day`: the earliest former name still in use that day (a former name is
/// in use until the day its successor took effect, exclusive), else the current name.
/// `former` holds `(until, name)` pairs in any order.
pub fn name_on<'a>(current: &'a str, former: &'a [(NaiveDate, String)], day: NaiveDate) -> &'a str {
    former
        .iter()
        .filter(|(until, _)| day < *until)
        .min_by_key(|(until, _)| *until)
        .map_or(current, |(_, name)| name.as_str())
}

#[cfg(test)]
mod tests {
    use super::ReorgAction::*;
    use super::ReorgState::*;
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn every_state_and_action_has_the_written_outcome() {
        let due = d("2026-12-01");
        // (state, action, today, expected)
        let table: [(
            ReorgState,
            ReorgAction,
            &str,
            Result<ReorgState, ReorgRefusal>,
        ); 12] = [
            (
                Planned,
                Apply,
                "2026-11-30",
                Err(ReorgRefusal::NotYetDue(due)),
            ),
            (Planned, Apply, "2026-12-01", Ok(Applied)),
            (Planned, Apply, "2027-03-01", Ok(Applied)),
            (Planned, Cancel, "2026-11-30", Ok(Cancelled)),
            (Planned, Cancel, "2026-12-02", Ok(Cancelled)),
            (
                Applied,
                Apply,
                "2026-11-30",
                Err(ReorgRefusal::AlreadyApplied),
            ),
            (
                Applied,
                Apply,
                "2026-12-02",
                Err(ReorgRefusal::AlreadyApplied),
            ),
            (
                Applied,
                Cancel,
                "2026-11-30",
                Err(ReorgRefusal::AlreadyApplied),
            ),
            (
                Applied,
                Cancel,
                "2026-12-02",
                Err(ReorgRefusal::AlreadyApplied),
            ),
            (Cancelled, Apply, "2026-12-02", Err(ReorgRefusal::Cancelled)),
            (
                Cancelled,
                Cancel,
                "2026-11-30",
                Err(ReorgRefusal::Cancelled),
            ),
            (
                Cancelled,
                Cancel,
                "2026-12-02",
                Err(ReorgRefusal::Cancelled),
            ),
        ];
        for (state, action, today, expected) in &table {
            assert_eq!(
                next(*state, *action, due, d(today)),
                *expected,
                "{state:?} × {action:?} on {today}"
            );
        }
        // the table covers every state × action
        for state in ReorgState::ALL {
            for action in [Apply, Cancel] {
                assert!(
                    table.iter().any(|(s, a, ..)| *s == state && *a == action),
                    "{state:?} × {action:?} missing"
                );
            }
        }
    }

    #[test]
    fn refusals_speak_to_the_clerk() {
        assert_eq!(
            ReorgRefusal::NotYetDue(d("2027-01-01")).to_string(),
            "生效日期 2027-01-01 未到，到期后自动执行"
        );
    }

    #[test]
    fn names_on_a_day_follow_the_renames() {
        // 区工信局 until 2025-03-01, then 区科工局 until 2026-12-01, now 区科技和工业信息化局
        let former = vec![
            (d("2026-12-01"), "区科工局".to_owned()),
            (d("2025-03-01"), "区工信局".to_owned()),
        ];
        let current = "区科技和工业信息化局";
        assert_eq!(name_on(current, &former, d("2024-06-30")), "区工信局");
        assert_eq!(name_on(current, &former, d("2025-02-28")), "区工信局");
        assert_eq!(name_on(current, &former, d("2025-03-01")), "区科工局");
        assert_eq!(name_on(current, &former, d("2026-11-30")), "区科工局");
        assert_eq!(name_on(current, &former, d("2026-12-01")), current);
        assert_eq!(name_on(current, &[], d("2000-01-01")), current);
    }

    #[test]
    fn kinds_and_states_round_trip() {
        for kind in ReorgKind::ALL {
            assert_eq!(kind.as_str().parse::<ReorgKind>(), Ok(kind));
        }
        for state in ReorgState::ALL {
            assert_eq!(state.as_str().parse::<ReorgState>(), Ok(state));
        }
        assert!("abolish".parse::<ReorgKind>().is_err());
    }
}
