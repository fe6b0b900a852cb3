//! The demo's `inspections` part: a year of inspections and their findings in every state,
//! self-check lists, a published problem to claim and a few accountability decisions. Steps
//! are taken at their own past moments, so deadlines, cards and timelines read as a year of
//! work; the overdue ones get their red card from the first sweep.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use domain::finding::{InspectionKind, Measure, Severity, Source};
use domain::org::UnitKind;

use crate::audit::AuditCtx;
use crate::inspection::{FindingStep, NewDecision, NewFinding, NewInspection};
use crate::task::ReportFiles;
use crate::tenant::Tenant;
use crate::{Result, Store, StoreError};

/// What inspections find: (category, description).
const PROBLEMS: &[(&str, &str)] = &[
    ("纪律", "窗口工作人员上班时间离岗，窗口无人值守约 30 分钟"),
    ("作风", "窗口人员对群众咨询态度生硬，未落实首问负责制"),
    (
        "效率",
        "企业开办材料齐全仍要求补充非必要证明，造成群众二次跑动",
    ),
    ("流程", "办事指南与实际收件材料不一致，一次性告知不到位"),
    ("环境", "自助服务终端故障未及时报修，无引导提示"),
    ("纪律", "工作时间玩手机、闲聊，影响窗口形象"),
    ("效率", "超过承诺时限未办结且未告知申请人原因"),
    ("作风", "对企业诉求推诿扯皮，未按首接责任制转办"),
];

/// Self-check problems a unit lists itself: (category, description).
const SELF_CHECKS: &[(&str, &str)] = &[
    ("流程", "自查：部分事项办事指南未随政策调整及时更新"),
    ("效率", "自查：帮办代办台账登记不完整，回访不及时"),
];

/// The instant `days` after the day `on` at 10:00 in Shanghai.
fn at(on: NaiveDate, days: i64) -> DateTime<Utc> {
    let day = on + Duration::days(days);
    day.and_hms_opt(10, 0, 0)
        .and_then(|t| t.and_local_timezone(domain::calendar::shanghai()).single())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| day.and_hms_opt(2, 0, 0).unwrap_or_default().and_utc())
}

/// How far a demo finding got.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reached {
    Open,
    Assigned,
    Rectifying,
    Submitted,
    Verified,
}

impl Store {
    pub(super) async fn seed_demo_inspections(
        &self,
        ctx: &AuditCtx,
        tenant: &Tenant,
    ) -> Result<()> {
        let any = self
            .list_findings(
                &tenant.id,
                &crate::inspection::Visibility {
                    all: true,
                    ..Default::default()
                },
                &ctx.actor,
                &Default::default(),
                Default::default(),
            )
            .await?;
        if any.total > 0 {
            return Ok(());
        }
        let mut units = self.units(&tenant.id).await?;
        units.sort_by(|a, b| a.code.cmp(&b.code));
        let of_kind = |kind: UnitKind| -> Vec<String> {
            units
                .iter()
                .filter(|u| u.active && u.kind == kind)
                .map(|u| u.id.clone())
                .collect()
        };
        let (streets, departments) = (of_kind(UnitKind::Street), of_kind(UnitKind::Department));
        if streets.is_empty() || departments.is_empty() {
            return Err(StoreError::Other(anyhow::anyhow!(
                "demo inspections need streets and departments"
            )));
        }
        let inspector = self
            .account_by_username("inspector")
            .await?
            .ok_or_else(|| StoreError::Other(anyhow::anyhow!("demo inspector missing")))?;
        let today = self.today();
        let mut severe = Vec::new();
        // one inspection a month for a year, covert and open in turn
        for month in 0..12_i64 {
            let held_on = today - Duration::days(month * 30 + 6);
            let targets = vec![
                streets[month as usize % streets.len()].clone(),
                departments[month as usize % departments.len()].clone(),
            ];
            let kind = if month % 2 == 0 {
                InspectionKind::Covert
            } else {
                InspectionKind::Open
            };
            let inspection = self
                .create_inspection(
                    ctx,
                    &tenant.id,
                    &NewInspection {
                        kind,
                        title: format!(
                            "{}政务服务窗口作风{}",
                            held_on.format("%Y年%-m月"),
                            kind.label()
                        ),
                        held_on,
                        notes: "检查窗口纪律、服务态度、一次性告知和办理时限落实情况".into(),
                        member_ids: vec![inspector.id.clone()],
                        target_unit_ids: targets.clone(),
                    },
                )
                .await?;
            for (n, unit) in targets.iter().enumerate() {
                let (category, description) = PROBLEMS[(month as usize * 2 + n) % PROBLEMS.len()];
                let severity = match (month + n as i64) % 5 {
                    0 => Severity::Severe,
                    1 | 3 => Severity::Serious,
                    _ => Severity::General,
                };
                let reached = match (month, n) {
                    (0, 0) => Reached::Open,
                    (0, _) => Reached::Rectifying,
                    (1, 0) => Reached::Rectifying,
                    (1, _) => Reached::Assigned,
                    (2, 0) => Reached::Submitted,
                    _ => Reached::Verified,
                };
                let id = self
                    .demo_finding(
                        ctx,
                        &tenant.id,
                        NewFinding {
                            inspection_id: Some(inspection.id.clone()),
                            source: Source::Inspection,
                            category: category.into(),
                            severity,
                            description: description.into(),
                            found_on: held_on,
                            unit_ids: vec![unit.clone()],
                            persons: String::new(),
                        },
                        reached,
                    )
                    .await?;
                if severity == Severity::Severe && reached == Reached::Verified {
                    severe.push((id, unit.clone(), held_on));
                }
            }
        }
        // three streets keep self-check lists: one problem rectified, one just listed
        for (n, street) in streets.iter().take(3).enumerate() {
            for (k, (category, description)) in SELF_CHECKS.iter().enumerate() {
                let found_on = today - Duration::days(if k == 0 { 40 + n as i64 } else { 1 });
                let new = NewFinding {
                    inspection_id: None,
                    source: Source::SelfCheck,
                    category: (*category).into(),
                    severity: Severity::General,
                    description: (*description).into(),
                    found_on,
                    unit_ids: vec![street.clone()],
                    persons: String::new(),
                };
                let id = self
                    .create_findings_at(ctx, &tenant.id, &new, at(found_on, 0))
                    .await?
                    .remove(0)
                    .id;
                if k == 0 {
                    self.demo_steps(
                        ctx,
                        &tenant.id,
                        &id,
                        street,
                        found_on,
                        Reached::Verified,
                        true,
                    )
                    .await?;
                }
            }
        }
        // a media report with no unit yet, published for the units to claim
        let found_on = today - Duration::days(2);
        let published = self
            .create_findings_at(
                ctx,
                &tenant.id,
                &NewFinding {
                    inspection_id: None,
                    source: Source::Media,
                    category: "效率".into(),
                    severity: Severity::Serious,
                    description: "媒体报道：企业反映水电气报装多头跑、时限长".into(),
                    found_on,
                    unit_ids: Vec::new(),
                    persons: String::new(),
                },
                at(found_on, 0),
            )
            .await?
            .remove(0)
            .id;
        self.act_on_finding_at(
            ctx,
            &tenant.id,
            &published,
            &FindingStep::Publish,
            ReportFiles::default(),
            at(found_on, 1),
        )
        .await?;
        // accountability for the severe findings: a person admonished, a unit circulated
        for (k, (finding_id, unit_id, found_on)) in severe.iter().take(2).enumerate() {
            let (measure, person) = if k == 0 {
                (Measure::Admonish, "张某")
            } else {
                (Measure::UnitCircular, "")
            };
            self.create_decision(
                ctx,
                &tenant.id,
                &NewDecision {
                    measure,
                    unit_id: unit_id.clone(),
                    person: person.into(),
                    basis: "明察暗访发现问题，经核实情况属实，依据《优化营商环境问责办法》".into(),
                    decided_by: "区纪委监委".into(),
                    decided_on: *found_on + Duration::days(12),
                    finding_ids: vec![finding_id.clone()],
                },
            )
            .await?;
        }
        Ok(())
    }

    /// Records a demo finding of one unit and takes it as far as `reached`.
    async fn demo_finding(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        new: NewFinding,
        reached: Reached,
    ) -> Result<String> {
        let found_on = new.found_on;
        let unit = new.unit_ids[0].clone();
        let id = self
            .create_findings_at(ctx, tenant_id, &new, at(found_on, 0))
            .await?
            .remove(0)
            .id;
        self.demo_steps(ctx, tenant_id, &id, &unit, found_on, reached, false)
            .await?;
        Ok(id)
    }

    /// Takes a demo finding through its steps at their past moments: assigned the next day
    /// (not for a self-check, assigned when listed), planned two days later with 20 days to
    /// do it, submitted after 15 days, verified after 18.
    #[allow(clippy::too_many_arguments)]
    async fn demo_steps(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        id: &str,
        unit: &str,
        found_on: NaiveDate,
        reached: Reached,
        self_check: bool,
    ) -> Result<()> {
        let step = |step: FindingStep, day: i64| {
            let id = id.to_owned();
            async move {
                self.act_on_finding_at(
                    ctx,
                    tenant_id,
                    &id,
                    &step,
                    ReportFiles::default(),
                    at(found_on, day),
                )
                .await
            }
        };
        if reached == Reached::Open {
            return Ok(());
        }
        if !self_check {
            step(
                FindingStep::Assign {
                    unit_id: unit.to_owned(),
                    persons: None,
                    note: "请按期整改".into(),
                },
                1,
            )
            .await?;
        }
        if reached == Reached::Assigned {
            return Ok(());
        }
        step(
            FindingStep::Plan {
                unit_id: Some(unit.to_owned()),
                measures: "立行立改，完善制度，加强教育培训和日常督导".into(),
                planned_on: found_on + Duration::days(23),
            },
            3,
        )
        .await?;
        if reached == Reached::Rectifying {
            return Ok(());
        }
        // the demo's evidence is the unit's written report, a small PDF
        let mut upload = self.receive_upload()?;
        upload
            .write(b"%PDF-1.4\n% demo rectification report\n")
            .map_err(|e| StoreError::Other(anyhow::anyhow!("demo evidence: {e}")))?;
        let file = self.prepare_file(tenant_id, "整改报告.pdf", upload)?;
        self.act_on_finding_at(
            ctx,
            tenant_id,
            id,
            &FindingStep::Submit {
                unit_id: Some(unit.to_owned()),
                result: "已完成整改：问题人员已批评教育，相关制度已修订并公示".into(),
            },
            ReportFiles {
                linked: Vec::new(),
                new: vec![file],
            },
            at(found_on, 15),
        )
        .await?;
        if reached == Reached::Submitted {
            return Ok(());
        }
        step(
            FindingStep::Verify {
                verifier_unit_id: None,
                note: "经复查整改到位，同意销号".into(),
            },
            18,
        )
        .await?;
        Ok(())
    }
}
