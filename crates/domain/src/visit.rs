//! Liaison visits (包联走访): how a visit was held, when a date may be recorded, and when a
//! liaison leader's enterprise counts as not visited lately.

use chrono::NaiveDate;

named!(
    /// How a visit was held.
    VisitForm, "走访形式", {
        /// 实地走访: at the enterprise.
        Onsite = "onsite" / "实地走访",
        /// 座谈: a meeting with the enterprise.
        Forum = "forum" / "座谈",
        /// 电话: by telephone.
        Phone = "phone" / "电话",
    }
);

/// A liaison enterprise with no visit in this many days is flagged on the leader's page.
pub const STALE_AFTER_DAYS: i64 = 90;

/// Most issues one visit may raise (each becomes an appeal).
pub const MAX_ISSUES: usize = 20;

/// Why a visit date is refused: the visit has not happened yet, or lies before 2000.
pub fn check_visit_date(visited_on: NaiveDate, today: NaiveDate) -> Result<(), &'static str> {
    if visited_on > today {
        return Err("走访日期不能晚于今天");
    }
    if visited_on < NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or(NaiveDate::MIN) {
        return Err("走访日期有误");
    }
    Ok(())
}

/// Whether an enterprise last visited on `last` (never: `None`) counts as not visited lately
/// on `today`.
pub fn is_stale(last: Option<NaiveDate>, today: NaiveDate) -> bool {
    last.is_none_or(|d| (today - d).num_days() >= STALE_AFTER_DAYS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_visit_date_is_today_or_earlier() {
        let today = day("2026-11-28");
        assert_eq!(check_visit_date(day("2026-11-28"), today), Ok(()));
        assert_eq!(check_visit_date(day("2026-01-02"), today), Ok(()));
        assert_eq!(
            check_visit_date(day("2026-11-29"), today),
            Err("走访日期不能晚于今天")
        );
        assert_eq!(
            check_visit_date(day("1999-12-31"), today),
            Err("走访日期有误")
        );
    }

    #[test]
    fn an_enterprise_is_stale_from_ninety_days_without_a_visit() {
        let today = day("2026-11-28");
        assert!(is_stale(None, today));
        assert!(!is_stale(Some(day("2026-08-31")), today), "89 days");
        assert!(is_stale(Some(day("2026-08-30")), today), "90 days");
    }

    #[test]
    fn forms_read_codes_and_labels() {
        assert_eq!("座谈".parse::<VisitForm>(), Ok(VisitForm::Forum));
        assert_eq!("onsite".parse::<VisitForm>(), Ok(VisitForm::Onsite));
        assert!("上门".parse::<VisitForm>().is_err());
    }
}
