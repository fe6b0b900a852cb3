//! The demo district (`serve --demo`): each part is seeded once per demo database and
//! recorded in `demo_seed` with its version, so later modules add their parts to an
//! existing demo. Seeding is idempotent and audited with the actor `demo`.

use chrono::Datelike;
use std::collections::HashSet;

use domain::org::{UnitCode, UnitKind};
use serde::Deserialize;

use domain::account::Role;

use crate::account::NewAccount;
use crate::audit::{AuditCtx, AuditEntry, append};
use crate::db::{BeginWrite, with_pool};
use crate::staff::NewStaff;
use crate::tenant::Tenant;
use crate::unit::NewUnit;
use crate::{Result, Store, StoreError};

mod appeals;
mod inspections;
mod ratings;

/// The demo tenant's unit tree.
const HUAIYIN: &str = include_str!("demo/huaiyin.toml");

/// The version of the `org` part; bump it when the part seeds more.
const ORG_VERSION: i32 = 1;

/// The version of the `accounts` part.
const ACCOUNTS_VERSION: i32 = 1;

/// The version of the `staff` part.
const STAFF_VERSION: i32 = 1;

/// The version of the `groups` part.
const GROUPS_VERSION: i32 = 1;

/// The version of the `tasks` part.
const TASKS_VERSION: i32 = 1;

/// The version of the `channels` part.
const CHANNELS_VERSION: i32 = 1;

/// The version of the `enterprises` part.
const ENTERPRISES_VERSION: i32 = 1;

/// The version of the `inspections` part.
const INSPECTIONS_VERSION: i32 = 1;

/// The version of the `appeals` part (categories, routes and a year of appeals).
const APPEALS_VERSION: i32 = 1;
const RATINGS_VERSION: i32 = 1;

/// The version of the `visits` part (the leader's account linked to 王建国, his visits).
const VISITS_VERSION: i32 = 1;

/// Enterprises in the demo registry.
pub const DEMO_ENTERPRISES: usize = 5_000;

/// Demo notification preferences: username, mobile number, events sent by SMS. The demo's
/// SMS gateway is the log-only one, so these SMS appear in the server log.
const DEMO_SMS: &[(&str, &str, &[domain::notify::Event])] = &[
    (
        "unitadmin",
        "13905310101",
        &[
            domain::notify::Event::Overdue,
            domain::notify::Event::Notice,
        ],
    ),
    (
        "supervisor",
        "13905310102",
        &[domain::notify::Event::Notice],
    ),
];

/// One demo task: number, measure, title, lead unit, cooperating units, assigned (days before
/// today), due (days from today, negative: overdue), the lead unit's reports (progress, text),
/// and where it ends: `open`, `submitted` or `completed`.
type DemoTask = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
    i64,
    i64,
    &'static [(i32, &'static str)],
    &'static str,
);

/// The ten measures of the programme as supervision tasks, some on time, some overdue.
const DEMO_TASKS: &[DemoTask] = &[
    (
        "1-1",
        "措施一：领导小组、七个工作组、督查考核",
        "建立领导小组和七个工作组月调度制度",
        "ZFB",
        &["SPJ"],
        60,
        20,
        &[
            (50, "已印发调度制度，召开首次调度会"),
            (100, "十一月调度会已召开，纪要已印发"),
        ],
        "completed",
    ),
    (
        "2-1",
        "措施二：实施意见",
        "制定优化营商环境实施意见的配套细则",
        "FGJ",
        &["SPJ", "SFJ"],
        45,
        -3,
        &[(60, "细则初稿已完成，正在征求部门意见")],
        "open",
    ),
    (
        "3-1",
        "措施三：区级领导带班",
        "落实区级领导政务服务大厅带班制度",
        "QWB",
        &["SPJ"],
        30,
        25,
        &[(40, "带班表已排至年底")],
        "open",
    ),
    (
        "4-1",
        "措施四：企业库、行风政风评议",
        "建成全区企业库并开展首轮行风政风评议",
        "GXJ",
        &["TJJ", "SCJ"],
        40,
        12,
        &[(30, "已汇总市场主体登记数据")],
        "open",
    ),
    (
        "5-1",
        "措施五：明察暗访、从严从快问责",
        "开展营商环境明察暗访专项行动",
        "SJJ",
        &["SPJ"],
        35,
        -8,
        &[],
        "open",
    ),
    (
        "6-1",
        "措施六：营商环境恳谈会",
        "每季度召开一次营商环境恳谈会",
        "SWJ",
        &["TCJ"],
        20,
        40,
        &[(25, "第一季度恳谈会已召开")],
        "open",
    ),
    (
        "7-1",
        "措施七：窗口人员培训",
        "完成全区窗口人员轮训并建立考核档案",
        "SPJ",
        &["RSJ"],
        25,
        1,
        &[(80, "已完成 6 期培训，覆盖 210 人")],
        "open",
    ),
    (
        "8-1",
        "措施八：审批服务向街道、村居延伸",
        "50 项审批服务事项下放至街道便民服务中心",
        "SPJ",
        &["370104001", "370104002"],
        50,
        30,
        &[(45, "已下放 22 项，街道窗口人员已到岗")],
        "open",
    ),
    (
        "9-1",
        "措施九：过程满意度、结果满意度双下降",
        "分析满意度双下降原因并提出整改清单",
        "TJJ",
        &["SPJ"],
        15,
        10,
        &[(90, "分析报告已完成，整改清单待审定")],
        "submitted",
    ),
    (
        "10-1",
        "措施十：优化营商环境流动红旗",
        "制定流动红旗评比办法并组织首次评比",
        "ZFB",
        &["TJJ"],
        20,
        20,
        &[],
        "open",
    ),
];

/// The leading group of the programme (measure 1: 领导小组、七个工作组).
const DEMO_LEADING_GROUP: (&str, &str) = (
    "槐荫区优化营商环境工作领导小组",
    "统筹全区优化营商环境工作，研究决定重大事项，督促各工作组和责任单位落实；领导小组办公室设在区行政审批服务局，负责日常工作。",
);

/// The seven working groups: name, duties, head (a district leader), lead department and
/// member departments (the heads of those units are members; a staff member of the lead
/// department is the liaison).
const DEMO_WORKING_GROUPS: &[(&str, &str, &str, &str, &[&str])] = &[
    (
        "综合协调组",
        "负责领导小组会议筹备、文件起草、信息汇总和工作调度。",
        "王建国",
        "SPJ",
        &["FGJ", "TJJ"],
    ),
    (
        "政务服务组",
        "推进“一次办成”、审批服务向街道和村居延伸，提升窗口服务质量。",
        "王建国",
        "SPJ",
        &["RSJ", "YBJ", "GAFJ"],
    ),
    (
        "市场环境组",
        "维护公平竞争的市场秩序，推进企业开办、准入准营便利化。",
        "张立新",
        "SCJ",
        &["SWJ", "SWUJ"],
    ),
    (
        "法治环境组",
        "推进依法行政和公正司法，化解涉企矛盾纠纷。",
        "张立新",
        "SFJ",
        &["GAFJ", "SJJ"],
    ),
    (
        "要素保障组",
        "保障项目建设用地、用工、资金和基础设施等要素。",
        "李红梅",
        "FGJ",
        &["ZJJ", "CZJ", "TCJ"],
    ),
    (
        "督查考核组",
        "开展明察暗访和督查督办，组织考核和流动红旗评选。",
        "李红梅",
        "SJJ",
        &["SPJ"],
    ),
    (
        "宣传引导组",
        "宣传营商环境政策和典型，做好舆论引导和公开发布。",
        "赵海峰",
        "WLJ",
        &["SWJ"],
    ),
];

/// District leaders (区级领导) on the staff of the district government office; departments
/// and streets are assigned to them in turn as their 分管区领导.
const DEMO_LEADERS: &[(&str, &str)] = &[
    ("王建国", "副区长"),
    ("张立新", "副区长"),
    ("李红梅", "副区长"),
    ("赵海峰", "副区长"),
];

/// People named in the demo accounts, placed where their accounts work: unit code, name,
/// position (they come after the unit's generated head).
const DEMO_NAMED_STAFF: &[(&str, &str, &str)] = &[
    ("SPJ", "陈静", "科长"),
    ("370104001", "刘洋", "科长"),
    ("ZWFW-01", "孙丽", "窗口工作人员"),
];

const SURNAMES: [&str; 20] = [
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "林", "罗",
];
const GIVEN_NAMES: [&str; 30] = [
    "伟", "芳", "娜", "秀英", "敏", "静怡", "丽华", "强", "磊", "军", "洋帆", "勇", "艳", "杰",
    "娟", "涛", "明远", "超", "秀兰", "霞", "平", "刚", "桂英", "建华", "文博", "思远", "海燕",
    "晓东", "玉兰", "志强",
];

/// The `n`-th generated demo name: distinct for the first 200.
fn demo_name(n: usize) -> String {
    format!(
        "{}{}",
        SURNAMES[n % SURNAMES.len()],
        GIVEN_NAMES[(n / SURNAMES.len() + 7 * n) % GIVEN_NAMES.len()]
    )
}

/// The password of every demo account (printed at start and in the README).
pub const DEMO_PASSWORD: &str = "Demo@2026";

/// The demo accounts: username, shown name, role, unit code or USCC.
pub const DEMO_ACCOUNTS: &[(&str, &str, Role, Option<&str>)] = &[
    ("admin", "系统管理员（示例）", Role::Sysadmin, None),
    ("secadmin", "安全管理员（示例）", Role::Secadmin, None),
    ("auditor", "审计管理员（示例）", Role::Auditor, None),
    ("leader", "王建国（区级领导）", Role::Leader, None),
    ("supervisor", "李明（营商办）", Role::Supervisor, None),
    ("inspector", "赵强（明察暗访组）", Role::Inspector, None),
    (
        "unitadmin",
        "陈静（行政审批服务局联络员）",
        Role::UnitAdmin,
        Some("SPJ"),
    ),
    (
        "street",
        "刘洋（振兴街街道联络员）",
        Role::UnitAdmin,
        Some("370104001"),
    ),
    (
        "window",
        "孙丽（综合受理1号窗口）",
        Role::WindowStaff,
        Some("ZWFW-01"),
    ),
    ("observer", "周敏（人大代表监督员）", Role::Observer, None),
    (
        "enterprise",
        "济南示例科技有限公司",
        Role::Enterprise,
        Some("91370104MA3C5T8R15"),
    ),
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoFile {
    tenant: DemoTenant,
    unit: Vec<DemoUnit>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoTenant {
    code: String,
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoUnit {
    code: String,
    name: String,
    kind: String,
    parent: Option<String>,
    staffed_by: Option<String>,
}

/// What the demo holds after seeding; written to the data directory's manifest for tests.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DemoSummary {
    /// The demo tenant's code.
    pub tenant_code: String,
    /// The demo tenant's name.
    pub tenant_name: String,
    /// Units per kind.
    pub units: std::collections::BTreeMap<String, usize>,
    /// Enterprises in the registry, and how many of them are key enterprises.
    pub enterprises: (i64, i64),
    /// Findings per state (open, assigned, rectifying, submitted, verified).
    pub findings: std::collections::BTreeMap<String, i64>,
    /// The units (codes) whose process and result satisfaction both fall in the most
    /// recent full month, planted by the ratings part.
    pub rating_falls: Vec<String>,
    /// That month (YYYY-MM).
    pub rating_fall_month: String,
    /// Appeals per state (the planted ones: some reopened, some still open).
    pub appeals: std::collections::BTreeMap<String, i64>,
    /// Open appeals whose running step carries the red card (planted: this month's that were
    /// never accepted or answered in time; the card sweep — `serve` runs it every minute —
    /// raises the cards).
    pub appeals_overdue: i64,
    /// Bad ratings still open, and those whose running step is overdue.
    pub bad_ratings: (i64, i64),
    /// Parts seeded by this run (empty when the demo was already complete).
    pub seeded_now: Vec<String>,
}

fn invalid(e: impl std::fmt::Display) -> StoreError {
    StoreError::Other(anyhow::anyhow!("demo data: {e}"))
}

/// How much of a year of cases and ratings the demo holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DemoVolume {
    /// A real district's: about 300,000 cases and 150,000 ratings (the first start takes a
    /// while).
    #[default]
    Full,
    /// A tenth of it: a quick look, and the tests' copy of the demo.
    Tenth,
}

impl DemoVolume {
    fn divisor(self) -> usize {
        match self {
            DemoVolume::Full => 1,
            DemoVolume::Tenth => 10,
        }
    }
}

impl std::str::FromStr for DemoVolume {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "full" => Ok(DemoVolume::Full),
            "tenth" => Ok(DemoVolume::Tenth),
            other => Err(format!("演示数据量应为 full 或 tenth，而不是 {other}")),
        }
    }
}

impl Store {
    /// Seeds whatever part of the demo district this database does not have yet, at the full
    /// volume.
    pub async fn seed_demo(&self) -> Result<DemoSummary> {
        self.seed_demo_with(DemoVolume::Full).await
    }

    /// Seeds whatever part of the demo district this database does not have yet; `volume`
    /// sizes the year of cases and ratings when that part is seeded now.
    #[tracing::instrument(skip(self))]
    pub async fn seed_demo_with(&self, volume: DemoVolume) -> Result<DemoSummary> {
        let file: DemoFile = toml::from_str(HUAIYIN).map_err(invalid)?;
        let ctx = AuditCtx::demo();
        let tenant = match self.tenant_by_code(&file.tenant.code).await? {
            Some(t) => t,
            None => {
                self.create_tenant(&ctx, &file.tenant.code, &file.tenant.name)
                    .await?
            }
        };
        let mut seeded_now = Vec::new();
        if self.demo_part_version(&tenant, "org").await? < ORG_VERSION {
            let existing: HashSet<String> = self
                .units(&tenant.id)
                .await?
                .into_iter()
                .map(|u| u.code)
                .collect();
            let units = file
                .unit
                .iter()
                .filter(|u| !existing.contains(&u.code))
                .map(|u| {
                    let code = |c: &str| UnitCode::parse(c).map_err(invalid);
                    Ok(NewUnit {
                        code: code(&u.code)?,
                        name: u.name.clone(),
                        kind: u.kind.parse::<UnitKind>().map_err(invalid)?,
                        parent: u.parent.as_deref().map(code).transpose()?,
                        staffed_by: u.staffed_by.as_deref().map(code).transpose()?,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            if !units.is_empty() {
                self.create_units(&ctx, &tenant.id, &units).await?;
            }
            self.record_demo_part(&tenant, "org", ORG_VERSION).await?;
            seeded_now.push("org".to_owned());
        }
        if self.demo_part_version(&tenant, "accounts").await? < ACCOUNTS_VERSION {
            for (username, name, role, scope) in DEMO_ACCOUNTS {
                if self.account_by_username(username).await?.is_some() {
                    continue;
                }
                let (unit_code, uscc) = match role {
                    Role::Enterprise => (None, scope.map(str::to_owned)),
                    _ => (scope.map(str::to_owned), None),
                };
                self.create_account(
                    &ctx,
                    &NewAccount {
                        tenant_id: tenant.id.clone(),
                        username: (*username).to_owned(),
                        display_name: (*name).to_owned(),
                        password: DEMO_PASSWORD.to_owned(),
                        must_change_password: false,
                        roles: vec![*role],
                        unit_code,
                        uscc,
                    },
                )
                .await?;
            }
            self.record_demo_part(&tenant, "accounts", ACCOUNTS_VERSION)
                .await?;
            seeded_now.push("accounts".to_owned());
        }
        if self.demo_part_version(&tenant, "staff").await? < STAFF_VERSION {
            self.seed_demo_staff(&ctx, &tenant).await?;
            self.record_demo_part(&tenant, "staff", STAFF_VERSION)
                .await?;
            seeded_now.push("staff".to_owned());
        }
        if self.demo_part_version(&tenant, "groups").await? < GROUPS_VERSION {
            self.seed_demo_groups(&ctx, &tenant).await?;
            self.record_demo_part(&tenant, "groups", GROUPS_VERSION)
                .await?;
            seeded_now.push("groups".to_owned());
        }
        if self.demo_part_version(&tenant, "tasks").await? < TASKS_VERSION {
            self.seed_demo_tasks(&ctx, &tenant).await?;
            self.record_demo_part(&tenant, "tasks", TASKS_VERSION)
                .await?;
            seeded_now.push("tasks".to_owned());
        }
        if self.demo_part_version(&tenant, "channels").await? < CHANNELS_VERSION {
            self.seed_demo_channels(&ctx, &tenant).await?;
            self.record_demo_part(&tenant, "channels", CHANNELS_VERSION)
                .await?;
            seeded_now.push("channels".to_owned());
        }
        if self.demo_part_version(&tenant, "enterprises").await? < ENTERPRISES_VERSION {
            self.seed_demo_enterprises(&ctx, &tenant).await?;
            self.record_demo_part(&tenant, "enterprises", ENTERPRISES_VERSION)
                .await?;
            seeded_now.push("enterprises".to_owned());
        }
        if self.demo_part_version(&tenant, "inspections").await? < INSPECTIONS_VERSION {
            self.seed_demo_inspections(&ctx, &tenant).await?;
            self.record_demo_part(&tenant, "inspections", INSPECTIONS_VERSION)
                .await?;
            seeded_now.push("inspections".to_owned());
        }
        if self.demo_part_version(&tenant, "appeals").await? < APPEALS_VERSION {
            self.seed_demo_appeals(&ctx, &tenant).await?;
            self.record_demo_part(&tenant, "appeals", APPEALS_VERSION)
                .await?;
            seeded_now.push("appeals".to_owned());
        }
        if self.demo_part_version(&tenant, "ratings").await? < RATINGS_VERSION {
            self.seed_demo_ratings(&ctx, &tenant, volume).await?;
            self.record_demo_part(&tenant, "ratings", RATINGS_VERSION)
                .await?;
            seeded_now.push("ratings".to_owned());
        }
        if self.demo_part_version(&tenant, "visits").await? < VISITS_VERSION {
            self.seed_demo_visits(&ctx, &tenant).await?;
            self.record_demo_part(&tenant, "visits", VISITS_VERSION)
                .await?;
            seeded_now.push("visits".to_owned());
        }
        let mut findings = std::collections::BTreeMap::new();
        for state in domain::finding::FindingState::ALL {
            let page = self
                .list_findings(
                    &tenant.id,
                    &crate::inspection::Visibility {
                        all: true,
                        ..Default::default()
                    },
                    &ctx.actor,
                    &crate::inspection::FindingFilter {
                        state: Some(*state),
                        ..Default::default()
                    },
                    crate::page::PageRequest {
                        page: 1,
                        per_page: 1,
                    },
                )
                .await?;
            findings.insert(state.as_str().to_owned(), page.total);
        }
        let everything = crate::appeal::AppealVisibility {
            all: true,
            units: None,
            account_id: None,
        };
        let one = crate::page::PageRequest {
            page: 1,
            per_page: 1,
        };
        let mut appeals = std::collections::BTreeMap::new();
        for state in domain::appeal::AppealState::ALL {
            let filter = crate::appeal::AppealFilter {
                state: Some(*state),
                ..Default::default()
            };
            let page = self
                .list_appeals(&tenant.id, &everything, &filter, one)
                .await?;
            appeals.insert(state.as_str().to_owned(), page.total);
        }
        let overdue = crate::appeal::AppealFilter {
            open: true,
            overdue: true,
            ..Default::default()
        };
        let appeals_overdue = self
            .list_appeals(&tenant.id, &everything, &overdue, one)
            .await?
            .total;
        let open_bad = crate::rating::BadFilter {
            states: domain::rating::BadState::ALL
                .iter()
                .copied()
                .filter(|s| !crate::rating::is_final(*s))
                .collect(),
            ..Default::default()
        };
        let bad_ratings = (
            self.count_bad_ratings(&tenant.id, &open_bad).await?,
            self.count_bad_ratings(
                &tenant.id,
                &crate::rating::BadFilter {
                    overdue: true,
                    ..open_bad.clone()
                },
            )
            .await?,
        );
        let mut per_kind = std::collections::BTreeMap::new();
        for unit in self.units(&tenant.id).await? {
            *per_kind.entry(unit.kind.as_str().to_owned()).or_insert(0) += 1;
        }
        let enterprises = self
            .list_enterprises(&tenant.id, &Default::default(), Default::default())
            .await?
            .total;
        let key = self.liaison_coverage(&tenant.id).await?.key_enterprises;
        let fall_month = self
            .today()
            .with_day(1)
            .and_then(|d| d.checked_sub_months(chrono::Months::new(1)))
            .map(|d| d.format("%Y-%m").to_string())
            .unwrap_or_default();
        Ok(DemoSummary {
            rating_falls: ratings::FALLING_UNITS
                .iter()
                .map(|c| (*c).to_owned())
                .collect(),
            rating_fall_month: fall_month,
            appeals,
            appeals_overdue,
            bad_ratings,
            enterprises: (enterprises, key),
            findings,
            tenant_code: tenant.code,
            tenant_name: tenant.name,
            units: per_kind,
            seeded_now,
        })
    }

    /// The `enterprises` part: [`DEMO_ENTERPRISES`] synthetic enterprises across the streets
    /// and the leading industries, a twentieth of them key enterprises, most of those with a
    /// leader of the district offices as liaison. Skipped when the registry holds any.
    async fn seed_demo_enterprises(&self, ctx: &AuditCtx, tenant: &Tenant) -> Result<()> {
        let any = self
            .list_enterprises(&tenant.id, &Default::default(), Default::default())
            .await?;
        if any.total > 0 {
            return Ok(());
        }
        let units = self.units(&tenant.id).await?;
        let offices: HashSet<&str> = units
            .iter()
            .filter(|u| u.kind == UnitKind::DistrictOffice)
            .map(|u| u.id.as_str())
            .collect();
        let staff = self
            .list_staff(
                &tenant.id,
                &Default::default(),
                crate::page::PageRequest {
                    page: 1,
                    per_page: crate::page::PageRequest::MAX_PER_PAGE,
                },
            )
            .await?;
        let world = crate::synthetic::World {
            streets: units
                .iter()
                .filter(|u| u.active && u.kind == UnitKind::Street)
                .map(|u| u.id.clone())
                .collect(),
            leaders: staff
                .items
                .iter()
                .filter(|s| s.active && offices.contains(s.unit_id.as_str()))
                .map(|s| (s.id.clone(), s.unit_id.clone()))
                .collect(),
            leading: self.leading_industries(&tenant.id).await?,
        };
        let all = crate::synthetic::enterprises(DEMO_ENTERPRISES, 0, 20_261_128, &world);
        self.insert_enterprises(ctx, &tenant.id, &all, &|_| {})
            .await?;
        Ok(())
    }

    /// The `groups` part: the leading group and its seven working groups with members.
    /// The `tasks` part: the ten measures as tasks assigned in the past weeks, reported on,
    /// one submitted and one accepted; the overdue ones get their red card from the first
    /// sweep. Skips tasks whose number exists (a run interrupted before recording the part).
    async fn seed_demo_tasks(&self, ctx: &AuditCtx, tenant: &Tenant) -> Result<()> {
        let units = self.units(&tenant.id).await?;
        let id_of = |code: &str| {
            units
                .iter()
                .find(|u| u.code == code)
                .map(|u| u.id.clone())
                .ok_or_else(|| StoreError::Other(anyhow::anyhow!("demo unit {code} missing")))
        };
        let now = self.clock.now();
        let today = self.today();
        for (number, measure, title, lead, cooperating, assigned, due, reports, end) in DEMO_TASKS {
            let existing = self
                .list_tasks(
                    &tenant.id,
                    &crate::task::TaskFilter::default(),
                    crate::page::PageRequest {
                        page: 1,
                        per_page: 200,
                    },
                )
                .await?;
            if existing.items.iter().any(|t| t.number == *number) {
                continue;
            }
            let lead_id = id_of(lead)?;
            let task = self
                .create_task_at(
                    ctx,
                    &tenant.id,
                    &crate::task::NewTask {
                        number: (*number).to_owned(),
                        measure: (*measure).to_owned(),
                        title: (*title).to_owned(),
                        description: String::new(),
                        lead_unit_id: lead_id.clone(),
                        cooperating_unit_ids: cooperating
                            .iter()
                            .map(|c| id_of(c))
                            .collect::<Result<_>>()?,
                        due_on: today + chrono::Duration::days(*due),
                        milestones: Vec::new(),
                    },
                    now - chrono::Duration::days(*assigned),
                )
                .await?;
            for (progress, text) in *reports {
                self.act_on_task(
                    ctx,
                    &tenant.id,
                    &task.id,
                    &crate::task::TaskStep::Report {
                        unit_id: lead_id.clone(),
                        progress: *progress,
                        text: (*text).to_owned(),
                    },
                )
                .await?;
            }
            if matches!(*end, "submitted" | "completed") {
                self.act_on_task(
                    ctx,
                    &tenant.id,
                    &task.id,
                    &crate::task::TaskStep::Submit {
                        unit_id: lead_id.clone(),
                        text: "已按要求完成，申请销号".to_owned(),
                    },
                )
                .await?;
            }
            if *end == "completed" {
                self.act_on_task(
                    ctx,
                    &tenant.id,
                    &task.id,
                    &crate::task::TaskStep::Accept {
                        text: "经核查已完成，同意销号".to_owned(),
                    },
                )
                .await?;
            }
        }
        Ok(())
    }

    async fn seed_demo_groups(&self, ctx: &AuditCtx, tenant: &Tenant) -> Result<()> {
        use domain::org::GroupRole;
        if !self.groups(&tenant.id).await?.is_empty() {
            return Ok(());
        }
        let units = self.units(&tenant.id).await?;
        let staff = self
            .list_staff(
                &tenant.id,
                &Default::default(),
                crate::page::PageRequest {
                    page: 1,
                    per_page: u32::MAX,
                },
            )
            .await?
            .items;
        let by_name = |name: &str| staff.iter().find(|s| s.name == name).map(|s| s.id.clone());
        let unit = |code: &str| units.iter().find(|u| u.code == code);
        let head_of = |code: &str| unit(code).and_then(|u| u.head_staff_id.clone());
        let liaison_of = |code: &str| {
            let unit = unit(code)?;
            staff
                .iter()
                .find(|s| s.unit_id == unit.id && Some(&s.id) != unit.head_staff_id.as_ref())
                .map(|s| s.id.clone())
        };
        let missing = |what: &str| invalid(format!("demo groups: {what} not found"));
        let (name, duties) = DEMO_LEADING_GROUP;
        let leading = self
            .create_group(
                ctx,
                &tenant.id,
                &crate::group::NewGroup {
                    name: name.to_owned(),
                    parent_id: None,
                    duties: duties.to_owned(),
                },
            )
            .await?;
        let mut members = vec![(
            by_name("王建国").ok_or_else(|| missing("王建国"))?,
            GroupRole::Head,
        )];
        for deputy in ["张立新", "李红梅", "赵海峰"] {
            members.push((
                by_name(deputy).ok_or_else(|| missing(deputy))?,
                GroupRole::Deputy,
            ));
        }
        for (_, _, _, lead, _) in DEMO_WORKING_GROUPS {
            if let Some(head) = head_of(lead)
                && !members.iter().any(|(s, _)| *s == head)
            {
                members.push((head, GroupRole::Member));
            }
        }
        self.set_group_members(ctx, &tenant.id, &leading.id, &members)
            .await?;
        for (name, duties, leader, lead, others) in DEMO_WORKING_GROUPS {
            let group = self
                .create_group(
                    ctx,
                    &tenant.id,
                    &crate::group::NewGroup {
                        name: (*name).to_owned(),
                        parent_id: Some(leading.id.clone()),
                        duties: (*duties).to_owned(),
                    },
                )
                .await?;
            let mut members = vec![(
                by_name(leader).ok_or_else(|| missing(leader))?,
                GroupRole::Head,
            )];
            for code in std::iter::once(lead).chain(others.iter()) {
                if let Some(head) = head_of(code)
                    && !members.iter().any(|(s, _)| *s == head)
                {
                    members.push((head, GroupRole::Member));
                }
            }
            if let Some(liaison) = liaison_of(lead)
                && !members.iter().any(|(s, _)| *s == liaison)
            {
                members.push((liaison, GroupRole::Liaison));
            }
            self.set_group_members(ctx, &tenant.id, &group.id, &members)
                .await?;
        }
        Ok(())
    }

    /// The `staff` part: two or three staff per department and street (the first is its
    /// head), one per window of the district hall, the district leaders in the government
    /// office, each department and street with a head and a 分管区领导. Skipped when the
    /// tenant already has staff (a run interrupted before recording the part).
    async fn seed_demo_staff(&self, ctx: &AuditCtx, tenant: &Tenant) -> Result<()> {
        let existing = self
            .list_staff(&tenant.id, &Default::default(), Default::default())
            .await?;
        if existing.total > 0 {
            return Ok(());
        }
        let units = self.units(&tenant.id).await?;
        let by_code = |code: &str| {
            units
                .iter()
                .find(|u| u.code == code)
                .ok_or_else(|| invalid(format!("unit {code} missing")))
        };
        let mut staff: Vec<NewStaff> = Vec::new();
        // unit id -> index in `staff` of its head
        let mut heads: Vec<(String, usize)> = Vec::new();
        let push = |staff: &mut Vec<NewStaff>, unit: &str, name: String, position: &str| {
            let n = staff.len() + 1;
            staff.push(NewStaff {
                name,
                unit_id: unit.to_owned(),
                part_time_unit_ids: Vec::new(),
                position: position.to_owned(),
                phone: Some(format!("1380000{n:04}")),
            });
            staff.len() - 1
        };
        let zfb = by_code("ZFB")?;
        let leaders: Vec<usize> = DEMO_LEADERS
            .iter()
            .map(|(name, position)| push(&mut staff, &zfb.id, (*name).to_owned(), position))
            .collect();
        let mut generated = 0;
        let mut next_name = || {
            generated += 1;
            demo_name(generated)
        };
        for office in units.iter().filter(|u| u.kind == UnitKind::DistrictOffice) {
            let head = push(&mut staff, &office.id, next_name(), "主任");
            push(&mut staff, &office.id, next_name(), "副主任");
            heads.push((office.id.clone(), head));
        }
        let mut led = Vec::new();
        for (i, unit) in units
            .iter()
            .filter(|u| matches!(u.kind, UnitKind::Department | UnitKind::Street))
            .enumerate()
        {
            let positions: &[&str] = match unit.kind {
                UnitKind::Department => &["局长", "副局长", "科长"],
                _ => &["主任", "副主任", "科长"],
            };
            let named: Vec<_> = DEMO_NAMED_STAFF
                .iter()
                .filter(|(code, _, _)| *code == unit.code)
                .collect();
            // departments alternate between three and two staff; streets have three
            let count = if unit.kind == UnitKind::Department && i % 2 == 1 && named.is_empty() {
                2
            } else {
                3
            };
            let head = push(&mut staff, &unit.id, next_name(), positions[0]);
            push(&mut staff, &unit.id, next_name(), positions[1]);
            if count == 3 {
                match named.first() {
                    Some((_, name, position)) => {
                        push(&mut staff, &unit.id, (*name).to_owned(), position)
                    }
                    None => push(&mut staff, &unit.id, next_name(), positions[2]),
                };
            }
            heads.push((unit.id.clone(), head));
            led.push((unit.id.clone(), leaders[i % leaders.len()]));
        }
        let hall = by_code("ZWFW")?;
        for window in units
            .iter()
            .filter(|u| u.parent_id.as_deref() == Some(hall.id.as_str()))
        {
            let name = DEMO_NAMED_STAFF
                .iter()
                .find(|(code, _, _)| *code == window.code)
                .map(|(_, name, _)| (*name).to_owned())
                .unwrap_or_else(&mut next_name);
            push(&mut staff, &window.id, name, "窗口工作人员");
        }
        let ids = self.create_staff_batch(ctx, &tenant.id, &staff).await?;
        let rows: Vec<(String, Option<String>, Option<String>)> = heads
            .iter()
            .map(|(unit, head)| {
                let leader = led
                    .iter()
                    .find(|(u, _)| u == unit)
                    .map(|(_, l)| ids[*l].clone());
                (unit.clone(), Some(ids[*head].clone()), leader)
            })
            .collect();
        self.assign_unit_heads(ctx, &tenant.id, &rows).await
    }

    /// The `visits` part: the `leader` account linked to its staff record (王建国), and his
    /// visits to a few of his liaison enterprises in the past months, two of them raising
    /// issues that became appeals. Skipped when the tenant has visits already.
    async fn seed_demo_visits(&self, ctx: &AuditCtx, tenant: &Tenant) -> Result<()> {
        let any: i64 = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM visit WHERE tenant_id = $1")
                .bind(&tenant.id)
                .fetch_one(pool)
                .await?
        });
        let Some(account) = self.account_by_username("leader").await? else {
            return Ok(());
        };
        if any > 0 || account.tenant_id != tenant.id {
            return Ok(());
        }
        let (name, _) = DEMO_LEADERS[0];
        let staff = self
            .list_staff(
                &tenant.id,
                &crate::staff::StaffFilter {
                    name_contains: Some(name.to_owned()),
                    active: Some(true),
                    ..Default::default()
                },
                Default::default(),
            )
            .await?;
        let Some(me) = staff.items.iter().find(|s| s.name == name) else {
            return Ok(());
        };
        self.link_account_staff(ctx, &tenant.id, &account.id, Some(&me.id))
            .await?;
        let mine = self
            .list_enterprises(
                &tenant.id,
                &crate::enterprise::EnterpriseFilter {
                    liaison_leader_id: Some(me.id.clone()),
                    ..Default::default()
                },
                crate::page::PageRequest {
                    page: 1,
                    per_page: 6,
                },
            )
            .await?;
        let issue = |category: &str, title: &str, content: &str| crate::visit::VisitIssue {
            kind: domain::appeal::Kind::Demand,
            category_code: category.to_owned(),
            title: title.to_owned(),
            content: content.to_owned(),
        };
        let today = self.today();
        for (n, enterprise) in mine.items.iter().enumerate() {
            // the last one is left unvisited for over 90 days
            let days_ago = [3, 12, 25, 40, 66, 120][n % 6];
            let issues = match n {
                0 => vec![
                    issue(
                        "HQZC",
                        "研发费用补贴申报进度",
                        "企业反映去年申报的研发费用补贴尚未拨付，希望了解审核进度。",
                    ),
                    issue(
                        "RSJY",
                        "高技能人才引进政策",
                        "企业计划引进一批高级技工，咨询人才公寓和落户政策。",
                    ),
                ],
                2 => vec![issue(
                    "GCJS",
                    "新厂房施工许可办理",
                    "二期厂房施工许可材料已提交两周，希望加快联合审查。",
                )],
                _ => Vec::new(),
            };
            self.record_visit(
                ctx,
                &tenant.id,
                &account.id,
                &crate::visit::NewVisit {
                    enterprise_id: enterprise.id.clone(),
                    visited_on: today - chrono::Duration::days(days_ago),
                    form: if n % 3 == 1 {
                        domain::visit::VisitForm::Forum
                    } else {
                        domain::visit::VisitForm::Onsite
                    },
                    people: format!("{name}；企业负责人{}", enterprise.values.legal_rep),
                    summary: "了解企业生产经营情况，宣讲惠企政策，听取企业意见建议。".into(),
                    issues,
                },
            )
            .await?;
        }
        Ok(())
    }

    /// Whether the tenant is a demo tenant (any part seeded).
    pub async fn is_demo_tenant(&self, tenant_id: &str) -> Result<bool> {
        self.cached(format!("demo|{tenant_id}"), async {
            let count: i64 = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM demo_seed WHERE tenant_id = $1")
                .bind(tenant_id)
                .fetch_one(pool)
                .await?
            });
            Ok(count > 0)
        })
        .await
    }

    /// SMS through the log-only gateway, and SMS preferences for two demo accounts.
    async fn seed_demo_channels(&self, ctx: &AuditCtx, tenant: &Tenant) -> Result<()> {
        let mut settings = self.channel_settings(&tenant.id).await?;
        settings.sms_gateway = domain::notify::SmsGateway::Log;
        self.set_channel_settings(ctx, &tenant.id, &settings)
            .await?;
        for (username, mobile, events) in DEMO_SMS {
            let Some(account) = self.account_by_username(username).await? else {
                continue;
            };
            let preferences = domain::notify::Preferences {
                mobile: domain::staff::Phone::parse(mobile).ok(),
                sms_events: events.iter().copied().collect(),
                ..Default::default()
            };
            self.set_notification_preferences(ctx, &tenant.id, &account.id, &preferences)
                .await?;
        }
        Ok(())
    }

    async fn demo_part_version(&self, tenant: &Tenant, part: &str) -> Result<i32> {
        let version: Option<i32> = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT version FROM demo_seed WHERE tenant_id = $1 AND part = $2")
                .bind(&tenant.id)
                .bind(part)
                .fetch_optional(pool)
                .await?
        });
        Ok(version.unwrap_or(0))
    }

    async fn record_demo_part(&self, tenant: &Tenant, part: &str, version: i32) -> Result<()> {
        let now = self.clock.now();
        let head = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "INSERT INTO demo_seed (tenant_id, part, version, seeded_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (tenant_id, part) DO UPDATE SET version = excluded.version, seeded_at = excluded.seeded_at",
            )
            .bind(&tenant.id)
            .bind(part)
            .bind(version)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let head = append!(self, tx, &AuditCtx::demo(), now, &AuditEntry {
                tenant_id: Some(&tenant.id),
                action: "seed",
                entity: "demo_seed",
                entity_id: part,
                changes: serde_json::json!({"version": version}),
            });
            tx.commit().await?;
            head
        });
        self.advance_head(head);
        Ok(())
    }
}
