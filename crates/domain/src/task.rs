//! Supervision tasks (督查督办, SPEC "Supervision tasks"): the programme's measures decomposed
//! into tasks with a lead unit (牵头单位), cooperating units (配合单位) and a deadline. The units
//! report progress; the lead unit asks for completion (申请销号); the supervisor accepts it
//! (销号) or sends it back. The deadline runs on the workflow kernel until it is accepted;
//! milestones (节点) have deadlines of their own, and the lead unit reports each reached.

use std::fmt;
use std::str::FromStr;

/// Where a task stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaskState {
    /// 已交办: no report yet.
    Assigned,
    /// 推进中: reported on.
    InProgress,
    /// 待验收: the lead unit asked for completion.
    Submitted,
    /// 已销号: accepted by the supervisor; final.
    Completed,
}

impl TaskState {
    /// Every state.
    pub const ALL: [TaskState; 4] = [
        TaskState::Assigned,
        TaskState::InProgress,
        TaskState::Submitted,
        TaskState::Completed,
    ];

    /// The name used in code, tables and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::Assigned => "assigned",
            TaskState::InProgress => "in_progress",
            TaskState::Submitted => "submitted",
            TaskState::Completed => "completed",
        }
    }
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TaskState {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TaskState::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("未知的任务状态“{s}”"))
    }
}

/// What may happen to a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaskAction {
    /// A lead or cooperating unit reports progress.
    Report,
    /// The lead unit asks for completion.
    Submit,
    /// The supervisor accepts the completion.
    Accept,
    /// The supervisor sends it back.
    Reject,
    /// The lead unit reports a milestone (节点) reached.
    Milestone,
}

impl TaskAction {
    /// Every action.
    pub const ALL: [TaskAction; 5] = [
        TaskAction::Report,
        TaskAction::Submit,
        TaskAction::Accept,
        TaskAction::Reject,
        TaskAction::Milestone,
    ];

    /// The name used in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskAction::Report => "report",
            TaskAction::Submit => "submit",
            TaskAction::Accept => "accept",
            TaskAction::Reject => "reject",
            TaskAction::Milestone => "milestone",
        }
    }
}

impl FromStr for TaskAction {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TaskAction::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                format!("未知的操作“{s}”，应为 report、submit、accept、reject、milestone 或 extend")
            })
    }
}

/// Why an action is refused, in words for the clerk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TaskRefusal {
    /// Completed tasks take nothing more.
    #[error("该任务已销号")]
    Completed,
    /// Waiting for the supervisor.
    #[error("该任务已申请销号，正等待督查验收")]
    AwaitingAcceptance,
    /// Accept or reject before the lead unit asked.
    #[error("牵头单位尚未申请销号")]
    NotSubmitted,
}

/// The state after `action` on a task in `state`.
pub fn next(state: TaskState, action: TaskAction) -> Result<TaskState, TaskRefusal> {
    use TaskAction::*;
    use TaskState::*;
    match (state, action) {
        (Completed, _) => Err(TaskRefusal::Completed),
        (Assigned | InProgress, Report | Milestone) => Ok(InProgress),
        (Assigned | InProgress, Submit) => Ok(Submitted),
        (Assigned | InProgress, Accept | Reject) => Err(TaskRefusal::NotSubmitted),
        (Submitted, Report | Submit | Milestone) => Err(TaskRefusal::AwaitingAcceptance),
        (Submitted, Accept) => Ok(Completed),
        (Submitted, Reject) => Ok(InProgress),
    }
}

/// How the acting unit stands on a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnitRole {
    /// 牵头单位.
    Lead,
    /// 配合单位.
    Cooperating,
    /// Not on the task (the supervisor's steps carry no unit).
    None,
}

/// A step refused for who takes it or what is still open: the field and a clerk's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct StepRefusal {
    /// The field at fault.
    pub field: &'static str,
    /// Why.
    pub message: String,
}

/// Who may take a unit's step, and what must be done first: any unit on the task reports;
/// only the lead reports a milestone reached; only the lead asks for completion, and only
/// once no milestone is open. The supervisor's steps (accept, reject) carry no unit.
pub fn check_step(
    action: TaskAction,
    role: UnitRole,
    open_milestones: usize,
) -> Result<(), StepRefusal> {
    let refuse = |field: &'static str, message: String| Err(StepRefusal { field, message });
    match (action, role) {
        (TaskAction::Accept | TaskAction::Reject, _) => Ok(()),
        (TaskAction::Report, UnitRole::Lead | UnitRole::Cooperating) => Ok(()),
        (TaskAction::Report, UnitRole::None) => {
            refuse("unit_id", "只有牵头单位和配合单位可以报送进展".into())
        }
        (TaskAction::Milestone, UnitRole::Lead) => Ok(()),
        (TaskAction::Milestone, _) => refuse("unit_id", "只有牵头单位可以报告节点完成".into()),
        (TaskAction::Submit, UnitRole::Lead) if open_milestones > 0 => refuse(
            "milestones",
            format!("还有 {open_milestones} 个节点未完成，不能申请销号"),
        ),
        (TaskAction::Submit, UnitRole::Lead) => Ok(()),
        (TaskAction::Submit, _) => refuse("unit_id", "只有牵头单位可以申请销号".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::TaskAction::*;
    use super::TaskState::*;
    use super::*;

    #[test]
    fn every_state_and_action_has_the_written_outcome() {
        let table = [
            (Assigned, Report, Ok(InProgress)),
            (Assigned, Submit, Ok(Submitted)),
            (Assigned, Accept, Err(TaskRefusal::NotSubmitted)),
            (Assigned, Reject, Err(TaskRefusal::NotSubmitted)),
            (InProgress, Report, Ok(InProgress)),
            (InProgress, Submit, Ok(Submitted)),
            (InProgress, Accept, Err(TaskRefusal::NotSubmitted)),
            (InProgress, Reject, Err(TaskRefusal::NotSubmitted)),
            (Submitted, Report, Err(TaskRefusal::AwaitingAcceptance)),
            (Submitted, Submit, Err(TaskRefusal::AwaitingAcceptance)),
            (Submitted, Accept, Ok(Completed)),
            (Submitted, Reject, Ok(InProgress)),
            (Completed, Report, Err(TaskRefusal::Completed)),
            (Completed, Submit, Err(TaskRefusal::Completed)),
            (Completed, Accept, Err(TaskRefusal::Completed)),
            (Completed, Reject, Err(TaskRefusal::Completed)),
            (Assigned, Milestone, Ok(InProgress)),
            (InProgress, Milestone, Ok(InProgress)),
            (Submitted, Milestone, Err(TaskRefusal::AwaitingAcceptance)),
            (Completed, Milestone, Err(TaskRefusal::Completed)),
        ];
        assert_eq!(table.len(), TaskState::ALL.len() * TaskAction::ALL.len());
        for (state, action, expected) in table {
            assert_eq!(next(state, action), expected, "{state:?} × {action:?}");
        }
    }

    #[test]
    fn every_step_role_and_open_milestones_has_the_written_outcome() {
        use UnitRole::{Cooperating, Lead};
        let ok = None;
        let unit = Some("unit_id");
        let milestones = Some("milestones");
        let table = [
            (Report, Lead, 0, ok),
            (Report, Lead, 2, ok),
            (Report, Cooperating, 0, ok),
            (Report, UnitRole::None, 0, unit),
            (Submit, Lead, 0, ok),
            (Submit, Lead, 2, milestones),
            (Submit, Cooperating, 0, unit),
            (Submit, UnitRole::None, 0, unit),
            (Milestone, Lead, 2, ok),
            (Milestone, Cooperating, 2, unit),
            (Milestone, UnitRole::None, 2, unit),
            (Accept, UnitRole::None, 2, ok),
            (Reject, UnitRole::None, 0, ok),
        ];
        for (action, role, open, expected) in table {
            assert_eq!(
                check_step(action, role, open).err().map(|r| r.field),
                expected,
                "{action:?} by {role:?} with {open} open"
            );
        }
        assert_eq!(
            check_step(Submit, Lead, 2).unwrap_err().message,
            "还有 2 个节点未完成，不能申请销号"
        );
    }

    #[test]
    fn names_round_trip() {
        for s in TaskState::ALL {
            assert_eq!(s.as_str().parse::<TaskState>(), Ok(s));
        }
        for a in TaskAction::ALL {
            assert_eq!(a.as_str().parse::<TaskAction>(), Ok(a));
        }
        assert!("close".parse::<TaskAction>().is_err());
    }
}
