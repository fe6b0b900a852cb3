//! Mail and SMS: the outbox rows `notify!` queued for those channels, sent by the
//! `deliver_notifications` job; each user's preferences (what reaches them where, and their
//! sealed addresses); the tenant's channel settings (SMS gateway and template, notice number
//! pattern).
//!
//! A row is claimed by moving its `next_at` past a lease and counting the attempt, guarded by
//! the attempt count it was read with, so two senders never both own it and a sender that
//! died leaves it to be taken up when the lease ends. A successful send is recorded at once;
//! between a relay's acceptance and that record a crash could send it again, which is why
//! every mail carries the row's id as its `Message-ID` (and every SMS request as `id`). A
//! failure is retried after [`crate::job::backoff`] until [`crate::job::MAX_ATTEMPTS`]; what
//! cannot succeed (no address, channel off) fails at once. Sending is operational state, like
//! job bookkeeping: not audited (the preferences and settings are).

use std::collections::HashMap;
use std::time::Duration as StdDuration;

use chrono::Duration;
use domain::notify::{
    self, Channel, DEFAULT_SMS_TEMPLATE, Email, Preferences, SmsGateway, events_from_text,
    events_text,
};
use domain::staff::Phone;
use serde_json::json;

use crate::audit::{AuditCtx, AuditEntry, append};
use crate::db::{BeginWrite, with_pool};
use crate::job::{MAX_ATTEMPTS, backoff};
use crate::{Result, Store, StoreError};

/// The tenant setting naming the SMS gateway (`""`, `log` or an `http://` URL).
pub const SMS_GATEWAY_SETTING: &str = "sms_gateway";
/// The tenant setting holding the SMS template.
pub const SMS_TEMPLATE_SETTING: &str = "sms_template";

/// The installation's mail relay (SMTP, plain, as relays inside government networks are).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailRelay {
    /// Relay host.
    pub host: String,
    /// Relay port.
    pub port: u16,
    /// The sender, e.g. `营商环境优化平台 <noreply@bizenv.example.gov.cn>`.
    pub from: String,
    /// The address users reach the platform at, for links in mail (`https://…`, no slash
    /// at the end); without it the mail names the page's path.
    pub public_url: Option<String>,
}

impl MailRelay {
    /// Reads `smtp://host:port` (port 25 if left out) and the sender.
    pub fn parse(url: &str, from: &str, public_url: Option<&str>) -> anyhow::Result<Self> {
        let rest = url
            .trim()
            .strip_prefix("smtp://")
            .ok_or_else(|| anyhow::anyhow!("the mail relay must be smtp://host[:port]"))?;
        let rest = rest.trim_end_matches('/');
        let (host, port) = match rest.rsplit_once(':') {
            Some((host, port)) => (
                host,
                port.parse()
                    .map_err(|_| anyhow::anyhow!("the mail relay's port {port:?} is not a port"))?,
            ),
            None => (rest, 25),
        };
        anyhow::ensure!(!host.is_empty(), "the mail relay has no host");
        from.parse::<lettre::message::Mailbox>()
            .map_err(|e| anyhow::anyhow!("the mail sender {from:?}: {e}"))?;
        Ok(Self {
            host: host.to_owned(),
            port,
            from: from.to_owned(),
            public_url: public_url.map(|u| u.trim_end_matches('/').to_owned()),
        })
    }
}

/// A tenant's notification settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelSettings {
    /// The supervision notice number pattern.
    pub notice_pattern: String,
    /// Where SMS go.
    pub sms_gateway: SmsGateway,
    /// The SMS text, with `{tenant}` and `{title}`.
    pub sms_template: String,
}

/// An outbox row claimed for sending.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Delivery {
    /// Its tenant.
    pub tenant_id: String,
    /// Its id (the mail's Message-ID).
    pub id: String,
    /// The recipient.
    pub account_id: String,
    /// `email` or `sms`.
    pub channel: String,
    /// The message.
    pub title: String,
    /// The page it is about.
    pub url: String,
    /// Attempts, this one included.
    pub attempts: i32,
    /// The sealed phone of a recipient without an account (then `title` is the whole text).
    pub to_enc: Option<String>,
}

/// What one run of the sender did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryRun {
    /// Sent.
    pub sent: usize,
    /// Failed this time, to be tried again.
    pub retried: usize,
    /// Given up.
    pub failed: usize,
}

/// Why a send did not succeed: worth retrying, or not.
enum SendError {
    Retry(String),
    Permanent(String),
}

#[derive(sqlx::FromRow)]
struct PreferenceRow {
    email_enc: Option<String>,
    mobile_enc: Option<String>,
    email_events: String,
    sms_events: String,
}

impl Store {
    /// Sets the mail relay the sender uses (installation configuration).
    pub fn with_mail_relay(mut self, relay: Option<MailRelay>) -> Self {
        self.mail_relay = relay.map(std::sync::Arc::new);
        self
    }

    /// The mail relay, if one is configured.
    pub fn mail_relay(&self) -> Option<&MailRelay> {
        self.mail_relay.as_deref()
    }

    async fn preference_row(
        &self,
        tenant_id: &str,
        account_id: &str,
    ) -> Result<Option<PreferenceRow>> {
        Ok(with_pool!(self, pool => {
            sqlx::query_as::<_, PreferenceRow>(
                "SELECT email_enc, mobile_enc, email_events, sms_events FROM notification_preference \
                 WHERE tenant_id = $1 AND account_id = $2",
            )
            .bind(tenant_id)
            .bind(account_id)
            .fetch_optional(pool)
            .await?
        }))
    }

    fn open_sealed(&self, sealed: Option<&str>) -> Result<Option<String>> {
        sealed
            .map(|s| {
                self.cipher.decrypt(s).map_err(|e| {
                    StoreError::Other(anyhow::anyhow!("a sealed address cannot be opened: {e}"))
                })
            })
            .transpose()
    }

    /// An account's notification preferences (none set: inbox only).
    pub async fn notification_preferences(
        &self,
        tenant_id: &str,
        account_id: &str,
    ) -> Result<Preferences> {
        let Some(row) = self.preference_row(tenant_id, account_id).await? else {
            return Ok(Preferences::default());
        };
        let email = self.open_sealed(row.email_enc.as_deref())?;
        let mobile = self.open_sealed(row.mobile_enc.as_deref())?;
        Ok(Preferences {
            email: email.and_then(|e| Email::parse(&e).ok()),
            mobile: mobile.and_then(|m| Phone::parse(&m).ok()),
            email_events: events_from_text(&row.email_events),
            sms_events: events_from_text(&row.sms_events),
        })
    }

    /// Keeps an account's preferences (its own choice); audited with the addresses masked.
    pub async fn set_notification_preferences(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        account_id: &str,
        preferences: &Preferences,
    ) -> Result<()> {
        let now = self.clock.now();
        let old = self.notification_preferences(tenant_id, account_id).await?;
        let masked_email = |p: &Preferences| p.email.as_ref().map(Email::masked);
        let masked_mobile = |p: &Preferences| p.mobile.as_ref().map(Phone::masked);
        let codes = |p: &Preferences, c: Channel| {
            p.events(c)
                .iter()
                .map(|e| e.code())
                .collect::<Vec<_>>()
                .join(",")
        };
        let head = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "INSERT INTO notification_preference (tenant_id, account_id, email_enc, mobile_enc, email_events, sms_events, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (tenant_id, account_id) DO UPDATE SET \
                 email_enc = excluded.email_enc, mobile_enc = excluded.mobile_enc, email_events = excluded.email_events, \
                 sms_events = excluded.sms_events, updated_at = excluded.updated_at",
            )
            .bind(tenant_id)
            .bind(account_id)
            .bind(preferences.email.as_ref().map(|e| self.cipher.encrypt(e.as_str())))
            .bind(preferences.mobile.as_ref().map(|m| self.cipher.encrypt(m.as_str())))
            .bind(events_text(&preferences.email_events))
            .bind(events_text(&preferences.sms_events))
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let head = append!(self, tx, ctx, now, &AuditEntry {
                tenant_id: Some(tenant_id),
                action: "update",
                entity: "notification_preference",
                entity_id: account_id,
                changes: json!({
                    "email": [masked_email(&old), masked_email(preferences)],
                    "mobile": [masked_mobile(&old), masked_mobile(preferences)],
                    "email_events": [codes(&old, Channel::Email), codes(preferences, Channel::Email)],
                    "sms_events": [codes(&old, Channel::Sms), codes(preferences, Channel::Sms)],
                }),
            });
            tx.commit().await?;
            head
        });
        self.advance_head(head);
        Ok(())
    }

    /// A tenant's notification settings, defaults filled in.
    pub async fn channel_settings(&self, tenant_id: &str) -> Result<ChannelSettings> {
        let gateway = self
            .tenant_setting(tenant_id, SMS_GATEWAY_SETTING)
            .await?
            .unwrap_or_default();
        Ok(ChannelSettings {
            notice_pattern: self.notice_pattern(tenant_id).await?,
            // a stored value was checked when set; an unreadable one sends nothing
            sms_gateway: SmsGateway::parse(&gateway).unwrap_or(SmsGateway::Off),
            sms_template: self
                .tenant_setting(tenant_id, SMS_TEMPLATE_SETTING)
                .await?
                .unwrap_or_else(|| DEFAULT_SMS_TEMPLATE.to_owned()),
        })
    }

    /// Checks and keeps a tenant's notification settings; each changed one is audited.
    pub async fn set_channel_settings(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        settings: &ChannelSettings,
    ) -> Result<()> {
        notify::check_notice_pattern(&settings.notice_pattern).map_err(|message| {
            StoreError::InvalidField {
                field: "notice_pattern",
                message,
            }
        })?;
        notify::check_sms_template(&settings.sms_template).map_err(|message| {
            StoreError::InvalidField {
                field: "sms_template",
                message,
            }
        })?;
        let old = self.channel_settings(tenant_id).await?;
        let changes = [
            (
                crate::notice::PATTERN_SETTING,
                old.notice_pattern.as_str(),
                settings.notice_pattern.trim(),
            ),
            (
                SMS_GATEWAY_SETTING,
                old.sms_gateway.as_setting(),
                settings.sms_gateway.as_setting(),
            ),
            (
                SMS_TEMPLATE_SETTING,
                old.sms_template.as_str(),
                settings.sms_template.trim(),
            ),
        ];
        for (key, old, new) in changes {
            if old != new {
                self.set_tenant_setting(ctx, tenant_id, key, new).await?;
            }
        }
        Ok(())
    }

    /// Claims up to `limit` queued mail and SMS rows for `lease`.
    pub async fn claim_deliveries(&self, lease: Duration, limit: i64) -> Result<Vec<Delivery>> {
        let now = self.clock.now();
        let candidates = with_pool!(self, pool => {
            sqlx::query_as::<_, Delivery>(
                "SELECT tenant_id, id, account_id, channel, title, url, attempts, to_enc FROM notification \
                 WHERE state = 'queued' AND channel <> 'inbox' AND next_at <= $1 ORDER BY next_at LIMIT $2",
            )
            .bind(now)
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        let mut claimed = Vec::with_capacity(candidates.len());
        for mut delivery in candidates {
            let won = with_pool!(self, pool => {
                sqlx::query(
                    "UPDATE notification SET next_at = $3, attempts = attempts + 1 \
                     WHERE tenant_id = $1 AND id = $2 AND state = 'queued' AND attempts = $4 AND next_at <= $5",
                )
                .bind(&delivery.tenant_id)
                .bind(&delivery.id)
                .bind(now + lease)
                .bind(delivery.attempts)
                .bind(now)
                .execute(pool)
                .await?
                .rows_affected()
            });
            if won == 1 {
                delivery.attempts += 1;
                claimed.push(delivery);
            }
        }
        Ok(claimed)
    }

    /// Records how a claimed send went (only while the claim is still this attempt's).
    async fn finish_delivery(
        &self,
        delivery: &Delivery,
        outcome: Result<(), SendError>,
    ) -> Result<DeliveryRun> {
        let now = self.clock.now();
        let mut run = DeliveryRun::default();
        let (state, next_at, error) = match outcome {
            Ok(()) => {
                run.sent = 1;
                ("sent", None, None)
            }
            Err(SendError::Retry(e)) if delivery.attempts < MAX_ATTEMPTS => {
                run.retried = 1;
                ("queued", Some(now + backoff(delivery.attempts)), Some(e))
            }
            Err(SendError::Retry(e) | SendError::Permanent(e)) => {
                run.failed = 1;
                ("failed", None, Some(e))
            }
        };
        if let Some(error) = &error {
            tracing::warn!(id = %delivery.id, channel = %delivery.channel, attempts = delivery.attempts, error = %error, "notification not sent");
        }
        with_pool!(self, pool => {
            sqlx::query(
                "UPDATE notification SET state = $3, next_at = COALESCE($4, next_at), last_error = $5, \
                 sent_at = CASE WHEN $3 = 'sent' THEN $6 ELSE sent_at END \
                 WHERE tenant_id = $1 AND id = $2 AND state = 'queued' AND attempts = $7",
            )
            .bind(&delivery.tenant_id)
            .bind(&delivery.id)
            .bind(state)
            .bind(next_at)
            .bind(error)
            .bind(now)
            .bind(delivery.attempts)
            .execute(pool)
            .await?;
        });
        Ok(run)
    }

    /// Sends what is queued for mail and SMS, in batches, until nothing is due.
    pub async fn deliver_notifications(&self) -> Result<DeliveryRun> {
        let mut run = DeliveryRun::default();
        let mut settings: HashMap<String, (String, ChannelSettings)> = HashMap::new();
        loop {
            let batch = self.claim_deliveries(Duration::minutes(5), 50).await?;
            if batch.is_empty() {
                return Ok(run);
            }
            for delivery in batch {
                if !settings.contains_key(&delivery.tenant_id) {
                    let name = self
                        .tenant(&delivery.tenant_id)
                        .await?
                        .map(|t| t.name)
                        .unwrap_or_default();
                    let channel_settings = self.channel_settings(&delivery.tenant_id).await?;
                    settings.insert(delivery.tenant_id.clone(), (name, channel_settings));
                }
                let (tenant_name, tenant_settings) = &settings[&delivery.tenant_id];
                let outcome = self
                    .send_delivery(&delivery, tenant_name, tenant_settings)
                    .await?;
                let done = self.finish_delivery(&delivery, outcome).await?;
                run.sent += done.sent;
                run.retried += done.retried;
                run.failed += done.failed;
            }
        }
    }

    async fn send_delivery(
        &self,
        delivery: &Delivery,
        tenant_name: &str,
        settings: &ChannelSettings,
    ) -> Result<Result<(), SendError>> {
        if let Some(sealed) = &delivery.to_enc {
            // someone without an account: an SMS with its own text, not the staff template
            let phone = self.open_sealed(Some(sealed))?.unwrap_or_default();
            return Ok(match (delivery.channel.as_str(), Phone::parse(&phone)) {
                ("sms", Ok(to)) => {
                    let text = format!("【{tenant_name}】{}", delivery.title);
                    send_sms(&settings.sms_gateway, &delivery.id, &to, &text).await
                }
                ("sms", Err(_)) => Err(SendError::Permanent("收件人手机号码无效".into())),
                (other, _) => Err(SendError::Permanent(format!("unknown channel {other}"))),
            });
        }
        let preferences = self
            .notification_preferences(&delivery.tenant_id, &delivery.account_id)
            .await?;
        Ok(match delivery.channel.as_str() {
            "email" => match preferences.email {
                None => Err(SendError::Permanent("收件人未设置邮箱".into())),
                Some(to) => self.send_mail(delivery, &to).await,
            },
            "sms" => match preferences.mobile {
                None => Err(SendError::Permanent("收件人未设置手机号码".into())),
                Some(to) => {
                    let text =
                        notify::render_sms(&settings.sms_template, tenant_name, &delivery.title);
                    send_sms(&settings.sms_gateway, &delivery.id, &to, &text).await
                }
            },
            other => Err(SendError::Permanent(format!("unknown channel {other}"))),
        })
    }

    async fn send_mail(&self, delivery: &Delivery, to: &Email) -> Result<(), SendError> {
        use lettre::message::header::ContentType;
        use lettre::message::{Body, Mailbox, SinglePart};
        use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

        let Some(relay) = &self.mail_relay else {
            return Err(SendError::Permanent("未配置邮件服务器".into()));
        };
        let link = match &relay.public_url {
            Some(base) => format!("{base}{}", delivery.url),
            None => format!("平台页面 {}", delivery.url),
        };
        // lettre picks the transfer encoding (base64 for Chinese text)
        let body = Body::new(format!(
            "{}\n\n请登录营商环境优化平台处理：{link}\n\n（本邮件由系统自动发送，请勿直接回复。）\n",
            delivery.title
        ));
        let from: Mailbox = relay
            .from
            .parse()
            .map_err(|e| SendError::Permanent(format!("发件人地址无效：{e}")))?;
        let to: Mailbox = to
            .as_str()
            .parse()
            .map_err(|e| SendError::Permanent(format!("收件地址无效：{e}")))?;
        let message = Message::builder()
            .from(from)
            .to(to)
            .subject(delivery.title.clone())
            .message_id(Some(format!("<{}@bizenv>", delivery.id)))
            .date(std::time::SystemTime::from(self.clock.now()))
            .singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_PLAIN)
                    .body(body),
            )
            .map_err(|e| SendError::Permanent(format!("邮件无法生成：{e}")))?;
        let transport =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(relay.host.as_str())
                .port(relay.port)
                .timeout(Some(StdDuration::from_secs(15)))
                .build();
        match transport.send(message).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(SendError::Permanent(format!("邮件服务器拒收：{e}"))),
            Err(e) => Err(SendError::Retry(format!("邮件未送出：{e}"))),
        }
    }
}

/// Sends one SMS through the gateway: `POST {"id", "phone", "text"}` as JSON; any 2xx is
/// accepted, 4xx refused for good, anything else tried again.
async fn send_sms(gateway: &SmsGateway, id: &str, to: &Phone, text: &str) -> Result<(), SendError> {
    match gateway {
        SmsGateway::Off => Err(SendError::Permanent("短信网关未启用".into())),
        SmsGateway::Log => {
            tracing::info!(id, phone = %to.masked(), text, "SMS (log-only gateway)");
            Ok(())
        }
        SmsGateway::Http(url) => {
            let client = reqwest::Client::builder()
                .timeout(StdDuration::from_secs(15))
                .build()
                .map_err(|e| SendError::Retry(format!("短信客户端：{e}")))?;
            let response = client
                .post(url)
                .json(&json!({"id": id, "phone": to.as_str(), "text": text}))
                .send()
                .await
                .map_err(|e| SendError::Retry(format!("短信网关无法连接：{e}")))?;
            let status = response.status();
            if status.is_success() {
                Ok(())
            } else if status.is_client_error() && status.as_u16() != 429 {
                Err(SendError::Permanent(format!("短信网关拒绝：{status}")))
            } else {
                Err(SendError::Retry(format!("短信网关返回 {status}")))
            }
        }
    }
}
