//! Ratings (好差评), SPEC "Ratings": a rating of a case, a window, a staff member or a
//! department with its two scores, reasons and comment; the running totals (responsible unit ×
//! month × item × channel) kept in the rating's own transaction; the per-device and per-phone
//! rules of QR ratings and their anti-gaming flags; the bad-rating workflow through
//! `domain::rating::next_bad` with each step's deadline on the kernel (record `bad_rating`).
//! The rater's name and phone are sealed with their blind index; only
//! [`Store::rater_identity`] opens them, and each opening is audited. The device is kept only
//! as a keyed hash.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use domain::history::Audience;
use domain::rating::{
    BadAction, BadActor, BadFacts, BadLimits, BadState, BadStep, Channel, Level, Reason, Tally,
    TargetKind,
};
use serde_json::json;

use crate::audit::{AuditCtx, AuditEntry, append, append_all};
use crate::db::{BeginWrite, with_pool};
use crate::deadline::{NewDeadline, StoredDeadline, insert_deadline, meet_deadline};
use crate::history::{NewHistory, history};
use crate::inspection::{corrupt, invalid, optional_text, text};
use crate::notification::{notify, notify_all};
use crate::{Result, Store, StoreError, new_id};

/// The tenant setting holding the bad-rating limits (JSON of `domain::rating::BadLimits`).
pub const LIMITS_SETTING: &str = "rating.limits";

/// 128 random bits as hex: a rating link's token (looked up, never parsed), a rating
/// device's id.
pub fn link_token() -> String {
    hex::encode(crate::crypto::random_bytes::<16>())
}

impl Store {
    /// The value of a rating device's cookie: its id (see [`link_token`]) and a keyed MAC of
    /// it, so that nobody can claim another device's id or make up new ones unnoticed (the
    /// QR page's one rating per device and day; SPEC: "a signed cookie").
    pub fn device_cookie(&self, device: &str) -> String {
        format!("{device}.{}", self.device_mac(device))
    }

    /// The device id a cookie value names, if it is one [`Store::device_cookie`] made; a
    /// forged, altered or unsigned value names none.
    pub fn device_of_cookie(&self, value: &str) -> Option<String> {
        let (device, mac) = value.split_once('.')?;
        if device.len() != 32 || !device.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let expected = self.device_mac(device);
        // compared in constant time: the MAC must not be found a character at a time
        let same = expected.len() == mac.len()
            && expected
                .bytes()
                .zip(mac.bytes())
                .fold(0u8, |d, (a, b)| d | (a ^ b))
                == 0;
        same.then(|| device.to_owned())
    }

    /// A device id's MAC, under a key of its own derived from the blind-index key (so no
    /// stored blind index — of a name, a phone, a device — is ever a cookie's MAC).
    fn device_mac(&self, device: &str) -> String {
        self.index.keyed_mac("rating device cookie", device)
    }
}

/// What a rating is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RatingTarget {
    /// A case (by id).
    Case(String),
    /// A window (a unit of kind window).
    Window(String),
    /// A staff member.
    Staff(String),
    /// A department (any unit).
    Department(String),
}

impl RatingTarget {
    /// Its kind.
    pub fn kind(&self) -> TargetKind {
        match self {
            RatingTarget::Case(_) => TargetKind::Case,
            RatingTarget::Window(_) => TargetKind::Window,
            RatingTarget::Staff(_) => TargetKind::Staff,
            RatingTarget::Department(_) => TargetKind::Department,
        }
    }
}

/// A rating to store.
#[derive(Debug, Clone)]
pub struct NewRating {
    /// What it rates.
    pub target: RatingTarget,
    /// Through which channel.
    pub channel: Channel,
    /// Process satisfaction, 1–5.
    pub process: i64,
    /// Result satisfaction, 1–5.
    pub result: i64,
    /// Reason tags (only with a score of 1 or 2).
    pub reasons: Vec<Reason>,
    /// A comment.
    pub comment: String,
    /// The rater's name (sealed).
    pub rater_name: Option<String>,
    /// The rater's phone (sealed); without it the rating is anonymous.
    pub rater_phone: Option<String>,
    /// The rating device's id (a signed cookie's value), kept as a keyed hash.
    pub device: Option<String>,
    /// From the public page: the per-device and per-phone limits apply (system tokens and
    /// window devices are not limited).
    pub public: bool,
}

/// The rater's new scores, reasons and comment for a case's rating.
#[derive(Debug, Clone)]
pub struct RatingChange {
    /// Process satisfaction, 1–5.
    pub process: i64,
    /// Result satisfaction, 1–5.
    pub result: i64,
    /// Reason tags.
    pub reasons: Vec<Reason>,
    /// The comment.
    pub comment: String,
}

/// A bad rating's workflow record.
#[derive(Debug, Clone)]
pub struct BadRating {
    /// Where it stands.
    pub state: BadState,
    /// The rater left no phone: the contact steps are skipped.
    pub anonymous: bool,
    /// The responsible unit.
    pub unit_id: String,
    /// The rated staff member.
    pub staff_id: Option<String>,
    /// Objections lodged.
    pub objections: u32,
    /// Rectifications sent back after an unsatisfied callback.
    pub reworks: u32,
    /// Decided valid at.
    pub valid_at: Option<DateTime<Utc>>,
    /// The verification's note.
    pub verify_note: Option<String>,
    /// The staff member's objection.
    pub objection: Option<String>,
    /// The supervisor's decision on it.
    pub objection_note: Option<String>,
    /// What the unit did.
    pub rectification: Option<String>,
    /// Why it cannot be fixed.
    pub unfixable: Option<String>,
    /// The callback's note.
    pub callback_note: Option<String>,
    /// The rater was satisfied with the fix.
    pub satisfied: Option<bool>,
    /// Ended at.
    pub closed_at: Option<DateTime<Utc>>,
    /// Opened at.
    pub created_at: DateTime<Utc>,
    /// Its deadlines on the kernel.
    pub deadlines: Vec<StoredDeadline>,
}

impl BadRating {
    /// The open deadline of the running step.
    pub fn deadline(&self) -> Option<&StoredDeadline> {
        self.deadlines.iter().rev().find(|d| d.open)
    }
}

/// A stored rating (the rater still sealed).
#[derive(Debug, Clone)]
pub struct Rating {
    /// Its id.
    pub id: String,
    /// What it rates.
    pub target: TargetKind,
    /// The case.
    pub case_id: Option<String>,
    /// The window.
    pub window_id: Option<String>,
    /// The staff member.
    pub staff_id: Option<String>,
    /// The responsible unit (its totals).
    pub unit_id: String,
    /// The case's item ('' when not about a case).
    pub item_code: String,
    /// The channel.
    pub channel: Channel,
    /// Process satisfaction.
    pub process: Level,
    /// Result satisfaction.
    pub result: Level,
    /// Reason tags.
    pub reasons: Vec<Reason>,
    /// The comment.
    pub comment: String,
    /// A name or phone is on file.
    pub has_rater: bool,
    /// A phone is on file: the rater can be called (else the rating is anonymous).
    pub has_phone: bool,
    /// Anti-gaming flags: `burst`, `own_staff`.
    pub flags: Vec<String>,
    /// Counted in the figures (not invalidated).
    pub counted: bool,
    /// The month it counts in (YYYY-MM, Beijing time).
    pub month: String,
    /// Given at.
    pub rated_at: DateTime<Utc>,
    /// The bad-rating workflow, for a rating at 1 or 2.
    pub bad: Option<BadRating>,
}

impl Rating {
    /// A bad rating (1 or 2 on either score).
    pub fn is_bad(&self) -> bool {
        self.process.is_bad() || self.result.is_bad()
    }
}

/// A step on a bad rating.
#[derive(Debug, Clone)]
pub struct BadStepInput {
    /// What.
    pub action: BadAction,
    /// The note: required for an objection, a rectification and an unfixable report.
    pub note: String,
    /// Who takes it.
    pub actor: BadActor,
}

/// The running totals of one unit × month × item × channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatingTotal {
    /// The responsible unit.
    pub unit_id: String,
    /// The month (YYYY-MM).
    pub month: String,
    /// The item ('' when not about a case).
    pub item_code: String,
    /// The channel.
    pub channel: String,
    /// Process scores.
    pub process: Tally,
    /// Result scores.
    pub result: Tally,
    /// Bad ratings among them.
    pub bad: u64,
}

/// Which bad ratings a list shows.
#[derive(Debug, Clone, Default)]
pub struct BadFilter {
    /// Of these units only (`None`: every unit).
    pub unit_ids: Option<Vec<String>>,
    /// In these states only (empty: all).
    pub states: Vec<BadState>,
    /// Only those whose running step is overdue.
    pub overdue: bool,
    /// Only those whose running step is due within its warning time (yellow card) or overdue:
    /// the "due and overdue" list.
    pub due: bool,
}

#[derive(sqlx::FromRow)]
struct RatingRow {
    id: String,
    target: String,
    case_id: Option<String>,
    window_id: Option<String>,
    staff_id: Option<String>,
    unit_id: String,
    item_code: String,
    channel: String,
    process: i64,
    result: i64,
    reasons: String,
    comment: String,
    has_rater: bool,
    has_phone: bool,
    flags: String,
    counted: bool,
    month: String,
    rated_at: DateTime<Utc>,
    state: Option<String>,
    anonymous: Option<bool>,
    bad_unit_id: Option<String>,
    bad_staff_id: Option<String>,
    objections: Option<i64>,
    reworks: Option<i64>,
    valid_at: Option<DateTime<Utc>>,
    verify_note: Option<String>,
    objection: Option<String>,
    objection_note: Option<String>,
    rectification: Option<String>,
    unfixable: Option<String>,
    callback_note: Option<String>,
    satisfied: Option<bool>,
    closed_at: Option<DateTime<Utc>>,
    bad_created_at: Option<DateTime<Utc>>,
}

/// The conditions of a bad-rating list: tenant ($1), units ($2), states ($3), overdue only ($4)
/// as of $5, due or overdue only ($6).
const BAD_FILTER: &str = "b.tenant_id = $1 AND ($2 IS NULL OR ',' || $2 || ',' LIKE '%,' || b.unit_id || ',%') \
     AND ($3 IS NULL OR ',' || $3 || ',' LIKE '%,' || b.state || ',%') \
     AND (NOT $4 OR EXISTS (SELECT 1 FROM deadline d WHERE d.tenant_id = b.tenant_id AND d.record_type = 'bad_rating' \
       AND d.record_id = b.rating_id AND d.open AND d.due_at < $5)) \
     AND (NOT $6 OR EXISTS (SELECT 1 FROM deadline d WHERE d.tenant_id = b.tenant_id AND d.record_type = 'bad_rating' \
       AND d.record_id = b.rating_id AND d.open AND (d.card <> 'none' OR d.due_at < $5)))";

const COLUMNS: &str = "r.id, r.target, r.case_id, r.window_id, r.staff_id, r.unit_id, r.item_code, r.channel, r.process, \
     r.result, r.reasons, r.comment, (r.rater_name_enc IS NOT NULL OR r.rater_phone_enc IS NOT NULL) AS has_rater, \
     (r.rater_phone_enc IS NOT NULL) AS has_phone, r.flags, \
     r.counted, r.month, r.rated_at, b.state, b.anonymous, b.unit_id AS bad_unit_id, b.staff_id AS bad_staff_id, \
     b.objections, b.reworks, b.valid_at, b.verify_note, b.objection, b.objection_note, b.rectification, b.unfixable, \
     b.callback_note, b.satisfied, b.closed_at, b.created_at AS bad_created_at";

fn level(n: i64, id: &str) -> Result<Level> {
    Level::new(n).map_err(|e| corrupt("rating", id, e))
}

impl RatingRow {
    fn into_rating(self, deadlines: Vec<StoredDeadline>) -> Result<Rating> {
        let id = self.id;
        let bad = match self.state.as_deref() {
            Some(state) => Some(BadRating {
                state: BadState::from_code_or_label(state)
                    .ok_or_else(|| corrupt("bad_rating", &id, state))?,
                anonymous: self.anonymous.unwrap_or(true),
                unit_id: self.bad_unit_id.unwrap_or_default(),
                staff_id: self.bad_staff_id,
                objections: u32::try_from(self.objections.unwrap_or(0)).unwrap_or(0),
                reworks: u32::try_from(self.reworks.unwrap_or(0)).unwrap_or(0),
                valid_at: self.valid_at,
                verify_note: self.verify_note,
                objection: self.objection,
                objection_note: self.objection_note,
                rectification: self.rectification,
                unfixable: self.unfixable,
                callback_note: self.callback_note,
                satisfied: self.satisfied,
                closed_at: self.closed_at,
                created_at: self.bad_created_at.unwrap_or(self.rated_at),
                deadlines,
            }),
            None => None,
        };
        Ok(Rating {
            target: TargetKind::from_code_or_label(&self.target)
                .ok_or_else(|| corrupt("rating", &id, &self.target))?,
            channel: Channel::from_code_or_label(&self.channel)
                .ok_or_else(|| corrupt("rating", &id, &self.channel))?,
            process: level(self.process, &id)?,
            result: level(self.result, &id)?,
            reasons: self
                .reasons
                .split(',')
                .filter(|s| !s.is_empty())
                .map(|s| Reason::from_code_or_label(s).ok_or_else(|| corrupt("rating", &id, s)))
                .collect::<Result<Vec<_>>>()?,
            flags: self
                .flags
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            case_id: self.case_id,
            window_id: self.window_id,
            staff_id: self.staff_id,
            unit_id: self.unit_id,
            item_code: self.item_code,
            comment: self.comment,
            has_rater: self.has_rater,
            has_phone: self.has_phone,
            counted: self.counted,
            month: self.month,
            rated_at: self.rated_at,
            bad,
            id,
        })
    }
}

/// The month a moment counts in (Beijing time).
pub fn month_of(at: DateTime<Utc>) -> String {
    at.with_timezone(&domain::calendar::shanghai())
        .format("%Y-%m")
        .to_string()
}

/// The item code of a unit's roll-up row over all its items (what dashboards read).
pub const ALL_ITEMS: &str = "*";

/// Adds (`sign` 1) or removes (`sign` −1) one rating from the running totals — its item's row
/// and its unit's roll-up — in a transaction.
macro_rules! adjust_total {
    ($tx:expr, $tenant_id:expr, $unit:expr, $month:expr, $item:expr, $channel:expr, $process:expr, $result:expr, $sign:expr) => {{
        let p: Level = $process;
        let r: Level = $result;
        let sign: i64 = $sign;
        let sat = |l: Level| i64::from(l.is_satisfied());
        let item: &str = $item;
        // the item's row and the unit's roll-up over all items
        for item in [item, ALL_ITEMS] {
        sqlx::query(
            "INSERT INTO rating_total (tenant_id, unit_id, month, item_code, channel, n, process_satisfied, process_points, \
             result_satisfied, result_points, bad) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (tenant_id, unit_id, month, item_code, channel) DO UPDATE SET n = rating_total.n + excluded.n, \
             process_satisfied = rating_total.process_satisfied + excluded.process_satisfied, \
             process_points = rating_total.process_points + excluded.process_points, \
             result_satisfied = rating_total.result_satisfied + excluded.result_satisfied, \
             result_points = rating_total.result_points + excluded.result_points, bad = rating_total.bad + excluded.bad",
        )
        .bind($tenant_id).bind($unit).bind($month).bind(item).bind($channel).bind(sign)
        .bind(sign * sat(p)).bind(sign * i64::from(p.points())).bind(sign * sat(r)).bind(sign * i64::from(r.points()))
        .bind(sign * i64::from(p.is_bad() || r.is_bad()))
        .execute(&mut *$tx)
        .await?;
        }
    }};
}

/// The verification deadline a new bad rating opens, planned before its transaction.
#[derive(Debug)]
struct PlannedVerify {
    deadline_id: String,
    step: String,
    limit: domain::deadline::Limit,
    spec: String,
    schedule: domain::deadline::Schedule,
}

/// Opens a bad rating's workflow inside the rating's transaction: its record, the
/// verification deadline, the staff timeline's first entry and the supervisors' message
/// (scores only: never who rated).
macro_rules! open_bad {
    ($tx:expr, $tenant_id:expr, $ctx:expr, $now:expr, $id:expr, $planned:expr, $anonymous:expr, $unit:expr, $staff:expr, $process:expr, $result:expr, $reasons:expr) => {{
        let planned: &PlannedVerify = $planned;
        let id: &str = $id;
        let (process, result): (Level, Level) = ($process, $result);
        // a withdrawn workflow's row starts over; otherwise a new one
        sqlx::query(
            "INSERT INTO bad_rating (tenant_id, rating_id, state, anonymous, unit_id, staff_id, objections, reworks, \
             created_at, updated_at) VALUES ($1, $2, 'verifying', $3, $4, $5, 0, 0, $6, $6) \
             ON CONFLICT (tenant_id, rating_id) DO UPDATE SET state = 'verifying', objections = 0, reworks = 0, \
             valid_at = NULL, satisfied = NULL, closed_at = NULL, updated_at = excluded.updated_at \
             WHERE bad_rating.state = 'withdrawn'",
        )
        .bind($tenant_id).bind(id).bind($anonymous).bind($unit).bind($staff).bind($now)
        .execute(&mut *$tx)
        .await?;
        let deadline = NewDeadline {
            record_type: "bad_rating",
            record_id: id,
            step: &planned.step,
            unit_id: None,
            limit: planned.limit,
            received_at: $now,
        };
        insert_deadline!($tx, $tenant_id, &planned.deadline_id, &deadline, &planned.spec, &planned.schedule, $now);
        history!($tx, $tenant_id, $ctx, $now, &NewHistory {
            record_type: "bad_rating",
            record_id: id,
            event: "opened",
            audience: Audience::Internal,
            detail: opened_detail(process, result, $reasons),
        });
        let url = format!("/bad-ratings/{id}");
        let message = opened_title(process, result);
        notify!($tx, $tenant_id, "bad_rating", "bad_rating", id, &message, &url, None, true, $now);
    }};
}

/// The timeline detail of a bad rating's opening.
fn opened_detail(process: Level, result: Level, reasons: &str) -> serde_json::Value {
    json!({"process": process.get(), "result": result.get(), "reasons": reasons})
}

/// The supervisors' message of a bad rating's opening (scores only: never who rated).
fn opened_title(process: Level, result: Level) -> String {
    format!(
        "新差评待核实：过程{}、结果{}",
        process.label(),
        result.label()
    )
}

/// Opens the workflows of many new bad ratings of one tenant inside the rating writer's
/// transaction, as [`open_bad`] opens one — the record, the verification deadline, the first
/// timeline entry and the supervisors' messages — with one statement per table for the lot
/// (the ratings are new, so each timeline starts at 1 and no withdrawn row starts over).
macro_rules! open_bad_all {
    ($tx:expr, $tenant_id:expr, $opened:expr) => {{
        let tenant_id: &str = $tenant_id;
        let opened: &[&PreparedRating] = $opened;
        // a row of each table: 6, 11 and 9 values; 500 rows stay under both limits
        for part in opened.chunks(500) {
            let mut insert = sqlx::QueryBuilder::new(
                "INSERT INTO bad_rating (tenant_id, rating_id, state, anonymous, unit_id, staff_id, objections, reworks, \
                 created_at, updated_at) ",
            );
            insert.push_values(part, |mut b, r| {
                b.push_bind(tenant_id)
                    .push_bind(&r.id)
                    .push("'verifying'")
                    .push_bind(r.sealed_phone.is_none())
                    .push_bind(&r.resolved.unit_id)
                    .push_bind(&r.resolved.staff_id)
                    .push("0")
                    .push("0")
                    .push_bind(r.now)
                    .push_bind(r.now);
            });
            insert.build().execute(&mut *$tx).await?;
            let mut insert = sqlx::QueryBuilder::new(
                "INSERT INTO deadline (tenant_id, id, record_type, record_id, step, unit_id, spec, due_at, yellow_at, \
                 provisional, paused, card, open, created_at, updated_at) ",
            );
            insert.push_values(part, |mut b, r| {
                let planned = r.verify.as_ref().expect("a bad rating's verification");
                b.push_bind(tenant_id)
                    .push_bind(&planned.deadline_id)
                    .push("'bad_rating'")
                    .push_bind(&r.id)
                    .push_bind(&planned.step)
                    .push("NULL")
                    .push_bind(&planned.spec)
                    .push_bind(planned.schedule.due_at)
                    .push_bind(planned.schedule.yellow_at)
                    .push_bind(planned.schedule.provisional)
                    .push("FALSE")
                    .push("'none'")
                    .push("TRUE")
                    .push_bind(r.now)
                    .push_bind(r.now);
            });
            insert.build().execute(&mut *$tx).await?;
            let mut insert = sqlx::QueryBuilder::new(
                "INSERT INTO record_history (tenant_id, record_type, record_id, seq, at, event, actor, audience, detail) ",
            );
            insert.push_values(part, |mut b, r| {
                let detail = opened_detail(r.process, r.result, &r.reasons);
                b.push_bind(tenant_id)
                    .push("'bad_rating'")
                    .push_bind(&r.id)
                    .push("1")
                    .push_bind(r.now)
                    .push("'opened'")
                    .push_bind(&r.ctx.actor)
                    .push_bind(Audience::Internal.as_str())
                    .push_bind(detail.to_string());
            });
            insert.build().execute(&mut *$tx).await?;
        }
        let events: Vec<crate::notification::Event<'_>> = opened
            .iter()
            .map(|r| crate::notification::Event {
                record_id: &r.id,
                title: opened_title(r.process, r.result),
                url: format!("/bad-ratings/{}", r.id),
                at: r.now,
            })
            .collect();
        notify_all!($tx, tenant_id, "bad_rating", "bad_rating", &events, None, true);
    }};
}

/// The refusal of a second rating of a case.
const ONE_PER_CASE: &str = "该办件已评价，每个办件只能评价一次";

/// A rating checked, resolved and sealed by [`Store::prepare_rating`], waiting for its
/// transaction.
#[derive(Debug)]
pub struct PreparedRating {
    ctx: AuditCtx,
    tenant_id: String,
    id: String,
    kind: TargetKind,
    channel: Channel,
    process: Level,
    result: Level,
    reasons: String,
    reason_list: Vec<Reason>,
    comment: String,
    sealed_name: Option<String>,
    name_index: Option<String>,
    sealed_phone: Option<String>,
    phone_index: Option<String>,
    device: Option<String>,
    own_staff: bool,
    public: Option<PublicLimits>,
    month: String,
    now: DateTime<Utc>,
    verify: Option<PlannedVerify>,
    resolved: Resolved,
}

impl PreparedRating {
    /// The rating as [`Store::write_ratings`] stores it, when that needs no reading back: a
    /// system's rating (its flags known now) that opens no workflow. `None` otherwise.
    pub fn as_stored(&self) -> Option<Rating> {
        if self.public.is_some() || self.verify.is_some() {
            return None;
        }
        let resolved = &self.resolved;
        Some(Rating {
            id: self.id.clone(),
            target: self.kind,
            case_id: resolved.case_id.clone(),
            window_id: resolved.window_id.clone(),
            staff_id: resolved.staff_id.clone(),
            unit_id: resolved.unit_id.clone(),
            item_code: resolved.item_code.clone(),
            channel: self.channel,
            process: self.process,
            result: self.result,
            reasons: self.reason_list.clone(),
            comment: self.comment.clone(),
            has_rater: self.sealed_name.is_some() || self.sealed_phone.is_some(),
            has_phone: self.sealed_phone.is_some(),
            flags: domain::rating::flags(0, self.own_staff)
                .into_iter()
                .map(str::to_owned)
                .collect(),
            counted: true,
            month: self.month.clone(),
            rated_at: self.now.trunc_subsecs(6),
            bad: None,
        })
    }

    /// The id the rating will have.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Its tenant.
    pub fn tenant_id(&self) -> &str {
        &self.tenant_id
    }
}

/// What the per-device and per-phone limits of a public rating count.
#[derive(Debug)]
struct PublicLimits {
    day_start: DateTime<Utc>,
    target_id: String,
}

/// The columns a prepared rating is inserted with ([`bind_rating`] binds them).
const RATING_INSERT: &str = "INSERT INTO rating (tenant_id, id, target, case_id, window_id, staff_id, unit_id, item_code, channel, \
    process, result, reasons, comment, rater_name_enc, rater_name_index, rater_phone_enc, rater_phone_index, device, flags, \
    counted, month, rated_at, created_by, updated_at) ";

/// Binds a prepared rating's values in [`RATING_INSERT`]'s order (a query builder's row).
macro_rules! bind_rating {
    ($b:expr, $r:expr, $flags:expr) => {{
        let r: &PreparedRating = $r;
        let flags: &str = $flags;
        let resolved = &r.resolved;
        let mut b = $b;
        b.push_bind(r.tenant_id.clone())
            .push_bind(r.id.clone())
            .push_bind(r.kind.as_str())
            .push_bind(resolved.case_id.clone())
            .push_bind(resolved.window_id.clone())
            .push_bind(resolved.staff_id.clone())
            .push_bind(resolved.unit_id.clone())
            .push_bind(resolved.item_code.clone())
            .push_bind(r.channel.as_str())
            .push_bind(i64::from(r.process.get()))
            .push_bind(i64::from(r.result.get()))
            .push_bind(r.reasons.clone())
            .push_bind(r.comment.clone())
            .push_bind(r.sealed_name.clone())
            .push_bind(r.name_index.clone())
            .push_bind(r.sealed_phone.clone())
            .push_bind(r.phone_index.clone())
            .push_bind(r.device.clone())
            .push_bind(flags.to_owned())
            .push_bind(true)
            .push_bind(r.month.clone())
            .push_bind(r.now)
            .push_bind(r.ctx.actor.clone())
            .push_bind(r.now);
    }};
}

impl PreparedRating {
    /// The audit entry of its creation (personal fields as blind index only).
    fn audit_entry(&self, flags_text: &str) -> AuditEntry<'_> {
        let resolved = &self.resolved;
        AuditEntry {
            tenant_id: Some(&self.tenant_id),
            action: "create",
            entity: "rating",
            entity_id: &self.id,
            changes: json!({"target": self.kind.as_str(), "case_id": resolved.case_id,
                "window_id": resolved.window_id, "staff_id": resolved.staff_id, "unit_id": resolved.unit_id,
                "item_code": resolved.item_code, "channel": self.channel.as_str(), "process": self.process.get(),
                "result": self.result.get(), "reasons": self.reasons, "comment": self.comment,
                "rater_name": self.name_index, "rater_phone": self.phone_index, "flags": flags_text,
                "bad": self.verify.is_some()}),
        }
    }
}

/// Running-total changes by tenant and (unit, month, item, channel): n, process satisfied,
/// process points, result satisfied, result points, bad.
type TotalDeltas = std::collections::BTreeMap<(String, TotalKey), [i64; 6]>;

/// Adds one rating to the changes of its item's row and its unit's roll-up.
#[allow(clippy::too_many_arguments)]
fn tally(
    totals: &mut TotalDeltas,
    tenant_id: &str,
    unit: &str,
    month: &str,
    item: &str,
    channel: &str,
    process: Level,
    result: Level,
) {
    let values = [
        1,
        i64::from(process.is_satisfied()),
        i64::from(process.points()),
        i64::from(result.is_satisfied()),
        i64::from(result.points()),
        i64::from(process.is_bad() || result.is_bad()),
    ];
    for item in [item, ALL_ITEMS] {
        let key = (
            tenant_id.to_owned(),
            (
                unit.to_owned(),
                month.to_owned(),
                item.to_owned(),
                channel.to_owned(),
            ),
        );
        let t = totals.entry(key).or_default();
        for (slot, v) in t.iter_mut().zip(values) {
            *slot += v;
        }
    }
}

/// Adds the changes of [`TotalDeltas`] to the running totals in a transaction.
macro_rules! upsert_totals {
    ($tx:expr, $totals:expr) => {{
        let rows: Vec<(&(String, TotalKey), &[i64; 6])> = $totals.iter().collect();
        // 11 values a row: 1,000 rows stay under both databases' parameter limits
        for part in rows.chunks(1_000) {
            let mut upsert = sqlx::QueryBuilder::new(
                "INSERT INTO rating_total (tenant_id, unit_id, month, item_code, channel, n, process_satisfied, \
                 process_points, result_satisfied, result_points, bad) ",
            );
            upsert.push_values(part, |mut b, ((tenant, (unit, month, item, channel)), t)| {
                b.push_bind(tenant)
                    .push_bind(unit)
                    .push_bind(month)
                    .push_bind(item)
                    .push_bind(channel);
                for v in t.iter() {
                    b.push_bind(*v);
                }
            });
            upsert.push(
                " ON CONFLICT (tenant_id, unit_id, month, item_code, channel) DO UPDATE SET n = rating_total.n + excluded.n, \
                 process_satisfied = rating_total.process_satisfied + excluded.process_satisfied, \
                 process_points = rating_total.process_points + excluded.process_points, \
                 result_satisfied = rating_total.result_satisfied + excluded.result_satisfied, \
                 result_points = rating_total.result_points + excluded.result_points, bad = rating_total.bad + excluded.bad",
            );
            upsert.build().execute(&mut *$tx).await?;
        }
    }};
}

/// Who the rated thing resolves to.
#[derive(Debug)]
struct Resolved {
    case_id: Option<String>,
    window_id: Option<String>,
    staff_id: Option<String>,
    unit_id: String,
    item_code: String,
    completed_at: Option<DateTime<Utc>>,
}

impl Store {
    /// The tenant's bad-rating limits (SPEC defaults unless set).
    pub async fn rating_limits(&self, tenant_id: &str) -> Result<BadLimits> {
        self.tenant_json(tenant_id, LIMITS_SETTING).await
    }

    /// Sets the tenant's bad-rating limits (effective for deadlines opened from now on).
    pub async fn set_rating_limits(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        limits: &BadLimits,
    ) -> Result<()> {
        limits.validate().map_err(|r| invalid(r.field, r.message))?;
        self.set_tenant_json(ctx, tenant_id, LIMITS_SETTING, limits)
            .await
    }

    async fn plan_verify(
        &self,
        tenant_id: &str,
        id: &str,
        round: u32,
        now: DateTime<Utc>,
    ) -> Result<PlannedVerify> {
        let limits = self.rating_limits(tenant_id).await?;
        let step = BadStep::Verify.name(round);
        let limit = limits.of(BadStep::Verify);
        let deadline = NewDeadline {
            record_type: "bad_rating",
            record_id: id,
            step: &step,
            unit_id: None,
            limit,
            received_at: now,
        };
        let (_, spec, schedule) = self.plan_deadline(tenant_id, &deadline, now).await?;
        Ok(PlannedVerify {
            deadline_id: new_id(),
            step,
            limit,
            spec,
            schedule,
        })
    }

    /// The responsible unit of a window: the department that staffs it, else the window.
    async fn responsible_of_unit(&self, tenant_id: &str, unit_id: &str) -> Result<String> {
        Ok(match self.unit(tenant_id, unit_id).await? {
            Some(u) => u.staffed_by_id.unwrap_or(u.id),
            None => unit_id.to_owned(),
        })
    }

    async fn resolve_target(&self, tenant_id: &str, target: &RatingTarget) -> Result<Resolved> {
        let unknown = || invalid("target_id", "评价对象不存在");
        match target {
            RatingTarget::Case(id) => {
                let case = self.case(tenant_id, id).await?.ok_or_else(unknown)?;
                Ok(Resolved {
                    case_id: Some(case.id),
                    window_id: case.window_id,
                    staff_id: case.staff_id,
                    unit_id: case.unit_id,
                    item_code: case.item_code,
                    completed_at: case.completed_at,
                })
            }
            RatingTarget::Window(id) => match self.unit(tenant_id, id).await? {
                Some(u) if u.kind == domain::org::UnitKind::Window && u.active => Ok(Resolved {
                    case_id: None,
                    window_id: Some(u.id.clone()),
                    staff_id: None,
                    unit_id: u.staffed_by_id.unwrap_or(u.id),
                    item_code: String::new(),
                    completed_at: None,
                }),
                _ => Err(unknown()),
            },
            RatingTarget::Staff(id) => match self.staff(tenant_id, id).await? {
                Some(s) if s.active => {
                    let window = match self.unit(tenant_id, &s.unit_id).await? {
                        Some(u) if u.kind == domain::org::UnitKind::Window => Some(u.id),
                        _ => None,
                    };
                    Ok(Resolved {
                        case_id: None,
                        window_id: window,
                        staff_id: Some(s.id),
                        unit_id: self.responsible_of_unit(tenant_id, &s.unit_id).await?,
                        item_code: String::new(),
                        completed_at: None,
                    })
                }
                _ => Err(unknown()),
            },
            RatingTarget::Department(id) => match self.unit(tenant_id, id).await? {
                Some(u) if u.active => Ok(Resolved {
                    case_id: None,
                    window_id: None,
                    staff_id: None,
                    unit_id: u.id,
                    item_code: String::new(),
                    completed_at: None,
                }),
                _ => Err(unknown()),
            },
        }
    }

    /// Whether `at` is within the rating window of a case completed at `completed_at`.
    async fn within_rating_window(
        &self,
        tenant_id: &str,
        completed_at: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> Result<bool> {
        let limits = self.rating_limits(tenant_id).await?;
        let calendar = self.calendar().await?;
        let hours = self.working_hours(tenant_id).await?;
        let due = calendar
            .due_after_working_days(&hours, completed_at, limits.rating_window_days)
            .map_err(|e| StoreError::Other(anyhow::anyhow!("{e}")))?
            .value;
        Ok(at <= due)
    }

    /// The token of a window's QR link (made on first use).
    pub async fn window_rating_token(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        window_id: &str,
    ) -> Result<String> {
        match self.unit(tenant_id, window_id).await? {
            Some(u) if u.kind == domain::org::UnitKind::Window => {}
            _ => return Err(StoreError::NotFound),
        }
        let existing: Option<String> = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT token FROM rating_link WHERE tenant_id = $1 AND window_id = $2")
                .bind(tenant_id)
                .bind(window_id)
                .fetch_optional(pool)
                .await?
        });
        if let Some(token) = existing {
            return Ok(token);
        }
        let token = link_token();
        let now = self.clock.now();
        let head = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let inserted = sqlx::query(
                "INSERT INTO rating_link (token, tenant_id, window_id, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            )
            .bind(&token).bind(tenant_id).bind(window_id).bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if inserted != 1 {
                return Err(StoreError::Conflict("评价码刚被他人生成，请刷新".into()));
            }
            let head = append!(self, tx, ctx, now, &AuditEntry {
                tenant_id: Some(tenant_id),
                action: "create",
                entity: "rating_link",
                entity_id: window_id,
                changes: json!({"window_id": window_id}),
            });
            tx.commit().await?;
            head
        });
        self.advance_head(head);
        Ok(token)
    }

    /// What a rating link's token names: its tenant and target (a window's QR or a case's
    /// receipt). An unknown or altered token names nothing.
    pub async fn rating_link(&self, token: &str) -> Result<Option<(String, RatingTarget)>> {
        if token.len() != 32 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let window: Option<(String, String)> = with_pool!(self, pool => {
            sqlx::query_as("SELECT tenant_id, window_id FROM rating_link WHERE token = $1")
                .bind(token)
                .fetch_optional(pool)
                .await?
        });
        if let Some((tenant, window)) = window {
            return Ok(Some((tenant, RatingTarget::Window(window))));
        }
        Ok(self
            .case_by_token(token)
            .await?
            .map(|(tenant, case)| (tenant, RatingTarget::Case(case.id))))
    }

    /// The rating of a case, if it has one.
    pub async fn rating_of_case(&self, tenant_id: &str, case_id: &str) -> Result<Option<Rating>> {
        let id: Option<String> = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT id FROM rating WHERE tenant_id = $1 AND case_id = $2")
                .bind(tenant_id)
                .bind(case_id)
                .fetch_optional(pool)
                .await?
        });
        match id {
            Some(id) => self.rating(tenant_id, &id).await,
            None => Ok(None),
        }
    }

    /// Stores a rating: [`Store::prepare_rating`] then [`Store::write_ratings`] as a batch of
    /// one (the server batches many through [`crate::RatingQueue`]).
    pub async fn create_rating(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        new: &NewRating,
    ) -> Result<Rating> {
        let prepared = self.prepare_rating(ctx, tenant_id, new).await?;
        let id = prepared.id.clone();
        let mut outcomes = self.write_ratings(std::slice::from_ref(&prepared)).await?;
        outcomes.pop().unwrap_or(Err(StoreError::NotFound))?;
        self.rating(tenant_id, &id)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// Checks a rating against the domain's rules, the case's rating window and one-rating
    /// rule; resolves its target and responsible unit; seals the rater; looks up whether the
    /// rater is staff of the rated unit; plans a bad rating's verification deadline. Reads
    /// only: what must be decided inside the write lock (the per-device and per-phone limits
    /// of public ratings, the burst count) is left to [`Store::write_ratings`].
    pub async fn prepare_rating(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        new: &NewRating,
    ) -> Result<PreparedRating> {
        let process = Level::new(new.process).map_err(|e| invalid("process", e.message))?;
        let result = Level::new(new.result).map_err(|e| invalid("result", e.message))?;
        domain::rating::check_rating(process, result, &new.reasons, &new.comment)
            .map_err(|r| invalid(r.field, r.message))?;
        let comment = new.comment.trim().to_owned();
        let now = self.clock.now();
        let resolved = self.resolve_target(tenant_id, &new.target).await?;
        if let Some(case_id) = &resolved.case_id {
            let Some(done) = resolved.completed_at else {
                return Err(invalid("target_id", "办件尚未办结，办结后才能评价"));
            };
            if !self.within_rating_window(tenant_id, done, now).await? {
                return Err(invalid(
                    "target_id",
                    "已超过评价期限（办结后 5 个工作日内可评价）",
                ));
            }
            if self.rating_of_case(tenant_id, case_id).await?.is_some() {
                return Err(StoreError::Conflict(ONE_PER_CASE.into()));
            }
        }
        let name = match new.rater_name.as_deref().map(str::trim) {
            Some(n) if !n.is_empty() => Some(text("rater_name", n, 50, "姓名")?),
            _ => None,
        };
        let phone = match new.rater_phone.as_deref().map(str::trim) {
            Some(p) if !p.is_empty() => Some(
                domain::staff::Phone::parse(p)
                    .map_err(|e| invalid("rater_phone", e.to_string()))?
                    .as_str()
                    .to_owned(),
            ),
            _ => None,
        };
        let device = new
            .device
            .as_deref()
            .filter(|d| !d.is_empty())
            .map(|d| self.index.of(&format!("device:{d}")));
        let phone_index = phone.as_deref().map(|p| self.index.of(p));
        let mut own_staff = false;
        if let Some(index) = &phone_index {
            // staff of the rated window or unit (at a post or a part-time one), or the rated
            // staff member
            let mut rated_units = vec![resolved.unit_id.as_str()];
            rated_units.extend(resolved.window_id.as_deref());
            own_staff = self
                .staff_places_of_phone(tenant_id, index)
                .await?
                .iter()
                .any(|p| p.works_at(resolved.staff_id.as_deref(), &rated_units));
        }
        let bad = process.is_bad() || result.is_bad();
        let id = new_id();
        let reasons: Vec<&str> = new.reasons.iter().map(|r| r.as_str()).collect();
        let verify = if bad {
            Some(self.plan_verify(tenant_id, &id, 1, now).await?)
        } else {
            None
        };
        let public = new.public.then(|| PublicLimits {
            day_start: {
                let local = now.with_timezone(&domain::calendar::shanghai());
                let midnight = local
                    .date_naive()
                    .and_hms_opt(0, 0, 0)
                    .and_then(|t| t.and_local_timezone(domain::calendar::shanghai()).single());
                midnight.map_or(now, |m| m.with_timezone(&Utc))
            },
            target_id: resolved
                .staff_id
                .clone()
                .or(resolved.window_id.clone())
                .unwrap_or(resolved.unit_id.clone()),
        });
        Ok(PreparedRating {
            ctx: ctx.clone(),
            tenant_id: tenant_id.to_owned(),
            id,
            kind: new.target.kind(),
            channel: new.channel,
            process,
            result,
            reasons: reasons.join(","),
            reason_list: new.reasons.clone(),
            comment,
            sealed_name: name.as_deref().map(|n| self.cipher.encrypt(n)),
            name_index: name.as_deref().map(|n| self.index.of(n)),
            sealed_phone: phone.as_deref().map(|p| self.cipher.encrypt(p)),
            phone_index,
            device,
            own_staff,
            public,
            month: month_of(now),
            now,
            verify,
            resolved,
        })
    }

    /// Writes prepared ratings in one transaction — group commit: one fsync for the lot. Each
    /// rating gets its own answer: stored, or refused (a case rated meanwhile; a public
    /// rating over its per-device or per-phone limit) — decided inside the write lock, before
    /// any of its rows is written, so a refusal leaves nothing behind. Each stored rating
    /// updates the running totals, opens a bad rating's workflow and is audited in the same
    /// transaction. Should the transaction itself fail, each rating is tried alone, so one
    /// broken rating cannot take the others down with it.
    pub async fn write_ratings(&self, batch: &[PreparedRating]) -> Result<Vec<Result<()>>> {
        match self.write_rating_batch(batch).await {
            Ok(outcomes) => Ok(outcomes),
            Err(e) if batch.len() < 2 => Err(e),
            Err(e) => {
                tracing::warn!(error = %e, n = batch.len(), "rating batch failed; writing one by one");
                let mut outcomes = Vec::with_capacity(batch.len());
                for one in batch {
                    let outcome = match self.write_rating_batch(std::slice::from_ref(one)).await {
                        Ok(mut o) => o.pop().unwrap_or(Err(StoreError::NotFound)),
                        Err(e) => Err(e),
                    };
                    outcomes.push(outcome);
                }
                Ok(outcomes)
            }
        }
    }

    async fn write_rating_batch(&self, batch: &[PreparedRating]) -> Result<Vec<Result<()>>> {
        let mut outcomes: Vec<Option<Result<()>>> = batch.iter().map(|_| None).collect();
        let heads = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            // the ratings that land, by their place in the batch, with their flags
            let mut landed: Vec<(usize, String)> = Vec::with_capacity(batch.len());
            // public ratings one by one: each one's limits count the ratings stored before it
            // (the per-phone limit is the QR page's: it counts QR ratings, SPEC "Ratings")
            for (i, r) in batch.iter().enumerate() {
                let Some(limits) = &r.public else { continue };
                let (by_device, by_phone, burst): (i64, i64, i64) = sqlx::query_as(
                    "SELECT \
                     (SELECT COUNT(*) FROM rating WHERE tenant_id = $1 AND device = $2 AND rated_at >= $3 AND target = $5 \
                      AND COALESCE(staff_id, window_id, unit_id) = $6), \
                     (SELECT COUNT(*) FROM rating WHERE tenant_id = $1 AND rater_phone_index = $7 AND channel = 'qr' AND rated_at >= $3 AND target = $5 \
                      AND COALESCE(staff_id, window_id, unit_id) = $6), \
                     (SELECT COUNT(*) FROM rating WHERE tenant_id = $1 AND device = $2 AND rated_at >= $4)",
                )
                .bind(&r.tenant_id).bind(&r.device).bind(limits.day_start)
                .bind(r.now - Duration::minutes(domain::rating::BURST_MINUTES))
                .bind(r.kind.as_str()).bind(&limits.target_id).bind(&r.phone_index)
                .fetch_one(&mut *tx)
                .await?;
                if r.resolved.case_id.is_none() && (by_device > 0 || by_phone > 0) {
                    outcomes[i] = Some(Err(StoreError::Conflict("今天已经评价过，感谢您的参与".into())));
                    continue;
                }
                let flags = domain::rating::flags(u64::try_from(burst).unwrap_or(0), r.own_staff).join(",");
                let mut insert = sqlx::QueryBuilder::new(RATING_INSERT);
                insert.push_values([r], |b, r| bind_rating!(b, r, &flags));
                insert.push(" ON CONFLICT DO NOTHING");
                if insert.build().execute(&mut *tx).await?.rows_affected() == 1 {
                    landed.push((i, flags));
                }
            }
            // the systems' ratings with one insert
            let system: Vec<(usize, &PreparedRating, String)> = batch
                .iter()
                .enumerate()
                .filter(|(_, r)| r.public.is_none())
                .map(|(i, r)| (i, r, domain::rating::flags(0, r.own_staff).join(",")))
                .collect();
            let mut stored = std::collections::HashSet::new();
            // 22 values a row: 500 rows stay under both databases' parameter limits
            for part in system.chunks(500) {
                let mut insert = sqlx::QueryBuilder::new(RATING_INSERT);
                insert.push_values(part, |b, (_, r, flags)| bind_rating!(b, r, flags));
                insert.push(" ON CONFLICT DO NOTHING RETURNING id");
                let ids: Vec<String> = insert.build_query_scalar().fetch_all(&mut *tx).await?;
                stored.extend(ids);
            }
            landed.extend(
                system
                    .into_iter()
                    .filter(|(_, r, _)| stored.contains(&r.id))
                    .map(|(i, _, flags)| (i, flags)),
            );
            landed.sort_by_key(|(i, _)| *i);
            // for all that landed: one upsert of the totals, the bad ones' workflows, one audit
            // append per tenant
            let mut totals = TotalDeltas::new();
            let mut entries: std::collections::BTreeMap<&str, Vec<_>> = Default::default();
            let mut opened: std::collections::BTreeMap<&str, Vec<&PreparedRating>> = Default::default();
            for (i, flags) in &landed {
                let r = &batch[*i];
                let (tenant_id, resolved) = (r.tenant_id.as_str(), &r.resolved);
                tally(&mut totals, tenant_id, &resolved.unit_id, &r.month, &resolved.item_code, r.channel.as_str(), r.process, r.result);
                if r.verify.is_some() {
                    opened.entry(tenant_id).or_default().push(r);
                }
                entries.entry(tenant_id).or_default().push((&r.ctx, r.now, r.audit_entry(flags)));
                outcomes[*i] = Some(Ok(()));
            }
            for (tenant_id, opened) in &opened {
                open_bad_all!(tx, tenant_id, opened);
            }
            upsert_totals!(tx, &totals);
            let mut heads = Vec::new();
            for (tenant_id, entries) in entries {
                heads.extend(append_all!(self, tx, tenant_id, entries, quiet: true));
            }
            tx.commit().await?;
            heads
        });
        // a quiet write: nothing a kept read depends on has changed
        for head in heads {
            self.advance_quiet_head(head);
        }
        // what did not land: a case rated meanwhile, or twice in this batch
        Ok(outcomes
            .into_iter()
            .map(|o| o.unwrap_or_else(|| Err(StoreError::Conflict(ONE_PER_CASE.into()))))
            .collect())
    }

    /// The rater of a case changes its rating within the rating window: the totals move with
    /// it; a bad rating changed to a good one closes its workflow as withdrawn, a good one
    /// changed to a bad one opens the workflow.
    pub async fn change_rating(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        id: &str,
        change: &RatingChange,
    ) -> Result<Rating> {
        let RatingChange {
            process,
            result,
            reasons,
            comment,
        } = change;
        let (process, result) = (*process, *result);
        let old = self
            .rating(tenant_id, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let process = Level::new(process).map_err(|e| invalid("process", e.message))?;
        let result = Level::new(result).map_err(|e| invalid("result", e.message))?;
        domain::rating::check_rating(process, result, reasons, comment)
            .map_err(|r| invalid(r.field, r.message))?;
        let comment = comment.trim().to_owned();
        let now = self.clock.now();
        let Some(case_id) = &old.case_id else {
            return Err(invalid("target_id", "只有办件评价可以修改"));
        };
        let case = self
            .case(tenant_id, case_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let done = case.completed_at.unwrap_or(old.rated_at);
        if !self.within_rating_window(tenant_id, done, now).await? {
            return Err(invalid(
                "target_id",
                "已超过评价期限（办结后 5 个工作日内可修改）",
            ));
        }
        if !old.counted {
            return Err(StoreError::Conflict("该评价已认定无效，不能修改".into()));
        }
        let now_bad = process.is_bad() || result.is_bad();
        let withdraw = match &old.bad {
            Some(b) if !now_bad && !is_final(b.state) => Some(
                domain::rating::next_bad(b.state, BadAction::Withdraw, BadFacts::default())
                    .map_err(|r| StoreError::Conflict(r.to_string()))?,
            ),
            _ => None,
        };
        // a new bad rating opens the workflow; one withdrawn before opens it again
        let reopen = old.bad.as_ref().map(|b| b.state) == Some(BadState::Withdrawn);
        let open_bad = now_bad && (old.bad.is_none() || reopen);
        let verify = if open_bad {
            let round = old.bad.as_ref().map_or(0, |b| {
                b.deadlines
                    .iter()
                    .filter(|d| BadStep::of_name(&d.step) == Some(BadStep::Verify))
                    .count()
            }) as u32
                + 1;
            Some(self.plan_verify(tenant_id, id, round, now).await?)
        } else {
            None
        };
        let reasons_text: Vec<&str> = reasons.iter().map(|r| r.as_str()).collect();
        let reasons_text = reasons_text.join(",");
        let anonymous = !old.has_phone;
        let head = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let moved = sqlx::query(
                "UPDATE rating SET process = $3, result = $4, reasons = $5, comment = $6, updated_at = $7 \
                 WHERE tenant_id = $1 AND id = $2 AND process = $8 AND result = $9 AND counted",
            )
            .bind(tenant_id).bind(id).bind(i64::from(process.get())).bind(i64::from(result.get())).bind(&reasons_text)
            .bind(&comment).bind(now).bind(i64::from(old.process.get())).bind(i64::from(old.result.get()))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if moved != 1 {
                return Err(StoreError::Conflict("该评价刚被修改，请刷新后重试".into()));
            }
            adjust_total!(tx, tenant_id, &old.unit_id, &old.month, &old.item_code, old.channel.as_str(), old.process, old.result, -1);
            adjust_total!(tx, tenant_id, &old.unit_id, &old.month, &old.item_code, old.channel.as_str(), process, result, 1);
            if let (Some(state), Some(was)) = (withdraw, old.bad.as_ref().map(|b| b.state)) {
                let moved = sqlx::query(
                    "UPDATE bad_rating SET state = $3, closed_at = $4, updated_at = $4 WHERE tenant_id = $1 AND rating_id = $2 \
                     AND state = $5",
                )
                .bind(tenant_id).bind(id).bind(state.as_str()).bind(now).bind(was.as_str())
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if moved != 1 {
                    return Err(StoreError::Conflict("该差评刚被处理，请刷新后重试".into()));
                }
                // every step still running ends with it
                sqlx::query(
                    "UPDATE notice SET closed_at = $3 WHERE tenant_id = $1 AND closed_at IS NULL AND deadline_id IN \
                     (SELECT id FROM deadline WHERE tenant_id = $1 AND record_type = 'bad_rating' AND record_id = $2 AND open)",
                )
                .bind(tenant_id).bind(id).bind(now)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "UPDATE deadline SET open = FALSE, met_at = $3, updated_at = $3 WHERE tenant_id = $1 \
                     AND record_type = 'bad_rating' AND record_id = $2 AND open",
                )
                .bind(tenant_id).bind(id).bind(now)
                .execute(&mut *tx)
                .await?;
                history!(tx, tenant_id, ctx, now, &NewHistory {
                    record_type: "bad_rating",
                    record_id: id,
                    event: "withdrawn",
                    audience: Audience::Internal,
                    detail: json!({"process": process.get(), "result": result.get()}),
                });
            }
            if let Some(planned) = &verify {
                open_bad!(tx, tenant_id, ctx, now, id, planned, anonymous, &old.unit_id, &old.staff_id, process, result, &reasons_text);
            }
            let head = append!(self, tx, ctx, now, &AuditEntry {
                tenant_id: Some(tenant_id),
                action: "change",
                entity: "rating",
                entity_id: id,
                changes: json!({"process": [old.process.get(), process.get()], "result": [old.result.get(), result.get()],
                    "reasons": reasons_text, "comment": comment, "withdrawn": withdraw.is_some(), "bad_opened": open_bad}),
            });
            tx.commit().await?;
            head
        });
        self.advance_head(head);
        self.rating(tenant_id, id)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// One rating with its bad-rating workflow (no visibility applied).
    pub async fn rating(&self, tenant_id: &str, id: &str) -> Result<Option<Rating>> {
        let row = with_pool!(self, pool => {
            sqlx::query_as::<_, RatingRow>(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM rating r LEFT JOIN bad_rating b ON b.tenant_id = r.tenant_id AND b.rating_id = r.id \
                 WHERE r.tenant_id = $1 AND r.id = $2"
            )))
            .bind(tenant_id)
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
        match row {
            Some(row) => {
                let deadlines = if row.state.is_some() {
                    self.deadlines_of(tenant_id, "bad_rating", id).await?
                } else {
                    Vec::new()
                };
                Ok(Some(row.into_rating(deadlines)?))
            }
            None => Ok(None),
        }
    }

    /// A staff member's ratings whose responsible unit is in `unit_ids` (`None`: any): the
    /// tally of each month from `from_month` on (`unit_id` holds the staff id, item and
    /// channel are empty) and the newest `limit` with their bad-rating workflows.
    pub async fn staff_ratings(
        &self,
        tenant_id: &str,
        staff_id: &str,
        unit_ids: Option<&[String]>,
        from_month: &str,
        limit: i64,
    ) -> Result<(Vec<RatingTotal>, Vec<Rating>)> {
        let units = unit_ids.map(|u| u.join(","));
        let in_scope = "r.tenant_id = $1 AND r.staff_id = $2 AND ($3 IS NULL OR ',' || $3 || ',' LIKE '%,' || r.unit_id || ',%')";
        let (months, rows): (Vec<TotalRow>, Vec<RatingRow>) = with_pool!(self, pool => {
            let months = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT r.staff_id AS unit_id, r.month, '' AS item_code, '' AS channel, COUNT(*) AS n, \
                 CAST(SUM(CASE WHEN r.process >= 3 THEN 1 ELSE 0 END) AS BIGINT) AS process_satisfied, \
                 CAST(SUM((r.process - 1) * 25) AS BIGINT) AS process_points, \
                 CAST(SUM(CASE WHEN r.result >= 3 THEN 1 ELSE 0 END) AS BIGINT) AS result_satisfied, \
                 CAST(SUM((r.result - 1) * 25) AS BIGINT) AS result_points, \
                 CAST(SUM(CASE WHEN r.process <= 2 OR r.result <= 2 THEN 1 ELSE 0 END) AS BIGINT) AS bad \
                 FROM rating r WHERE {in_scope} AND r.counted AND r.month >= $4 GROUP BY r.staff_id, r.month ORDER BY r.month"
            )))
            .bind(tenant_id)
            .bind(staff_id)
            .bind(&units)
            .bind(from_month)
            .fetch_all(pool)
            .await?;
            let rows = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM rating r LEFT JOIN bad_rating b ON b.tenant_id = r.tenant_id AND b.rating_id = r.id \
                 WHERE {in_scope} ORDER BY r.rated_at DESC, r.id DESC LIMIT $4"
            )))
            .bind(tenant_id)
            .bind(staff_id)
            .bind(&units)
            .bind(limit)
            .fetch_all(pool)
            .await?;
            (months, rows)
        });
        let ids: Vec<String> = rows.iter().map(|r: &RatingRow| r.id.clone()).collect();
        let mut deadlines = self
            .deadlines_of_many(tenant_id, "bad_rating", &ids)
            .await?;
        let ratings = rows
            .into_iter()
            .map(|r| {
                let d = deadlines.remove(&r.id).unwrap_or_default();
                r.into_rating(d)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok((
            months.into_iter().map(TotalRow::into_total).collect(),
            ratings,
        ))
    }

    /// The newest ratings of `unit_ids` (`None`: all), at most `limit`.
    pub async fn recent_ratings(
        &self,
        tenant_id: &str,
        unit_ids: Option<&[String]>,
        limit: i64,
    ) -> Result<Vec<Rating>> {
        let units = unit_ids.map(|u| u.join(","));
        let rows = with_pool!(self, pool => {
            sqlx::query_as::<_, RatingRow>(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM rating r LEFT JOIN bad_rating b ON b.tenant_id = r.tenant_id AND b.rating_id = r.id \
                 WHERE r.tenant_id = $1 AND ($2 IS NULL OR ',' || $2 || ',' LIKE '%,' || r.unit_id || ',%') \
                 ORDER BY r.rated_at DESC, r.id DESC LIMIT $3"
            )))
            .bind(tenant_id)
            .bind(&units)
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|r| r.into_rating(Vec::new()))
            .collect()
    }

    /// The bad ratings `filter` selects, oldest open first, at most `limit`.
    pub async fn bad_ratings(
        &self,
        tenant_id: &str,
        filter: &BadFilter,
        limit: i64,
    ) -> Result<Vec<Rating>> {
        let units = filter.unit_ids.as_ref().map(|u| u.join(","));
        let states: Vec<&str> = filter.states.iter().map(|s| s.as_str()).collect();
        let states = (!states.is_empty()).then(|| states.join(","));
        let now = self.clock.now();
        let rows = with_pool!(self, pool => {
            sqlx::query_as::<_, RatingRow>(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM bad_rating b JOIN rating r ON r.tenant_id = b.tenant_id AND r.id = b.rating_id \
                 WHERE {BAD_FILTER} ORDER BY b.created_at, b.rating_id LIMIT $7"
            )))
            .bind(tenant_id)
            .bind(&units)
            .bind(&states)
            .bind(filter.overdue)
            .bind(now)
            .bind(filter.due)
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        let mut deadlines = self
            .deadlines_of_many(tenant_id, "bad_rating", &ids)
            .await?;
        rows.into_iter()
            .map(|r| {
                let d = deadlines.remove(&r.id).unwrap_or_default();
                r.into_rating(d)
            })
            .collect()
    }

    /// How many bad ratings `filter` selects.
    pub async fn count_bad_ratings(&self, tenant_id: &str, filter: &BadFilter) -> Result<i64> {
        let units = filter.unit_ids.as_ref().map(|u| u.join(","));
        let states: Vec<&str> = filter.states.iter().map(|s| s.as_str()).collect();
        let states = (!states.is_empty()).then(|| states.join(","));
        let now = self.clock.now();
        let n: i64 = with_pool!(self, pool => {
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT COUNT(*) FROM bad_rating b WHERE {BAD_FILTER}"
            )))
            .bind(tenant_id)
            .bind(&units)
            .bind(&states)
            .bind(filter.overdue)
            .bind(now)
            .bind(filter.due)
            .fetch_one(pool)
            .await?
        });
        Ok(n)
    }

    /// Whether the one objection may still be lodged: within its working days of the valid
    /// decision.
    pub async fn objection_open(&self, tenant_id: &str, bad: &BadRating) -> Result<bool> {
        let Some(at) = bad.valid_at else {
            return Ok(false);
        };
        let limits = self.rating_limits(tenant_id).await?;
        let calendar = self.calendar().await?;
        let hours = self.working_hours(tenant_id).await?;
        let due = calendar
            .due_after_working_days(&hours, at, limits.objection_days)
            .map_err(|e| StoreError::Other(anyhow::anyhow!("{e}")))?
            .value;
        Ok(self.clock.now() <= due)
    }

    /// The rater's name and phone, for the supervisor's call; the reading is audited.
    pub async fn rater_identity(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        id: &str,
    ) -> Result<(Option<String>, Option<String>)> {
        let sealed: Option<(Option<String>, Option<String>)> = with_pool!(self, pool => {
            sqlx::query_as("SELECT rater_name_enc, rater_phone_enc FROM rating WHERE tenant_id = $1 AND id = $2")
                .bind(tenant_id)
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        let (name, phone) = sealed.ok_or(StoreError::NotFound)?;
        let open = |s: Option<String>| -> Result<Option<String>> {
            s.map(|s| {
                self.cipher
                    .decrypt(&s)
                    .map_err(|e| corrupt("rating", id, e))
            })
            .transpose()
        };
        let (name, phone) = (open(name)?, open(phone)?);
        let now = self.clock.now();
        let head = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let head = append!(self, tx, ctx, now, &AuditEntry {
                tenant_id: Some(tenant_id),
                action: "read_rater",
                entity: "rating",
                entity_id: id,
                changes: json!({"fields": ["rater_name", "rater_phone"]}),
            });
            tx.commit().await?;
            head
        });
        self.advance_head(head);
        Ok((name, phone))
    }

    /// Takes a step on a bad rating through the domain's rules: who may take it
    /// (`domain::rating::check_bad_actor`), the objection window, the deadlines met and
    /// opened on the kernel, an invalid rating taken out of the totals.
    pub async fn act_on_bad_rating(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        id: &str,
        step: &BadStepInput,
    ) -> Result<Rating> {
        let rating = self
            .rating(tenant_id, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let bad = rating.bad.clone().ok_or(StoreError::NotFound)?;
        domain::rating::check_bad_actor(step.action, step.actor)
            .map_err(|r| invalid(r.field, r.message))?;
        let now = self.clock.now();
        let limits = self.rating_limits(tenant_id).await?;
        let calendar = self.calendar().await?;
        let hours = self.working_hours(tenant_id).await?;
        let objection_open = self.objection_open(tenant_id, &bad).await?;
        let facts = BadFacts {
            anonymous: bad.anonymous,
            objections: bad.objections,
            objection_open,
            reworks: bad.reworks,
        };
        let next = domain::rating::next_bad(bad.state, step.action, facts)
            .map_err(|r| StoreError::Conflict(r.to_string()))?;
        let needs_note = matches!(
            step.action,
            BadAction::Object | BadAction::Rectify | BadAction::Unfixable
        );
        let note = if needs_note {
            text("note", &step.note, 2000, "说明")?
        } else {
            optional_text("note", &step.note, 2000, "说明")?
        };
        let mut objections = bad.objections;
        let mut reworks = bad.reworks;
        let column = match step.action {
            BadAction::Valid | BadAction::Invalid => Some("verify_note"),
            BadAction::Object => Some("objection"),
            BadAction::Uphold | BadAction::Overrule => Some("objection_note"),
            BadAction::Rectify => Some("rectification"),
            BadAction::Unfixable => Some("unfixable"),
            BadAction::Satisfied | BadAction::Unsatisfied => Some("callback_note"),
            BadAction::AcceptUnfixable | BadAction::RefuseUnfixable | BadAction::Withdraw => None,
        };
        if step.action == BadAction::Object {
            objections += 1;
        }
        if step.action == BadAction::Unsatisfied && next == BadState::Rectifying {
            reworks += 1;
        }
        // the deadlines this step meets: the running one, and on an upheld objection the
        // rectification too
        let meets: Vec<&StoredDeadline> = bad
            .deadlines
            .iter()
            .filter(|d| d.open)
            .filter(|d| {
                domain::rating::meets_deadline(step.action, bad.state, BadStep::of_name(&d.step))
            })
            .collect();
        let met: Vec<(String, Option<i64>)> = meets
            .iter()
            .map(|d| {
                (
                    d.id.clone(),
                    Some(d.deadline.worked_minutes(&calendar, &hours, now).value),
                )
            })
            .collect();
        // the deadline this step opens: the next state's step, unless it is already running
        // (after an overruled objection the rectification's own deadline is still running)
        let opens = domain::rating::opens_deadline(step.action, bad.state, next);
        let planned = match opens {
            Some(s) => {
                let round = bad
                    .deadlines
                    .iter()
                    .filter(|d| BadStep::of_name(&d.step) == Some(s))
                    .count() as u32
                    + 1;
                let name = s.name(round);
                let unit = (s == BadStep::Rectify).then(|| bad.unit_id.clone());
                let deadline = NewDeadline {
                    record_type: "bad_rating",
                    record_id: id,
                    step: &name,
                    unit_id: unit.as_deref(),
                    limit: limits.of(s),
                    received_at: now,
                };
                let (_, spec, schedule) = self.plan_deadline(tenant_id, &deadline, now).await?;
                Some((new_id(), name, unit, limits.of(s), spec, schedule))
            }
            None => None,
        };
        // an objection pauses the rectification's clock until the supervisor overrules it
        let clock_change = match domain::rating::rectify_clock(step.action) {
            Some(change) => {
                match bad
                    .deadlines
                    .iter()
                    .find(|d| d.open && BadStep::of_name(&d.step) == Some(BadStep::Rectify))
                {
                    Some(d) => {
                        let at = now.trunc_subsecs(0);
                        let mut spec = d.deadline.clone();
                        let changed = match change {
                            domain::rating::RectifyClock::Pause => spec.pause("申诉审核中", at),
                            domain::rating::RectifyClock::Resume => spec.resume(at),
                        };
                        changed.map_err(|e| StoreError::Conflict(e.to_string()))?;
                        let s = self.computed(tenant_id, &spec, at).await?;
                        let json = serde_json::to_string(&spec)
                            .map_err(|e| StoreError::Other(e.into()))?;
                        Some((d.id.clone(), json, d.card.min(s.card(at)), s))
                    }
                    None => None,
                }
            }
            None => None,
        };
        let uncount = next == BadState::Invalid && rating.counted;
        let valid_at = if step.action == BadAction::Valid {
            Some(now)
        } else {
            bad.valid_at
        };
        let closed_at = is_final(next).then_some(now);
        let satisfied = match step.action {
            BadAction::Satisfied => Some(true),
            BadAction::Unsatisfied => Some(false),
            _ => bad.satisfied,
        };
        let event = step.action.as_str();
        let head = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let moved = sqlx::query(
                "UPDATE bad_rating SET state = $3, objections = $4, reworks = $5, valid_at = $6, closed_at = $7, satisfied = $8, \
                 updated_at = $9 WHERE tenant_id = $1 AND rating_id = $2 AND state = $10 AND objections = $11 AND reworks = $12",
            )
            .bind(tenant_id).bind(id).bind(next.as_str()).bind(i64::from(objections)).bind(i64::from(reworks))
            .bind(valid_at).bind(closed_at).bind(satisfied).bind(now).bind(bad.state.as_str())
            .bind(i64::from(bad.objections)).bind(i64::from(bad.reworks))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if moved != 1 {
                return Err(StoreError::Conflict("该差评刚被他人处理，请刷新后重试".into()));
            }
            if let Some(column) = column {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE bad_rating SET {column} = $3 WHERE tenant_id = $1 AND rating_id = $2"
                )))
                .bind(tenant_id).bind(id).bind(&note)
                .execute(&mut *tx)
                .await?;
            }
            if uncount {
                // the scores the totals lose are the ones read: a change in between conflicts
                let taken = sqlx::query(
                    "UPDATE rating SET counted = FALSE, updated_at = $3 WHERE tenant_id = $1 AND id = $2 AND counted \
                     AND process = $4 AND result = $5",
                )
                .bind(tenant_id).bind(id).bind(now).bind(i64::from(rating.process.get())).bind(i64::from(rating.result.get()))
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if taken != 1 {
                    return Err(StoreError::Conflict("该评价刚被评价人修改，请刷新后重试".into()));
                }
                adjust_total!(tx, tenant_id, &rating.unit_id, &rating.month, &rating.item_code, rating.channel.as_str(),
                    rating.process, rating.result, -1);
            }
            if let Some((deadline_id, spec, card, s)) = &clock_change {
                sqlx::query(
                    "UPDATE deadline SET spec = $3, due_at = $4, yellow_at = $5, provisional = $6, paused = $7, card = $8, \
                     updated_at = $9 WHERE tenant_id = $1 AND id = $2 AND open",
                )
                .bind(tenant_id).bind(deadline_id).bind(spec).bind(s.due_at).bind(s.yellow_at).bind(s.provisional)
                .bind(s.paused).bind(card.as_str()).bind(now)
                .execute(&mut *tx)
                .await?;
            }
            for (deadline_id, worked) in &met {
                meet_deadline!(tx, tenant_id, deadline_id, now, worked);
            }
            if let Some((deadline_id, name, unit, limit, spec, schedule)) = &planned {
                let deadline = NewDeadline {
                    record_type: "bad_rating",
                    record_id: id,
                    step: name,
                    unit_id: unit.as_deref(),
                    limit: *limit,
                    received_at: now,
                };
                insert_deadline!(tx, tenant_id, deadline_id, &deadline, spec, schedule, now);
            }
            let url = format!("/bad-ratings/{id}");
            match next {
                BadState::Rectifying if bad.state != BadState::Objected => {
                    let message = "差评已核实，请按时整改并填报整改情况".to_owned();
                    notify!(tx, tenant_id, "bad_rating", "bad_rating", id, &message, &url, Some(bad.unit_id.as_str()), false, now);
                }
                BadState::Objected | BadState::Reviewing | BadState::Callback => {
                    let message = format!("差评{}，请处理", step.action.label());
                    notify!(tx, tenant_id, "bad_rating", "bad_rating", id, &message, &url, None, true, now);
                }
                _ => {}
            }
            history!(tx, tenant_id, ctx, now, &NewHistory {
                record_type: "bad_rating",
                record_id: id,
                event,
                audience: Audience::Internal,
                detail: json!({"state": next.as_str(), "note": note}),
            });
            let head = append!(self, tx, ctx, now, &AuditEntry {
                tenant_id: Some(tenant_id),
                action: event,
                entity: "bad_rating",
                entity_id: id,
                changes: json!({"state": [bad.state.as_str(), next.as_str()], "note": note, "objections": objections,
                    "reworks": reworks, "uncounted": uncount,
                    "deadlines_met": met.iter().map(|m| &m.0).collect::<Vec<_>>(),
                    "deadline_opened": planned.as_ref().map(|p| &p.0)}),
            });
            tx.commit().await?;
            head
        });
        self.advance_head(head);
        self.rating(tenant_id, id)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// The units' roll-ups (over all items) of `unit_ids` (`None`: all) for the months
    /// `[from, to]` (YYYY-MM): a few rows per unit and month, whatever the volume.
    pub async fn rating_totals(
        &self,
        tenant_id: &str,
        unit_ids: Option<&[String]>,
        from: &str,
        to: &str,
    ) -> Result<Vec<RatingTotal>> {
        self.read_totals(tenant_id, unit_ids, from, to, true).await
    }

    /// The running totals per item (the rows the roll-ups sum), as [`Self::rating_totals`].
    pub async fn rating_item_totals(
        &self,
        tenant_id: &str,
        unit_ids: Option<&[String]>,
        from: &str,
        to: &str,
    ) -> Result<Vec<RatingTotal>> {
        self.read_totals(tenant_id, unit_ids, from, to, false).await
    }

    async fn read_totals(
        &self,
        tenant_id: &str,
        unit_ids: Option<&[String]>,
        from: &str,
        to: &str,
        rollup: bool,
    ) -> Result<Vec<RatingTotal>> {
        let units = unit_ids.map(|u| u.join(","));
        let items = if rollup {
            "item_code = $5"
        } else {
            "item_code <> $5"
        };
        let rows: Vec<TotalRow> = with_pool!(self, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT unit_id, month, item_code, channel, n, process_satisfied, process_points, result_satisfied, \
                 result_points, bad FROM rating_total WHERE tenant_id = $1 AND {items} AND month >= $2 AND month <= $3 \
                 AND n <> 0 AND ($4 IS NULL OR ',' || $4 || ',' LIKE '%,' || unit_id || ',%') \
                 ORDER BY unit_id, month, item_code, channel"
            )))
            .bind(tenant_id)
            .bind(from)
            .bind(to)
            .bind(&units)
            .bind(ALL_ITEMS)
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(TotalRow::into_total).collect())
    }

    /// How many of the tenant's ratings count in the figures.
    pub async fn count_ratings(&self, tenant_id: &str) -> Result<u64> {
        let n: i64 = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM rating WHERE tenant_id = $1 AND counted")
                .bind(tenant_id)
                .fetch_one(pool)
                .await?
        });
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// The totals recounted from the counted ratings themselves — per item, or (`rollup`)
    /// per unit over all items — in the order of [`Self::rating_item_totals`] and
    /// [`Self::rating_totals`]: the check of the running totals.
    pub async fn recount_rating_totals(
        &self,
        tenant_id: &str,
        rollup: bool,
    ) -> Result<Vec<RatingTotal>> {
        let (item, group) = if rollup {
            ("CAST($2 AS TEXT)", "unit_id, month, channel")
        } else {
            ("item_code", "unit_id, month, item_code, channel")
        };
        let rows: Vec<TotalRow> = with_pool!(self, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT unit_id, month, {item} AS item_code, channel, COUNT(*) AS n, \
                 CAST(SUM(CASE WHEN process >= 3 THEN 1 ELSE 0 END) AS BIGINT) AS process_satisfied, \
                 CAST(SUM((process - 1) * 25) AS BIGINT) AS process_points, \
                 CAST(SUM(CASE WHEN result >= 3 THEN 1 ELSE 0 END) AS BIGINT) AS result_satisfied, \
                 CAST(SUM((result - 1) * 25) AS BIGINT) AS result_points, \
                 CAST(SUM(CASE WHEN process <= 2 OR result <= 2 THEN 1 ELSE 0 END) AS BIGINT) AS bad \
                 FROM rating WHERE tenant_id = $1 AND counted AND $2 = $2 GROUP BY {group} \
                 ORDER BY unit_id, month, item_code, channel"
            )))
            .bind(tenant_id)
            .bind(ALL_ITEMS)
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(TotalRow::into_total).collect())
    }
}

/// A bad rating's workflow has ended.
pub fn is_final(state: BadState) -> bool {
    matches!(
        state,
        BadState::Closed | BadState::Invalid | BadState::Withdrawn
    )
}

#[derive(sqlx::FromRow)]
struct TotalRow {
    unit_id: String,
    month: String,
    item_code: String,
    channel: String,
    n: i64,
    process_satisfied: i64,
    process_points: i64,
    result_satisfied: i64,
    result_points: i64,
    bad: i64,
}

impl TotalRow {
    fn into_total(self) -> RatingTotal {
        let u = |v: i64| v.max(0) as u64;
        RatingTotal {
            unit_id: self.unit_id,
            month: self.month,
            item_code: self.item_code,
            channel: self.channel,
            process: Tally {
                n: u(self.n),
                satisfied: u(self.process_satisfied),
                points: u(self.process_points),
            },
            result: Tally {
                n: u(self.n),
                satisfied: u(self.result_satisfied),
                points: u(self.result_points),
            },
            bad: u(self.bad),
        }
    }
}

/// A rating to bulk-load (the demo's year, a benchmark's millions): counted (unless its
/// `bad_state` is invalid), its running totals added in the same transaction; a bad one with
/// its workflow record in `bad_state` (no deadlines: loaded ratings are history, so closed,
/// invalid or withdrawn).
#[derive(Debug, Clone)]
pub struct BulkRating {
    /// What it rates.
    pub target: TargetKind,
    /// The case.
    pub case_id: Option<String>,
    /// The window.
    pub window_id: Option<String>,
    /// The responsible unit.
    pub unit_id: String,
    /// The case's item ('' when none).
    pub item_code: String,
    /// The channel.
    pub channel: Channel,
    /// Process satisfaction.
    pub process: Level,
    /// Result satisfaction.
    pub result: Level,
    /// Reason tags.
    pub reasons: Vec<Reason>,
    /// The comment.
    pub comment: String,
    /// Given at.
    pub rated_at: DateTime<Utc>,
    /// A bad rating's state.
    pub bad_state: BadState,
}

/// Totals keyed by unit, month, item, channel: (n, process satisfied, process points, result
/// satisfied, result points, bad).
type TotalKey = (String, String, String, String);

impl Store {
    /// Loads ratings in bulk: multi-row inserts in transactions of
    /// [`crate::deadline::BULK_CHUNK`], each with the chunk's running totals and one audit
    /// entry holding every row's digest. `progress` hears the running count.
    pub async fn insert_ratings(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        all: &[BulkRating],
        progress: &(dyn Fn(usize) + Sync),
    ) -> Result<usize> {
        let now = self.clock.now();
        let mut done = 0;
        for chunk in all.chunks(crate::deadline::BULK_CHUNK) {
            let ids: Vec<String> = chunk.iter().map(|_| new_id()).collect();
            let mut totals = TotalDeltas::new();
            for r in chunk.iter().filter(|r| r.bad_state != BadState::Invalid) {
                let month = month_of(r.rated_at);
                tally(
                    &mut totals,
                    tenant_id,
                    &r.unit_id,
                    &month,
                    &r.item_code,
                    r.channel.as_str(),
                    r.process,
                    r.result,
                );
            }
            let digests: Vec<serde_json::Value> = chunk
                .iter()
                .zip(&ids)
                .map(|(r, id)| {
                    let row = format!(
                        "{}|{:?}|{}|{}|{}|{}|{}|{}",
                        r.target.as_str(),
                        r.case_id,
                        r.unit_id,
                        r.channel.as_str(),
                        r.process.get(),
                        r.result.get(),
                        r.comment,
                        r.rated_at.to_rfc3339()
                    );
                    json!({"id": id, "digest": crate::crypto::sm3_hex(row.as_bytes())})
                })
                .collect();
            let batch = new_id();
            let head = with_pool!(self, pool => {
                let mut tx = pool.begin_write().await?;
                // 20 values a row: 1,000 rows stay under both databases' parameter limits
                for (part, part_ids) in chunk.chunks(1_000).zip(ids.chunks(1_000)) {
                    let mut insert = sqlx::QueryBuilder::new(
                        "INSERT INTO rating (tenant_id, id, target, case_id, window_id, unit_id, item_code, channel, process, \
                         result, reasons, comment, flags, counted, month, rated_at, created_by, updated_at) ",
                    );
                    insert.push_values(part.iter().zip(part_ids), |mut b, (r, id)| {
                        let reasons: Vec<&str> = r.reasons.iter().map(|x| x.as_str()).collect();
                        b.push_bind(tenant_id)
                            .push_bind(id)
                            .push_bind(r.target.as_str())
                            .push_bind(&r.case_id)
                            .push_bind(&r.window_id)
                            .push_bind(&r.unit_id)
                            .push_bind(&r.item_code)
                            .push_bind(r.channel.as_str())
                            .push_bind(i64::from(r.process.get()))
                            .push_bind(i64::from(r.result.get()))
                            .push_bind(reasons.join(","))
                            .push_bind(&r.comment)
                            .push_bind("")
                            .push_bind(r.bad_state != BadState::Invalid)
                            .push_bind(month_of(r.rated_at))
                            .push_bind(r.rated_at)
                            .push_bind(&ctx.actor)
                            .push_bind(now);
                    });
                    insert.build().execute(&mut *tx).await?;
                    let bad: Vec<(&BulkRating, &String)> = part
                        .iter()
                        .zip(part_ids)
                        .filter(|(r, _)| r.process.is_bad() || r.result.is_bad())
                        .collect();
                    if !bad.is_empty() {
                        let mut insert = sqlx::QueryBuilder::new(
                            "INSERT INTO bad_rating (tenant_id, rating_id, state, anonymous, unit_id, objections, reworks, \
                             closed_at, created_at, updated_at) ",
                        );
                        insert.push_values(bad, |mut b, (r, id)| {
                            let closed = is_final(r.bad_state).then_some(r.rated_at);
                            b.push_bind(tenant_id)
                                .push_bind(id)
                                .push_bind(r.bad_state.as_str())
                                .push_bind(true)
                                .push_bind(&r.unit_id)
                                .push_bind(0_i64)
                                .push_bind(0_i64)
                                .push_bind(closed)
                                .push_bind(r.rated_at)
                                .push_bind(now);
                        });
                        insert.build().execute(&mut *tx).await?;
                    }
                }
                upsert_totals!(tx, &totals);
                let head = append!(self, tx, ctx, now, &AuditEntry {
                    tenant_id: Some(tenant_id),
                    action: "create_bulk",
                    entity: "rating",
                    entity_id: &batch,
                    changes: json!({"rows": digests}),
                });
                tx.commit().await?;
                head
            });
            self.advance_head(head);
            done += chunk.len();
            progress(done);
        }
        with_pool!(self, pool => {
            sqlx::query("ANALYZE rating").execute(pool).await?;
        });
        Ok(done)
    }
}
