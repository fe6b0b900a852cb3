//! The demo's `appeals` part: the categories (Open311 services) with their default lead
//! units and the street routes of city management, then a year of appeals from every channel
//! taken through their steps at their own past moments — most closed after a satisfied
//! callback, some accepted late, some reopened, one never reached — and this month's still
//! open, a few overdue and one on the 书记直通车 line.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use domain::appeal::{Kind, Satisfaction, Source};
use domain::org::UnitKind;

use crate::appeal::{AppealStep, Category, NewAppeal};
use crate::audit::AuditCtx;
use crate::tenant::Tenant;
use crate::{Result, Store, StoreError};

/// The categories: (code, name, what it covers, default lead unit's code; none: the
/// supervisor decides).
const CATEGORIES: &[(&str, &str, &str, Option<&str>)] = &[
    ("QYKB", "企业开办", "企业设立、变更、注销登记", Some("SPJ")),
    (
        "SPFW",
        "审批服务",
        "行政许可、证照办理、帮办代办",
        Some("SPJ"),
    ),
    ("SSFW", "涉税服务", "办税缴费、发票、退税", Some("SWUJ")),
    ("RSJY", "人社就业", "社保、用工、人才政策", Some("RSJ")),
    ("SCJG", "市场监管", "质量、食品、价格、广告", Some("SCJ")),
    ("GCJS", "工程建设", "施工许可、联合验收", Some("ZJJ")),
    (
        "CSGL",
        "城市管理",
        "占道、市容、停车，由所在街道主办",
        Some("CGJ"),
    ),
    ("HQZC", "惠企政策", "政策兑现、资金申报", Some("FGJ")),
    ("QT", "其他", "其他诉求，由营商办研判派发", None),
];

/// What people raise: (category, kind, title, content).
const SUBJECTS: &[(&str, Kind, &str, &str)] = &[
    (
        "QYKB",
        Kind::Demand,
        "企业变更登记希望一次办结",
        "公司变更法定代表人，窗口要求补充材料两次，希望一次性告知。",
    ),
    (
        "SSFW",
        Kind::Consultation,
        "小规模纳税人减免政策咨询",
        "请问今年小规模纳税人增值税减免如何申报？",
    ),
    (
        "CSGL",
        Kind::Complaint,
        "门店前道路长期被占用",
        "门店前人行道被临时摊点占用，顾客无法停车，影响经营。",
    ),
    (
        "HQZC",
        Kind::Demand,
        "稳岗补贴迟迟未到账",
        "今年申报的稳岗补贴已过公示期，仍未到账，请协调。",
    ),
    (
        "SPFW",
        Kind::Suggestion,
        "建议延长午间办事时间",
        "企业员工只能中午办事，建议大厅午间设立延时服务窗口。",
    ),
    (
        "SCJG",
        Kind::Dispute,
        "装修合同纠纷请求调解",
        "与装修公司就工期延误发生纠纷，请求市场监管部门调解。",
    ),
    (
        "GCJS",
        Kind::Demand,
        "施工许可审批进度查询",
        "项目施工许可已提交十个工作日，请告知办理进度。",
    ),
    (
        "RSJY",
        Kind::Consultation,
        "高校毕业生就业补贴申请条件",
        "企业招用应届毕业生，能否申请一次性吸纳就业补贴？",
    ),
    (
        "QT",
        Kind::Complaint,
        "办事窗口工作人员态度生硬",
        "办理业务时窗口人员不耐烦，未解释清楚需要的材料。",
    ),
];

/// The channels in turn.
const SOURCES: &[Source] = &[
    Source::Portal,
    Source::Hall,
    Source::Hotline,
    Source::Portal,
    Source::Visit,
    Source::Duty,
    Source::Meeting,
    Source::Open311,
];

/// The instant `hours` after 09:00 of the day `days` after `on`, in Shanghai.
fn at(on: NaiveDate, days: i64, hours: i64) -> DateTime<Utc> {
    let day = on + Duration::days(days);
    day.and_hms_opt(9, 0, 0)
        .and_then(|t| t.and_local_timezone(domain::calendar::shanghai()).single())
        .map(|t| t.with_timezone(&Utc) + Duration::hours(hours))
        .unwrap_or_else(|| day.and_hms_opt(1, 0, 0).unwrap_or_default().and_utc())
}

/// How far a demo appeal got, and how.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Story {
    /// Submitted, not yet dispatched.
    Waiting,
    /// Dispatched, not yet accepted.
    Dispatched,
    /// Accepted, being handled.
    Handling,
    /// Replied, callback due.
    Replied,
    /// Closed after a satisfied callback.
    Closed,
    /// Accepted a day late, then closed.
    LateClosed,
    /// Reopened once after an unsatisfied callback, then closed.
    Reopened,
    /// Callback never reached after three attempts, then closed.
    Unreached,
}

impl Store {
    pub(super) async fn seed_demo_appeals(&self, ctx: &AuditCtx, tenant: &Tenant) -> Result<()> {
        if !self.appeal_categories(&tenant.id, false).await?.is_empty() {
            return Ok(());
        }
        let units = self.units(&tenant.id).await?;
        let id_of = |code: &str| {
            units
                .iter()
                .find(|u| u.code == code)
                .map(|u| u.id.clone())
                .ok_or_else(|| StoreError::Other(anyhow::anyhow!("demo unit {code} missing")))
        };
        let streets: Vec<String> = units
            .iter()
            .filter(|u| u.active && u.kind == UnitKind::Street)
            .map(|u| u.id.clone())
            .collect();
        for (n, (code, name, description, unit)) in CATEGORIES.iter().enumerate() {
            self.save_appeal_category(
                ctx,
                &tenant.id,
                &Category {
                    code: (*code).into(),
                    name: (*name).into(),
                    description: (*description).into(),
                    unit_id: unit.map(id_of).transpose()?,
                    sort_order: n as i64,
                    active: true,
                },
            )
            .await?;
        }
        // city management goes to the street it happens in
        for street in &streets {
            self.set_appeal_route(ctx, &tenant.id, "CSGL", street, Some(street))
                .await?;
        }
        let today = self.today();
        let mut n = 0usize;
        // three a month for the last twelve months: mostly closed, some late, reopened,
        // unreached
        for month in (1..=12_i64).rev() {
            for k in 0..3_i64 {
                let story = match (month + k) % 7 {
                    0 => Story::LateClosed,
                    3 => Story::Reopened,
                    _ if month == 5 && k == 1 => Story::Unreached,
                    _ => Story::Closed,
                };
                let day = today - Duration::days(month * 30 + 3 + k * 9);
                self.demo_appeal(ctx, tenant, &streets, n, at(day, 0, 1), story)
                    .await?;
                n += 1;
            }
        }
        // this month's: some still open, two overdue (no accept, no reply)
        let open = [
            (Story::Waiting, 0),
            (Story::Dispatched, 1),
            (Story::Dispatched, 6),
            (Story::Handling, 3),
            (Story::Handling, 12),
            (Story::Replied, 5),
        ];
        for (story, days_ago) in open {
            let when = at(today - Duration::days(days_ago), 0, 0).min(self.clock.now());
            self.demo_appeal(ctx, tenant, &streets, n, when, story)
                .await?;
            n += 1;
        }
        // and one on the secretary's line, dispatched today
        let secretary = self
            .create_appeal_at(
                ctx,
                &tenant.id,
                &NewAppeal {
                    kind: Kind::Demand,
                    source: Source::Secretary,
                    category_code: "HQZC".into(),
                    street_id: streets.first().cloned(),
                    enterprise_id: None,
                    title: "重点项目用地手续办理受阻".into(),
                    content:
                        "企业反映新建厂房用地手续在多个部门间流转，已逾两月未办结，恳请书记协调。"
                            .into(),
                    address: String::new(),
                    publish: false,
                    submitter_name: Some(super::demo_name(n)),
                    submitter_phone: Some(format!("139{:08}", 5_000_000 + n)),
                    submitter_account_id: None,
                    external_id: None,
                },
                at(today - Duration::days(1), 0, 1).min(self.clock.now()),
            )
            .await?;
        let lead = id_of("FGJ")?;
        let cohandler = id_of("ZJJ")?;
        self.act_on_appeal_at(
            ctx,
            &tenant.id,
            &secretary.id,
            &AppealStep::Dispatch {
                unit_id: lead,
                cohandler_ids: vec![cohandler],
                note: "书记直通车，请发改局牵头、住建局协办，限期答复".into(),
            },
            at(today - Duration::days(1), 0, 2).min(self.clock.now()),
        )
        .await?;
        Ok(())
    }

    /// One demo appeal received at `received`, taken as far as `story` says.
    async fn demo_appeal(
        &self,
        ctx: &AuditCtx,
        tenant: &Tenant,
        streets: &[String],
        n: usize,
        received: DateTime<Utc>,
        story: Story,
    ) -> Result<()> {
        let (category, kind, title, content) = SUBJECTS[n % SUBJECTS.len()];
        let source = SOURCES[n % SOURCES.len()];
        let appeal = self
            .create_appeal_at(
                ctx,
                &tenant.id,
                &NewAppeal {
                    kind,
                    source,
                    category_code: category.into(),
                    street_id: Some(streets[n * 5 % streets.len()].clone()),
                    enterprise_id: None,
                    title: title.into(),
                    content: content.into(),
                    address: String::new(),
                    publish: !n.is_multiple_of(3),
                    submitter_name: Some(super::demo_name(n)),
                    submitter_phone: Some(format!("138{:08}", 10_000_000 + n * 7)),
                    submitter_account_id: None,
                    external_id: (source == Source::Hotline)
                        .then(|| format!("12345-{:06}", 100_000 + n)),
                },
                received,
            )
            .await?;
        let now = self.clock.now();
        // each step a working moment later, never after now
        let mut when = received;
        let mut step = |hours: i64| {
            when = (when + Duration::hours(hours)).min(now);
            when
        };
        let id = appeal.id.as_str();
        let t = &tenant.id;
        if story == Story::Waiting {
            return Ok(());
        }
        let lead = match appeal.proposed_unit_id.clone() {
            Some(unit) => unit,
            None => streets[n % streets.len()].clone(),
        };
        let dispatch = AppealStep::Dispatch {
            unit_id: lead.clone(),
            cohandler_ids: Vec::new(),
            note: "请按时限办理".into(),
        };
        self.act_on_appeal_at(ctx, t, id, &dispatch, step(1))
            .await?;
        if story == Story::Dispatched {
            return Ok(());
        }
        let lead_unit = Some(lead);
        let accept = AppealStep::Accept {
            unit_id: lead_unit.clone(),
            note: String::new(),
        };
        let late = if story == Story::LateClosed { 72 } else { 2 };
        self.act_on_appeal_at(ctx, t, id, &accept, step(late))
            .await?;
        if story == Story::Handling {
            return Ok(());
        }
        let reply = AppealStep::Reply {
            unit_id: lead_unit.clone(),
            reply: "经核实，已按规定办理完毕，并向诉求人说明了政策依据和办理结果。".into(),
            status_notes: String::new(),
        };
        self.act_on_appeal_at(ctx, t, id, &reply, step(48)).await?;
        if story == Story::Replied {
            return Ok(());
        }
        let satisfied = |process, result| AppealStep::Callback {
            contacted: true,
            resolved: Some(true),
            process: Some(process),
            result: Some(result),
            note: String::new(),
        };
        match story {
            Story::Reopened => {
                let unhappy = AppealStep::Callback {
                    contacted: true,
                    resolved: Some(false),
                    process: Some(Satisfaction::Fair),
                    result: Some(Satisfaction::Dissatisfied),
                    note: "诉求人表示问题未解决".into(),
                };
                self.act_on_appeal_at(ctx, t, id, &unhappy, step(24))
                    .await?;
                let reopen = AppealStep::Reopen {
                    note: "回访不满意，请重新办理".into(),
                };
                self.act_on_appeal_at(ctx, t, id, &reopen, step(1)).await?;
                self.act_on_appeal_at(ctx, t, id, &reply, step(72)).await?;
                let fair = satisfied(Satisfaction::Fair, Satisfaction::Fair);
                self.act_on_appeal_at(ctx, t, id, &fair, step(24)).await?;
            }
            Story::Unreached => {
                for _ in 0..domain::appeal::CALLBACK_ATTEMPTS {
                    let missed = AppealStep::Callback {
                        contacted: false,
                        resolved: None,
                        process: None,
                        result: None,
                        note: "电话无人接听".into(),
                    };
                    self.act_on_appeal_at(ctx, t, id, &missed, step(5)).await?;
                }
            }
            _ => {
                let (process, result) = match n % 5 {
                    0 => (Satisfaction::Fair, Satisfaction::Satisfied),
                    1 => (Satisfaction::Satisfied, Satisfaction::Fair),
                    _ => (Satisfaction::Satisfied, Satisfaction::Satisfied),
                };
                self.act_on_appeal_at(ctx, t, id, &satisfied(process, result), step(24))
                    .await?;
            }
        }
        let close = AppealStep::Close {
            note: "回访完毕，予以办结".into(),
        };
        self.act_on_appeal_at(ctx, t, id, &close, step(2)).await?;
        Ok(())
    }
}
