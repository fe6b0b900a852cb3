//! Working-day calendar: official holidays and make-up working days (调休上班), daily working
//! hours, and deadlines counted in working days or working minutes, in Asia/Shanghai time.
//!
//! Rules (SPEC "Working-day calendar"): a working day is Monday–Friday, minus official holidays,
//! plus official make-up working days. The day of receipt is not counted; something received on
//! a non-working day or after closing counts as received at the next working day's opening.
//! Working periods are half-open: 09:00–12:00 contains 09:00 but not 12:00. A result that had to
//! look at a day in a year with no schedule loaded is computed on weekdays alone and is marked
//! provisional.
//!
//! # Schedule file format
//!
//! ```toml
//! # 2027 official schedule (国务院办公厅通知)
//! [[year]]
//! year = 2027
//! holidays = [
//!   { name = "元旦", from = "2027-01-01", to = "2027-01-03" },
//!   { name = "春节", from = "2027-02-05", to = "2027-02-11" },
//! ]
//! workdays = ["2027-02-14"]   # 调休上班
//! ```
//!
//! - A file holds one or more `[[year]]` tables, each year at most once.
//! - `year` is 1900–2200. A holiday has a `name` (not empty), `from` and `to` (inclusive; omit
//!   `to` for a one-day holiday). `workdays` lists the make-up working days. Either list may be
//!   omitted.
//! - Dates are quoted strings `YYYY-MM-DD` and must lie in their `year`. A date may not be both a
//!   holiday and a workday, nor belong to two holidays.
//! - Unknown keys are errors. Any error rejects the whole file.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Bound::{Excluded, Included};
use std::str::FromStr;

use chrono::{
    DateTime, Datelike, Days, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Utc,
    Weekday,
};
use serde::Deserialize;

/// Largest `days` accepted by the working-day functions.
const MAX_DAYS: u32 = 366;
const MIN_YEAR: i32 = 1900;
const MAX_YEAR: i32 = 2200;
const MAX_PERIODS: usize = 4;

/// Answer of the instant functions when the true answer lies beyond chrono's range.
const SATURATED: Dated<DateTime<Utc>> = Dated {
    value: DateTime::<Utc>::MAX_UTC,
    provisional: true,
};

/// Asia/Shanghai has been UTC+8 without DST since 1991.
pub fn shanghai() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

/// A result and whether it depended on a year with no official schedule loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Dated<T> {
    /// The computed value.
    pub value: T,
    /// True when a day looked at lies in a year without a loaded schedule (weekdays assumed).
    pub provisional: bool,
}

/// One year's official exceptions to Monday–Friday.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearSchedule {
    year: i32,
    holidays: BTreeMap<NaiveDate, String>,
    workdays: BTreeSet<NaiveDate>,
}

impl YearSchedule {
    /// Validates and builds a schedule: year in 1900..=2200, every date inside `year`, no date both
    /// holiday and workday.
    pub fn new(
        year: i32,
        holidays: BTreeMap<NaiveDate, String>,
        workdays: BTreeSet<NaiveDate>,
    ) -> Result<Self, ScheduleError> {
        if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
            return Err(ScheduleError::YearOutOfRange(year.into()));
        }
        if let Some(&date) = holidays
            .keys()
            .chain(workdays.iter())
            .find(|d| d.year() != year)
        {
            return Err(ScheduleError::DateOutsideYear { date, year });
        }
        if let Some(&date) = workdays.iter().find(|d| holidays.contains_key(d)) {
            return Err(ScheduleError::HolidayAndWorkday(date));
        }
        Ok(Self {
            year,
            holidays,
            workdays,
        })
    }

    /// The calendar year this schedule covers.
    pub fn year(&self) -> i32 {
        self.year
    }

    /// Official holiday dates and the name of the holiday each belongs to.
    pub fn holidays(&self) -> &BTreeMap<NaiveDate, String> {
        &self.holidays
    }

    /// Official make-up working days (调休上班).
    pub fn workdays(&self) -> &BTreeSet<NaiveDate> {
        &self.workdays
    }
}

/// The official schedules known to the installation, by year.
#[derive(Debug, Clone, Default)]
pub struct Calendar {
    years: BTreeMap<i32, YearSchedule>,
}

impl Calendar {
    /// Builds a calendar from schedules; a later entry for the same year replaces the earlier.
    pub fn new(years: impl IntoIterator<Item = YearSchedule>) -> Self {
        Self {
            years: years.into_iter().map(|s| (s.year, s)).collect(),
        }
    }

    /// The schedules shipped with the binary (2025 and 2026), parsed from data/calendar/*.toml via include_str!.
    pub fn shipped() -> Self {
        let files = [
            include_str!("../data/calendar/2025.toml"),
            include_str!("../data/calendar/2026.toml"),
        ];
        Self::new(
            files.into_iter().flat_map(|text| {
                parse_schedule_file(text).expect("shipped calendar data is valid")
            }),
        )
    }

    /// Whether an official schedule for `year` is loaded.
    pub fn has_year(&self, year: i32) -> bool {
        self.years.contains_key(&year)
    }

    /// The loaded schedules in ascending year order.
    pub fn years(&self) -> impl Iterator<Item = &YearSchedule> {
        self.years.values()
    }

    /// Mon–Fri minus holidays plus make-up workdays; years without a schedule: Mon–Fri.
    pub fn is_working_day(&self, day: NaiveDate) -> bool {
        match self.years.get(&day.year()) {
            Some(s) => {
                s.workdays.contains(&day) || (is_weekday(day) && !s.holidays.contains_key(&day))
            }
            None => is_weekday(day),
        }
    }

    /// SPEC: `from` is the day of receipt. If `from` is not a working day, receipt moves to the next working day.
    /// days = 0 -> that (possibly moved) receipt day; days = N -> the Nth working day after it.
    pub fn add_working_days(
        &self,
        from: NaiveDate,
        days: u32,
    ) -> Result<Dated<NaiveDate>, CalendarError> {
        if days > MAX_DAYS {
            return Err(CalendarError::DaysOutOfRange);
        }
        let mut day = self
            .first_working_day_from(from)
            .ok_or(CalendarError::DateOutOfRange)?;
        for _ in 0..days {
            day = self
                .next_working_day(day)
                .ok_or(CalendarError::DateOutOfRange)?;
        }
        Ok(Dated {
            value: day,
            provisional: self.provisional(from, day),
        })
    }

    /// Number of working days d with from < d <= to. to < from -> Err(ToBeforeFrom).
    pub fn working_days_between(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Dated<u32>, CalendarError> {
        if to < from {
            return Err(CalendarError::ToBeforeFrom);
        }
        let count = self.count_working_days(from, to);
        Ok(Dated {
            // At most ~95 million days fit between chrono's extreme dates, so this never saturates.
            value: u32::try_from(count).unwrap_or(u32::MAX),
            provisional: self.provisional(from, to),
        })
    }

    /// When something received at `at` counts as received: `at` itself if it is inside or before working time on a working day
    /// (before opening -> that day's opening), otherwise the next working day's opening (after closing, or on a non-working day).
    /// If `at` falls in the lunch gap between two periods, it counts from the start of the next period.
    pub fn receipt(&self, hours: &WorkingHours, at: DateTime<Utc>) -> Dated<DateTime<Utc>> {
        let computed = to_local(at).and_then(|local| {
            let received = self.receipt_local(hours, local)?;
            Some(Dated {
                value: to_utc(received)?,
                provisional: self.provisional(local.date(), received.date()),
            })
        });
        computed.unwrap_or(SATURATED)
    }

    /// Deadline of a limit of N working days: close of the Nth working day after the day of receipt (N=0: close of the receipt day).
    /// Example (SPEC): received Fri 2026-09-25 10:00 (a holiday) -> receipt Mon 09-28 09:00 -> +1 day = Tue 2026-09-29 17:30 +08:00.
    pub fn due_after_working_days(
        &self,
        hours: &WorkingHours,
        at: DateTime<Utc>,
        days: u32,
    ) -> Result<Dated<DateTime<Utc>>, CalendarError> {
        if days > MAX_DAYS {
            return Err(CalendarError::DaysOutOfRange);
        }
        let local = to_local(at).ok_or(CalendarError::DateOutOfRange)?;
        let received = self
            .receipt_local(hours, local)
            .ok_or(CalendarError::DateOutOfRange)?;
        let last_day = self.add_working_days(received.date(), days)?.value;
        let value =
            to_utc(last_day.and_time(hours.closing())).ok_or(CalendarError::DateOutOfRange)?;
        Ok(Dated {
            value,
            provisional: self.provisional(local.date(), last_day),
        })
    }

    /// Deadline of a limit in working minutes, counting only minutes inside working periods of working days, starting at `receipt(at)`.
    /// A limit that ends exactly at a period's close ends at that close (not the next opening).
    pub fn due_after_working_minutes(
        &self,
        hours: &WorkingHours,
        at: DateTime<Utc>,
        minutes: u32,
    ) -> Dated<DateTime<Utc>> {
        let computed = to_local(at).and_then(|local| {
            let due = self.due_local(hours, local, minutes)?;
            Some(Dated {
                value: to_utc(due)?,
                provisional: self.provisional(local.date(), due.date()),
            })
        });
        computed.unwrap_or(SATURATED)
    }

    /// The instant `minutes` working minutes before `at`, counting only minutes inside working
    /// periods of working days (the mirror of [`Self::due_after_working_minutes`]; a yellow
    /// card's moment). `minutes = 0` is `at` itself; of two instants at the same place in
    /// working time (a close and the next opening) the earlier is answered.
    pub fn before_working_minutes(
        &self,
        hours: &WorkingHours,
        at: DateTime<Utc>,
        minutes: u32,
    ) -> Dated<DateTime<Utc>> {
        if minutes == 0 {
            return Dated {
                value: at,
                provisional: false,
            };
        }
        let computed = to_local(at).and_then(|local| {
            let mut remaining = i64::from(minutes);
            let mut day = local.date();
            let mut until = Some(local.time());
            loop {
                if self.is_working_day(day) {
                    for &(start, end) in hours.periods().iter().rev() {
                        let end = match until {
                            Some(t) if t < end => t,
                            _ => end,
                        };
                        if end <= start {
                            continue;
                        }
                        let available = (end - start).num_minutes();
                        // a moment exactly at a period's start is the previous period's end
                        // (the same place in working time, reached earlier)
                        if remaining < available || remaining == 0 {
                            let found = day.and_time(end) - TimeDelta::minutes(remaining);
                            return Some(Dated {
                                value: to_utc(found)?,
                                provisional: self.provisional(found.date(), local.date()),
                            });
                        }
                        remaining -= available;
                    }
                }
                until = None;
                day = day.pred_opt()?;
            }
        });
        computed.unwrap_or(Dated {
            value: DateTime::<Utc>::MIN_UTC,
            provisional: true,
        })
    }

    /// Working minutes inside working time between two instants (0 if to <= from). Used for measured actuals.
    pub fn working_minutes_between(
        &self,
        hours: &WorkingHours,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Dated<i64> {
        if to <= from {
            return Dated {
                value: 0,
                provisional: false,
            };
        }
        let from = to_local(from).unwrap_or(NaiveDateTime::MAX);
        let to = to_local(to).unwrap_or(NaiveDateTime::MAX);
        let (first, last) = (from.date(), to.date());
        let total = if first == last {
            self.day_overlap(hours, first, from.time(), Some(to.time()))
        } else {
            let whole_days =
                self.count_working_days(first, last) - i64::from(self.is_working_day(last));
            self.day_overlap(hours, first, from.time(), None)
                + self.day_overlap(hours, last, NaiveTime::MIN, Some(to.time()))
                + TimeDelta::minutes(i64::from(hours.minutes_per_day()) * whole_days)
        };
        Dated {
            value: total.num_minutes(),
            provisional: self.provisional(first, last),
        }
    }

    /// True when some year from `a` to `b` (inclusive, either order) has no schedule loaded.
    fn provisional(&self, a: NaiveDate, b: NaiveDate) -> bool {
        let (lo, hi) = if a <= b {
            (a.year(), b.year())
        } else {
            (b.year(), a.year())
        };
        let loaded = self.years.range(lo..=hi).count() as i64;
        loaded != i64::from(hi) - i64::from(lo) + 1
    }

    /// The first working day after `day`; `None` past chrono's last date. Terminates: schedules
    /// exist only for years up to 2200, and every other year has Mondays to Fridays.
    fn next_working_day(&self, day: NaiveDate) -> Option<NaiveDate> {
        let mut day = day;
        loop {
            day = day.succ_opt()?;
            if self.is_working_day(day) {
                return Some(day);
            }
        }
    }

    fn first_working_day_from(&self, day: NaiveDate) -> Option<NaiveDate> {
        if self.is_working_day(day) {
            Some(day)
        } else {
            self.next_working_day(day)
        }
    }

    /// Working days d with from < d <= to (from <= to): weekdays counted arithmetically, then
    /// corrected by the loaded schedules, so huge ranges cost nothing.
    fn count_working_days(&self, from: NaiveDate, to: NaiveDate) -> i64 {
        let span = (to - from).num_days();
        let last = i64::from(to.weekday().num_days_from_monday());
        // The last `span % 7` days are to, to-1, …; their weekday index is (last - i) mod 7.
        let tail = (0..span % 7)
            .filter(|i| (last - i).rem_euclid(7) < 5)
            .count() as i64;
        let mut count = span / 7 * 5 + tail;
        let range = (Excluded(from), Included(to));
        for schedule in self.years.range(from.year()..=to.year()).map(|(_, s)| s) {
            let off = schedule
                .holidays
                .range(range)
                .filter(|(d, _)| is_weekday(**d));
            let on = schedule.workdays.range(range).filter(|d| !is_weekday(**d));
            count += on.count() as i64 - off.count() as i64;
        }
        count
    }

    /// Local receipt instant; `None` past chrono's last date.
    fn receipt_local(&self, hours: &WorkingHours, at: NaiveDateTime) -> Option<NaiveDateTime> {
        let (day, time) = (at.date(), at.time());
        if self.is_working_day(day) {
            for &(start, end) in hours.periods() {
                if time < start {
                    return Some(day.and_time(start));
                }
                if time < end {
                    return Some(at);
                }
            }
        }
        Some(self.next_working_day(day)?.and_time(hours.opening()))
    }

    /// Local deadline of `minutes` working minutes from receipt of `at`; `None` past chrono's last date.
    fn due_local(
        &self,
        hours: &WorkingHours,
        at: NaiveDateTime,
        minutes: u32,
    ) -> Option<NaiveDateTime> {
        let start = self.receipt_local(hours, at)?;
        let last_loaded = self.years.keys().next_back().copied();
        let week = TimeDelta::minutes(5 * i64::from(hours.minutes_per_day()));
        let mut remaining = TimeDelta::minutes(minutes.into());
        let mut day = start.date();
        let mut not_before = start.time();
        loop {
            if self.is_working_day(day) {
                for &(period_start, end) in hours.periods() {
                    let begin = not_before.max(period_start);
                    if begin >= end {
                        continue;
                    }
                    let available = end - begin;
                    if remaining <= available {
                        return Some(day.and_time(begin) + remaining);
                    }
                    remaining -= available;
                }
            }
            day = day.succ_opt()?;
            not_before = NaiveTime::MIN;
            // Past the last loaded year every week holds exactly five working days: skip whole
            // weeks, keeping some time left so that the answer lies after the skipped weeks.
            if day.weekday() == Weekday::Mon && last_loaded.is_none_or(|y| day.year() > y) {
                let weeks = (remaining.num_seconds() - 1).max(0) / week.num_seconds();
                if weeks > 0 {
                    day = day.checked_add_days(Days::new(u64::try_from(weeks).ok()? * 7))?;
                    remaining -= TimeDelta::seconds(weeks * week.num_seconds());
                }
            }
        }
    }

    /// Working time on `day` between `lo` and `hi` (`None`: end of day).
    fn day_overlap(
        &self,
        hours: &WorkingHours,
        day: NaiveDate,
        lo: NaiveTime,
        hi: Option<NaiveTime>,
    ) -> TimeDelta {
        if !self.is_working_day(day) {
            return TimeDelta::zero();
        }
        hours
            .periods()
            .iter()
            .map(|&(start, end)| {
                let end = hi.map_or(end, |hi| hi.min(end));
                (end - lo.max(start)).max(TimeDelta::zero())
            })
            .sum()
    }
}

fn is_weekday(day: NaiveDate) -> bool {
    !matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
}

fn to_local(at: DateTime<Utc>) -> Option<NaiveDateTime> {
    at.naive_utc().checked_add_offset(shanghai())
}

fn to_utc(local: NaiveDateTime) -> Option<DateTime<Utc>> {
    local
        .checked_sub_offset(shanghai())
        .map(|utc| utc.and_utc())
}

/// Daily working periods (tenant setting), in Shanghai local time. Default 09:00–12:00 and 13:30–17:30.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkingHours {
    periods: Vec<(NaiveTime, NaiveTime)>,
}

impl Default for WorkingHours {
    fn default() -> Self {
        let hm = |h, m| NaiveTime::from_hms_opt(h, m, 0).expect("valid default time");
        Self {
            periods: vec![(hm(9, 0), hm(12, 0)), (hm(13, 30), hm(17, 30))],
        }
    }
}

impl WorkingHours {
    /// Parses "09:00-12:00,13:30-17:30" (spaces allowed around items; 1–4 periods; HH:MM 24h).
    pub fn parse(s: &str) -> Result<Self, WorkingHoursError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(WorkingHoursError::PeriodCount(0));
        }
        let items: Vec<&str> = s.split(',').map(str::trim).collect();
        if items.len() > MAX_PERIODS {
            return Err(WorkingHoursError::PeriodCount(items.len()));
        }
        let mut periods: Vec<(NaiveTime, NaiveTime)> = Vec::with_capacity(items.len());
        for item in items {
            let bad_format = || WorkingHoursError::Format(item.to_owned());
            let (start, end) = item.split_once('-').ok_or_else(bad_format)?;
            let start = parse_hh_mm(start.trim()).ok_or_else(bad_format)?;
            let end = parse_hh_mm(end.trim()).ok_or_else(bad_format)?;
            if start >= end {
                return Err(WorkingHoursError::StartNotBeforeEnd(item.to_owned()));
            }
            if periods
                .last()
                .is_some_and(|&(_, prev_end)| start < prev_end)
            {
                return Err(WorkingHoursError::Overlap(item.to_owned()));
            }
            periods.push((start, end));
        }
        Ok(Self { periods })
    }

    /// The periods, sorted and non-overlapping, each start before its end.
    pub fn periods(&self) -> &[(NaiveTime, NaiveTime)] {
        &self.periods
    }

    /// Start of the first period.
    pub fn opening(&self) -> NaiveTime {
        self.periods[0].0
    }

    /// End of the last period.
    pub fn closing(&self) -> NaiveTime {
        self.periods[self.periods.len() - 1].1
    }

    /// Total working minutes of one working day.
    pub fn minutes_per_day(&self) -> u32 {
        let total: i64 = self
            .periods
            .iter()
            .map(|&(start, end)| (end - start).num_minutes())
            .sum();
        u32::try_from(total).expect("a day has fewer than 1440 minutes")
    }
}

/// `HH:MM` (hour may have one digit), 00:00–23:59.
fn parse_hh_mm(s: &str) -> Option<NaiveTime> {
    let (h, m) = s.split_once(':')?;
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if !(1..=2).contains(&h.len()) || m.len() != 2 || !digits(h) || !digits(m) {
        return None;
    }
    NaiveTime::from_hms_opt(h.parse().ok()?, m.parse().ok()?, 0)
}

impl fmt::Display for WorkingHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (start, end)) in self.periods.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{}-{}", start.format("%H:%M"), end.format("%H:%M"))?;
        }
        Ok(())
    }
}

impl FromStr for WorkingHours {
    type Err = WorkingHoursError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Invalid arguments to a working-day computation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// `days` above 366.
    #[error("天数必须在 0 到 366 之间")]
    DaysOutOfRange,
    /// The end date is before the start date.
    #[error("结束日期不能早于开始日期")]
    ToBeforeFrom,
    /// The answer would lie beyond the last representable date (year 262143).
    #[error("日期超出可计算范围")]
    DateOutOfRange,
}

/// Invalid working-hours setting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkingHoursError {
    /// A period is not `HH:MM-HH:MM`.
    #[error("时段“{0}”格式不对：时间格式应为 HH:MM-HH:MM，例如 09:00-12:00")]
    Format(String),
    /// A period does not start before it ends.
    #[error("时段“{0}”的开始时间应早于结束时间")]
    StartNotBeforeEnd(String),
    /// A period starts before the previous one ends.
    #[error("时段重叠或顺序错误：“{0}”应在前一时段结束之后开始")]
    Overlap(String),
    /// Fewer than one or more than four periods.
    #[error("至少一个、至多四个时段（现有 {0} 个）")]
    PeriodCount(usize),
}

/// Invalid official schedule or schedule file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    /// Not valid TOML, or keys or types not of the schedule format.
    #[error("文件格式错误：{0}")]
    Format(String),
    /// The file holds no `[[year]]` table.
    #[error("文件中没有任何年份")]
    NoYears,
    /// The same year appears twice in one file.
    #[error("年份 {0} 在文件中出现了不止一次")]
    DuplicateYear(i32),
    /// A year outside 1900–2200.
    #[error("年份 {0} 超出范围（应在 1900 到 2200 之间）")]
    YearOutOfRange(i64),
    /// A date string that is not a valid `YYYY-MM-DD` date.
    #[error("{0} 不是有效日期（应为 YYYY-MM-DD）")]
    InvalidDate(String),
    /// A date outside the year it is listed under.
    #[error("{date} 不属于 {year} 年")]
    DateOutsideYear {
        /// The offending date.
        date: NaiveDate,
        /// The year of the schedule.
        year: i32,
    },
    /// A date listed both as holiday and as make-up workday.
    #[error("{0} 既是假日又是调休上班日")]
    HolidayAndWorkday(NaiveDate),
    /// A holiday whose `to` is before its `from`.
    #[error("假期 {name} 的结束日期 {to} 早于开始日期 {from}")]
    HolidayEndsBeforeStart {
        /// The holiday's name.
        name: String,
        /// Its first day.
        from: NaiveDate,
        /// Its (earlier) last day.
        to: NaiveDate,
    },
    /// A date inside two holidays.
    #[error("{date} 同时属于假期 {first} 和 {second}")]
    HolidayOverlap {
        /// The date in both.
        date: NaiveDate,
        /// The holiday listed first.
        first: String,
        /// The holiday listed second.
        second: String,
    },
    /// A holiday with an empty name (identified by its `from` string).
    #[error("从 {0} 开始的假期缺少名称")]
    EmptyHolidayName(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScheduleFile {
    #[serde(default)]
    year: Vec<YearEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct YearEntry {
    year: i64,
    #[serde(default)]
    holidays: Vec<HolidayEntry>,
    #[serde(default)]
    workdays: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HolidayEntry {
    name: String,
    from: String,
    to: Option<String>,
}

/// Parses a schedule file (format in the module docs) into its years; any error rejects the whole file.
pub fn parse_schedule_file(text: &str) -> Result<Vec<YearSchedule>, ScheduleError> {
    let file: ScheduleFile =
        toml::from_str(text).map_err(|e| ScheduleError::Format(e.to_string()))?;
    if file.year.is_empty() {
        return Err(ScheduleError::NoYears);
    }
    let mut seen = BTreeSet::new();
    let mut schedules = Vec::with_capacity(file.year.len());
    for entry in file.year {
        let schedule = year_from_entry(entry)?;
        if !seen.insert(schedule.year) {
            return Err(ScheduleError::DuplicateYear(schedule.year));
        }
        schedules.push(schedule);
    }
    Ok(schedules)
}

fn year_from_entry(entry: YearEntry) -> Result<YearSchedule, ScheduleError> {
    let year = i32::try_from(entry.year)
        .ok()
        .filter(|y| (MIN_YEAR..=MAX_YEAR).contains(y))
        .ok_or(ScheduleError::YearOutOfRange(entry.year))?;
    let mut holidays = BTreeMap::new();
    for holiday in entry.holidays {
        let name = holiday.name.trim();
        if name.is_empty() {
            return Err(ScheduleError::EmptyHolidayName(holiday.from));
        }
        let from = parse_date(&holiday.from)?;
        let to = holiday.to.as_deref().map_or(Ok(from), parse_date)?;
        // Checked before walking the range, so a wild `to` cannot make a long loop.
        if let Some(date) = [from, to].into_iter().find(|d| d.year() != year) {
            return Err(ScheduleError::DateOutsideYear { date, year });
        }
        if to < from {
            return Err(ScheduleError::HolidayEndsBeforeStart {
                name: name.to_owned(),
                from,
                to,
            });
        }
        for date in from.iter_days().take_while(|d| *d <= to) {
            if let Some(first) = holidays.insert(date, name.to_owned()) {
                return Err(ScheduleError::HolidayOverlap {
                    date,
                    first,
                    second: name.to_owned(),
                });
            }
        }
    }
    let workdays = entry
        .workdays
        .iter()
        .map(|s| parse_date(s))
        .collect::<Result<BTreeSet<_>, _>>()?;
    YearSchedule::new(year, holidays, workdays)
}

/// Strict `YYYY-MM-DD`.
fn parse_date(s: &str) -> Result<NaiveDate, ScheduleError> {
    let shape_ok = s.len() == 10
        && s.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    shape_ok
        .then(|| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
        .flatten()
        .ok_or_else(|| ScheduleError::InvalidDate(s.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    fn add(cal: &Calendar, from: &str, days: u32) -> Dated<NaiveDate> {
        cal.add_working_days(d(from), days).unwrap()
    }

    fn sure<T>(value: T) -> Dated<T> {
        Dated {
            value,
            provisional: false,
        }
    }

    fn guessed<T>(value: T) -> Dated<T> {
        Dated {
            value,
            provisional: true,
        }
    }

    const HOLIDAYS_2025: [&str; 28] = [
        "2025-01-01", // 元旦
        "2025-01-28", // 春节
        "2025-01-29",
        "2025-01-30",
        "2025-01-31",
        "2025-02-01",
        "2025-02-02",
        "2025-02-03",
        "2025-02-04",
        "2025-04-04", // 清明
        "2025-04-05",
        "2025-04-06",
        "2025-05-01", // 劳动节
        "2025-05-02",
        "2025-05-03",
        "2025-05-04",
        "2025-05-05",
        "2025-05-31", // 端午
        "2025-06-01",
        "2025-06-02",
        "2025-10-01", // 国庆·中秋
        "2025-10-02",
        "2025-10-03",
        "2025-10-04",
        "2025-10-05",
        "2025-10-06",
        "2025-10-07",
        "2025-10-08",
    ];

    const HOLIDAYS_2026: [&str; 33] = [
        "2026-01-01", // 元旦
        "2026-01-02",
        "2026-01-03",
        "2026-02-15", // 春节
        "2026-02-16",
        "2026-02-17",
        "2026-02-18",
        "2026-02-19",
        "2026-02-20",
        "2026-02-21",
        "2026-02-22",
        "2026-02-23",
        "2026-04-04", // 清明
        "2026-04-05",
        "2026-04-06",
        "2026-05-01", // 劳动节
        "2026-05-02",
        "2026-05-03",
        "2026-05-04",
        "2026-05-05",
        "2026-06-19", // 端午
        "2026-06-20",
        "2026-06-21",
        "2026-09-25", // 中秋
        "2026-09-26",
        "2026-09-27",
        "2026-10-01", // 国庆
        "2026-10-02",
        "2026-10-03",
        "2026-10-04",
        "2026-10-05",
        "2026-10-06",
        "2026-10-07",
    ];

    const WORKDAYS_2025: [&str; 5] = [
        "2025-01-26",
        "2025-02-08",
        "2025-04-27",
        "2025-09-28",
        "2025-10-11",
    ];

    // SPEC lists six make-up days for 2026 (1-04, 2-14, 2-28, 5-09, 9-20, 10-10).
    const WORKDAYS_2026: [&str; 6] = [
        "2026-01-04",
        "2026-02-14",
        "2026-02-28",
        "2026-05-09",
        "2026-09-20",
        "2026-10-10",
    ];

    fn schedule(cal: &Calendar, year: i32) -> &YearSchedule {
        cal.years().find(|s| s.year() == year).unwrap()
    }

    #[test]
    fn shipped_holidays_are_exactly_the_official_ones_and_not_working_days() {
        let cal = Calendar::shipped();
        for (year, expected) in [(2025, &HOLIDAYS_2025[..]), (2026, &HOLIDAYS_2026[..])] {
            let listed: Vec<NaiveDate> = schedule(&cal, year).holidays().keys().copied().collect();
            let expected: Vec<NaiveDate> = expected.iter().map(|s| d(s)).collect();
            assert_eq!(listed, expected, "{year}");
            for day in expected {
                assert!(!cal.is_working_day(day), "{day} is a holiday");
            }
        }
        assert_eq!(schedule(&cal, 2025).holidays().len(), 28);
        assert_eq!(schedule(&cal, 2026).holidays().len(), 33);
        assert_eq!(
            schedule(&cal, 2025).holidays()[&d("2025-10-08")],
            "国庆节、中秋节"
        );
        assert_eq!(schedule(&cal, 2026).holidays()[&d("2026-02-15")], "春节");
    }

    #[test]
    fn shipped_make_up_workdays_are_working_days() {
        let cal = Calendar::shipped();
        for (year, expected) in [(2025, &WORKDAYS_2025[..]), (2026, &WORKDAYS_2026[..])] {
            let listed: Vec<NaiveDate> = schedule(&cal, year).workdays().iter().copied().collect();
            let expected: Vec<NaiveDate> = expected.iter().map(|s| d(s)).collect();
            assert_eq!(listed, expected, "{year}");
            for day in expected {
                assert!(!is_weekday(day), "{day} is on a weekend");
                assert!(cal.is_working_day(day), "{day} is a make-up workday");
            }
        }
        assert_eq!(schedule(&cal, 2025).workdays().len(), 5);
        assert_eq!(schedule(&cal, 2026).workdays().len(), 6);
    }

    #[test]
    fn ordinary_weekdays_work_and_weekends_rest() {
        let cal = Calendar::shipped();
        for day in [
            "2025-03-03",
            "2025-07-11",
            "2026-03-04",
            "2026-10-08",
            "2026-12-31",
        ] {
            assert!(cal.is_working_day(d(day)), "{day}");
        }
        for day in [
            "2025-03-08",
            "2025-03-09",
            "2026-03-07",
            "2026-11-15",
            "2026-10-11",
        ] {
            assert!(!cal.is_working_day(d(day)), "{day}");
        }
        // Unloaded years: plain Monday–Friday, even on 元旦.
        assert!(cal.is_working_day(d("2024-01-01")));
        assert!(cal.is_working_day(d("2027-01-01")));
        assert!(!cal.is_working_day(d("2027-01-02")));
    }

    #[test]
    fn working_days_per_year() {
        let cal = Calendar::shipped();
        assert_eq!(
            cal.working_days_between(d("2024-12-31"), d("2025-12-31")),
            Ok(guessed(248)) // looks at 2024-12-31
        );
        assert_eq!(
            cal.working_days_between(d("2025-01-01"), d("2025-12-31")),
            Ok(sure(248)) // 2025-01-01 is a holiday anyway
        );
        assert_eq!(
            cal.working_days_between(d("2025-12-31"), d("2026-12-31")),
            Ok(sure(248))
        );
        // 2027 without schedule: 261 weekdays (2027-01-01 is a Friday).
        assert_eq!(
            cal.working_days_between(d("2026-12-31"), d("2027-12-31")),
            Ok(guessed(261))
        );
    }

    #[test]
    fn spec_api_table() {
        let cal = Calendar::shipped();
        assert_eq!(add(&cal, "2026-09-30", 1), sure(d("2026-10-08")));
        assert_eq!(add(&cal, "2026-09-30", 3), sure(d("2026-10-10")));
        assert_eq!(add(&cal, "2026-09-25", 1), sure(d("2026-09-29")));
        assert_eq!(add(&cal, "2026-09-30", 0), sure(d("2026-09-30")));
        assert_eq!(
            cal.working_days_between(d("2026-04-30"), d("2026-05-11")),
            Ok(sure(5))
        );
        assert_eq!(
            cal.add_working_days(d("2026-09-30"), 367),
            Err(CalendarError::DaysOutOfRange)
        );
        assert_eq!(
            cal.working_days_between(d("2026-05-11"), d("2026-05-10")),
            Err(CalendarError::ToBeforeFrom)
        );
        assert_eq!(
            cal.working_days_between(d("2026-05-11"), d("2026-05-11")),
            Ok(sure(0))
        );
        assert_eq!(
            cal.working_days_between(d("2026-10-03"), d("2026-10-03")),
            Ok(sure(0))
        );
    }

    #[test]
    fn add_working_days_edges() {
        let cal = Calendar::shipped();
        // Received on a holiday with 0 days: the next working day.
        assert_eq!(add(&cal, "2026-10-01", 0), sure(d("2026-10-08")));
        // Received on the make-up Saturday: it is the day of receipt.
        assert_eq!(add(&cal, "2026-10-10", 1), sure(d("2026-10-12")));
        // 366 is allowed; the whole of 2026 has 248 working days, so it runs into 2027.
        assert!(
            cal.add_working_days(d("2026-01-05"), 366)
                .unwrap()
                .provisional
        );
        assert_eq!(
            cal.add_working_days(NaiveDate::MAX, 1),
            Err(CalendarError::DateOutOfRange)
        );
    }

    #[test]
    fn provisional_results() {
        let cal = Calendar::shipped();
        assert_eq!(add(&cal, "2026-12-30", 5), guessed(d("2027-01-06")));
        assert_eq!(add(&cal, "2026-12-01", 3), sure(d("2026-12-04")));
        assert_eq!(
            cal.working_days_between(d("2026-12-28"), d("2027-01-04")),
            Ok(guessed(5)) // 12-29, 12-30, 12-31, 01-01, 01-04 on weekdays alone
        );
        assert_eq!(add(&cal, "2024-06-03", 1), guessed(d("2024-06-04")));
        assert_eq!(
            cal.working_days_between(d("2024-06-03"), d("2024-06-03")),
            Ok(guessed(0))
        );

        let y2027 = YearSchedule::new(
            2027,
            BTreeMap::from([(d("2027-01-01"), "元旦".to_owned())]),
            BTreeSet::new(),
        )
        .unwrap();
        let cal = Calendar::new(cal.years().cloned().chain([y2027]));
        assert!(cal.has_year(2027));
        assert_eq!(add(&cal, "2026-12-30", 5), sure(d("2027-01-07")));
        assert_eq!(
            cal.working_days_between(d("2026-12-28"), d("2027-01-04")),
            Ok(sure(4))
        );
    }

    #[test]
    fn arithmetic_count_matches_day_by_day() {
        let cal = Calendar::shipped();
        let start = d("2024-12-20");
        for from_offset in [0u64, 1, 3, 5, 6, 40, 300, 400, 720] {
            let from = start + Days::new(from_offset);
            for len in [0u64, 1, 2, 5, 6, 7, 8, 13, 29, 100, 365, 777] {
                let to = from + Days::new(len);
                let mut expected = 0;
                let mut day = from;
                while day < to {
                    day = day.succ_opt().unwrap();
                    expected += u32::from(cal.is_working_day(day));
                }
                let got = cal.working_days_between(from, to).unwrap().value;
                assert_eq!(got, expected, "{from}..{to}");
            }
        }
        // Extreme range: answers at once, without panicking.
        assert!(
            cal.working_days_between(NaiveDate::MIN, NaiveDate::MAX)
                .unwrap()
                .provisional
        );
    }

    #[test]
    fn receipt_moves_to_working_time() {
        let cal = Calendar::shipped();
        let h = WorkingHours::default();
        let r = |s| cal.receipt(&h, t(s));
        assert_eq!(
            r("2026-09-29T10:15:30+08:00"),
            sure(t("2026-09-29T10:15:30+08:00"))
        );
        assert_eq!(
            r("2026-09-29T08:00:00+08:00"),
            sure(t("2026-09-29T09:00:00+08:00"))
        );
        assert_eq!(
            r("2026-09-29T12:00:00+08:00"),
            sure(t("2026-09-29T13:30:00+08:00"))
        );
        assert_eq!(
            r("2026-09-29T12:45:00+08:00"),
            sure(t("2026-09-29T13:30:00+08:00"))
        );
        assert_eq!(
            r("2026-09-29T17:30:00+08:00"),
            sure(t("2026-09-30T09:00:00+08:00"))
        );
        // 10:00 UTC is 18:00 in Shanghai: after closing.
        assert_eq!(
            r("2026-09-29T10:00:00Z"),
            sure(t("2026-09-30T09:00:00+08:00"))
        );
        // 2026-09-29 23:30 UTC is 09-30 07:30 in Shanghai: before opening.
        assert_eq!(
            r("2026-09-29T23:30:00Z"),
            sure(t("2026-09-30T09:00:00+08:00"))
        );
        assert_eq!(
            r("2026-09-30T18:00:00+08:00"),
            sure(t("2026-10-08T09:00:00+08:00"))
        );
        assert_eq!(
            r("2026-10-10T10:00:00+08:00"),
            sure(t("2026-10-10T10:00:00+08:00"))
        );
        assert_eq!(
            r("2026-10-11T10:00:00+08:00"),
            sure(t("2026-10-12T09:00:00+08:00"))
        );
        assert_eq!(
            r("2026-12-31T18:00:00+08:00"),
            guessed(t("2027-01-01T09:00:00+08:00"))
        );
    }

    #[test]
    fn due_after_working_days_examples() {
        let cal = Calendar::shipped();
        let h = WorkingHours::default();
        let due = |s, n| cal.due_after_working_days(&h, t(s), n).unwrap();
        assert_eq!(
            due("2026-09-25T10:00:00+08:00", 1),
            sure(t("2026-09-29T17:30:00+08:00"))
        );
        assert_eq!(
            due("2026-09-29T18:00:00+08:00", 1),
            sure(t("2026-10-08T17:30:00+08:00"))
        );
        assert_eq!(
            due("2026-09-29T08:00:00+08:00", 1),
            sure(t("2026-09-30T17:30:00+08:00"))
        );
        assert_eq!(
            due("2026-09-29T14:00:00+08:00", 0),
            sure(t("2026-09-29T17:30:00+08:00"))
        );
        assert_eq!(
            due("2026-09-25T10:00:00+08:00", 0),
            sure(t("2026-09-28T17:30:00+08:00"))
        );
        assert_eq!(
            due("2026-12-31T10:00:00+08:00", 1),
            guessed(t("2027-01-01T17:30:00+08:00"))
        );
        assert_eq!(
            cal.due_after_working_days(&h, t("2026-09-25T10:00:00+08:00"), 367),
            Err(CalendarError::DaysOutOfRange)
        );
        let custom = WorkingHours::parse("08:30-11:30,14:00-18:00").unwrap();
        assert_eq!(
            cal.due_after_working_days(&custom, t("2026-09-29T08:00:00+08:00"), 1),
            Ok(sure(t("2026-09-30T18:00:00+08:00")))
        );
    }

    #[test]
    fn due_after_working_minutes_examples() {
        let cal = Calendar::shipped();
        let h = WorkingHours::default();
        let due = |s, m| cal.due_after_working_minutes(&h, t(s), m);
        assert_eq!(
            due("2026-09-30T16:30:00+08:00", 120),
            sure(t("2026-10-08T10:00:00+08:00"))
        );
        assert_eq!(
            due("2026-09-30T11:30:00+08:00", 60),
            sure(t("2026-09-30T14:00:00+08:00"))
        );
        assert_eq!(
            due("2026-09-30T15:30:00+08:00", 120),
            sure(t("2026-09-30T17:30:00+08:00"))
        );
        assert_eq!(
            due("2026-09-30T09:00:00+08:00", 180),
            sure(t("2026-09-30T12:00:00+08:00"))
        );
        assert_eq!(
            due("2026-09-30T08:00:00+08:00", 30),
            sure(t("2026-09-30T09:30:00+08:00"))
        );
        assert_eq!(
            due("2026-09-30T12:10:00+08:00", 0),
            sure(t("2026-09-30T13:30:00+08:00"))
        );
        assert_eq!(
            due("2026-09-30T10:00:20+08:00", 1),
            sure(t("2026-09-30T10:01:20+08:00"))
        );
        // Two full working days (2 × 420 minutes) from Monday's opening: Tuesday's close.
        assert_eq!(
            due("2026-09-28T09:00:00+08:00", 840),
            sure(t("2026-09-29T17:30:00+08:00"))
        );
    }

    #[test]
    fn due_after_working_minutes_far_ahead() {
        let cal = Calendar::shipped();
        let h = WorkingHours::default();
        // Ten weeks of 5 × 420 minutes in unscheduled 2027, from Monday 01-04's opening.
        assert_eq!(
            cal.due_after_working_minutes(&h, t("2027-01-04T09:00:00+08:00"), 21_000),
            guessed(t("2027-03-12T17:30:00+08:00"))
        );
        assert_eq!(
            cal.due_after_working_minutes(&h, t("2027-01-04T09:00:00+08:00"), 21_001),
            guessed(t("2027-03-15T09:01:00+08:00"))
        );
        // One minute a day cannot absorb u32::MAX minutes before chrono's last date.
        let tiny = WorkingHours::parse("09:00-09:01").unwrap();
        assert_eq!(
            cal.due_after_working_minutes(&tiny, t("2026-09-30T09:00:00+08:00"), u32::MAX),
            guessed(DateTime::<Utc>::MAX_UTC)
        );
    }

    #[test]
    fn working_minutes_between_examples() {
        let cal = Calendar::shipped();
        let h = WorkingHours::default();
        let between = |a, b| cal.working_minutes_between(&h, t(a), t(b));
        // Over the lunch gap: 11:00–12:00 and 13:30–14:00.
        assert_eq!(
            between("2026-09-30T11:00:00+08:00", "2026-09-30T14:00:00+08:00"),
            sure(90)
        );
        // Across 国庆: 16:00–17:30 on 09-30, 09:00–10:00 on 10-08.
        assert_eq!(
            between("2026-09-30T16:00:00+08:00", "2026-10-08T10:00:00+08:00"),
            sure(150)
        );
        // Before opening counts from opening.
        assert_eq!(
            between("2026-09-30T08:00:00+08:00", "2026-09-30T09:30:00+08:00"),
            sure(30)
        );
        // Three whole working days.
        assert_eq!(
            between("2026-09-28T00:00:00+08:00", "2026-09-30T23:59:00+08:00"),
            sure(1260)
        );
        // Mon 09-28 00:00 to Fri 10-09 00:00: 09-28, 09-29, 09-30, 10-08 whole days.
        assert_eq!(
            between("2026-09-28T00:00:00+08:00", "2026-10-09T00:00:00+08:00"),
            sure(1680)
        );
        assert_eq!(
            between("2026-09-30T14:00:00+08:00", "2026-09-30T14:00:00+08:00"),
            sure(0)
        );
        assert_eq!(
            between("2026-09-30T14:00:00+08:00", "2026-09-30T13:00:00+08:00"),
            sure(0)
        );
        assert_eq!(
            between("2026-12-31T17:00:00+08:00", "2027-01-01T10:00:00+08:00"),
            guessed(90)
        );
        assert_eq!(
            between("2026-10-03T10:00:00+08:00", "2026-10-03T12:00:00+08:00"),
            sure(0)
        );
    }

    #[test]
    fn working_hours_parse_display_default() {
        let h = WorkingHours::default();
        assert_eq!(h.to_string(), "09:00-12:00,13:30-17:30");
        assert_eq!(
            WorkingHours::parse("09:00-12:00,13:30-17:30"),
            Ok(h.clone())
        );
        assert_eq!(
            WorkingHours::parse(" 09:00-12:00 , 13:30-17:30 "),
            Ok(h.clone())
        );
        assert_eq!(
            "09:00-12:00,13:30-17:30".parse::<WorkingHours>(),
            Ok(h.clone())
        );
        assert_eq!(h.opening(), NaiveTime::from_hms_opt(9, 0, 0).unwrap());
        assert_eq!(h.closing(), NaiveTime::from_hms_opt(17, 30, 0).unwrap());
        assert_eq!(h.minutes_per_day(), 420);

        let one = WorkingHours::parse("8:30-17:00").unwrap();
        assert_eq!(one.to_string(), "08:30-17:00");
        assert_eq!(one.minutes_per_day(), 510);
        let four = "07:00-08:00,09:00-10:00,11:00-12:00,13:00-14:00";
        assert_eq!(WorkingHours::parse(four).unwrap().to_string(), four);
        assert_eq!(WorkingHours::parse(four).unwrap().periods().len(), 4);
    }

    #[test]
    fn working_hours_bad_inputs() {
        use WorkingHoursError as E;
        assert_eq!(WorkingHours::parse("9-12"), Err(E::Format("9-12".into())));
        assert_eq!(
            WorkingHours::parse("12:00-09:00"),
            Err(E::StartNotBeforeEnd("12:00-09:00".into()))
        );
        assert_eq!(
            WorkingHours::parse("09:00-09:00"),
            Err(E::StartNotBeforeEnd("09:00-09:00".into()))
        );
        assert_eq!(
            WorkingHours::parse("09:00-12:00,11:00-13:00"),
            Err(E::Overlap("11:00-13:00".into()))
        );
        assert_eq!(
            WorkingHours::parse("13:30-17:30,09:00-12:00"),
            Err(E::Overlap("09:00-12:00".into()))
        );
        assert_eq!(WorkingHours::parse(""), Err(E::PeriodCount(0)));
        assert_eq!(WorkingHours::parse("  "), Err(E::PeriodCount(0)));
        assert_eq!(
            WorkingHours::parse("07:00-08:00,09:00-10:00,11:00-12:00,13:00-14:00,15:00-16:00"),
            Err(E::PeriodCount(5))
        );
        for bad in [
            "24:00-25:00",
            "09:60-10:00",
            "09:00-12:00,",
            "09:00:00-12:00",
            "0900-1200",
            "09:0-12:00",
            "-09:00-12:00",
        ] {
            assert!(WorkingHours::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            E::Format("9-12".into()).to_string(),
            "时段“9-12”格式不对：时间格式应为 HH:MM-HH:MM，例如 09:00-12:00"
        );
    }

    const EXAMPLE: &str = r#"
# 2027 official schedule (国务院办公厅通知)
[[year]]
year = 2027
holidays = [
  { name = "元旦", from = "2027-01-01", to = "2027-01-03" },
  { name = "春节", from = "2027-02-05", to = "2027-02-11" },
]
workdays = ["2027-02-14"]   # 调休上班
"#;

    #[test]
    fn parse_schedule_file_example() {
        let years = parse_schedule_file(EXAMPLE).unwrap();
        assert_eq!(years.len(), 1);
        let y = &years[0];
        assert_eq!(y.year(), 2027);
        assert_eq!(y.holidays().len(), 10);
        assert_eq!(y.holidays()[&d("2027-01-02")], "元旦");
        assert_eq!(y.holidays()[&d("2027-02-11")], "春节");
        assert_eq!(
            y.workdays().iter().copied().collect::<Vec<_>>(),
            [d("2027-02-14")]
        );

        let two = "[[year]]\nyear = 2030\nholidays = [{ name = \"元旦\", from = \"2030-01-01\" }]\n\
                   [[year]]\nyear = 2031\n";
        let years = parse_schedule_file(two).unwrap();
        assert_eq!(
            years.iter().map(YearSchedule::year).collect::<Vec<_>>(),
            [2030, 2031]
        );
        assert_eq!(years[0].holidays().len(), 1);
        assert!(years[1].holidays().is_empty() && years[1].workdays().is_empty());
    }

    #[test]
    fn parse_schedule_file_errors() {
        use ScheduleError as E;
        let one = |body: &str| parse_schedule_file(&format!("[[year]]\nyear = 2027\n{body}\n"));
        assert_eq!(
            one(r#"holidays = [{ name = "元旦", from = "2027-13-01" }]"#),
            Err(E::InvalidDate("2027-13-01".into()))
        );
        assert_eq!(
            E::InvalidDate("2027-13-01".into()).to_string(),
            "2027-13-01 不是有效日期（应为 YYYY-MM-DD）"
        );
        assert_eq!(
            one(r#"workdays = ["2027-2-7"]"#),
            Err(E::InvalidDate("2027-2-7".into()))
        );
        assert_eq!(
            one(r#"workdays = ["2027-02-30"]"#),
            Err(E::InvalidDate("2027-02-30".into()))
        );
        assert_eq!(
            one(r#"workdays = ["2026-01-05"]"#),
            Err(E::DateOutsideYear {
                date: d("2026-01-05"),
                year: 2027
            })
        );
        assert_eq!(
            E::DateOutsideYear {
                date: d("2026-01-05"),
                year: 2027
            }
            .to_string(),
            "2026-01-05 不属于 2027 年"
        );
        assert_eq!(
            one(r#"holidays = [{ name = "元旦", from = "2027-12-31", to = "2028-01-01" }]"#),
            Err(E::DateOutsideYear {
                date: d("2028-01-01"),
                year: 2027
            })
        );
        // The brief's first draft of the example: 02-07 inside 春节 and a workday.
        let clash = EXAMPLE.replace("2027-02-14", "2027-02-07");
        assert_eq!(
            parse_schedule_file(&clash),
            Err(E::HolidayAndWorkday(d("2027-02-07")))
        );
        assert_eq!(
            E::HolidayAndWorkday(d("2027-02-07")).to_string(),
            "2027-02-07 既是假日又是调休上班日"
        );
        assert_eq!(
            one(r#"holidays = [{ name = "春节", from = "2027-02-11", to = "2027-02-05" }]"#),
            Err(E::HolidayEndsBeforeStart {
                name: "春节".into(),
                from: d("2027-02-11"),
                to: d("2027-02-05")
            })
        );
        assert_eq!(
            one(
                r#"holidays = [{ name = "甲", from = "2027-05-01", to = "2027-05-03" }, { name = "乙", from = "2027-05-03" }]"#
            ),
            Err(E::HolidayOverlap {
                date: d("2027-05-03"),
                first: "甲".into(),
                second: "乙".into()
            })
        );
        assert_eq!(
            one(r#"holidays = [{ name = " ", from = "2027-05-01" }]"#),
            Err(E::EmptyHolidayName("2027-05-01".into()))
        );
        assert!(matches!(
            one("workday = [\"2027-02-14\"]"),
            Err(E::Format(_))
        ));
        assert!(matches!(
            one(r#"holidays = [{ name = "元旦", from = "2027-01-01", until = "2027-01-02" }]"#),
            Err(E::Format(_))
        ));
        assert!(matches!(parse_schedule_file("foo = 1"), Err(E::Format(_))));
        assert!(matches!(
            parse_schedule_file("[[year]\n"),
            Err(E::Format(_))
        ));
        assert!(matches!(one("workdays = [2027-02-14]"), Err(E::Format(_))));
        assert!(matches!(
            parse_schedule_file("[[year]]\n"),
            Err(E::Format(_))
        ));
        assert_eq!(parse_schedule_file(""), Err(E::NoYears));
        assert_eq!(parse_schedule_file("# nothing yet\n"), Err(E::NoYears));
        assert_eq!(
            parse_schedule_file("[[year]]\nyear = 1899\n"),
            Err(E::YearOutOfRange(1899))
        );
        assert_eq!(
            parse_schedule_file("[[year]]\nyear = 99999999999\n"),
            Err(E::YearOutOfRange(99_999_999_999))
        );
        assert_eq!(
            parse_schedule_file("[[year]]\nyear = 2027\n[[year]]\nyear = 2027\n"),
            Err(E::DuplicateYear(2027))
        );
        assert!(one("").is_ok());
    }

    #[test]
    fn year_schedule_new_validates() {
        use ScheduleError as E;
        let none = BTreeMap::new;
        assert_eq!(
            YearSchedule::new(2201, none(), BTreeSet::new()),
            Err(E::YearOutOfRange(2201))
        );
        assert_eq!(
            YearSchedule::new(2027, none(), BTreeSet::from([d("2028-01-01")])),
            Err(E::DateOutsideYear {
                date: d("2028-01-01"),
                year: 2027
            })
        );
        assert_eq!(
            YearSchedule::new(
                2027,
                BTreeMap::from([(d("2027-01-01"), "元旦".to_owned())]),
                BTreeSet::from([d("2027-01-01")])
            ),
            Err(E::HolidayAndWorkday(d("2027-01-01")))
        );
        assert!(YearSchedule::new(1900, none(), BTreeSet::new()).is_ok());
    }

    #[test]
    fn calendar_years_and_replacement() {
        let shipped = Calendar::shipped();
        assert_eq!(
            shipped.years().map(YearSchedule::year).collect::<Vec<_>>(),
            [2025, 2026]
        );
        assert!(shipped.has_year(2025) && shipped.has_year(2026));
        assert!(!shipped.has_year(2024) && !shipped.has_year(2027));
        assert_eq!(Calendar::default().years().count(), 0);

        // A later 2026 without holidays replaces the shipped one.
        let bare = YearSchedule::new(2026, BTreeMap::new(), BTreeSet::new()).unwrap();
        let cal = Calendar::new(shipped.years().cloned().chain([bare]));
        assert!(cal.is_working_day(d("2026-10-01")));
        assert!(!cal.is_working_day(d("2026-10-10")));
        assert!(!cal.is_working_day(d("2025-10-01")));
    }
}
