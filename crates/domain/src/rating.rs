//! Ratings (好差评, SPEC "Ratings"): a rating of a case, a window, a staff member or a
//! department holds two levels on the five-level scale — process and result satisfaction —
//! reason tags for a low level and a comment; a set of ratings has a satisfaction rate (share
//! at level 3–5) and a satisfaction index (mean of (level − 1) × 25).
//!
//! A level 1 or 2 on either score is a bad rating (差评), which runs this workflow:
//! - `verifying` (1 working day): the supervisor contacts the rater (an anonymous rating has
//!   no contact; the supervisor decides from the record) and decides valid → `rectifying` or
//!   invalid → `invalid` (terminal; it leaves every figure).
//! - `rectifying` (5 working days): the responsible unit records the fix → `callback` (or
//!   `closed` when anonymous: there is nobody to call), or that it cannot be fixed →
//!   `reviewing`. Within 2 working days of the valid decision the rated staff may lodge the one
//!   objection (申诉) → `objected`, which pauses rectifying.
//! - `objected` (2 working days): the supervisor upholds it → `invalid`, or overrules it →
//!   `rectifying`.
//! - `reviewing` (2 working days): the supervisor accepts that it cannot be fixed → `callback`
//!   (`closed` when anonymous), or sends it back → `rectifying`.
//! - `callback` (2 working days): satisfied → `closed`; not satisfied → `rectifying` once,
//!   after which the supervisor's callback closes it.
//! - From any open state the rater's change to a good rating within the rating window closes
//!   it as `withdrawn`; that is the re-rating's doing, never a user's action.

use crate::deadline::Limit;
use crate::service::{FieldRefusal, refuse};

named!(
    /// Through which channel a rating came.
    Channel, "评价渠道", {
        /// The rating device at a window.
        Device = "device" / "窗口评价器",
        /// A window's, a staff member's or a receipt's QR code.
        Qr = "qr" / "扫码评价",
        /// The online portal or an enterprise account.
        Online = "online" / "网上评价",
        /// A reply to an SMS.
        Sms = "sms" / "短信评价",
        /// The hotline.
        Hotline = "hotline" / "热线评价",
        /// A visit (走访).
        Visit = "visit" / "走访评价",
    }
);

named!(
    /// What a rating is about.
    TargetKind, "评价对象", {
        /// A case (办件), rated by its applicant.
        Case = "case" / "办件",
        /// A window of a hall.
        Window = "window" / "窗口",
        /// A staff member.
        Staff = "staff" / "工作人员",
        /// A department.
        Department = "department" / "部门",
    }
);

named!(
    /// A reason tag for a low level.
    Reason, "差评原因", {
        /// 态度不好.
        Attitude = "attitude" / "态度不好",
        /// 多次跑动.
        Visits = "visits" / "多次跑动",
        /// 超时办理.
        Overtime = "overtime" / "超时办理",
        /// 材料繁琐.
        Materials = "materials" / "材料繁琐",
        /// 标准不一.
        Inconsistent = "inconsistent" / "标准不一",
        /// 问题未解决.
        Unresolved = "unresolved" / "问题未解决",
        /// 其他.
        Other = "other" / "其他",
    }
);

/// A level on the five-level scale, 1 (非常不满意) to 5 (非常满意).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Level(u8);

impl Level {
    /// The level `n`, refused outside 1..=5.
    pub fn new(n: i64) -> Result<Level, FieldRefusal> {
        match u8::try_from(n) {
            Ok(n @ 1..=5) => Ok(Level(n)),
            _ => Err(FieldRefusal {
                field: "level",
                message: "评价等级应为 1（非常不满意）至 5（非常满意）",
            }),
        }
    }

    /// The number, 1 to 5.
    pub fn get(self) -> u8 {
        self.0
    }

    /// The Chinese label.
    pub fn label(self) -> &'static str {
        match self.0 {
            5 => "非常满意",
            4 => "满意",
            3 => "基本满意",
            2 => "不满意",
            _ => "非常不满意",
        }
    }

    /// Level 1 or 2: makes the rating a bad rating.
    pub fn is_bad(self) -> bool {
        self.0 <= 2
    }

    /// Level 3 to 5: counted as satisfied.
    pub fn is_satisfied(self) -> bool {
        self.0 >= 3
    }

    /// The level's points on the 0–100 index: (level − 1) × 25.
    pub fn points(self) -> u32 {
        (u32::from(self.0) - 1) * 25
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Whether a rating with these levels is a bad rating (差评): either score at 1 or 2.
pub fn is_bad_rating(process: Level, result: Level) -> bool {
    process.is_bad() || result.is_bad()
}

/// Longest comment, in characters.
pub const COMMENT_MAX_CHARS: usize = 500;

/// A burst: this many ratings from one device within [`BURST_MINUTES`] are flagged.
pub const BURST_RATINGS: u64 = 3;
/// The burst window in minutes.
pub const BURST_MINUTES: i64 = 10;

/// The anti-gaming flags of a new rating: `burst` when, with it, the device gave
/// [`BURST_RATINGS`] ratings within [`BURST_MINUTES`] (`earlier_from_device`: those before
/// it); `own_staff` when the rater's phone is a staff member's of the rated window or unit.
pub fn flags(earlier_from_device: u64, own_staff: bool) -> Vec<&'static str> {
    let mut flags = Vec::new();
    if earlier_from_device + 1 >= BURST_RATINGS {
        flags.push("burst");
    }
    if own_staff {
        flags.push("own_staff");
    }
    flags
}

/// What a window's rating device may send: ratings of its own window and that window's cases
/// (`own_target`), through the `device` channel.
pub fn check_device_rating(channel: Channel, own_target: bool) -> Result<(), FieldRefusal> {
    if !own_target {
        return refuse("target_id", "窗口评价器只能评价本窗口及其办件");
    }
    if channel != Channel::Device {
        return refuse("channel", "窗口评价器的评价渠道应为 device（窗口评价器）");
    }
    Ok(())
}

/// Checks a rating's reasons and comment: reasons only on a bad rating, none twice; the
/// comment at most [`COMMENT_MAX_CHARS`] characters.
pub fn check_rating(
    process: Level,
    result: Level,
    reasons: &[Reason],
    comment: &str,
) -> Result<(), FieldRefusal> {
    if !reasons.is_empty() && !is_bad_rating(process, result) {
        return refuse("reasons", "只有“不满意”或“非常不满意”的评价可以选择原因");
    }
    for (i, reason) in reasons.iter().enumerate() {
        if reasons[..i].contains(reason) {
            return refuse("reasons", "差评原因不能重复选择");
        }
    }
    if comment.chars().count() > COMMENT_MAX_CHARS {
        return refuse("comment", "评价内容不能超过 500 字");
    }
    Ok(())
}

/// The counts behind a set's satisfaction rate and index, for one score.
#[derive(Default, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tally {
    /// Ratings counted (the sample size).
    pub n: u64,
    /// Of those, at level 3–5.
    pub satisfied: u64,
    /// Their points, (level − 1) × 25 each, summed.
    pub points: u64,
}

impl Tally {
    /// Counts a rating at `level`.
    pub fn add(&mut self, level: Level) {
        self.n += 1;
        self.satisfied += u64::from(level.is_satisfied());
        self.points += u64::from(level.points());
    }

    /// Takes a counted rating at `level` out again (a changed or invalid rating); never below
    /// zero.
    pub fn remove(&mut self, level: Level) {
        self.n = self.n.saturating_sub(1);
        self.satisfied = self
            .satisfied
            .saturating_sub(u64::from(level.is_satisfied()));
        self.points = self.points.saturating_sub(u64::from(level.points()));
    }

    /// Adds another set's counts.
    pub fn merge(&mut self, other: &Tally) {
        self.n += other.n;
        self.satisfied += other.satisfied;
        self.points += other.points;
    }

    /// Satisfaction rate: ratings at level 3–5 ÷ ratings; `None` without ratings.
    pub fn satisfaction_rate(&self) -> Option<f64> {
        (self.n > 0).then(|| self.satisfied as f64 / self.n as f64)
    }

    /// Satisfaction index, 0–100: the mean of (level − 1) × 25; `None` without ratings.
    pub fn index(&self) -> Option<f64> {
        (self.n > 0).then(|| self.points as f64 / self.n as f64)
    }
}

/// The index used for ranking: the mean of the process and result indices; `None` unless both
/// have ratings.
pub fn ranking_index(process: &Tally, result: &Tally) -> Option<f64> {
    Some((process.index()? + result.index()?) / 2.0)
}

named!(
    /// Where a bad rating stands.
    BadState, "差评状态", {
        /// 待核实: the supervisor checks it with the rater and decides.
        Verifying = "verifying" / "待核实",
        /// 整改中: valid; the responsible unit fixes it.
        Rectifying = "rectifying" / "整改中",
        /// 申诉审核中: the rated staff's objection waits for the supervisor.
        Objected = "objected" / "申诉审核中",
        /// 无法整改待审核: the unit says it cannot be fixed; the supervisor reviews that.
        Reviewing = "reviewing" / "无法整改待审核",
        /// 待回访: the rater is asked whether the fix satisfied them.
        Callback = "callback" / "待回访",
        /// 已办结: final.
        Closed = "closed" / "已办结",
        /// 无效差评: found invalid, or the objection upheld; final, out of every figure.
        Invalid = "invalid" / "无效差评",
        /// 已撤回: the rater changed it to a good rating; final.
        Withdrawn = "withdrawn" / "已撤回",
    }
);

impl BadState {
    /// Whether nothing more can happen to it (closed, invalid or withdrawn).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            BadState::Closed | BadState::Invalid | BadState::Withdrawn
        )
    }
}

named!(
    /// What may happen to a bad rating.
    BadAction, "差评操作", {
        /// The supervisor finds it valid.
        Valid = "valid" / "核实有效",
        /// The supervisor finds it invalid (malicious, duplicate, not about this service).
        Invalid = "invalid" / "核实无效",
        /// The rated staff lodges the objection, with evidence.
        Object = "object" / "提出申诉",
        /// The supervisor upholds the objection: the rating is invalid.
        Uphold = "uphold" / "申诉成立",
        /// The supervisor overrules the objection: rectifying continues.
        Overrule = "overrule" / "申诉驳回",
        /// The responsible unit records what it did.
        Rectify = "rectify" / "整改完成",
        /// The responsible unit records that it cannot be fixed, and why.
        Unfixable = "unfixable" / "无法整改",
        /// The supervisor accepts that it cannot be fixed.
        AcceptUnfixable = "accept_unfixable" / "同意无法整改",
        /// The supervisor sends it back to the unit to fix.
        RefuseUnfixable = "refuse_unfixable" / "退回整改",
        /// The callback: the rater is satisfied.
        Satisfied = "satisfied" / "回访满意",
        /// The callback: the rater is not satisfied.
        Unsatisfied = "unsatisfied" / "回访不满意",
        /// The rater changed the rating to a good one within the rating window.
        Withdraw = "withdraw" / "评价人撤回",
    }
);

/// Objections the rated staff may lodge against one bad rating.
pub const MAX_OBJECTIONS: u32 = 1;
/// Times an unsatisfied callback sends it back to rectifying; after them the callback closes it.
pub const MAX_REWORKS: u32 = 1;

/// What a bad rating's next state depends on beyond its state.
#[derive(Default, Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadFacts {
    /// The rater left no contact: no contact steps.
    pub anonymous: bool,
    /// Objections lodged so far.
    pub objections: u32,
    /// Still within the objection window (working days from the valid decision), from the
    /// calendar.
    pub objection_open: bool,
    /// Times an unsatisfied callback sent it back so far.
    pub reworks: u32,
}

/// Why an action is refused in a bad rating's state, in words for the clerk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BadRefusal {
    /// Closed, invalid or withdrawn bad ratings take nothing more.
    #[error("该差评已结束")]
    Final,
    /// Anything but the decision before it is verified.
    #[error("该差评尚未核实")]
    NotVerified,
    /// Deciding valid or invalid twice.
    #[error("该差评已核实")]
    AlreadyVerified,
    /// An objection after its window.
    #[error("申诉期已过（核实有效后 2 个工作日内）")]
    ObjectionClosed,
    /// A second objection.
    #[error("每条差评只能申诉一次")]
    ObjectionUsed,
    /// Objecting or rectifying while the objection waits for its decision.
    #[error("申诉正在审核中，请等待审核结果")]
    ObjectionPending,
    /// Objecting or recording the rectification outside rectifying.
    #[error("该差评不在整改阶段")]
    NotRectifying,
    /// Deciding an objection that was not lodged.
    #[error("该差评没有待审核的申诉")]
    NotObjected,
    /// Deciding on "cannot be fixed" that was not recorded.
    #[error("该差评没有待审核的无法整改说明")]
    NotReviewing,
    /// A callback before the rectification.
    #[error("整改完成后才能回访")]
    NotCallback,
}

/// The state after `action` on a bad rating in `state`.
pub fn next_bad(
    state: BadState,
    action: BadAction,
    facts: BadFacts,
) -> Result<BadState, BadRefusal> {
    use BadAction as A;
    use BadRefusal as R;
    use BadState as S;
    match (state, action) {
        (S::Closed | S::Invalid | S::Withdrawn, _) => Err(R::Final),
        (_, A::Withdraw) => Ok(S::Withdrawn),
        (S::Verifying, A::Valid) => Ok(S::Rectifying),
        (S::Verifying, A::Invalid) => Ok(S::Invalid),
        (S::Verifying, _) => Err(R::NotVerified),
        (_, A::Valid | A::Invalid) => Err(R::AlreadyVerified),
        (S::Rectifying, A::Object) if facts.objections >= MAX_OBJECTIONS => Err(R::ObjectionUsed),
        (S::Rectifying, A::Object) if !facts.objection_open => Err(R::ObjectionClosed),
        (S::Rectifying, A::Object) => Ok(S::Objected),
        (S::Rectifying, A::Rectify) if facts.anonymous => Ok(S::Closed),
        (S::Rectifying, A::Rectify) => Ok(S::Callback),
        (S::Rectifying, A::Unfixable) => Ok(S::Reviewing),
        (S::Objected, A::Object | A::Rectify | A::Unfixable) => Err(R::ObjectionPending),
        (_, A::Object | A::Rectify | A::Unfixable) => Err(R::NotRectifying),
        (S::Objected, A::Uphold) => Ok(S::Invalid),
        (S::Objected, A::Overrule) => Ok(S::Rectifying),
        (_, A::Uphold | A::Overrule) => Err(R::NotObjected),
        (S::Reviewing, A::AcceptUnfixable) if facts.anonymous => Ok(S::Closed),
        (S::Reviewing, A::AcceptUnfixable) => Ok(S::Callback),
        (S::Reviewing, A::RefuseUnfixable) => Ok(S::Rectifying),
        (_, A::AcceptUnfixable | A::RefuseUnfixable) => Err(R::NotReviewing),
        (S::Callback, A::Satisfied) => Ok(S::Closed),
        (S::Callback, A::Unsatisfied) if facts.reworks < MAX_REWORKS => Ok(S::Rectifying),
        (S::Callback, A::Unsatisfied) => Ok(S::Closed),
        (_, A::Satisfied | A::Unsatisfied) => Err(R::NotCallback),
    }
}

/// A step of a bad rating that runs against a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BadStep {
    /// From the rating to the valid / invalid decision.
    Verify,
    /// From the objection to the supervisor's decision on it.
    Objection,
    /// From the valid decision (or a send-back) to the unit's record.
    Rectify,
    /// From "cannot be fixed" to the supervisor's decision on it.
    Review,
    /// From the rectification to the callback.
    Callback,
}

impl BadStep {
    /// The step's name in the deadline table: the first round is the bare name, later rounds
    /// (after a send-back) carry their number, as a record has one deadline per step name.
    pub fn name(self, round: u32) -> String {
        let base = match self {
            BadStep::Verify => "verify",
            BadStep::Objection => "objection",
            BadStep::Rectify => "rectify",
            BadStep::Review => "review",
            BadStep::Callback => "callback",
        };
        if round <= 1 {
            base.to_owned()
        } else {
            format!("{base}.{round}")
        }
    }

    /// The step a stored deadline's name belongs to.
    pub fn of_name(name: &str) -> Option<BadStep> {
        match name.split('.').next()? {
            "verify" => Some(BadStep::Verify),
            "objection" => Some(BadStep::Objection),
            "rectify" => Some(BadStep::Rectify),
            "review" => Some(BadStep::Review),
            "callback" => Some(BadStep::Callback),
            _ => None,
        }
    }
}

/// The step whose deadline a state runs against, if any.
pub fn running_step(state: BadState) -> Option<BadStep> {
    match state {
        BadState::Verifying => Some(BadStep::Verify),
        BadState::Rectifying => Some(BadStep::Rectify),
        BadState::Objected => Some(BadStep::Objection),
        BadState::Reviewing => Some(BadStep::Review),
        BadState::Callback => Some(BadStep::Callback),
        BadState::Closed | BadState::Invalid | BadState::Withdrawn => None,
    }
}

/// Whether `action`, taken in `state`, meets an open deadline of `step` (`None`: a step the
/// domain does not know): an objection meets none (it pauses the rectification instead); an
/// upheld objection meets every open one (the rating is void); an overruled objection meets
/// the objection's; any other action the deadline its state runs against.
pub fn meets_deadline(action: BadAction, state: BadState, step: Option<BadStep>) -> bool {
    match action {
        BadAction::Object => false,
        BadAction::Uphold => true,
        BadAction::Overrule => step == Some(BadStep::Objection),
        _ => step.is_some() && step == running_step(state),
    }
}

/// The deadline a step from `state` to `next` opens: the one `next` runs against, unless the
/// state stays or the objection was overruled (the rectification's own deadline, paused by
/// the objection, runs on).
pub fn opens_deadline(action: BadAction, state: BadState, next: BadState) -> Option<BadStep> {
    running_step(next).filter(|_| next != state && action != BadAction::Overrule)
}

/// What a step does to the rectification's running clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RectifyClock {
    /// An objection stops it until the supervisor decides.
    Pause,
    /// An overruled objection starts it again where it stopped.
    Resume,
}

/// The change `action` makes to the rectification's clock, if any.
pub fn rectify_clock(action: BadAction) -> Option<RectifyClock> {
    match action {
        BadAction::Object => Some(RectifyClock::Pause),
        BadAction::Overrule => Some(RectifyClock::Resume),
        _ => None,
    }
}

/// The time limits of bad ratings, in working days (SPEC defaults, after Shandong practice; a
/// tenant may change them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BadLimits {
    /// Verify (contact the rater and decide) within this many working days of the rating.
    pub verify_days: u32,
    /// The rated staff may object within this many working days of the valid decision.
    pub objection_days: u32,
    /// The supervisor decides an objection within this many working days.
    pub objection_decision_days: u32,
    /// The unit rectifies within this many working days (some provinces use 15).
    pub rectify_days: u32,
    /// The supervisor reviews "cannot be fixed" within this many working days.
    pub review_days: u32,
    /// Call the rater back within this many working days of the rectification.
    pub callback_days: u32,
    /// A rater may add or change a rating within this many working days of the case's
    /// completion.
    pub rating_window_days: u32,
}

impl Default for BadLimits {
    fn default() -> Self {
        BadLimits {
            verify_days: 1,
            objection_days: 2,
            objection_decision_days: 2,
            rectify_days: 5,
            review_days: 2,
            callback_days: 2,
            rating_window_days: 5,
        }
    }
}

impl BadLimits {
    /// The limit of a step.
    pub fn of(&self, step: BadStep) -> Limit {
        Limit::WorkingDays(match step {
            BadStep::Verify => self.verify_days,
            BadStep::Objection => self.objection_decision_days,
            BadStep::Rectify => self.rectify_days,
            BadStep::Review => self.review_days,
            BadStep::Callback => self.callback_days,
        })
    }

    /// Checks a tenant's values: every limit 1 to 366 working days.
    pub fn validate(&self) -> Result<(), FieldRefusal> {
        let days = [
            ("verify_days", self.verify_days),
            ("objection_days", self.objection_days),
            ("objection_decision_days", self.objection_decision_days),
            ("rectify_days", self.rectify_days),
            ("review_days", self.review_days),
            ("callback_days", self.callback_days),
            ("rating_window_days", self.rating_window_days),
        ];
        for (field, value) in days {
            if !(1..=366).contains(&value) {
                return refuse(field, "时限应为 1 至 366 个工作日");
            }
        }
        Ok(())
    }
}

/// What a bad rating's step needs to know of who takes it.
#[derive(Default, Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadActor {
    /// The acting user is a supervisor.
    pub supervisor: bool,
    /// The acting user is the staff member the rating is about.
    pub rated_staff: bool,
    /// The acting user acts for the unit responsible for fixing it.
    pub responsible_unit: bool,
}

/// Who may take a step: the objection is the rated staff's, the rectification record the
/// responsible unit's, every decision and the callback the supervisor's — but never on a rating
/// of the supervisor themself, as those steps show the rater. A withdrawal is never a user's
/// step: only the rater's re-rating makes it.
pub fn check_bad_actor(action: BadAction, actor: BadActor) -> Result<(), FieldRefusal> {
    use BadAction as A;
    match action {
        A::Withdraw => refuse("action", "只有评价人修改评价才能撤回差评"),
        A::Object if !actor.rated_staff => refuse("action", "只有被评价的工作人员可以申诉"),
        A::Object => Ok(()),
        A::Rectify | A::Unfixable if !actor.responsible_unit => {
            refuse("action", "只有责任单位可以记录整改结果")
        }
        A::Rectify | A::Unfixable => Ok(()),
        _ if !actor.supervisor => refuse("action", "只有督查人员可以核实、审核和回访差评"),
        _ if actor.rated_staff => refuse("action", "不能核实、审核或回访对本人的评价"),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_third_rating_from_one_device_in_the_window_is_a_burst() {
        assert!(flags(0, false).is_empty());
        assert!(flags(1, false).is_empty());
        assert_eq!(flags(2, false), ["burst"]);
        assert_eq!(flags(0, true), ["own_staff"]);
        assert_eq!(flags(5, true), ["burst", "own_staff"]);
    }

    #[test]
    fn a_window_device_rates_its_own_window_through_the_device_channel() {
        assert!(check_device_rating(Channel::Device, true).is_ok());
        assert_eq!(
            check_device_rating(Channel::Device, false)
                .unwrap_err()
                .field,
            "target_id"
        );
        assert_eq!(
            check_device_rating(Channel::Qr, true).unwrap_err().field,
            "channel"
        );
    }

    use super::BadAction as A;
    use super::BadRefusal as R;
    use super::BadState as S;
    use super::*;

    #[test]
    fn each_step_meets_opens_and_pauses_the_deadlines_of_spec() {
        use BadAction as A;
        use BadState as S;
        use BadStep as D;
        use RectifyClock::{Pause, Resume};
        const ALL: [D; 5] = [D::Verify, D::Objection, D::Rectify, D::Review, D::Callback];
        let facts = BadFacts {
            objections: 0,
            objection_open: true,
            reworks: 0,
            anonymous: false,
        };
        // (action, from, the deadlines it meets, the one it opens, the rectification's clock)
        type Row = (A, S, &'static [D], Option<D>, Option<RectifyClock>);
        let table: [Row; 12] = [
            (A::Valid, S::Verifying, &[D::Verify], Some(D::Rectify), None),
            (A::Invalid, S::Verifying, &[D::Verify], None, None),
            (
                A::Object,
                S::Rectifying,
                &[],
                Some(D::Objection),
                Some(Pause),
            ),
            (A::Uphold, S::Objected, &ALL, None, None),
            (
                A::Overrule,
                S::Objected,
                &[D::Objection],
                None,
                Some(Resume),
            ),
            (
                A::Rectify,
                S::Rectifying,
                &[D::Rectify],
                Some(D::Callback),
                None,
            ),
            (
                A::Unfixable,
                S::Rectifying,
                &[D::Rectify],
                Some(D::Review),
                None,
            ),
            (
                A::AcceptUnfixable,
                S::Reviewing,
                &[D::Review],
                Some(D::Callback),
                None,
            ),
            (
                A::RefuseUnfixable,
                S::Reviewing,
                &[D::Review],
                Some(D::Rectify),
                None,
            ),
            (A::Satisfied, S::Callback, &[D::Callback], None, None),
            (
                A::Unsatisfied,
                S::Callback,
                &[D::Callback],
                Some(D::Rectify),
                None,
            ),
            (A::Withdraw, S::Verifying, &[D::Verify], None, None),
        ];
        for (action, from, meets, opens, clock) in table {
            let next = next_bad(from, action, facts).unwrap();
            let met: Vec<D> = ALL
                .into_iter()
                .filter(|d| meets_deadline(action, from, Some(*d)))
                .collect();
            assert_eq!(met, meets, "{action:?} from {from:?} meets");
            assert_eq!(
                opens_deadline(action, from, next),
                opens,
                "{action:?} from {from:?} to {next:?} opens"
            );
            assert_eq!(rectify_clock(action), clock, "{action:?}'s clock");
            assert_eq!(
                meets_deadline(action, from, None),
                action == A::Uphold,
                "an unknown step is met only by voiding the rating"
            );
        }
    }

    fn level(n: i64) -> Level {
        Level::new(n).unwrap()
    }

    #[test]
    fn levels_are_one_to_five_with_their_labels_and_points() {
        for n in [0, 6, -1, 256, i64::MAX] {
            let refusal = Level::new(n).unwrap_err();
            assert_eq!(refusal.field, "level", "{n}");
            assert_eq!(
                refusal.message,
                "评价等级应为 1（非常不满意）至 5（非常满意）"
            );
        }
        let table = [
            (1, "非常不满意", true, false, 0),
            (2, "不满意", true, false, 25),
            (3, "基本满意", false, true, 50),
            (4, "满意", false, true, 75),
            (5, "非常满意", false, true, 100),
        ];
        for (n, label, bad, satisfied, points) in table {
            let l = level(n);
            assert_eq!(i64::from(l.get()), n);
            assert_eq!(l.label(), label, "{n}");
            assert_eq!(l.is_bad(), bad, "{n}");
            assert_eq!(l.is_satisfied(), satisfied, "{n}");
            assert_eq!(l.points(), points, "{n}");
            assert_eq!(l.to_string(), n.to_string());
        }
        assert!(level(2) < level(3));
        assert!(is_bad_rating(level(5), level(2)));
        assert!(is_bad_rating(level(1), level(4)));
        assert!(!is_bad_rating(level(3), level(3)));
    }

    #[test]
    fn reasons_belong_to_bad_ratings_only_and_once() {
        let refusal = check_rating(level(5), level(5), &[Reason::Attitude], "").unwrap_err();
        assert_eq!(refusal.field, "reasons");
        assert_eq!(
            refusal.message,
            "只有“不满意”或“非常不满意”的评价可以选择原因"
        );
        assert_eq!(
            check_rating(level(3), level(4), &[Reason::Other], "")
                .unwrap_err()
                .field,
            "reasons"
        );
        assert_eq!(check_rating(level(5), level(5), &[], "很好"), Ok(()));
        // bad on either score allows reasons
        assert_eq!(
            check_rating(level(2), level(5), &[Reason::Attitude, Reason::Visits], ""),
            Ok(())
        );
        assert_eq!(
            check_rating(level(4), level(1), &[Reason::Unresolved], ""),
            Ok(())
        );
        let twice = check_rating(
            level(1),
            level(1),
            &[Reason::Overtime, Reason::Materials, Reason::Overtime],
            "",
        )
        .unwrap_err();
        assert_eq!(twice.field, "reasons");
        assert_eq!(twice.message, "差评原因不能重复选择");
    }

    #[test]
    fn comments_are_counted_in_characters_up_to_five_hundred() {
        let ok = level(4);
        assert_eq!(check_rating(ok, ok, &[], &"a".repeat(500)), Ok(()));
        assert_eq!(
            check_rating(ok, ok, &[], &"a".repeat(501))
                .unwrap_err()
                .field,
            "comment"
        );
        // 500 Chinese characters are 1,500 bytes and still fit
        let chinese = "办".repeat(COMMENT_MAX_CHARS);
        assert_eq!(chinese.len(), 1500);
        assert_eq!(check_rating(ok, ok, &[], &chinese), Ok(()));
        assert_eq!(
            check_rating(ok, ok, &[], &"办".repeat(501))
                .unwrap_err()
                .field,
            "comment"
        );
    }

    #[test]
    fn tally_rate_and_index_on_a_hand_computed_example() {
        // levels 5, 4, 3, 2, 1: 3 of 5 satisfied; (100 + 75 + 50 + 25 + 0) / 5 = 50
        let mut t = Tally::default();
        for n in [5, 4, 3, 2, 1] {
            t.add(level(n));
        }
        assert_eq!(
            t,
            Tally {
                n: 5,
                satisfied: 3,
                points: 250
            }
        );
        assert_eq!(t.satisfaction_rate(), Some(0.6));
        assert_eq!(t.index(), Some(50.0));
        // taking the 1 out: 3 of 4, 250 / 4
        t.remove(level(1));
        assert_eq!(t.satisfaction_rate(), Some(0.75));
        assert_eq!(t.index(), Some(62.5));
        // taking a 5 out: 2 of 3 satisfied, 150 / 3
        t.remove(level(5));
        assert_eq!(
            t,
            Tally {
                n: 3,
                satisfied: 2,
                points: 150
            }
        );
        let mut empty = Tally::default();
        assert_eq!(empty.satisfaction_rate(), None);
        assert_eq!(empty.index(), None);
        empty.remove(level(5));
        assert_eq!(empty, Tally::default());
        let mut merged = Tally {
            n: 2,
            satisfied: 1,
            points: 100,
        };
        merged.merge(&t);
        assert_eq!(
            merged,
            Tally {
                n: 5,
                satisfied: 3,
                points: 250
            }
        );
    }

    #[test]
    fn the_ranking_index_is_the_mean_of_process_and_result() {
        let mut process = Tally::default();
        let mut result = Tally::default();
        assert_eq!(ranking_index(&process, &result), None);
        process.add(level(5)); // 100
        process.add(level(4)); // 75 → 87.5
        assert_eq!(ranking_index(&process, &result), None);
        assert_eq!(ranking_index(&result, &process), None);
        result.add(level(3)); // 50
        // (87.5 + 50) / 2
        assert_eq!(ranking_index(&process, &result), Some(68.75));
        assert_eq!(ranking_index(&result, &process), Some(68.75));
    }

    #[test]
    fn every_state_and_action_has_the_written_outcome() {
        let f = BadFacts::default();
        let table = [
            (S::Verifying, A::Valid, Ok(S::Rectifying)),
            (S::Verifying, A::Invalid, Ok(S::Invalid)),
            (S::Verifying, A::Object, Err(R::NotVerified)),
            (S::Verifying, A::Uphold, Err(R::NotVerified)),
            (S::Verifying, A::Overrule, Err(R::NotVerified)),
            (S::Verifying, A::Rectify, Err(R::NotVerified)),
            (S::Verifying, A::Unfixable, Err(R::NotVerified)),
            (S::Verifying, A::AcceptUnfixable, Err(R::NotVerified)),
            (S::Verifying, A::RefuseUnfixable, Err(R::NotVerified)),
            (S::Verifying, A::Satisfied, Err(R::NotVerified)),
            (S::Verifying, A::Unsatisfied, Err(R::NotVerified)),
            (S::Verifying, A::Withdraw, Ok(S::Withdrawn)),
            (S::Rectifying, A::Valid, Err(R::AlreadyVerified)),
            (S::Rectifying, A::Invalid, Err(R::AlreadyVerified)),
            (S::Rectifying, A::Object, Err(R::ObjectionClosed)),
            (S::Rectifying, A::Uphold, Err(R::NotObjected)),
            (S::Rectifying, A::Overrule, Err(R::NotObjected)),
            (S::Rectifying, A::Rectify, Ok(S::Callback)),
            (S::Rectifying, A::Unfixable, Ok(S::Reviewing)),
            (S::Rectifying, A::AcceptUnfixable, Err(R::NotReviewing)),
            (S::Rectifying, A::RefuseUnfixable, Err(R::NotReviewing)),
            (S::Rectifying, A::Satisfied, Err(R::NotCallback)),
            (S::Rectifying, A::Unsatisfied, Err(R::NotCallback)),
            (S::Rectifying, A::Withdraw, Ok(S::Withdrawn)),
            (S::Objected, A::Valid, Err(R::AlreadyVerified)),
            (S::Objected, A::Invalid, Err(R::AlreadyVerified)),
            (S::Objected, A::Object, Err(R::ObjectionPending)),
            (S::Objected, A::Uphold, Ok(S::Invalid)),
            (S::Objected, A::Overrule, Ok(S::Rectifying)),
            (S::Objected, A::Rectify, Err(R::ObjectionPending)),
            (S::Objected, A::Unfixable, Err(R::ObjectionPending)),
            (S::Objected, A::AcceptUnfixable, Err(R::NotReviewing)),
            (S::Objected, A::RefuseUnfixable, Err(R::NotReviewing)),
            (S::Objected, A::Satisfied, Err(R::NotCallback)),
            (S::Objected, A::Unsatisfied, Err(R::NotCallback)),
            (S::Objected, A::Withdraw, Ok(S::Withdrawn)),
            (S::Reviewing, A::Valid, Err(R::AlreadyVerified)),
            (S::Reviewing, A::Invalid, Err(R::AlreadyVerified)),
            (S::Reviewing, A::Object, Err(R::NotRectifying)),
            (S::Reviewing, A::Uphold, Err(R::NotObjected)),
            (S::Reviewing, A::Overrule, Err(R::NotObjected)),
            (S::Reviewing, A::Rectify, Err(R::NotRectifying)),
            (S::Reviewing, A::Unfixable, Err(R::NotRectifying)),
            (S::Reviewing, A::AcceptUnfixable, Ok(S::Callback)),
            (S::Reviewing, A::RefuseUnfixable, Ok(S::Rectifying)),
            (S::Reviewing, A::Satisfied, Err(R::NotCallback)),
            (S::Reviewing, A::Unsatisfied, Err(R::NotCallback)),
            (S::Reviewing, A::Withdraw, Ok(S::Withdrawn)),
            (S::Callback, A::Valid, Err(R::AlreadyVerified)),
            (S::Callback, A::Invalid, Err(R::AlreadyVerified)),
            (S::Callback, A::Object, Err(R::NotRectifying)),
            (S::Callback, A::Uphold, Err(R::NotObjected)),
            (S::Callback, A::Overrule, Err(R::NotObjected)),
            (S::Callback, A::Rectify, Err(R::NotRectifying)),
            (S::Callback, A::Unfixable, Err(R::NotRectifying)),
            (S::Callback, A::AcceptUnfixable, Err(R::NotReviewing)),
            (S::Callback, A::RefuseUnfixable, Err(R::NotReviewing)),
            (S::Callback, A::Satisfied, Ok(S::Closed)),
            (S::Callback, A::Unsatisfied, Ok(S::Rectifying)),
            (S::Callback, A::Withdraw, Ok(S::Withdrawn)),
            (S::Closed, A::Valid, Err(R::Final)),
            (S::Closed, A::Invalid, Err(R::Final)),
            (S::Closed, A::Object, Err(R::Final)),
            (S::Closed, A::Uphold, Err(R::Final)),
            (S::Closed, A::Overrule, Err(R::Final)),
            (S::Closed, A::Rectify, Err(R::Final)),
            (S::Closed, A::Unfixable, Err(R::Final)),
            (S::Closed, A::AcceptUnfixable, Err(R::Final)),
            (S::Closed, A::RefuseUnfixable, Err(R::Final)),
            (S::Closed, A::Satisfied, Err(R::Final)),
            (S::Closed, A::Unsatisfied, Err(R::Final)),
            (S::Closed, A::Withdraw, Err(R::Final)),
            (S::Invalid, A::Valid, Err(R::Final)),
            (S::Invalid, A::Invalid, Err(R::Final)),
            (S::Invalid, A::Object, Err(R::Final)),
            (S::Invalid, A::Uphold, Err(R::Final)),
            (S::Invalid, A::Overrule, Err(R::Final)),
            (S::Invalid, A::Rectify, Err(R::Final)),
            (S::Invalid, A::Unfixable, Err(R::Final)),
            (S::Invalid, A::AcceptUnfixable, Err(R::Final)),
            (S::Invalid, A::RefuseUnfixable, Err(R::Final)),
            (S::Invalid, A::Satisfied, Err(R::Final)),
            (S::Invalid, A::Unsatisfied, Err(R::Final)),
            (S::Invalid, A::Withdraw, Err(R::Final)),
            (S::Withdrawn, A::Valid, Err(R::Final)),
            (S::Withdrawn, A::Invalid, Err(R::Final)),
            (S::Withdrawn, A::Object, Err(R::Final)),
            (S::Withdrawn, A::Uphold, Err(R::Final)),
            (S::Withdrawn, A::Overrule, Err(R::Final)),
            (S::Withdrawn, A::Rectify, Err(R::Final)),
            (S::Withdrawn, A::Unfixable, Err(R::Final)),
            (S::Withdrawn, A::AcceptUnfixable, Err(R::Final)),
            (S::Withdrawn, A::RefuseUnfixable, Err(R::Final)),
            (S::Withdrawn, A::Satisfied, Err(R::Final)),
            (S::Withdrawn, A::Unsatisfied, Err(R::Final)),
            (S::Withdrawn, A::Withdraw, Err(R::Final)),
        ];
        assert_eq!(table.len(), 96);
        assert_eq!(table.len(), BadState::ALL.len() * BadAction::ALL.len());
        for (state, action, expected) in table {
            assert_eq!(next_bad(state, action, f), expected, "{state} × {action}");
        }
    }

    #[test]
    fn the_steps_that_depend_on_facts_have_their_written_outcomes() {
        let anonymous = BadFacts {
            anonymous: true,
            ..BadFacts::default()
        };
        let open = BadFacts {
            objection_open: true,
            ..BadFacts::default()
        };
        let cases = [
            // anonymous: no callback, the fix or the accepted "cannot fix" closes it
            (S::Rectifying, A::Rectify, anonymous, Ok(S::Closed)),
            (S::Reviewing, A::AcceptUnfixable, anonymous, Ok(S::Closed)),
            // ...but it is still verified, reviewed and sent back like any other
            (S::Verifying, A::Valid, anonymous, Ok(S::Rectifying)),
            (S::Verifying, A::Invalid, anonymous, Ok(S::Invalid)),
            (
                S::Reviewing,
                A::RefuseUnfixable,
                anonymous,
                Ok(S::Rectifying),
            ),
            (S::Rectifying, A::Unfixable, anonymous, Ok(S::Reviewing)),
            // the one objection, within its window
            (S::Rectifying, A::Object, open, Ok(S::Objected)),
            (
                S::Rectifying,
                A::Object,
                BadFacts {
                    objections: 1,
                    ..open
                },
                Err(R::ObjectionUsed),
            ),
            (
                S::Rectifying,
                A::Object,
                BadFacts {
                    objections: 1,
                    ..BadFacts::default()
                },
                Err(R::ObjectionUsed),
            ),
            (
                S::Rectifying,
                A::Object,
                BadFacts::default(),
                Err(R::ObjectionClosed),
            ),
            (
                S::Rectifying,
                A::Object,
                BadFacts {
                    anonymous: true,
                    ..open
                },
                Ok(S::Objected),
            ),
            // an unsatisfied callback sends it back once; the second closes it
            (
                S::Callback,
                A::Unsatisfied,
                BadFacts::default(),
                Ok(S::Rectifying),
            ),
            (
                S::Callback,
                A::Unsatisfied,
                BadFacts {
                    reworks: 1,
                    ..BadFacts::default()
                },
                Ok(S::Closed),
            ),
            (
                S::Callback,
                A::Unsatisfied,
                BadFacts {
                    reworks: 5,
                    ..BadFacts::default()
                },
                Ok(S::Closed),
            ),
            (
                S::Callback,
                A::Satisfied,
                BadFacts {
                    reworks: 1,
                    ..BadFacts::default()
                },
                Ok(S::Closed),
            ),
            // facts open nothing in a final state
            (S::Closed, A::Object, open, Err(R::Final)),
            (S::Invalid, A::Withdraw, anonymous, Err(R::Final)),
        ];
        for (state, action, facts, expected) in cases {
            assert_eq!(
                next_bad(state, action, facts),
                expected,
                "{state} × {action} with {facts:?}"
            );
        }
    }

    #[test]
    fn final_states_are_closed_invalid_and_withdrawn() {
        for state in BadState::ALL {
            assert_eq!(
                state.is_final(),
                matches!(state, S::Closed | S::Invalid | S::Withdrawn),
                "{state}"
            );
        }
        assert_eq!(
            BadState::from_code_or_label("申诉审核中"),
            Some(S::Objected)
        );
        assert_eq!(
            "accept_unfixable".parse::<BadAction>(),
            Ok(A::AcceptUnfixable)
        );
    }

    #[test]
    fn each_step_belongs_to_its_actor() {
        let supervisor = BadActor {
            supervisor: true,
            ..BadActor::default()
        };
        let staff = BadActor {
            rated_staff: true,
            ..BadActor::default()
        };
        let unit = BadActor {
            responsible_unit: true,
            ..BadActor::default()
        };
        let everyone = BadActor {
            supervisor: true,
            rated_staff: true,
            responsible_unit: true,
        };
        let nobody = BadActor::default();
        // (action, supervisor, rated staff, responsible unit)
        let table = [
            (A::Valid, true, false, false),
            (A::Invalid, true, false, false),
            (A::Object, false, true, false),
            (A::Uphold, true, false, false),
            (A::Overrule, true, false, false),
            (A::Rectify, false, false, true),
            (A::Unfixable, false, false, true),
            (A::AcceptUnfixable, true, false, false),
            (A::RefuseUnfixable, true, false, false),
            (A::Satisfied, true, false, false),
            (A::Unsatisfied, true, false, false),
            (A::Withdraw, false, false, false),
        ];
        assert_eq!(table.len(), BadAction::ALL.len());
        for (action, by_supervisor, by_staff, by_unit) in table {
            for (actor, allowed) in [
                (supervisor, by_supervisor),
                (staff, by_staff),
                (unit, by_unit),
            ] {
                let got = check_bad_actor(action, actor);
                assert_eq!(got.is_ok(), allowed, "{action} by {actor:?}");
                if let Err(refusal) = got {
                    assert_eq!(refusal.field, "action");
                }
            }
            assert!(check_bad_actor(action, nobody).is_err(), "{action}");
        }
        assert_eq!(
            check_bad_actor(A::Withdraw, everyone).unwrap_err().message,
            "只有评价人修改评价才能撤回差评"
        );
        // a supervisor rated themself objects, but does not decide or call back
        assert_eq!(check_bad_actor(A::Object, everyone), Ok(()));
        assert_eq!(check_bad_actor(A::Rectify, everyone), Ok(()));
        for action in [A::Valid, A::Uphold, A::AcceptUnfixable, A::Satisfied] {
            assert_eq!(
                check_bad_actor(action, everyone).unwrap_err().message,
                "不能核实、审核或回访对本人的评价",
                "{action}"
            );
        }
        let supervisor_in_unit = BadActor {
            responsible_unit: true,
            ..supervisor
        };
        assert_eq!(check_bad_actor(A::Overrule, supervisor_in_unit), Ok(()));
    }

    #[test]
    fn limits_follow_the_spec_defaults() {
        let l = BadLimits::default();
        assert_eq!(l.of(BadStep::Verify), Limit::WorkingDays(1));
        assert_eq!(l.of(BadStep::Objection), Limit::WorkingDays(2));
        assert_eq!(l.of(BadStep::Rectify), Limit::WorkingDays(5));
        assert_eq!(l.of(BadStep::Review), Limit::WorkingDays(2));
        assert_eq!(l.of(BadStep::Callback), Limit::WorkingDays(2));
        assert_eq!(l.objection_days, 2);
        assert_eq!(l.rating_window_days, 5);
        let custom = BadLimits {
            verify_days: 3,
            objection_days: 4,
            objection_decision_days: 6,
            rectify_days: 15,
            review_days: 7,
            callback_days: 8,
            rating_window_days: 9,
        };
        // the objection's step runs on the decision limit, not the window
        assert_eq!(custom.of(BadStep::Objection), Limit::WorkingDays(6));
        assert_eq!(custom.of(BadStep::Verify), Limit::WorkingDays(3));
        assert_eq!(custom.of(BadStep::Rectify), Limit::WorkingDays(15));
        assert_eq!(custom.of(BadStep::Review), Limit::WorkingDays(7));
        assert_eq!(custom.of(BadStep::Callback), Limit::WorkingDays(8));
    }

    #[test]
    fn limits_round_trip_and_refuse_unknown_fields() {
        let custom = BadLimits {
            rectify_days: 15,
            rating_window_days: 7,
            ..BadLimits::default()
        };
        let text = toml::to_string(&custom).unwrap();
        assert_eq!(toml::from_str::<BadLimits>(&text).unwrap(), custom);
        let partial: BadLimits = toml::from_str("rectify_days = 15").unwrap();
        assert_eq!(
            partial,
            BadLimits {
                rectify_days: 15,
                ..BadLimits::default()
            }
        );
        assert_eq!(
            toml::from_str::<BadLimits>("").unwrap(),
            BadLimits::default()
        );
        assert!(toml::from_str::<BadLimits>("rectify_dayz = 15").is_err());
    }

    #[test]
    fn limits_are_one_to_366_working_days_each() {
        assert_eq!(BadLimits::default().validate(), Ok(()));
        type Field = fn(&mut BadLimits) -> &mut u32;
        let fields: [(&str, Field); 7] = [
            ("verify_days", |l| &mut l.verify_days),
            ("objection_days", |l| &mut l.objection_days),
            ("objection_decision_days", |l| {
                &mut l.objection_decision_days
            }),
            ("rectify_days", |l| &mut l.rectify_days),
            ("review_days", |l| &mut l.review_days),
            ("callback_days", |l| &mut l.callback_days),
            ("rating_window_days", |l| &mut l.rating_window_days),
        ];
        for (field, value) in fields {
            for (v, ok) in [(0, false), (1, true), (366, true), (367, false)] {
                let mut l = BadLimits::default();
                *value(&mut l) = v;
                match l.validate() {
                    Ok(()) => assert!(ok, "{field} = {v}"),
                    Err(refusal) => {
                        assert!(!ok, "{field} = {v}");
                        assert_eq!(refusal.field, field);
                        assert_eq!(refusal.message, "时限应为 1 至 366 个工作日");
                    }
                }
            }
        }
    }

    #[test]
    fn step_names_carry_their_round_and_states_their_step() {
        assert_eq!(BadStep::Verify.name(1), "verify");
        assert_eq!(BadStep::Rectify.name(0), "rectify");
        assert_eq!(BadStep::Rectify.name(2), "rectify.2");
        assert_eq!(BadStep::Callback.name(3), "callback.3");
        for step in [
            BadStep::Verify,
            BadStep::Objection,
            BadStep::Rectify,
            BadStep::Review,
            BadStep::Callback,
        ] {
            assert_eq!(BadStep::of_name(&step.name(1)), Some(step));
            assert_eq!(BadStep::of_name(&step.name(2)), Some(step));
        }
        assert_eq!(BadStep::of_name("objection"), Some(BadStep::Objection));
        assert_eq!(BadStep::of_name("reply"), None);
        assert_eq!(BadStep::of_name(""), None);
        let table = [
            (S::Verifying, Some(BadStep::Verify)),
            (S::Rectifying, Some(BadStep::Rectify)),
            (S::Objected, Some(BadStep::Objection)),
            (S::Reviewing, Some(BadStep::Review)),
            (S::Callback, Some(BadStep::Callback)),
            (S::Closed, None),
            (S::Invalid, None),
            (S::Withdrawn, None),
        ];
        assert_eq!(table.len(), BadState::ALL.len());
        for (state, step) in table {
            assert_eq!(running_step(state), step, "{state}");
        }
    }

    #[test]
    fn names_parse_from_codes_and_labels() {
        assert_eq!("扫码评价".parse::<Channel>(), Ok(Channel::Qr));
        assert_eq!(Channel::ALL.len(), 6);
        assert_eq!(
            TargetKind::from_code_or_label("staff"),
            Some(TargetKind::Staff)
        );
        assert_eq!(
            Reason::from_code_or_label("标准不一"),
            Some(Reason::Inconsistent)
        );
        assert!("bogus".parse::<Reason>().unwrap_err().contains("差评原因"));
    }
}
