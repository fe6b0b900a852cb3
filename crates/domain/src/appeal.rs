//! Appeals (诉求, SPEC "Appeals"): what an enterprise or a citizen asks, complains of,
//! suggests or disputes, from any channel, goes to a lead unit (主办) that accepts it — or
//! returns it with a reason before accepting, at most twice — and replies; the supervisor calls
//! the submitter back and closes it, or reopens it (重办) when the callback is unsatisfied, at
//! most twice. Each step runs against a limit of the working-day calendar.

use crate::deadline::Limit;

named!(
    /// Where an appeal stands.
    AppealState, "诉求状态", {
        /// 待派发: received, no unit yet.
        Submitted = "submitted" / "待派发",
        /// 待受理: dispatched to a lead unit, which must accept or return it.
        Dispatched = "dispatched" / "待受理",
        /// 已退回: the unit returned it; the dispatcher sends it again.
        Returned = "returned" / "已退回待重派",
        /// 办理中: accepted; the reply is due.
        Accepted = "accepted" / "办理中",
        /// 待回访: replied; the callback is due.
        Replied = "replied" / "已答复待回访",
        /// 待办结: called back (or not reached after three attempts).
        CalledBack = "called_back" / "已回访待办结",
        /// 已办结: final.
        Closed = "closed" / "已办结",
    }
);

named!(
    /// What may happen to an appeal.
    AppealAction, "操作", {
        /// The supervisor sends it to a lead unit (and co-handling units).
        Dispatch = "dispatch" / "派发",
        /// The lead unit accepts it.
        Accept = "accept" / "受理",
        /// The lead unit returns it before accepting, with a reason.
        Return = "return" / "退回",
        /// The lead unit replies.
        Reply = "reply" / "答复",
        /// The supervisor records a callback attempt (contacted or not).
        Callback = "callback" / "回访",
        /// The supervisor closes it.
        Close = "close" / "办结",
        /// The supervisor sends it back to the lead unit after an unsatisfied callback.
        Reopen = "reopen" / "重办",
    }
);

named!(
    /// What kind of appeal.
    Kind, "诉求类型", {
        /// 诉求.
        Demand = "demand" / "诉求",
        /// 投诉.
        Complaint = "complaint" / "投诉",
        /// 建议.
        Suggestion = "suggestion" / "建议",
        /// 咨询: replied within one working day.
        Consultation = "consultation" / "咨询",
        /// 矛盾纠纷.
        Dispute = "dispute" / "矛盾纠纷",
    }
);

named!(
    /// Through which channel an appeal came.
    Source, "诉求来源", {
        /// The public form or an enterprise account.
        Portal = "portal" / "网上提交",
        /// Entered at the service hall by staff.
        Hall = "hall" / "窗口登记",
        /// A leader's duty log.
        Duty = "duty" / "领导带班",
        /// An opinion raised at a meeting (恳谈会).
        Meeting = "meeting" / "恳谈会",
        /// A liaison visit (包联走访).
        Visit = "visit" / "包联走访",
        /// 书记直通车: flagged to the secretary's office at every step.
        Secretary = "secretary" / "书记直通车",
        /// An import of the hotline's export.
        Hotline = "hotline" / "12345热线",
        /// The Open311 GeoReport API.
        Open311 = "open311" / "Open311接口",
    }
);

named!(
    /// A callback's satisfaction, as 12345 callbacks record it.
    Satisfaction, "满意度", {
        /// 满意.
        Satisfied = "satisfied" / "满意",
        /// 基本满意.
        Fair = "fair" / "基本满意",
        /// 不满意.
        Dissatisfied = "dissatisfied" / "不满意",
    }
);

impl Kind {
    /// The kind a 12345 hotline export names: our codes and labels, and the hotline's own
    /// words for them (求助 is a demand, 举报 a complaint, 意见建议 a suggestion, 纠纷 a dispute).
    pub fn from_hotline(text: &str) -> Option<Self> {
        Self::from_code_or_label(text).or(match text {
            "求助" | "诉求求助" => Some(Kind::Demand),
            "举报" | "投诉举报" => Some(Kind::Complaint),
            "意见建议" | "意见" => Some(Kind::Suggestion),
            "咨询求助" => Some(Kind::Consultation),
            "纠纷" | "矛盾调解" | "纠纷调解" => Some(Kind::Dispute),
            _ => None,
        })
    }
}

impl Satisfaction {
    /// Whether it counts as satisfied in the figures (满意 and 基本满意, like rating levels 3–5).
    pub fn counts_satisfied(self) -> bool {
        !matches!(self, Satisfaction::Dissatisfied)
    }
}

/// Returns a lead unit may make before accepting, over the appeal's life.
pub const MAX_RETURNS: u32 = 2;
/// Reopenings after unsatisfied callbacks; after them the supervisor decides.
pub const MAX_REOPENS: u32 = 2;
/// Callback attempts without reaching the submitter before it is counted as not reached.
pub const CALLBACK_ATTEMPTS: u32 = 3;

/// The time limits of the steps (SPEC defaults, after the Shandong hotline rules; a tenant may
/// change them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Dispatch within this many working minutes of receipt.
    pub dispatch_minutes: u32,
    /// Accept within this many working days of dispatch.
    pub accept_days: u32,
    /// A return must come within this many working days of dispatch.
    pub return_days: u32,
    /// Reply within this many working days of acceptance.
    pub reply_days: u32,
    /// A consultation's reply, in working days.
    pub consultation_reply_days: u32,
    /// The one extension, at most this many working days.
    pub extension_max_days: u32,
    /// Call back within this many working days of the reply.
    pub callback_days: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            dispatch_minutes: 120,
            accept_days: 1,
            return_days: 2,
            reply_days: 5,
            consultation_reply_days: 1,
            extension_max_days: 10,
            callback_days: 2,
        }
    }
}

/// A step of an appeal that runs against a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    /// From receipt (or a return) to dispatch.
    Dispatch,
    /// From dispatch to acceptance.
    Accept,
    /// From acceptance (or a reopening) to the reply.
    Reply,
    /// From the reply to the callback.
    Callback,
}

impl Step {
    /// The step's name in the deadline table: the first round is the bare name, later rounds
    /// (after a return or a reopening) carry their number, as a record has one deadline per
    /// step name.
    pub fn name(self, round: u32) -> String {
        let base = match self {
            Step::Dispatch => "dispatch",
            Step::Accept => "accept",
            Step::Reply => "reply",
            Step::Callback => "callback",
        };
        if round <= 1 {
            base.to_owned()
        } else {
            format!("{base}.{round}")
        }
    }

    /// The step a stored deadline's name belongs to.
    pub fn of_name(name: &str) -> Option<Step> {
        match name.split('.').next()? {
            "dispatch" => Some(Step::Dispatch),
            "accept" => Some(Step::Accept),
            "reply" => Some(Step::Reply),
            "callback" => Some(Step::Callback),
            _ => None,
        }
    }
}

impl Limits {
    /// The limit of a step for an appeal of `kind`.
    pub fn of(&self, step: Step, kind: Kind) -> Limit {
        match step {
            Step::Dispatch => Limit::WorkingMinutes(self.dispatch_minutes),
            Step::Accept => Limit::WorkingDays(self.accept_days),
            Step::Reply if kind == Kind::Consultation => {
                Limit::WorkingDays(self.consultation_reply_days)
            }
            Step::Reply => Limit::WorkingDays(self.reply_days),
            Step::Callback => Limit::WorkingDays(self.callback_days),
        }
    }

    /// Checks a tenant's values: every limit at least one (minute or day), at most a year.
    pub fn validate(&self) -> Result<(), StepRefusal> {
        let days = [
            ("accept_days", self.accept_days),
            ("return_days", self.return_days),
            ("reply_days", self.reply_days),
            ("consultation_reply_days", self.consultation_reply_days),
            ("extension_max_days", self.extension_max_days),
            ("callback_days", self.callback_days),
        ];
        for (field, value) in days {
            if !(1..=366).contains(&value) {
                return Err(StepRefusal {
                    field,
                    message: "时限应为 1 至 366 个工作日",
                });
            }
        }
        if !(1..=366 * 8 * 60).contains(&self.dispatch_minutes) {
            return Err(StepRefusal {
                field: "dispatch_minutes",
                message: "派发时限应为正数的工作分钟",
            });
        }
        Ok(())
    }
}

/// What a step's outcome depends on beyond the state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Facts {
    /// Returns made so far.
    pub returns: u32,
    /// Reopenings made so far.
    pub reopens: u32,
    /// Callback attempts so far that did not reach the submitter.
    pub missed_callbacks: u32,
    /// This callback reached the submitter.
    pub contacted: bool,
    /// The last callback says the appeal may be reopened (reached, and not resolved or not
    /// satisfied).
    pub unsatisfied: bool,
}

/// Why an action is refused in the appeal's state, in words for the clerk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AppealRefusal {
    /// Closed appeals take nothing more.
    #[error("该诉求已办结")]
    Closed,
    /// Dispatching once a unit has it.
    #[error("该诉求已派发，不能重复派发")]
    AlreadyDispatched,
    /// Accepting, returning before dispatch.
    #[error("该诉求尚未派发")]
    NotDispatched,
    /// Accepting twice.
    #[error("该诉求已受理")]
    AlreadyAccepted,
    /// A return after acceptance.
    #[error("已受理的诉求不能退回")]
    ReturnAfterAccept,
    /// A third return.
    #[error("该诉求已退回两次，不能再退回，请受理办理")]
    ReturnsUsed,
    /// Replying before accepting.
    #[error("请先受理该诉求")]
    NotAccepted,
    /// Replying twice.
    #[error("该诉求已答复")]
    AlreadyReplied,
    /// A callback before the reply.
    #[error("承办单位尚未答复，不能回访")]
    NotReplied,
    /// A second callback.
    #[error("该诉求已回访")]
    AlreadyCalledBack,
    /// Closing or reopening before the callback.
    #[error("回访后才能办结或重办")]
    NotCalledBack,
    /// Reopening a callback that was satisfied or not reached.
    #[error("回访结果为已解决且满意（或未联系上），不能重办")]
    NotUnsatisfied,
    /// A third reopening.
    #[error("该诉求已重办两次，请由督查人员决定办结")]
    ReopensUsed,
}

/// The state after `action` on an appeal in `state`.
pub fn next(
    state: AppealState,
    action: AppealAction,
    facts: Facts,
) -> Result<AppealState, AppealRefusal> {
    use AppealAction::*;
    use AppealRefusal as R;
    use AppealState::*;
    match (state, action) {
        (Closed, _) => Err(R::Closed),
        (Submitted | Returned, Dispatch) => Ok(Dispatched),
        (_, Dispatch) => Err(R::AlreadyDispatched),
        (Submitted | Returned, Accept | Return) => Err(R::NotDispatched),
        (Dispatched, Accept) => Ok(Accepted),
        (Dispatched, Return) if facts.returns >= MAX_RETURNS => Err(R::ReturnsUsed),
        (Dispatched, Return) => Ok(Returned),
        (_, Accept) => Err(R::AlreadyAccepted),
        (_, Return) => Err(R::ReturnAfterAccept),
        (Accepted, Reply) => Ok(Replied),
        (Submitted | Returned | Dispatched, Reply) => Err(R::NotAccepted),
        (_, Reply) => Err(R::AlreadyReplied),
        (Replied, Callback) if facts.contacted => Ok(CalledBack),
        (Replied, Callback) if facts.missed_callbacks + 1 >= CALLBACK_ATTEMPTS => Ok(CalledBack),
        (Replied, Callback) => Ok(Replied),
        (CalledBack, Callback) => Err(R::AlreadyCalledBack),
        (_, Callback) => Err(R::NotReplied),
        (CalledBack, Close) => Ok(Closed),
        (CalledBack, Reopen) if !facts.unsatisfied => Err(R::NotUnsatisfied),
        (CalledBack, Reopen) if facts.reopens >= MAX_REOPENS => Err(R::ReopensUsed),
        (CalledBack, Reopen) => Ok(Accepted),
        (_, Close | Reopen) => Err(R::NotCalledBack),
    }
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

/// What a unit step needs to know of who takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Actor {
    /// The acting user acts through a unit at all.
    pub has_unit: bool,
    /// That unit is the appeal's lead unit.
    pub lead_unit: bool,
    /// The return window (working days from dispatch) has not passed.
    pub within_return_window: bool,
}

/// Who may take a unit's step: accepting, returning and replying are the lead unit's, and a
/// return comes within its window. The supervisor's steps (dispatch, callback, close, reopen)
/// are decided by the caller's policy.
pub fn check_unit_step(action: AppealAction, actor: Actor) -> Result<(), StepRefusal> {
    use AppealAction::*;
    let refuse = |field, message| Err(StepRefusal { field, message });
    match action {
        Accept | Return | Reply if !(actor.has_unit && actor.lead_unit) => {
            refuse("unit_id", "只有主办单位的联络员可以受理、退回和答复该诉求")
        }
        Return if !actor.within_return_window => refuse("action", "已超过退回时限，请受理后办理"),
        _ => Ok(()),
    }
}

/// The step whose deadline a state runs against, if any.
pub fn running_step(state: AppealState) -> Option<Step> {
    match state {
        AppealState::Submitted | AppealState::Returned => Some(Step::Dispatch),
        AppealState::Dispatched => Some(Step::Accept),
        AppealState::Accepted => Some(Step::Reply),
        AppealState::Replied => Some(Step::Callback),
        AppealState::CalledBack | AppealState::Closed => None,
    }
}

/// The three rates (三率) of a set of appeals, with their denominators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    /// Appeals whose accept deadline fell in the period.
    pub accept_due: u64,
    /// Of those, accepted within the limit.
    pub accepted_in_time: u64,
    /// Callbacks that reached the submitter.
    pub reached: u64,
    /// Of those, saying resolved.
    pub resolved: u64,
    /// Of those, result satisfied or fairly satisfied.
    pub satisfied: u64,
    /// Callbacks not reached after the attempts (counted apart).
    pub unreached: u64,
}

/// The weights of the combined score, in percent (default 30 / 35 / 35).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Weights {
    /// Of the response rate.
    pub response: u32,
    /// Of the resolution rate.
    pub resolution: u32,
    /// Of the satisfaction rate.
    pub satisfaction: u32,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            response: 30,
            resolution: 35,
            satisfaction: 35,
        }
    }
}

fn rate(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

impl Counts {
    /// Accepted within the limit ÷ appeals whose accept deadline fell in the period.
    pub fn response_rate(&self) -> Option<f64> {
        rate(self.accepted_in_time, self.accept_due)
    }

    /// Callbacks saying resolved ÷ callbacks reached.
    pub fn resolution_rate(&self) -> Option<f64> {
        rate(self.resolved, self.reached)
    }

    /// Callbacks satisfied or fairly satisfied ÷ callbacks reached.
    pub fn satisfaction_rate(&self) -> Option<f64> {
        rate(self.satisfied, self.reached)
    }

    /// The combined score out of 100: the weighted mean of the rates that have a denominator
    /// (the weights of those without one are left out), or `None` when none has.
    pub fn score(&self, w: Weights) -> Option<f64> {
        let parts = [
            (self.response_rate(), w.response),
            (self.resolution_rate(), w.resolution),
            (self.satisfaction_rate(), w.satisfaction),
        ];
        let weight: u32 = parts.iter().filter(|p| p.0.is_some()).map(|p| p.1).sum();
        if weight == 0 {
            return None;
        }
        let sum: f64 = parts
            .iter()
            .filter_map(|(r, w)| r.map(|r| r * f64::from(*w)))
            .sum();
        Some(sum * 100.0 / f64::from(weight))
    }
}

/// The tracking code a submitter follows an appeal by: 12 characters of an alphabet without
/// look-alikes (no 0/O, 1/I/L), from 60 random bits the caller draws.
pub fn tracking_code(random: u64) -> String {
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
    let mut n = random;
    let mut out = String::with_capacity(12);
    for _ in 0..12 {
        out.push(ALPHABET[(n % ALPHABET.len() as u64) as usize] as char);
        n /= ALPHABET.len() as u64;
    }
    out
}

/// A tracking code as typed: trimmed, upper-cased, without spaces or dashes; `None` when it
/// cannot be one.
pub fn normalise_tracking_code(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (code.len() == 12
        && code
            .bytes()
            .all(|b| b"23456789ABCDEFGHJKMNPQRSTUVWXYZ".contains(&b)))
    .then_some(code)
}

#[cfg(test)]
mod tests {
    use super::AppealAction::*;
    use super::AppealRefusal as R;
    use super::AppealState::*;
    use super::*;

    #[test]
    fn hotline_kinds_are_read_by_label_code_or_the_hotline_s_word() {
        for (text, kind) in [
            ("投诉", Some(Kind::Complaint)),
            ("complaint", Some(Kind::Complaint)),
            ("举报", Some(Kind::Complaint)),
            ("求助", Some(Kind::Demand)),
            ("诉求", Some(Kind::Demand)),
            ("咨询", Some(Kind::Consultation)),
            ("意见建议", Some(Kind::Suggestion)),
            ("纠纷", Some(Kind::Dispute)),
            ("表扬", None),
            ("", None),
        ] {
            assert_eq!(Kind::from_hotline(text), kind, "{text}");
        }
    }

    #[test]
    fn every_state_and_action_has_the_written_outcome() {
        // first returns, first reopening, a callback that reached an unsatisfied submitter
        let f = Facts {
            contacted: true,
            unsatisfied: true,
            ..Facts::default()
        };
        let table = [
            (Submitted, Dispatch, Ok(Dispatched)),
            (Submitted, Accept, Err(R::NotDispatched)),
            (Submitted, Return, Err(R::NotDispatched)),
            (Submitted, Reply, Err(R::NotAccepted)),
            (Submitted, Callback, Err(R::NotReplied)),
            (Submitted, Close, Err(R::NotCalledBack)),
            (Submitted, Reopen, Err(R::NotCalledBack)),
            (Dispatched, Dispatch, Err(R::AlreadyDispatched)),
            (Dispatched, Accept, Ok(Accepted)),
            (Dispatched, Return, Ok(Returned)),
            (Dispatched, Reply, Err(R::NotAccepted)),
            (Dispatched, Callback, Err(R::NotReplied)),
            (Dispatched, Close, Err(R::NotCalledBack)),
            (Dispatched, Reopen, Err(R::NotCalledBack)),
            (Returned, Dispatch, Ok(Dispatched)),
            (Returned, Accept, Err(R::NotDispatched)),
            (Returned, Return, Err(R::NotDispatched)),
            (Returned, Reply, Err(R::NotAccepted)),
            (Returned, Callback, Err(R::NotReplied)),
            (Returned, Close, Err(R::NotCalledBack)),
            (Returned, Reopen, Err(R::NotCalledBack)),
            (Accepted, Dispatch, Err(R::AlreadyDispatched)),
            (Accepted, Accept, Err(R::AlreadyAccepted)),
            (Accepted, Return, Err(R::ReturnAfterAccept)),
            (Accepted, Reply, Ok(Replied)),
            (Accepted, Callback, Err(R::NotReplied)),
            (Accepted, Close, Err(R::NotCalledBack)),
            (Accepted, Reopen, Err(R::NotCalledBack)),
            (Replied, Dispatch, Err(R::AlreadyDispatched)),
            (Replied, Accept, Err(R::AlreadyAccepted)),
            (Replied, Return, Err(R::ReturnAfterAccept)),
            (Replied, Reply, Err(R::AlreadyReplied)),
            (Replied, Callback, Ok(CalledBack)),
            (Replied, Close, Err(R::NotCalledBack)),
            (Replied, Reopen, Err(R::NotCalledBack)),
            (CalledBack, Dispatch, Err(R::AlreadyDispatched)),
            (CalledBack, Accept, Err(R::AlreadyAccepted)),
            (CalledBack, Return, Err(R::ReturnAfterAccept)),
            (CalledBack, Reply, Err(R::AlreadyReplied)),
            (CalledBack, Callback, Err(R::AlreadyCalledBack)),
            (CalledBack, Close, Ok(Closed)),
            (CalledBack, Reopen, Ok(Accepted)),
            (Closed, Dispatch, Err(R::Closed)),
            (Closed, Accept, Err(R::Closed)),
            (Closed, Return, Err(R::Closed)),
            (Closed, Reply, Err(R::Closed)),
            (Closed, Callback, Err(R::Closed)),
            (Closed, Close, Err(R::Closed)),
            (Closed, Reopen, Err(R::Closed)),
        ];
        assert_eq!(
            table.len(),
            AppealState::ALL.len() * AppealAction::ALL.len()
        );
        for (state, action, expected) in table {
            assert_eq!(next(state, action, f), expected, "{state} × {action}");
        }
    }

    #[test]
    fn the_counted_steps_have_their_written_outcomes() {
        let cases = [
            // a third return is refused; the second is not
            (
                Dispatched,
                Return,
                Facts {
                    returns: 1,
                    ..Facts::default()
                },
                Ok(Returned),
            ),
            (
                Dispatched,
                Return,
                Facts {
                    returns: 2,
                    ..Facts::default()
                },
                Err(R::ReturnsUsed),
            ),
            // a callback that did not reach: stays replied until the third attempt
            (Replied, Callback, Facts::default(), Ok(Replied)),
            (
                Replied,
                Callback,
                Facts {
                    missed_callbacks: 1,
                    ..Facts::default()
                },
                Ok(Replied),
            ),
            (
                Replied,
                Callback,
                Facts {
                    missed_callbacks: 2,
                    ..Facts::default()
                },
                Ok(CalledBack),
            ),
            (
                Replied,
                Callback,
                Facts {
                    missed_callbacks: 2,
                    contacted: true,
                    ..Facts::default()
                },
                Ok(CalledBack),
            ),
            // reopening needs an unsatisfied callback and fewer than two reopenings
            (CalledBack, Reopen, Facts::default(), Err(R::NotUnsatisfied)),
            (
                CalledBack,
                Reopen,
                Facts {
                    unsatisfied: true,
                    reopens: 1,
                    ..Facts::default()
                },
                Ok(Accepted),
            ),
            (
                CalledBack,
                Reopen,
                Facts {
                    unsatisfied: true,
                    reopens: 2,
                    ..Facts::default()
                },
                Err(R::ReopensUsed),
            ),
            // after two reopenings the supervisor still closes
            (
                CalledBack,
                Close,
                Facts {
                    unsatisfied: true,
                    reopens: 2,
                    ..Facts::default()
                },
                Ok(Closed),
            ),
        ];
        for (state, action, facts, expected) in cases {
            assert_eq!(
                next(state, action, facts),
                expected,
                "{state} × {action} with {facts:?}"
            );
        }
    }

    #[test]
    fn unit_steps_are_the_lead_units_and_returns_come_in_time() {
        let lead = Actor {
            has_unit: true,
            lead_unit: true,
            within_return_window: true,
        };
        let other = Actor {
            lead_unit: false,
            ..lead
        };
        let late = Actor {
            within_return_window: false,
            ..lead
        };
        for action in [Accept, Return, Reply] {
            assert!(check_unit_step(action, lead).is_ok(), "{action}");
            assert_eq!(check_unit_step(action, other).unwrap_err().field, "unit_id");
            assert_eq!(
                check_unit_step(action, Actor::default()).unwrap_err().field,
                "unit_id"
            );
        }
        assert_eq!(check_unit_step(Return, late).unwrap_err().field, "action");
        assert!(check_unit_step(Accept, late).is_ok());
        assert!(check_unit_step(Reply, late).is_ok());
        for action in [Dispatch, Callback, Close, Reopen] {
            assert!(
                check_unit_step(action, Actor::default()).is_ok(),
                "{action}"
            );
        }
    }

    #[test]
    fn limits_follow_the_spec_defaults_and_the_kind() {
        let l = Limits::default();
        assert_eq!(
            l.of(Step::Dispatch, Kind::Demand),
            Limit::WorkingMinutes(120)
        );
        assert_eq!(l.of(Step::Accept, Kind::Demand), Limit::WorkingDays(1));
        assert_eq!(l.of(Step::Reply, Kind::Complaint), Limit::WorkingDays(5));
        assert_eq!(l.of(Step::Reply, Kind::Consultation), Limit::WorkingDays(1));
        assert_eq!(l.of(Step::Callback, Kind::Dispute), Limit::WorkingDays(2));
        assert_eq!(l.extension_max_days, 10);
        assert!(l.validate().is_ok());
        let bad = Limits { reply_days: 0, ..l };
        assert_eq!(bad.validate().unwrap_err().field, "reply_days");
        let parsed: Limits = toml::from_str("reply_days = 7").unwrap();
        assert_eq!(parsed, Limits { reply_days: 7, ..l });
    }

    #[test]
    fn step_names_carry_their_round() {
        assert_eq!(Step::Accept.name(1), "accept");
        assert_eq!(Step::Accept.name(3), "accept.3");
        assert_eq!(Step::of_name("reply.2"), Some(Step::Reply));
        assert_eq!(Step::of_name("dispatch"), Some(Step::Dispatch));
        assert_eq!(Step::of_name("plan"), None);
        assert_eq!(running_step(Returned), Some(Step::Dispatch));
        assert_eq!(running_step(Closed), None);
    }

    #[test]
    fn the_three_rates_and_the_score_on_a_hand_computed_fixture() {
        // 8 accept deadlines, 6 in time; 10 callbacks reached, 7 resolved, 9 satisfied
        let c = Counts {
            accept_due: 8,
            accepted_in_time: 6,
            reached: 10,
            resolved: 7,
            satisfied: 9,
            unreached: 2,
        };
        assert_eq!(c.response_rate(), Some(0.75));
        assert_eq!(c.resolution_rate(), Some(0.7));
        assert_eq!(c.satisfaction_rate(), Some(0.9));
        // 0.75×30 + 0.7×35 + 0.9×35 = 22.5 + 24.5 + 31.5 = 78.5
        let score = c.score(Weights::default()).unwrap();
        assert!((score - 78.5).abs() < 1e-9, "{score}");
        // no callbacks reached: the response rate alone
        let only = Counts {
            accept_due: 4,
            accepted_in_time: 1,
            ..Counts::default()
        };
        assert_eq!(only.resolution_rate(), None);
        assert!((only.score(Weights::default()).unwrap() - 25.0).abs() < 1e-9);
        assert_eq!(Counts::default().score(Weights::default()), None);
        assert!(Satisfaction::Fair.counts_satisfied());
        assert!(!Satisfaction::Dissatisfied.counts_satisfied());
    }

    #[test]
    fn tracking_codes_are_twelve_unambiguous_characters() {
        let a = tracking_code(0x0123_4567_89ab_cdef);
        let b = tracking_code(0x0123_4567_89ab_cdee);
        assert_eq!(a.len(), 12);
        assert_ne!(a, b);
        assert!(!a.contains(['0', 'O', '1', 'I', 'L']));
        let typed = format!(" {}-{} ", &a[..6].to_lowercase(), &a[6..]);
        assert_eq!(normalise_tracking_code(&typed), Some(a.clone()));
        assert_eq!(normalise_tracking_code("ABC"), None);
        assert_eq!(normalise_tracking_code("0000000000OO"), None);
    }
}
