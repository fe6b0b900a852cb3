//! The demo's `ratings` part: the service items of the district's departments and streets, a
//! year of cases (办件) at the district hall, the street centres and the community stations,
//! half of them rated (window devices, QR codes, online, SMS) with the district's usual
//! pattern — and, in the most recent full month, one department (市场监管局) and two streets
//! (道德街、五里沟) whose process and result satisfaction both fall well beyond chance. The
//! loads go in bulk (the ratings with their running totals); this month's newest bad ratings
//! go through the product's own path, so the supervisor's queue has work with deadlines.
//!
//! The volume is a real district's (about 300,000 cases and 150,000 ratings a year), or a
//! tenth of it ([`super::DemoVolume::Tenth`]: a quick look, and every test's copy of the
//! demo).

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use domain::rating::{BadState, Channel, Level, Reason, TargetKind};
use domain::service::{CaseStatus, HandlingLevel};

use crate::audit::AuditCtx;
use crate::rating::{BulkRating, NewRating, RatingTarget};
use crate::service::{BulkCase, ServiceItem};
use crate::tenant::Tenant;
use crate::{Result, Store, StoreError};

/// The units whose satisfaction the demo makes fall in the most recent full month.
pub const FALLING_UNITS: [&str; 3] = ["SCJ", "370104003", "370104005"];

/// Cases a full month, across the district, at the full volume.
const CASES_A_MONTH: usize = 23_000;

/// (code, name, department, levels, promised days, legal days, max visits, weight).
type ItemRow = (
    &'static str,
    &'static str,
    &'static str,
    &'static [HandlingLevel],
    u32,
    u32,
    u32,
    u32,
);

const ITEMS: &[ItemRow] = &[
    (
        "QY-001",
        "企业设立登记",
        "SCJ",
        &[HandlingLevel::District],
        1,
        15,
        1,
        14,
    ),
    (
        "QY-002",
        "企业变更登记",
        "SCJ",
        &[HandlingLevel::District],
        1,
        15,
        1,
        10,
    ),
    (
        "TZ-001",
        "企业投资项目备案",
        "FGJ",
        &[HandlingLevel::District],
        1,
        5,
        0,
        3,
    ),
    (
        "GC-001",
        "建筑工程施工许可",
        "ZJJ",
        &[HandlingLevel::District],
        5,
        15,
        1,
        3,
    ),
    (
        "BDC-001",
        "不动产转移登记",
        "ZJJ",
        &[HandlingLevel::District],
        3,
        30,
        1,
        10,
    ),
    (
        "SB-001",
        "社会保险参保登记",
        "RSJ",
        &[
            HandlingLevel::District,
            HandlingLevel::Street,
            HandlingLevel::Community,
        ],
        1,
        5,
        1,
        16,
    ),
    (
        "YB-001",
        "医疗费用报销",
        "YBJ",
        &[HandlingLevel::District, HandlingLevel::Street],
        5,
        20,
        1,
        10,
    ),
    (
        "SW-001",
        "发票申领",
        "SWUJ",
        &[HandlingLevel::District],
        1,
        5,
        0,
        12,
    ),
    (
        "MZ-001",
        "婚姻登记",
        "MZJ",
        &[HandlingLevel::District],
        1,
        1,
        1,
        4,
    ),
    (
        "MZ-002",
        "最低生活保障申请",
        "MZJ",
        &[HandlingLevel::Street, HandlingLevel::Community],
        10,
        30,
        1,
        8,
    ),
    (
        "HJ-001",
        "户口迁移",
        "GAFJ",
        &[HandlingLevel::District],
        3,
        20,
        1,
        6,
    ),
    (
        "JY-001",
        "就业失业登记",
        "RSJ",
        &[HandlingLevel::Street, HandlingLevel::Community],
        1,
        5,
        1,
        8,
    ),
];

/// A fresh bad rating: (window code, process, result, reason, comment, rater's phone).
type FreshBad = (
    &'static str,
    i64,
    i64,
    Reason,
    &'static str,
    Option<&'static str>,
);

/// A small deterministic generator: the demo is the same on every machine.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// True with `percent` in 100.
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// A level drawn from cumulative percentages of 5, 4, 3, 2 (1 takes the rest).
    fn level(&mut self, cumulative: [u64; 4]) -> Level {
        let x = self.below(100);
        let n = cumulative
            .iter()
            .position(|c| x < *c)
            .map_or(1, |i| 5 - i as i64);
        Level::new(n).unwrap_or_else(|_| unreachable!("levels are 1 to 5"))
    }
}

/// The usual pattern, and the falling units' in the fall month.
const USUAL: [u64; 4] = [70, 90, 96, 99];
const FALLING: [u64; 4] = [30, 48, 60, 80];

const COMMENTS: &[&str] = &[
    "办事效率高，一次就办好了",
    "工作人员很耐心",
    "",
    "",
    "流程清楚",
    "等候时间有点长",
];
const BAD_COMMENTS: &[&str] = &[
    "材料要求前后不一致，跑了好几趟",
    "窗口人员态度冷淡",
    "超过承诺时间还没办完",
    "问题没有解决",
];

fn local(day: NaiveDate, hour: u32, minute: u32) -> DateTime<Utc> {
    domain::calendar::shanghai()
        .from_local_datetime(&day.and_hms_opt(hour, minute, 0).unwrap_or_default())
        .single()
        .map_or_else(Utc::now, |t| t.with_timezone(&Utc))
}

impl Store {
    pub(super) async fn seed_demo_ratings(
        &self,
        ctx: &AuditCtx,
        tenant: &Tenant,
        volume: super::DemoVolume,
    ) -> Result<()> {
        if !self.service_items(&tenant.id).await?.is_empty() {
            return Ok(());
        }
        let units = self.units(&tenant.id).await?;
        let by_code = |code: &str| {
            units
                .iter()
                .find(|u| u.code == code)
                .ok_or_else(|| StoreError::Other(anyhow::anyhow!("demo unit {code} missing")))
        };
        for (code, name, dept, levels, promised, legal, visits, _) in ITEMS {
            self.save_service_item(
                ctx,
                &tenant.id,
                &ServiceItem {
                    code: (*code).into(),
                    name: (*name).into(),
                    unit_id: by_code(dept)?.id.clone(),
                    category: if dept.starts_with("MZ") || *code == "SB-001" {
                        "公共服务".into()
                    } else {
                        "行政许可".into()
                    },
                    levels: levels.to_vec(),
                    promised_days: *promised,
                    legal_days: *legal,
                    max_visits: *visits,
                    materials: String::new(),
                    online: *visits == 0,
                    active: true,
                },
            )
            .await?;
        }
        let streets: Vec<&crate::unit::Unit> = units
            .iter()
            .filter(|u| u.active && u.kind == domain::org::UnitKind::Street)
            .collect();
        let windows: Vec<&crate::unit::Unit> = units
            .iter()
            .filter(|u| u.active && u.kind == domain::org::UnitKind::Window)
            .collect();
        let window_of = |staffed_by: &str, community: bool| {
            windows
                .iter()
                .filter(|w| w.staffed_by_id.as_deref() == Some(staffed_by))
                .filter(|w| !community || w.code.len() > 14)
                .map(|w| w.id.clone())
                .next()
        };
        let calendar = self.calendar().await?;
        let now = self.clock.now();
        let today = self.today();
        let first = today
            .with_day(1)
            .and_then(|d| d.checked_sub_months(chrono::Months::new(12)))
            .unwrap_or(today);
        let fall_month = today
            .with_day(1)
            .and_then(|d| d.checked_sub_months(chrono::Months::new(1)))
            .unwrap_or(today);
        let falling: Vec<String> = FALLING_UNITS
            .iter()
            .map(|c| by_code(c).map(|u| u.id.clone()))
            .collect::<Result<_>>()?;
        let spj_window = window_of(&by_code("SPJ")?.id, false);
        let busy = [FALLING_UNITS[1], FALLING_UNITS[2]];
        let street_weight: u64 = streets
            .iter()
            .map(|s| {
                if busy.contains(&s.code.as_str()) {
                    4
                } else {
                    1
                }
            })
            .sum();
        let weight: u64 = ITEMS.iter().map(|i| u64::from(i.7)).sum();
        let mut dice = Dice(0x2545_F491_4F6C_DD1D);
        let mut cases = Vec::new();
        let mut day = first;
        let mut seq = 0usize;
        while day <= today {
            if !calendar.is_working_day(day) {
                day += Duration::days(1);
                continue;
            }
            // a working month has ~21 days
            for _ in 0..CASES_A_MONTH / volume.divisor() / 21 {
                let mut pick = dice.below(weight);
                let item = ITEMS
                    .iter()
                    .find(|i| {
                        let w = u64::from(i.7);
                        if pick < w {
                            true
                        } else {
                            pick -= w;
                            false
                        }
                    })
                    .unwrap_or(&ITEMS[0]);
                let dept = by_code(item.2)?;
                let level = if item.3.contains(&HandlingLevel::District)
                    && (item.3.len() == 1 || dice.chance(55))
                {
                    HandlingLevel::District
                } else if item.3.contains(&HandlingLevel::Community) && dice.chance(35) {
                    HandlingLevel::Community
                } else {
                    HandlingLevel::Street
                };
                let (unit_id, window_id) = match level {
                    HandlingLevel::District => (
                        dept.id.clone(),
                        window_of(&dept.id, false).or_else(|| spj_window.clone()),
                    ),
                    _ => {
                        // the two planted streets are the district's busiest centres
                        let mut pick = dice.below(street_weight);
                        let street = streets
                            .iter()
                            .find(|s| {
                                let w = if busy.contains(&s.code.as_str()) {
                                    4
                                } else {
                                    1
                                };
                                if pick < w {
                                    true
                                } else {
                                    pick -= w;
                                    false
                                }
                            })
                            .unwrap_or(&streets[0]);
                        (
                            street.id.clone(),
                            window_of(&street.id, level == HandlingLevel::Community)
                                .or_else(|| window_of(&street.id, false)),
                        )
                    }
                };
                let received = local(day, 9 + dice.below(7) as u32, dice.below(60) as u32);
                let late = dice.chance(7);
                let days = if late {
                    item.4 + 1 + dice.below(3) as u32
                } else {
                    dice.below(u64::from(item.4) + 1) as u32
                };
                let done_day = calendar
                    .add_working_days(day, days)
                    .map_err(|e| StoreError::Other(anyhow::anyhow!("{e}")))?
                    .value;
                let completed = local(done_day, 10 + dice.below(6) as u32, dice.below(60) as u32);
                let visits = if item.6 == 0 && dice.chance(90) {
                    0
                } else if dice.chance(90) {
                    1
                } else {
                    2 + dice.below(2) as u32
                };
                seq += 1;
                let done = completed <= now;
                cases.push(BulkCase {
                    number: format!("BJ{}{:06}", day.format("%Y%m%d"), seq),
                    item_code: item.0.into(),
                    unit_id,
                    window_id,
                    level,
                    channel: if item.6 == 0 { "online" } else { "window" },
                    status: if done {
                        CaseStatus::Completed
                    } else {
                        CaseStatus::Processing
                    },
                    visits,
                    received_at: received,
                    completed_at: done.then_some(completed),
                    working_days: done.then_some(days),
                    on_time: done.then_some(days <= item.4),
                });
            }
            day += Duration::days(1);
        }
        let ids = self.insert_cases(ctx, &tenant.id, &cases).await?;
        // half the completed cases are rated; QR ratings rate the window itself
        let mut ratings = Vec::new();
        let recent = now - Duration::days(3);
        for (case, id) in cases.iter().zip(&ids) {
            let Some(done) = case.completed_at else {
                continue;
            };
            if !dice.chance(50) {
                continue;
            }
            let rated_at = done + Duration::minutes(5 + dice.below(60 * 24) as i64);
            if rated_at > now {
                continue;
            }
            let rated_day = rated_at
                .with_timezone(&domain::calendar::shanghai())
                .date_naive();
            let in_fall =
                rated_day.year() == fall_month.year() && rated_day.month() == fall_month.month();
            let pattern = if in_fall && falling.contains(&case.unit_id) {
                FALLING
            } else {
                USUAL
            };
            let process = dice.level(pattern);
            let result = dice.level(pattern);
            let bad = process.is_bad() || result.is_bad();
            if bad && rated_at > recent {
                // the newest bad ratings go through the workflow below
                continue;
            }
            let channel = match dice.below(100) {
                0..45 => Channel::Device,
                45..65 => Channel::Qr,
                65..90 => Channel::Online,
                _ => Channel::Sms,
            };
            let on_window = channel == Channel::Qr && case.window_id.is_some();
            let reasons = if bad {
                let all = [
                    Reason::Attitude,
                    Reason::Visits,
                    Reason::Overtime,
                    Reason::Materials,
                    Reason::Inconsistent,
                    Reason::Unresolved,
                ];
                vec![all[dice.below(all.len() as u64) as usize]]
            } else {
                Vec::new()
            };
            let comment = if bad {
                BAD_COMMENTS[dice.below(BAD_COMMENTS.len() as u64) as usize]
            } else {
                COMMENTS[dice.below(COMMENTS.len() as u64) as usize]
            };
            ratings.push(BulkRating {
                target: if on_window {
                    TargetKind::Window
                } else {
                    TargetKind::Case
                },
                case_id: (!on_window).then(|| id.clone()),
                window_id: case.window_id.clone(),
                unit_id: case.unit_id.clone(),
                item_code: if on_window {
                    String::new()
                } else {
                    case.item_code.clone()
                },
                channel,
                process,
                result,
                reasons,
                comment: comment.into(),
                rated_at,
                bad_state: BadState::Closed,
            });
        }
        self.insert_ratings(ctx, &tenant.id, &ratings, &|_| {})
            .await?;
        // this month's newest bad ratings, through the product's path: two verified and
        // being rectified, the rest awaiting verification
        let fresh: [FreshBad; 4] = [
            (
                "ZWFW-04",
                2,
                2,
                Reason::Materials,
                "材料清单和网上公布的不一致",
                Some("13700000001"),
            ),
            (
                "ZWFW-07",
                1,
                2,
                Reason::Visits,
                "不动产登记来回跑了三次",
                Some("13700000002"),
            ),
            (
                "370104003H-01",
                2,
                1,
                Reason::Unresolved,
                "低保申请没有结果",
                None,
            ),
            (
                "ZWFW-01",
                2,
                3,
                Reason::Attitude,
                "窗口人员不耐烦",
                Some("13700000003"),
            ),
        ];
        for (n, (window, process, result, reason, comment, phone)) in fresh.iter().enumerate() {
            let rating = self
                .create_rating(
                    ctx,
                    &tenant.id,
                    &NewRating {
                        target: RatingTarget::Window(by_code(window)?.id.clone()),
                        channel: Channel::Qr,
                        process: *process,
                        result: *result,
                        reasons: vec![*reason],
                        comment: (*comment).into(),
                        rater_name: phone.map(|_| "示例评价人".to_owned()),
                        rater_phone: phone.map(str::to_owned),
                        device: None,
                        public: false,
                    },
                )
                .await?;
            if n < 2 {
                self.act_on_bad_rating(
                    ctx,
                    &tenant.id,
                    &rating.id,
                    &crate::rating::BadStepInput {
                        action: domain::rating::BadAction::Valid,
                        note: "已电话回访核实，情况属实".into(),
                        actor: domain::rating::BadActor {
                            supervisor: true,
                            ..Default::default()
                        },
                    },
                )
                .await?;
            }
        }
        Ok(())
    }
}
