//! Inspection findings (问题, SPEC "Inspections and accountability"): a problem found by an
//! inspection, a unit's own self-check, a duty log, a rating, an appeal or the media goes to
//! the unit that must fix it — assigned by the supervisor, or claimed by the unit from the
//! published list and confirmed — whose plan sets the rectification deadline; the unit
//! submits what it did with evidence, and the supervisor verifies (销号) or sends it back.
//! Accountability decisions (问责) on a unit or a person are linked to findings.

named!(
    /// Where a finding stands.
    FindingState, "问题状态", {
        /// 待交办: found, no unit yet (or a claim awaits confirmation).
        Open = "open" / "待交办",
        /// 已交办: a unit must fix it; its plan is due.
        Assigned = "assigned" / "已交办",
        /// 整改中: the plan is set and its deadline runs.
        Rectifying = "rectifying" / "整改中",
        /// 待验收: the unit submitted what it did.
        Submitted = "submitted" / "待验收",
        /// 已销号: verified by the supervisor; final.
        Verified = "verified" / "已销号",
    }
);

named!(
    /// What may happen to a finding.
    FindingAction, "操作", {
        /// The supervisor assigns it to a unit.
        Assign = "assign" / "交办",
        /// A unit claims a published finding for itself (主动认领).
        Claim = "claim" / "认领",
        /// The supervisor confirms the pending claim: the claiming unit is assigned.
        ConfirmClaim = "confirm_claim" / "确认认领",
        /// The supervisor refuses the pending claim.
        RefuseClaim = "refuse_claim" / "驳回认领",
        /// The responsible unit sets its plan (measures and the day it will be done).
        Plan = "plan" / "制定整改方案",
        /// The responsible unit submits what it did, with evidence.
        Submit = "submit" / "提交整改结果",
        /// The supervisor verifies the rectification (销号).
        Verify = "verify" / "验收销号",
        /// The supervisor sends it back to rectifying.
        Reject = "reject" / "退回整改",
        /// The supervisor publishes it: units may claim it and observers read it.
        Publish = "publish" / "公开",
    }
);

named!(
    /// How grave a finding is.
    Severity, "严重程度", {
        /// 一般.
        General = "general" / "一般",
        /// 较重.
        Serious = "serious" / "较重",
        /// 严重.
        Severe = "severe" / "严重",
    }
);

named!(
    /// Where a finding comes from.
    Source, "问题来源", {
        /// 明察暗访: an inspection.
        Inspection = "inspection" / "明察暗访",
        /// 自查: the unit's own self-check list (对照检查清单).
        SelfCheck = "self_check" / "对照自查",
        /// 带班值守: a leader's duty log.
        Duty = "duty" / "领导带班",
        /// 好差评: a bad rating.
        Rating = "rating" / "好差评",
        /// 诉求: an appeal.
        Appeal = "appeal" / "企业群众诉求",
        /// 媒体曝光: a media report.
        Media = "media" / "媒体曝光",
    }
);

named!(
    /// Open (明察) or covert (暗访).
    InspectionKind, "检查方式", {
        /// 明察: announced; seen by every role that reads inspections.
        Open = "open" / "明察",
        /// 暗访: seen by its team and the supervisor only.
        Covert = "covert" / "暗访",
    }
);

named!(
    /// An accountability decision (问责) on a unit or on a person.
    Measure, "问责方式", {
        /// 责令检查 (a unit).
        UnitSelfCriticism = "unit_self_criticism" / "检查",
        /// 通报 (a unit).
        UnitCircular = "unit_circular" / "通报",
        /// 改组 (a unit).
        UnitReorganise = "unit_reorganise" / "改组",
        /// 通报 (a person).
        Circular = "circular" / "通报",
        /// 诫勉.
        Admonish = "admonish" / "诫勉",
        /// 调离岗位.
        Transfer = "transfer" / "调离岗位",
        /// 停职检查.
        Suspend = "suspend" / "停职检查",
        /// 降职.
        Demote = "demote" / "降职",
        /// 免职.
        Dismiss = "dismiss" / "免职",
        /// 纪律处分.
        Discipline = "discipline" / "纪律处分",
    }
);

impl Measure {
    /// Whether it is taken on a unit (else on a person).
    pub fn on_unit(self) -> bool {
        matches!(
            self,
            Measure::UnitSelfCriticism | Measure::UnitCircular | Measure::UnitReorganise
        )
    }
}

/// The categories offered on forms (SPEC: 作风、纪律、效率、流程、环境…); others may be typed.
pub const CATEGORIES: [&str; 6] = ["作风", "纪律", "效率", "流程", "环境", "其他"];

/// Why an action is refused in the finding's state, in words for the clerk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FindingRefusal {
    /// Verified findings take nothing more but publishing.
    #[error("该问题已整改销号")]
    Verified,
    /// Assigning or claiming once a unit has it.
    #[error("该问题已交办给责任单位，不能再交办或认领")]
    AlreadyAssigned,
    /// Planning, submitting before a unit has it.
    #[error("该问题尚未交办给责任单位")]
    NotAssigned,
    /// Submitting before the plan.
    #[error("请先制定整改方案")]
    NotPlanned,
    /// A second plan: the deadline changes only by extension.
    #[error("整改方案已制定，如需更改时限请申请延期")]
    AlreadyPlanned,
    /// Waiting for the supervisor.
    #[error("整改结果已提交，正等待验收")]
    AwaitingVerification,
    /// Verifying or sending back before the unit submitted.
    #[error("责任单位尚未提交整改结果")]
    NotSubmitted,
}

/// The state after `action` on a finding in `state`.
pub fn next(state: FindingState, action: FindingAction) -> Result<FindingState, FindingRefusal> {
    use FindingAction::*;
    use FindingRefusal as R;
    use FindingState::*;
    match (state, action) {
        (s, Publish) => Ok(s),
        (Verified, _) => Err(R::Verified),
        (Open, Assign | ConfirmClaim) => Ok(Assigned),
        (Open, Claim | RefuseClaim) => Ok(Open),
        (Open, Plan | Submit) => Err(R::NotAssigned),
        (_, Assign | Claim | ConfirmClaim | RefuseClaim) => Err(R::AlreadyAssigned),
        (Assigned, Plan) => Ok(Rectifying),
        (Assigned, Submit) => Err(R::NotPlanned),
        (Rectifying, Plan) => Err(R::AlreadyPlanned),
        (Rectifying, Submit) => Ok(Submitted),
        (Submitted, Plan | Submit) => Err(R::AwaitingVerification),
        (Submitted, Verify) => Ok(Verified),
        (Submitted, Reject) => Ok(Rectifying),
        (Open | Assigned | Rectifying, Verify | Reject) => Err(R::NotSubmitted),
    }
}

/// Working days a unit has to set its plan once a finding is assigned to it.
pub const PLAN_DAYS: u32 = 3;

/// Where a new finding starts: a unit's own self-check is assigned to it at once (it listed
/// its own problem); anything else waits for the supervisor.
pub fn initial_state(source: Source) -> FindingState {
    match source {
        Source::SelfCheck => FindingState::Assigned,
        _ => FindingState::Open,
    }
}

/// What a step needs to know beyond the state: who takes it and what it carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StepFacts {
    /// The finding is published.
    pub published: bool,
    /// A unit's claim awaits confirmation.
    pub claim_pending: bool,
    /// The acting unit is the responsible unit (plan, submit) — or, for verify, the
    /// verifier's own unit is.
    pub own_unit: bool,
    /// The acting user acts through a unit at all (unit steps).
    pub has_unit: bool,
    /// Files of evidence coming with a submission.
    pub evidence: usize,
}

/// A step refused for who takes it or what it lacks: the field and a clerk's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct StepRefusal {
    /// The field at fault.
    pub field: &'static str,
    /// Why.
    pub message: &'static str,
}

/// Who may take a step and what it needs: a claim needs a published finding without a pending
/// claim; confirming or refusing needs a pending claim; the plan and the submission are the
/// responsible unit's, and a submission needs evidence; nobody verifies their own unit's
/// finding.
pub fn check_step(action: FindingAction, facts: StepFacts) -> Result<(), StepRefusal> {
    use FindingAction::*;
    let refuse = |field, message| Err(StepRefusal { field, message });
    match action {
        Claim if !facts.has_unit => refuse("unit_id", "只有单位联络员可以认领问题"),
        Claim if !facts.published => refuse("action", "该问题未公开，不能认领"),
        Claim if facts.claim_pending => refuse("action", "该问题已有单位认领，正等待督查确认"),
        ConfirmClaim | RefuseClaim if !facts.claim_pending => {
            refuse("action", "该问题没有待确认的认领")
        }
        Plan | Submit if !(facts.has_unit && facts.own_unit) => {
            refuse("unit_id", "只有责任单位的联络员可以制定方案和提交整改结果")
        }
        Submit if facts.evidence == 0 => refuse("attachment_ids", "提交整改结果须附整改佐证材料"),
        Verify if facts.own_unit => refuse("action", "不能验收本单位的问题"),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::FindingAction::*;
    use super::FindingRefusal as R;
    use super::FindingState::*;
    use super::*;

    #[test]
    fn every_state_and_action_has_the_written_outcome() {
        let table = [
            (Open, Assign, Ok(Assigned)),
            (Open, Claim, Ok(Open)),
            (Open, ConfirmClaim, Ok(Assigned)),
            (Open, RefuseClaim, Ok(Open)),
            (Open, Plan, Err(R::NotAssigned)),
            (Open, Submit, Err(R::NotAssigned)),
            (Open, Verify, Err(R::NotSubmitted)),
            (Open, Reject, Err(R::NotSubmitted)),
            (Open, Publish, Ok(Open)),
            (Assigned, Assign, Err(R::AlreadyAssigned)),
            (Assigned, Claim, Err(R::AlreadyAssigned)),
            (Assigned, ConfirmClaim, Err(R::AlreadyAssigned)),
            (Assigned, RefuseClaim, Err(R::AlreadyAssigned)),
            (Assigned, Plan, Ok(Rectifying)),
            (Assigned, Submit, Err(R::NotPlanned)),
            (Assigned, Verify, Err(R::NotSubmitted)),
            (Assigned, Reject, Err(R::NotSubmitted)),
            (Assigned, Publish, Ok(Assigned)),
            (Rectifying, Assign, Err(R::AlreadyAssigned)),
            (Rectifying, Claim, Err(R::AlreadyAssigned)),
            (Rectifying, ConfirmClaim, Err(R::AlreadyAssigned)),
            (Rectifying, RefuseClaim, Err(R::AlreadyAssigned)),
            (Rectifying, Plan, Err(R::AlreadyPlanned)),
            (Rectifying, Submit, Ok(Submitted)),
            (Rectifying, Verify, Err(R::NotSubmitted)),
            (Rectifying, Reject, Err(R::NotSubmitted)),
            (Rectifying, Publish, Ok(Rectifying)),
            (Submitted, Assign, Err(R::AlreadyAssigned)),
            (Submitted, Claim, Err(R::AlreadyAssigned)),
            (Submitted, ConfirmClaim, Err(R::AlreadyAssigned)),
            (Submitted, RefuseClaim, Err(R::AlreadyAssigned)),
            (Submitted, Plan, Err(R::AwaitingVerification)),
            (Submitted, Submit, Err(R::AwaitingVerification)),
            (Submitted, Verify, Ok(Verified)),
            (Submitted, Reject, Ok(Rectifying)),
            (Submitted, Publish, Ok(Submitted)),
            (Verified, Assign, Err(R::Verified)),
            (Verified, Claim, Err(R::Verified)),
            (Verified, ConfirmClaim, Err(R::Verified)),
            (Verified, RefuseClaim, Err(R::Verified)),
            (Verified, Plan, Err(R::Verified)),
            (Verified, Submit, Err(R::Verified)),
            (Verified, Verify, Err(R::Verified)),
            (Verified, Reject, Err(R::Verified)),
            (Verified, Publish, Ok(Verified)),
        ];
        assert_eq!(
            table.len(),
            FindingState::ALL.len() * FindingAction::ALL.len()
        );
        for (state, action, expected) in table {
            assert_eq!(next(state, action), expected, "{state:?} × {action:?}");
        }
    }

    #[test]
    fn every_step_and_its_facts_have_the_written_outcome() {
        let unit = StepFacts {
            has_unit: true,
            ..StepFacts::default()
        };
        let published = StepFacts {
            published: true,
            ..unit
        };
        let claimed = StepFacts {
            claim_pending: true,
            ..published
        };
        let own = StepFacts {
            own_unit: true,
            ..unit
        };
        let own_with_evidence = StepFacts { evidence: 2, ..own };
        let ok = None;
        let table = [
            (Claim, published, ok),
            (Claim, unit, Some("action")),
            (Claim, claimed, Some("action")),
            (
                Claim,
                StepFacts {
                    has_unit: false,
                    ..published
                },
                Some("unit_id"),
            ),
            (ConfirmClaim, claimed, ok),
            (ConfirmClaim, published, Some("action")),
            (RefuseClaim, claimed, ok),
            (RefuseClaim, published, Some("action")),
            (Plan, own, ok),
            (Plan, unit, Some("unit_id")),
            (
                Plan,
                StepFacts {
                    has_unit: false,
                    own_unit: true,
                    ..StepFacts::default()
                },
                Some("unit_id"),
            ),
            (Submit, own_with_evidence, ok),
            (Submit, own, Some("attachment_ids")),
            (
                Submit,
                StepFacts {
                    own_unit: false,
                    ..own_with_evidence
                },
                Some("unit_id"),
            ),
            (Verify, StepFacts::default(), ok),
            (Verify, own, Some("action")),
            (Reject, own, ok),
            (Assign, StepFacts::default(), ok),
            (Publish, StepFacts::default(), ok),
        ];
        for (action, facts, expected) in table {
            assert_eq!(
                check_step(action, facts).err().map(|r| r.field),
                expected,
                "{action:?} with {facts:?}"
            );
        }
        assert_eq!(
            check_step(Submit, own).unwrap_err().message,
            "提交整改结果须附整改佐证材料"
        );
    }

    #[test]
    fn only_a_self_check_starts_assigned() {
        for source in Source::ALL {
            let expected = if *source == Source::SelfCheck {
                Assigned
            } else {
                Open
            };
            assert_eq!(initial_state(*source), expected, "{source:?}");
        }
    }

    #[test]
    fn names_and_labels_round_trip() {
        for s in FindingState::ALL {
            assert_eq!(s.as_str().parse::<FindingState>(), Ok(*s));
            assert_eq!(s.label().parse::<FindingState>(), Ok(*s));
        }
        for a in FindingAction::ALL {
            assert_eq!(a.as_str().parse::<FindingAction>(), Ok(*a));
        }
        for v in Severity::ALL {
            assert_eq!(v.label().parse::<Severity>(), Ok(*v));
        }
        for v in Source::ALL {
            assert_eq!(v.as_str().parse::<Source>(), Ok(*v));
        }
        let err = "grave".parse::<Severity>().unwrap_err();
        assert!(err.contains("general（一般）"), "{err}");
        assert_eq!(
            Measure::ALL.iter().filter(|m| m.on_unit()).count(),
            3,
            "检查、通报、改组 on a unit"
        );
        assert_eq!(Measure::ALL.len(), 10);
    }
}
