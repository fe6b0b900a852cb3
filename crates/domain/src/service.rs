//! Service items (事项) and cases (办件), SPEC "Service items and cases": an item's time limits,
//! visits and handling levels; a case's status, visits and times; the one-visit (一次办成),
//! on-time and average-days figures of a set of completed cases.

use chrono::{DateTime, Utc};

named!(
    /// Where a case stands, as the provincial platform reports it.
    CaseStatus, "办件状态", {
        /// 受理: received.
        Received = "received" / "受理",
        /// 办理中: being handled.
        Processing = "processing" / "办理中",
        /// 办结: completed; the only status counted in the figures.
        Completed = "completed" / "办结",
        /// 不予受理: refused.
        Refused = "refused" / "不予受理",
        /// 退件: returned to the applicant.
        Withdrawn = "withdrawn" / "退件",
    }
);

impl CaseStatus {
    /// Whether the case has ended (办结, 不予受理 or 退件): it then has a completion time.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            CaseStatus::Completed | CaseStatus::Refused | CaseStatus::Withdrawn
        )
    }
}

named!(
    /// Where an item can be handled (the extension to streets and communities).
    HandlingLevel, "办理层级", {
        /// 区级: at the district hall.
        District = "district" / "区级",
        /// 街道: at a street's service centre.
        Street = "street" / "街道",
        /// 社区: at a community's service station.
        Community = "community" / "社区",
    }
);

/// A field refused with a clerk's message (shared by services and ratings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct FieldRefusal {
    /// The field at fault.
    pub field: &'static str,
    /// Why.
    pub message: &'static str,
}

pub(crate) fn refuse(field: &'static str, message: &'static str) -> Result<(), FieldRefusal> {
    Err(FieldRefusal { field, message })
}

/// Most visits an item may ask for.
pub const MAX_ITEM_VISITS: u32 = 10;
/// Most visits a case may record (a larger number is a data error).
pub const MAX_CASE_VISITS: u32 = 50;

/// The rules-bearing facts of a service item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemFacts {
    /// Promised time (承诺时限), in working days.
    pub promised_days: u32,
    /// Legal time (法定时限), in working days.
    pub legal_days: u32,
    /// Most visits the applicant makes (0 = fully online, 1 = one visit).
    pub max_visits: u32,
    /// Where it can be handled.
    pub levels: Vec<HandlingLevel>,
}

impl ItemFacts {
    /// Checks the limits (1 to 366 working days, the promise within the legal time), the
    /// visits (0 to 10) and the levels (at least one, none twice).
    pub fn validate(&self) -> Result<(), FieldRefusal> {
        if !(1..=366).contains(&self.promised_days) {
            return refuse("promised_days", "承诺时限应为 1 至 366 个工作日");
        }
        if !(1..=366).contains(&self.legal_days) {
            return refuse("legal_days", "法定时限应为 1 至 366 个工作日");
        }
        if self.promised_days > self.legal_days {
            return refuse("promised_days", "承诺时限不能长于法定时限");
        }
        if self.max_visits > MAX_ITEM_VISITS {
            return refuse("max_visits", "最多跑动次数应为 0 至 10 次");
        }
        if self.levels.is_empty() {
            return refuse("levels", "请至少选择一个办理层级");
        }
        for (i, level) in self.levels.iter().enumerate() {
            if self.levels[..i].contains(level) {
                return refuse("levels", "办理层级不能重复");
            }
        }
        Ok(())
    }
}

/// Checks a case's status against its times and visits: an ended case (办结, 不予受理, 退件)
/// has a completion time no earlier than its receipt, an open one has none; at most 50 visits.
pub fn check_case(
    status: CaseStatus,
    visits: u32,
    received_at: DateTime<Utc>,
    completed_at: Option<DateTime<Utc>>,
) -> Result<(), FieldRefusal> {
    if visits > MAX_CASE_VISITS {
        return refuse("visits", "跑动次数应为 0 至 50 次");
    }
    match completed_at {
        None if status.is_final() => {
            refuse("completed_at", "办结、不予受理或退件的办件须填写办结时间")
        }
        Some(_) if !status.is_final() => {
            refuse("completed_at", "受理或办理中的办件不能填写办结时间")
        }
        Some(done) if done < received_at => refuse("completed_at", "办结时间不能早于受理时间"),
        _ => Ok(()),
    }
}

/// Most pauses (补正) a case may record.
pub const MAX_CASE_PAUSES: usize = 20;

/// A time the case's clock stood still, waiting for the applicant's materials (补正): from
/// the request for materials until they came in (`to`), or still waiting (`None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CasePause {
    /// When the materials were asked for.
    pub from: DateTime<Utc>,
    /// When they came in; `None` while the case still waits for them.
    pub to: Option<DateTime<Utc>>,
}

/// Checks a case's pauses against its times: each within receipt and completion, in order
/// and apart, ended unless it is the last of a case not yet ended; at most 20.
pub fn check_pauses(
    status: CaseStatus,
    received_at: DateTime<Utc>,
    completed_at: Option<DateTime<Utc>>,
    pauses: &[CasePause],
) -> Result<(), FieldRefusal> {
    if pauses.len() > MAX_CASE_PAUSES {
        return refuse("pauses", "补正（等待申请人补齐材料）最多记录 20 次");
    }
    let mut previous_end = received_at;
    for (i, pause) in pauses.iter().enumerate() {
        if pause.from < previous_end {
            return refuse(
                "pauses",
                if i == 0 {
                    "补正开始时间不能早于受理时间"
                } else {
                    "补正时段须按时间先后排列，且不能重叠"
                },
            );
        }
        match pause.to {
            Some(to) if to < pause.from => {
                return refuse("pauses", "补正结束时间不能早于开始时间");
            }
            Some(to) => previous_end = to,
            None if status.is_final() => {
                return refuse("pauses", "已办结、不予受理或退件的办件，补正须填写结束时间");
            }
            None if i + 1 < pauses.len() => {
                return refuse("pauses", "只有最后一次补正可以尚未结束");
            }
            None => previous_end = pause.from,
        }
        if completed_at.is_some_and(|done| previous_end > done) {
            return refuse("pauses", "补正时段不能晚于办结时间");
        }
    }
    Ok(())
}

/// Working days a completed case took: from receipt to completion on the working-day calendar
/// (holidays and make-up workdays), less the working days its pauses held the clock. Pauses
/// must have passed [`check_pauses`].
pub fn case_working_days(
    calendar: &crate::calendar::Calendar,
    received_at: DateTime<Utc>,
    completed_at: DateTime<Utc>,
    pauses: &[CasePause],
) -> Result<crate::calendar::Dated<u32>, crate::calendar::CalendarError> {
    let day = |t: DateTime<Utc>| t.with_timezone(&crate::calendar::shanghai()).date_naive();
    let total = calendar.working_days_between(day(received_at), day(completed_at))?;
    let mut value = total.value;
    let mut provisional = total.provisional;
    for pause in pauses {
        let to = pause.to.unwrap_or(completed_at).min(completed_at);
        let held = calendar.working_days_between(day(pause.from), day(to.max(pause.from)))?;
        value = value.saturating_sub(held.value);
        provisional |= held.provisional;
    }
    Ok(crate::calendar::Dated { value, provisional })
}

/// The figures of a set of completed cases.
#[derive(Default, Clone, Copy, Debug, PartialEq)]
pub struct CaseCounts {
    /// Completed cases (办结).
    pub completed: u64,
    /// Of those, with at most one visit.
    pub one_visit: u64,
    /// Of those, within the item's promised time.
    pub on_time: u64,
    /// Working days taken, summed over them.
    pub working_days: u64,
}

fn ratio(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

impl CaseCounts {
    /// 一次办成率: completed cases with at most one visit ÷ completed cases.
    pub fn one_visit_rate(&self) -> Option<f64> {
        ratio(self.one_visit, self.completed)
    }

    /// On-time rate: completed within the promised time ÷ completed cases.
    pub fn on_time_rate(&self) -> Option<f64> {
        ratio(self.on_time, self.completed)
    }

    /// Average working days taken by a completed case.
    pub fn average_days(&self) -> Option<f64> {
        ratio(self.working_days, self.completed)
    }

    /// Adds another set's counts (e.g. summing units into a department).
    pub fn add(&mut self, other: &CaseCounts) {
        self.completed += other.completed;
        self.one_visit += other.one_visit;
        self.on_time += other.on_time;
        self.working_days += other.working_days;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// An instant in Shanghai time.
    fn sh(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        crate::calendar::shanghai()
            .with_ymd_and_hms(y, m, d, h, 0, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn pause(from: DateTime<Utc>, to: Option<DateTime<Utc>>) -> CasePause {
        CasePause { from, to }
    }

    #[test]
    fn pauses_take_their_working_days_off_across_holidays_and_make_up_days() {
        let cal = crate::calendar::Calendar::shipped();
        // received Mon 2026-09-21, completed Fri 2026-10-16. Working days in between (after
        // the receipt day): 9-22..9-24 (3), 9-25..9-27 中秋 off, 9-28..9-30 (3), 10-01..10-07
        // 国庆 off, 10-08, 10-09 (2), make-up Sat 10-10 (1), 10-12..10-16 (5) = 14
        let received = sh(2026, 9, 21, 9);
        let done = sh(2026, 10, 16, 16);
        let none = case_working_days(&cal, received, done, &[]).unwrap();
        assert_eq!(none.value, 14);
        assert!(!none.provisional);
        // waiting from Wed 9-23 to Fri 10-09: 9-24, 9-28..9-30, 10-08, 10-09 = 6 held
        let one = [pause(sh(2026, 9, 23, 10), Some(sh(2026, 10, 9, 15)))];
        assert_eq!(
            case_working_days(&cal, received, done, &one).unwrap().value,
            8
        );
        // a pause over the make-up Saturday holds it: Fri 10-09 to Mon 10-12 = 10-10, 10-12
        let weekend = [pause(sh(2026, 10, 9, 17), Some(sh(2026, 10, 12, 9)))];
        assert_eq!(
            case_working_days(&cal, received, done, &weekend)
                .unwrap()
                .value,
            12
        );
        // a pause within one day holds no whole working day
        let ordinary = [pause(sh(2026, 10, 16, 9), Some(sh(2026, 10, 16, 15)))];
        assert_eq!(
            case_working_days(&cal, received, done, &ordinary)
                .unwrap()
                .value,
            14,
            "a pause within one day holds no whole working day"
        );
        // two pauses add up: 6 + 2
        let two = [one[0], weekend[0]];
        assert_eq!(
            case_working_days(&cal, received, done, &two).unwrap().value,
            6
        );
        // a pause over a holiday alone holds nothing: 10-01 .. 10-07
        let holiday = [pause(sh(2026, 10, 1, 9), Some(sh(2026, 10, 7, 9)))];
        assert_eq!(
            case_working_days(&cal, received, done, &holiday)
                .unwrap()
                .value,
            14
        );
        // a year without a schedule is provisional
        let later = case_working_days(&cal, sh(2027, 3, 1, 9), sh(2027, 3, 5, 9), &[]).unwrap();
        assert_eq!((later.value, later.provisional), (4, true));
    }

    #[test]
    fn pauses_are_checked_against_the_case_times() {
        use CaseStatus::*;
        let received = sh(2026, 11, 2, 9);
        let done = Some(sh(2026, 11, 20, 16));
        let ok = |status, done, pauses: &[CasePause]| check_pauses(status, received, done, pauses);
        let message = |r: Result<(), FieldRefusal>| r.unwrap_err().message;
        let a = pause(sh(2026, 11, 3, 9), Some(sh(2026, 11, 5, 9)));
        let b = pause(sh(2026, 11, 9, 9), Some(sh(2026, 11, 10, 9)));
        assert_eq!(ok(Completed, done, &[]), Ok(()));
        assert_eq!(ok(Completed, done, &[a, b]), Ok(()));
        assert_eq!(
            ok(Processing, None, &[a, pause(sh(2026, 11, 9, 9), None)]),
            Ok(()),
            "the last pause of an open case may still run"
        );
        assert_eq!(
            message(ok(
                Completed,
                done,
                &[pause(sh(2026, 11, 1, 9), Some(sh(2026, 11, 3, 9)))]
            )),
            "补正开始时间不能早于受理时间"
        );
        assert_eq!(
            message(ok(Completed, done, &[b, a])),
            "补正时段须按时间先后排列，且不能重叠"
        );
        assert_eq!(
            message(ok(
                Completed,
                done,
                &[a, pause(sh(2026, 11, 4, 9), Some(sh(2026, 11, 6, 9)))]
            )),
            "补正时段须按时间先后排列，且不能重叠"
        );
        assert_eq!(
            message(ok(
                Completed,
                done,
                &[pause(sh(2026, 11, 5, 9), Some(sh(2026, 11, 4, 9)))]
            )),
            "补正结束时间不能早于开始时间"
        );
        assert_eq!(
            message(ok(Completed, done, &[pause(sh(2026, 11, 5, 9), None)])),
            "已办结、不予受理或退件的办件，补正须填写结束时间"
        );
        assert_eq!(
            message(ok(Processing, None, &[pause(sh(2026, 11, 3, 9), None), b])),
            "只有最后一次补正可以尚未结束"
        );
        assert_eq!(
            message(ok(
                Completed,
                done,
                &[pause(sh(2026, 11, 19, 9), Some(sh(2026, 11, 23, 9)))]
            )),
            "补正时段不能晚于办结时间"
        );
        let many = vec![a; MAX_CASE_PAUSES + 1];
        assert_eq!(
            message(ok(Completed, done, &many)),
            "补正（等待申请人补齐材料）最多记录 20 次"
        );
    }

    fn item() -> ItemFacts {
        ItemFacts {
            promised_days: 5,
            legal_days: 20,
            max_visits: 1,
            levels: vec![HandlingLevel::District, HandlingLevel::Street],
        }
    }

    #[test]
    fn final_statuses_are_completed_refused_and_withdrawn() {
        let finals: Vec<CaseStatus> = CaseStatus::ALL
            .iter()
            .copied()
            .filter(|s| s.is_final())
            .collect();
        assert_eq!(
            finals,
            [
                CaseStatus::Completed,
                CaseStatus::Refused,
                CaseStatus::Withdrawn
            ]
        );
        assert_eq!("不予受理".parse::<CaseStatus>(), Ok(CaseStatus::Refused));
        assert_eq!(
            HandlingLevel::from_code_or_label("社区"),
            Some(HandlingLevel::Community)
        );
    }

    #[test]
    fn an_item_with_sound_facts_passes() {
        assert_eq!(item().validate(), Ok(()));
        let edge = ItemFacts {
            promised_days: 366,
            legal_days: 366,
            max_visits: 10,
            levels: vec![HandlingLevel::Community],
        };
        assert_eq!(edge.validate(), Ok(()));
        let online = ItemFacts {
            promised_days: 1,
            legal_days: 1,
            max_visits: 0,
            ..item()
        };
        assert_eq!(online.validate(), Ok(()));
    }

    #[test]
    fn an_item_is_refused_field_by_field() {
        let cases = [
            (
                ItemFacts {
                    promised_days: 0,
                    ..item()
                },
                "promised_days",
            ),
            (
                ItemFacts {
                    promised_days: 367,
                    legal_days: 366,
                    ..item()
                },
                "promised_days",
            ),
            (
                ItemFacts {
                    legal_days: 0,
                    ..item()
                },
                "legal_days",
            ),
            (
                ItemFacts {
                    legal_days: 367,
                    ..item()
                },
                "legal_days",
            ),
            (
                ItemFacts {
                    promised_days: 21,
                    ..item()
                },
                "promised_days",
            ),
            (
                ItemFacts {
                    max_visits: 11,
                    ..item()
                },
                "max_visits",
            ),
            (
                ItemFacts {
                    levels: vec![],
                    ..item()
                },
                "levels",
            ),
            (
                ItemFacts {
                    levels: vec![
                        HandlingLevel::Street,
                        HandlingLevel::District,
                        HandlingLevel::Street,
                    ],
                    ..item()
                },
                "levels",
            ),
        ];
        for (facts, field) in cases {
            assert_eq!(facts.validate().unwrap_err().field, field, "{facts:?}");
        }
        let longer = ItemFacts {
            promised_days: 21,
            ..item()
        };
        assert_eq!(
            longer.validate().unwrap_err().to_string(),
            "承诺时限不能长于法定时限"
        );
    }

    #[test]
    fn a_case_has_a_completion_time_exactly_when_it_has_ended() {
        let received = Utc.with_ymd_and_hms(2025, 3, 3, 1, 0, 0).unwrap();
        let done = Utc.with_ymd_and_hms(2025, 3, 5, 8, 0, 0).unwrap();
        for status in [CaseStatus::Received, CaseStatus::Processing] {
            assert_eq!(check_case(status, 0, received, None), Ok(()), "{status}");
            assert_eq!(
                check_case(status, 0, received, Some(done))
                    .unwrap_err()
                    .field,
                "completed_at",
                "{status}"
            );
        }
        for status in [
            CaseStatus::Completed,
            CaseStatus::Refused,
            CaseStatus::Withdrawn,
        ] {
            assert_eq!(
                check_case(status, 1, received, Some(done)),
                Ok(()),
                "{status}"
            );
            // completed the moment it was received
            assert_eq!(
                check_case(status, 1, received, Some(received)),
                Ok(()),
                "{status}"
            );
            assert_eq!(
                check_case(status, 1, received, None).unwrap_err().field,
                "completed_at",
                "{status}"
            );
        }
    }

    #[test]
    fn a_case_is_not_completed_before_it_was_received_nor_visited_too_often() {
        let received = Utc.with_ymd_and_hms(2025, 3, 3, 1, 0, 0).unwrap();
        let before = Utc.with_ymd_and_hms(2025, 3, 3, 0, 59, 59).unwrap();
        let refusal = check_case(CaseStatus::Completed, 1, received, Some(before)).unwrap_err();
        assert_eq!(refusal.field, "completed_at");
        assert_eq!(refusal.to_string(), "办结时间不能早于受理时间");
        assert_eq!(check_case(CaseStatus::Received, 50, received, None), Ok(()));
        assert_eq!(
            check_case(CaseStatus::Received, 51, received, None)
                .unwrap_err()
                .field,
            "visits"
        );
    }

    #[test]
    fn case_figures_on_a_hand_computed_fixture() {
        // 8 completed: 6 with at most one visit, 7 on time, 20 working days in all
        let mut c = CaseCounts {
            completed: 8,
            one_visit: 6,
            on_time: 7,
            working_days: 20,
        };
        assert_eq!(c.one_visit_rate(), Some(0.75));
        assert_eq!(c.on_time_rate(), Some(0.875));
        assert_eq!(c.average_days(), Some(2.5));
        // plus 2 completed: 0 one-visit, 1 on time, 10 days → 6/10, 8/10, 30/10
        c.add(&CaseCounts {
            completed: 2,
            one_visit: 0,
            on_time: 1,
            working_days: 10,
        });
        assert_eq!(
            c,
            CaseCounts {
                completed: 10,
                one_visit: 6,
                on_time: 8,
                working_days: 30,
            }
        );
        assert_eq!(c.one_visit_rate(), Some(0.6));
        assert_eq!(c.on_time_rate(), Some(0.8));
        assert_eq!(c.average_days(), Some(3.0));
        let none = CaseCounts::default();
        assert_eq!(none.one_visit_rate(), None);
        assert_eq!(none.on_time_rate(), None);
        assert_eq!(none.average_days(), None);
    }
}
