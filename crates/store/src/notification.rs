//! Notifications: outbox rows written with `notify!` inside the transaction of the event they
//! tell of, one per recipient; the in-app inbox (channel `inbox`, state `sent` until read) is
//! the first channel. Recipients are the enabled contacts (`unit_admin`) bound to the unit
//! concerned, and for supervision notices the supervisors too. Marking one's own messages read
//! is the reader's state, not a business change: it is not audited.

use chrono::{DateTime, Utc};

use crate::db::{BeginWrite, with_pool};
use crate::page::{Page, PageRequest};
use crate::{Result, Store};

/// Writes the outbox rows of one event inside the caller's transaction: to the contacts of
/// `unit_id` and, with `supervisors`, to every supervisor of the tenant — an inbox row each,
/// and a queued mail or SMS row for those whose preferences ask for this event there.
macro_rules! notify {
    ($tx:expr, $tenant_id:expr, $event:expr, $record_type:expr, $record_id:expr, $title:expr, $url:expr, $unit_id:expr, $supervisors:expr, $now:expr) => {{
        let unit_id: Option<&str> = $unit_id;
        let supervisors: bool = $supervisors;
        // one id per event, made unique per recipient by the account id (and channel)
        let event_id = $crate::new_id();
        for sql in $crate::notification::NOTIFY_SQL {
            sqlx::query(sql)
                .bind($tenant_id)
                .bind(&event_id)
                .bind($event)
                .bind($record_type)
                .bind($record_id)
                .bind($title)
                .bind($url)
                .bind($now)
                .bind(unit_id)
                .bind(supervisors)
                .execute(&mut *$tx)
                .await?;
        }
    }};
}
pub(crate) use notify;

/// Who receives an event: the enabled contacts of the unit ($9), and the supervisors ($10)
/// (other placeholders may be named).
macro_rules! recipients {
    () => {
        recipients!("$1", "$9", "$10")
    };
    ($tenant:literal, $unit:literal, $supervisors:literal) => {
        concat!(
            "a.tenant_id = ",
            $tenant,
            " AND a.disabled = FALSE AND ( \
             (a.unit_id = ",
            $unit,
            " AND a.roles LIKE '%unit_admin%') OR (",
            $supervisors,
            " AND a.roles LIKE '%supervisor%'))"
        )
    };
}

/// The accounts that asked for an event (`$event`) on a channel (`"email"`, `"sms"`): `FROM`
/// the accounts joined to their preferences, up to the `WHERE` clause's first condition.
macro_rules! asked_for {
    ("email", $event:literal) => {
        asked_for!("email_enc", "email_events", $event)
    };
    ("sms", $event:literal) => {
        asked_for!("mobile_enc", "sms_events", $event)
    };
    ($address:literal, $events:literal, $event:literal) => {
        concat!(
            "FROM account a JOIN notification_preference p ON p.tenant_id = a.tenant_id AND p.account_id = a.id \
             WHERE p.", $address, " IS NOT NULL AND p.", $events, " LIKE '%,' || ", $event, " || ',%' AND "
        )
    };
}

/// The recipients of an event by channel, as [`NOTIFY_SQL`] chooses them: tenant $1, unit
/// $2, supervisors $3, event $4 (each query binds all four; the inbox's names the event only
/// so that it takes the same four).
pub(crate) const RECIPIENT_SQL: [(&str, &str); 3] = [
    (
        "inbox",
        concat!(
            "SELECT a.id FROM account a WHERE ($4 = $4) AND ",
            recipients!("$1", "$2", "$3"),
            " ORDER BY a.id"
        ),
    ),
    (
        "email",
        concat!(
            "SELECT a.id ",
            asked_for!("email", "$4"),
            recipients!("$1", "$2", "$3"),
            " ORDER BY a.id"
        ),
    ),
    (
        "sms",
        concat!(
            "SELECT a.id ",
            asked_for!("sms", "$4"),
            recipients!("$1", "$2", "$3"),
            " ORDER BY a.id"
        ),
    ),
];

/// One event of [`notify_all`]: its record, title, page and time.
pub(crate) struct Event<'a> {
    pub(crate) record_id: &'a str,
    pub(crate) title: String,
    pub(crate) url: String,
    pub(crate) at: DateTime<Utc>,
}

/// Writes the outbox rows of many events of one kind, tenant and audience inside the caller's
/// transaction — the rows [`notify`] would write for each, with a statement per channel for
/// the recipients and one insert per channel for all the events (the rating writer's batch
/// opens many bad ratings at once). `$events` is a slice of [`Event`].
macro_rules! notify_all {
    ($tx:expr, $tenant_id:expr, $event:expr, $record_type:expr, $events:expr, $unit_id:expr, $supervisors:expr) => {{
        let events: &[$crate::notification::Event<'_>] = $events;
        let unit_id: Option<&str> = $unit_id;
        let supervisors: bool = $supervisors;
        let event_ids: Vec<String> = events.iter().map(|_| $crate::new_id()).collect();
        if !events.is_empty() {
            for (channel, sql) in $crate::notification::RECIPIENT_SQL {
                let accounts: Vec<String> = sqlx::query_scalar(sql)
                    .bind($tenant_id)
                    .bind(unit_id)
                    .bind(supervisors)
                    .bind($event)
                    .fetch_all(&mut *$tx)
                    .await?;
                let rows: Vec<(&str, &str, &$crate::notification::Event<'_>)> = accounts
                    .iter()
                    .flat_map(|a| event_ids.iter().zip(events).map(move |(id, e)| (a.as_str(), id.as_str(), e)))
                    .collect();
                let state = if channel == "inbox" { "sent" } else { "queued" };
                // 12 values a row: 1,000 rows stay under both databases' parameter limits
                for part in rows.chunks(1_000) {
                    let mut insert = sqlx::QueryBuilder::new(
                        "INSERT INTO notification (tenant_id, id, account_id, channel, event, record_type, record_id, title, \
                         url, state, created_at, next_at) ",
                    );
                    insert.push_values(part, |mut b, (account, event_id, e)| {
                        let id = if channel == "inbox" {
                            format!("{event_id}-{account}")
                        } else {
                            format!("{event_id}-{account}-{channel}")
                        };
                        b.push_bind($tenant_id)
                            .push_bind(id)
                            .push_bind(*account)
                            .push_bind(channel)
                            .push_bind($event)
                            .push_bind($record_type)
                            .push_bind(e.record_id)
                            .push_bind(e.title.as_str())
                            .push_bind(e.url.as_str())
                            .push_bind(state)
                            .push_bind(e.at)
                            .push_bind((channel != "inbox").then_some(e.at));
                    });
                    insert.build().execute(&mut *$tx).await?;
                }
            }
        }
    }};
}
pub(crate) use notify_all;

/// The statements `notify!` runs: the inbox row, then mail and SMS rows by preference.
pub(crate) const NOTIFY_SQL: [&str; 3] = [
    concat!(
        "INSERT INTO notification (tenant_id, id, account_id, channel, event, record_type, record_id, title, url, state, created_at) \
         SELECT a.tenant_id, $2 || '-' || a.id, a.id, 'inbox', $3, $4, $5, $6, $7, 'sent', $8 FROM account a WHERE ",
        recipients!()
    ),
    concat!(
        "INSERT INTO notification (tenant_id, id, account_id, channel, event, record_type, record_id, title, url, state, created_at, next_at) \
         SELECT a.tenant_id, $2 || '-' || a.id || '-email', a.id, 'email', $3, $4, $5, $6, $7, 'queued', $8, $8 ",
        asked_for!("email", "$3"),
        recipients!()
    ),
    concat!(
        "INSERT INTO notification (tenant_id, id, account_id, channel, event, record_type, record_id, title, url, state, created_at, next_at) \
         SELECT a.tenant_id, $2 || '-' || a.id || '-sms', a.id, 'sms', $3, $4, $5, $6, $7, 'queued', $8, $8 ",
        asked_for!("sms", "$3"),
        recipients!()
    ),
];

/// What a record is called in a message.
pub fn record_noun(record_type: &str) -> &'static str {
    match record_type {
        "task" => "督查任务",
        "finding" => "整改问题",
        "appeal" => "诉求",
        "bad_rating" => "差评",
        _ => "事项",
    }
}

/// The page of a record.
pub fn record_url(record_type: &str, record_id: &str) -> String {
    match record_type {
        "task" => format!("/tasks/{record_id}"),
        "finding" => format!("/findings/{record_id}"),
        "appeal" => format!("/appeals/{record_id}"),
        "bad_rating" => format!("/bad-ratings/{record_id}"),
        _ => "/".to_owned(),
    }
}

/// A message in an inbox.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Notification {
    /// Its id.
    pub id: String,
    /// What happened: `assigned`, `due_soon`, `overdue`, `notice`.
    pub event: String,
    /// The record it is about.
    pub record_type: String,
    /// The record's id.
    pub record_id: String,
    /// The message.
    pub title: String,
    /// Where to look.
    pub url: String,
    /// `sent` (unread) or `read`.
    pub state: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl Store {
    /// One page of an account's inbox, newest first; with `unread`, only unread messages.
    pub async fn inbox(
        &self,
        tenant_id: &str,
        account_id: &str,
        unread: bool,
        page: PageRequest,
    ) -> Result<Page<Notification>> {
        let condition = "tenant_id = $1 AND account_id = $2 AND channel = 'inbox' AND ($3 = FALSE OR state = 'sent')";
        let (items, total) = with_pool!(self, pool => {
            let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM notification WHERE {condition}")))
                .bind(tenant_id).bind(account_id).bind(unread)
                .fetch_one(pool)
                .await?;
            let items = sqlx::query_as::<_, Notification>(sqlx::AssertSqlSafe(format!(
                "SELECT id, event, record_type, record_id, title, url, state, created_at FROM notification \
                 WHERE {condition} ORDER BY created_at DESC, id DESC LIMIT $4 OFFSET $5"
            )))
            .bind(tenant_id).bind(account_id).bind(unread).bind(page.limit()).bind(page.offset())
            .fetch_all(pool)
            .await?;
            (items, total)
        });
        Ok(Page {
            items,
            request: page,
            total,
        })
    }

    /// Marks an account's messages read: these ids, or all with `None`. Answers how many.
    pub async fn mark_read(
        &self,
        tenant_id: &str,
        account_id: &str,
        ids: Option<&[String]>,
    ) -> Result<u64> {
        let now = self.clock.now();
        let ids = ids.map(|i| serde_json::to_string(i).unwrap_or_default());
        Ok(with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let n = sqlx::query(
                "UPDATE notification SET state = 'read', read_at = $4 WHERE tenant_id = $1 AND account_id = $2 \
                 AND channel = 'inbox' AND state = 'sent' AND ($3 IS NULL OR $3 LIKE '%\"' || id || '\"%')",
            )
            .bind(tenant_id).bind(account_id).bind(&ids).bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            tx.commit().await?;
            n
        }))
    }
}
