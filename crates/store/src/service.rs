//! Service items (事项) and cases (办件), SPEC "Service items and cases": items with their
//! levels and time limits; cases arriving in batches from the provincial platform (idempotent
//! on the case number: a later batch updates the case), each with the working days it took
//! (from the calendar) and whether that was within the item's promised time; the one-visit,
//! on-time and average-days figures per unit, item and level. Each case carries the
//! unguessable token of its receipt's rating link.

use chrono::{DateTime, Utc};
use domain::service::{CaseCounts, CasePause, CaseStatus, HandlingLevel, ItemFacts};
use serde_json::json;

use crate::audit::{AuditCtx, AuditEntry, append};
use crate::db::{BeginWrite, with_pool};
use crate::inspection::{invalid, optional_text, text};
use crate::{Result, Store, StoreError, new_id};

/// The ways a case comes in (受理渠道).
pub const CASE_CHANNELS: &[(&str, &str)] =
    &[("window", "窗口"), ("online", "网上"), ("mail", "邮寄")];

/// A service item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceItem {
    /// Its code (事项编码).
    pub code: String,
    /// Its name.
    pub name: String,
    /// The department responsible.
    pub unit_id: String,
    /// Its category (行政许可, 公共服务 …).
    pub category: String,
    /// Where it can be handled.
    pub levels: Vec<HandlingLevel>,
    /// Promised time in working days.
    pub promised_days: u32,
    /// Legal time in working days.
    pub legal_days: u32,
    /// Maximum visits (0 = fully online).
    pub max_visits: u32,
    /// The materials asked for.
    pub materials: String,
    /// Can be applied for online.
    pub online: bool,
    /// Offered.
    pub active: bool,
}

#[derive(sqlx::FromRow)]
struct ItemRow {
    code: String,
    name: String,
    unit_id: String,
    category: String,
    levels: String,
    promised_days: i64,
    legal_days: i64,
    max_visits: i64,
    materials: String,
    online: bool,
    active: bool,
}

impl ItemRow {
    fn into_item(self) -> Result<ServiceItem> {
        let levels = self
            .levels
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|s| {
                HandlingLevel::from_code_or_label(s)
                    .ok_or_else(|| crate::inspection::corrupt("service_item", &self.code, s))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(ServiceItem {
            code: self.code,
            name: self.name,
            unit_id: self.unit_id,
            category: self.category,
            levels,
            promised_days: u32::try_from(self.promised_days).unwrap_or(0),
            legal_days: u32::try_from(self.legal_days).unwrap_or(0),
            max_visits: u32::try_from(self.max_visits).unwrap_or(0),
            materials: self.materials,
            online: self.online,
            active: self.active,
        })
    }
}

/// A case as the provincial platform or the window sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCase {
    /// The case number (办件编号), unique in the tenant.
    pub number: String,
    /// The item's code.
    pub item_code: String,
    /// The unit that handles it (the item's department, a street or community centre).
    pub unit_id: String,
    /// The window it was received at.
    pub window_id: Option<String>,
    /// The staff member who handled it.
    pub staff_id: Option<String>,
    /// The applying enterprise, by its USCC.
    pub enterprise_uscc: Option<String>,
    /// Where it was handled.
    pub level: HandlingLevel,
    /// How it came in: window, online, mail.
    pub channel: String,
    /// Its status.
    pub status: CaseStatus,
    /// Visits the applicant made (跑动次数).
    pub visits: u32,
    /// The outcome in words.
    pub result: String,
    /// Received at.
    pub received_at: DateTime<Utc>,
    /// Completed (or refused, withdrawn) at.
    pub completed_at: Option<DateTime<Utc>>,
    /// Times the clock stood still waiting for the applicant's materials (补正), in order.
    pub pauses: Vec<CasePause>,
}

/// A stored case.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Case {
    /// Its id.
    pub id: String,
    /// Its number.
    pub number: String,
    /// The item's code.
    pub item_code: String,
    /// The unit that handles it.
    pub unit_id: String,
    /// The window.
    pub window_id: Option<String>,
    /// The staff member.
    pub staff_id: Option<String>,
    /// The applying enterprise.
    pub enterprise_id: Option<String>,
    /// Where it was handled (`district`, `street`, `community`).
    pub level: String,
    /// How it came in.
    pub channel: String,
    /// Its status (`domain::service::CaseStatus` code).
    pub status: String,
    /// Visits.
    pub visits: i64,
    /// The outcome.
    pub result: String,
    /// Received at.
    pub received_at: DateTime<Utc>,
    /// Completed at.
    pub completed_at: Option<DateTime<Utc>>,
    /// Working days from receipt to completion.
    pub working_days: Option<i64>,
    /// Within the item's promised time.
    pub on_time: Option<bool>,
    /// The token of its receipt's rating link.
    pub rating_token: String,
    /// Its pauses (补正); `working_days` are net of them.
    #[sqlx(try_from = "String")]
    pub pauses: CasePauses,
}

/// A case's pauses as stored (a JSON list).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct CasePauses(pub Vec<CasePause>);

impl TryFrom<String> for CasePauses {
    type Error = serde_json::Error;

    fn try_from(text: String) -> std::result::Result<Self, Self::Error> {
        serde_json::from_str(&text).map(CasePauses)
    }
}

/// What a batch did with one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseOutcome {
    /// Stored for the first time.
    Created(String),
    /// Its number was known: updated.
    Updated(String),
    /// Sent again unchanged.
    Unchanged(String),
    /// Refused: the field and why; nothing stored for this case.
    Refused {
        /// The field at fault.
        field: &'static str,
        /// Why.
        message: String,
    },
}

/// The case figures of one group (a unit, an item or a level).
#[derive(Debug, Clone, PartialEq)]
pub struct CaseFigure {
    /// The group's key (unit id, item code or level).
    pub key: String,
    /// The counts.
    pub counts: CaseCounts,
}

const CASE_COLUMNS: &str = "id, number, item_code, unit_id, window_id, staff_id, enterprise_id, level, channel, status, \
     visits, result, received_at, completed_at, working_days, on_time, rating_token, pauses";

impl Store {
    /// The tenant's service items, by code.
    pub async fn service_items(&self, tenant_id: &str) -> Result<Vec<ServiceItem>> {
        let rows = with_pool!(self, pool => {
            sqlx::query_as::<_, ItemRow>(
                "SELECT code, name, unit_id, category, levels, promised_days, legal_days, max_visits, materials, online, active \
                 FROM service_item WHERE tenant_id = $1 ORDER BY code",
            )
            .bind(tenant_id)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(ItemRow::into_item).collect()
    }

    /// One service item.
    pub async fn service_item(&self, tenant_id: &str, code: &str) -> Result<Option<ServiceItem>> {
        Ok(self
            .service_items(tenant_id)
            .await?
            .into_iter()
            .find(|i| i.code == code))
    }

    /// Adds or changes a service item (its code stays).
    pub async fn save_service_item(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        item: &ServiceItem,
    ) -> Result<ServiceItem> {
        let code = item.code.trim();
        if code.is_empty()
            || code.len() > 40
            || !code
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(invalid(
                "code",
                "事项编码应为 1 到 40 位字母、数字、“-”或“_”",
            ));
        }
        let name = text("name", &item.name, 100, "事项名称")?;
        let category = optional_text("category", &item.category, 30, "事项类别")?;
        let materials = optional_text("materials", &item.materials, 2000, "申请材料")?;
        ItemFacts {
            promised_days: item.promised_days,
            legal_days: item.legal_days,
            max_visits: item.max_visits,
            levels: item.levels.clone(),
        }
        .validate()
        .map_err(|r| invalid(r.field, r.message))?;
        self.active_units(tenant_id, std::slice::from_ref(&item.unit_id), "unit_id")
            .await?;
        let levels: Vec<&str> = item.levels.iter().map(|l| l.as_str()).collect();
        let levels = levels.join(",");
        let now = self.clock.now();
        let head = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "INSERT INTO service_item (tenant_id, code, name, unit_id, category, levels, promised_days, legal_days, \
                 max_visits, materials, online, active, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) \
                 ON CONFLICT (tenant_id, code) DO UPDATE SET name = excluded.name, unit_id = excluded.unit_id, \
                 category = excluded.category, levels = excluded.levels, promised_days = excluded.promised_days, \
                 legal_days = excluded.legal_days, max_visits = excluded.max_visits, materials = excluded.materials, \
                 online = excluded.online, active = excluded.active, updated_at = excluded.updated_at",
            )
            .bind(tenant_id).bind(code).bind(&name).bind(&item.unit_id).bind(&category).bind(&levels)
            .bind(i64::from(item.promised_days)).bind(i64::from(item.legal_days)).bind(i64::from(item.max_visits))
            .bind(&materials).bind(item.online).bind(item.active).bind(now)
            .execute(&mut *tx)
            .await?;
            let head = append!(self, tx, ctx, now, &AuditEntry {
                tenant_id: Some(tenant_id),
                action: "save",
                entity: "service_item",
                entity_id: code,
                changes: json!({"name": name, "unit_id": item.unit_id, "category": category, "levels": levels,
                    "promised_days": item.promised_days, "legal_days": item.legal_days, "max_visits": item.max_visits,
                    "materials": materials, "online": item.online, "active": item.active}),
            });
            tx.commit().await?;
            head
        });
        self.advance_head(head);
        self.service_item(tenant_id, code)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// One case.
    pub async fn case(&self, tenant_id: &str, id: &str) -> Result<Option<Case>> {
        let row = with_pool!(self, pool => {
            sqlx::query_as::<_, Case>(sqlx::AssertSqlSafe(format!(
                "SELECT {CASE_COLUMNS} FROM service_case WHERE tenant_id = $1 AND id = $2"
            )))
            .bind(tenant_id)
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
        Ok(row)
    }

    /// The case a receipt's rating token names, with its tenant.
    pub async fn case_by_token(&self, token: &str) -> Result<Option<(String, Case)>> {
        let found: Option<(String, String)> = with_pool!(self, pool => {
            sqlx::query_as("SELECT tenant_id, id FROM service_case WHERE rating_token = $1")
                .bind(token)
                .fetch_optional(pool)
                .await?
        });
        match found {
            Some((tenant_id, id)) => Ok(self.case(&tenant_id, &id).await?.map(|c| (tenant_id, c))),
            None => Ok(None),
        }
    }

    async fn case_by_number(&self, tenant_id: &str, number: &str) -> Result<Option<Case>> {
        let row = with_pool!(self, pool => {
            sqlx::query_as::<_, Case>(sqlx::AssertSqlSafe(format!(
                "SELECT {CASE_COLUMNS} FROM service_case WHERE tenant_id = $1 AND number = $2"
            )))
            .bind(tenant_id)
            .bind(number)
            .fetch_optional(pool)
            .await?
        });
        Ok(row)
    }

    /// The newest cases of the tenant (or of `unit_id`), at most `limit`.
    pub async fn recent_cases(
        &self,
        tenant_id: &str,
        unit_id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Case>> {
        let rows = with_pool!(self, pool => {
            sqlx::query_as::<_, Case>(sqlx::AssertSqlSafe(format!(
                "SELECT {CASE_COLUMNS} FROM service_case WHERE tenant_id = $1 AND ($2 IS NULL OR unit_id = $2) \
                 ORDER BY received_at DESC, id DESC LIMIT $3"
            )))
            .bind(tenant_id)
            .bind(unit_id)
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        Ok(rows)
    }

    /// Takes a batch of cases: each is checked on its own (a bad case is refused with its field
    /// and reason, the good ones land), created or — when its number is known — updated, each
    /// in its own audited transaction, so sending a batch twice changes nothing.
    pub async fn ingest_cases(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        cases: &[NewCase],
    ) -> Result<Vec<CaseOutcome>> {
        let mut out = Vec::with_capacity(cases.len());
        for case in cases {
            match self.ingest_case(ctx, tenant_id, case).await {
                Ok(outcome) => out.push(outcome),
                Err(StoreError::InvalidField { field, message }) => {
                    out.push(CaseOutcome::Refused { field, message })
                }
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    async fn ingest_case(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        new: &NewCase,
    ) -> Result<CaseOutcome> {
        let number = text("number", &new.number, 64, "办件编号")?;
        let item = self
            .service_item(tenant_id, new.item_code.trim())
            .await?
            .ok_or_else(|| invalid("item_code", "事项编码不存在"))?;
        if !item.levels.contains(&new.level) {
            return Err(invalid("level", "该事项不能在此层级办理"));
        }
        if !CASE_CHANNELS.iter().any(|(c, _)| *c == new.channel) {
            return Err(invalid(
                "channel",
                "受理渠道应为 window（窗口）、online（网上）或 mail（邮寄）",
            ));
        }
        domain::service::check_case(new.status, new.visits, new.received_at, new.completed_at)
            .map_err(|r| invalid(r.field, r.message))?;
        domain::service::check_pauses(new.status, new.received_at, new.completed_at, &new.pauses)
            .map_err(|r| invalid(r.field, r.message))?;
        // the platform's clock may run a little ahead; a case from the future is a mistake
        let latest = self.clock.now() + chrono::Duration::days(1);
        if new.received_at > latest {
            return Err(invalid("received_at", "受理时间不能晚于当前时间"));
        }
        if new.completed_at.is_some_and(|c| c > latest) {
            return Err(invalid("completed_at", "办结时间不能晚于当前时间"));
        }
        let result = optional_text("result", &new.result, 500, "办理结果")?;
        self.active_units(tenant_id, std::slice::from_ref(&new.unit_id), "unit_id")
            .await?;
        if let Some(window) = &new.window_id {
            match self.unit(tenant_id, window).await? {
                Some(u) if u.kind == domain::org::UnitKind::Window && u.active => {}
                _ => return Err(invalid("window_id", "窗口不存在或已撤销")),
            }
        }
        if let Some(staff) = &new.staff_id {
            match self.staff(tenant_id, staff).await? {
                Some(s) if s.active => {}
                _ => return Err(invalid("staff_id", "工作人员不存在或已离岗")),
            }
        }
        let enterprise_id = match new.enterprise_uscc.as_deref().map(str::trim) {
            Some(u) if !u.is_empty() => {
                let uscc = domain::uscc::Uscc::parse(u)
                    .map_err(|e| invalid("enterprise_uscc", e.to_string()))?;
                Some(
                    self.enterprise_by_uscc(tenant_id, &uscc)
                        .await?
                        .ok_or_else(|| {
                            invalid("enterprise_uscc", "企业库中没有该统一社会信用代码")
                        })?
                        .0
                        .id,
                )
            }
            _ => None,
        };
        let (working_days, on_time) = match (new.status, new.completed_at) {
            (CaseStatus::Completed, Some(done)) => {
                let calendar = self.calendar().await?;
                // the working-day calendar, less the days the applicant's materials held it
                let days = domain::service::case_working_days(
                    &calendar,
                    new.received_at,
                    done,
                    &new.pauses,
                )
                .map_err(|e| invalid("completed_at", e.to_string()))?
                .value;
                (Some(i64::from(days)), Some(days <= item.promised_days))
            }
            _ => (None, None),
        };
        let existing = self.case_by_number(tenant_id, &number).await?;
        let now = self.clock.now();
        let values = json!({"number": number, "item_code": item.code, "unit_id": new.unit_id, "window_id": new.window_id,
            "staff_id": new.staff_id, "enterprise_id": enterprise_id, "level": new.level.as_str(), "channel": new.channel,
            "status": new.status.as_str(), "visits": new.visits, "result": result, "received_at": new.received_at,
            "completed_at": new.completed_at, "working_days": working_days, "on_time": on_time, "pauses": new.pauses});
        let pauses = serde_json::to_string(&new.pauses)
            .map_err(|e| StoreError::Other(anyhow::anyhow!("case pauses: {e}")))?;
        if let Some(old) = &existing {
            let same = old.item_code == item.code
                && old.unit_id == new.unit_id
                && old.window_id == new.window_id
                && old.staff_id == new.staff_id
                && old.enterprise_id == enterprise_id
                && old.level == new.level.as_str()
                && old.channel == new.channel
                && old.status == new.status.as_str()
                && old.visits == i64::from(new.visits)
                && old.result == result
                && old.received_at == new.received_at
                && old.completed_at == new.completed_at
                && old.pauses.0 == new.pauses;
            if same {
                return Ok(CaseOutcome::Unchanged(old.id.clone()));
            }
        }
        let id = existing.as_ref().map_or_else(new_id, |c| c.id.clone());
        let token = crate::rating::link_token();
        let (head, id) = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let id: String = sqlx::query_scalar(
                "INSERT INTO service_case (tenant_id, id, number, item_code, unit_id, window_id, staff_id, enterprise_id, level, \
                 channel, status, visits, result, received_at, completed_at, working_days, on_time, rating_token, created_at, updated_at, pauses) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $19, $20) \
                 ON CONFLICT (tenant_id, number) DO UPDATE SET item_code = excluded.item_code, unit_id = excluded.unit_id, \
                 window_id = excluded.window_id, staff_id = excluded.staff_id, enterprise_id = excluded.enterprise_id, \
                 level = excluded.level, channel = excluded.channel, status = excluded.status, visits = excluded.visits, \
                 result = excluded.result, received_at = excluded.received_at, completed_at = excluded.completed_at, \
                 working_days = excluded.working_days, on_time = excluded.on_time, updated_at = excluded.updated_at, \
                 pauses = excluded.pauses RETURNING id",
            )
            .bind(tenant_id).bind(&id).bind(&number).bind(&item.code).bind(&new.unit_id).bind(&new.window_id)
            .bind(&new.staff_id).bind(&enterprise_id).bind(new.level.as_str()).bind(&new.channel).bind(new.status.as_str())
            .bind(i64::from(new.visits)).bind(&result).bind(new.received_at).bind(new.completed_at).bind(working_days)
            .bind(on_time).bind(&token).bind(now).bind(&pauses)
            .fetch_one(&mut *tx)
            .await?;
            let head = append!(self, tx, ctx, now, &AuditEntry {
                tenant_id: Some(tenant_id),
                action: if existing.is_some() { "update" } else { "create" },
                entity: "service_case",
                entity_id: &id,
                changes: values,
            });
            tx.commit().await?;
            (head, id)
        });
        self.advance_head(head);
        Ok(if existing.is_some() {
            CaseOutcome::Updated(id)
        } else {
            CaseOutcome::Created(id)
        })
    }

    /// The case figures of the cases completed in `[since, until)`, grouped by `group`
    /// (`unit`, `item` or `level`), restricted to `unit_ids` when given.
    pub async fn case_figures(
        &self,
        tenant_id: &str,
        group: &str,
        unit_ids: Option<&[String]>,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<CaseFigure>> {
        let key = match group {
            "unit" => "unit_id",
            "item" => "item_code",
            "level" => "level",
            _ => return Err(invalid("group", "分组应为 unit、item 或 level")),
        };
        let units = unit_ids.map(|u| u.join(","));
        let rows: Vec<(String, i64, i64, i64, i64)> = with_pool!(self, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {key}, COUNT(*), \
                 CAST(COALESCE(SUM(CASE WHEN visits <= 1 THEN 1 ELSE 0 END), 0) AS BIGINT), \
                 CAST(COALESCE(SUM(CASE WHEN on_time THEN 1 ELSE 0 END), 0) AS BIGINT), \
                 CAST(COALESCE(SUM(working_days), 0) AS BIGINT) \
                 FROM service_case WHERE tenant_id = $1 AND status = 'completed' AND completed_at >= $2 AND completed_at < $3 \
                 AND ($4 IS NULL OR ',' || $4 || ',' LIKE '%,' || unit_id || ',%') GROUP BY {key} ORDER BY {key}"
            )))
            .bind(tenant_id)
            .bind(since)
            .bind(until)
            .bind(&units)
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|(key, completed, one_visit, on_time, days)| CaseFigure {
                key,
                counts: CaseCounts {
                    completed: completed.max(0) as u64,
                    one_visit: one_visit.max(0) as u64,
                    on_time: on_time.max(0) as u64,
                    working_days: days.max(0) as u64,
                },
            })
            .collect())
    }
}

/// A case to bulk-load (the demo's year, a benchmark's volume), already checked by the caller
/// against its item: its working days and on-time flag computed.
#[derive(Debug, Clone)]
pub struct BulkCase {
    /// The case number.
    pub number: String,
    /// The item's code.
    pub item_code: String,
    /// The unit that handled it.
    pub unit_id: String,
    /// The window.
    pub window_id: Option<String>,
    /// Where it was handled.
    pub level: HandlingLevel,
    /// How it came in.
    pub channel: &'static str,
    /// Its status.
    pub status: CaseStatus,
    /// Visits.
    pub visits: u32,
    /// Received at.
    pub received_at: DateTime<Utc>,
    /// Completed at.
    pub completed_at: Option<DateTime<Utc>>,
    /// Working days taken.
    pub working_days: Option<u32>,
    /// Within the promised time.
    pub on_time: Option<bool>,
}

impl Store {
    /// Loads cases in bulk (multi-row inserts, one audit entry of row digests per
    /// transaction); answers the new cases' ids in order.
    pub async fn insert_cases(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        all: &[BulkCase],
    ) -> Result<Vec<String>> {
        let now = self.clock.now();
        let mut out = Vec::with_capacity(all.len());
        for chunk in all.chunks(crate::deadline::BULK_CHUNK) {
            let ids: Vec<String> = chunk.iter().map(|_| new_id()).collect();
            let digests: Vec<serde_json::Value> = chunk
                .iter()
                .zip(&ids)
                .map(|(c, id)| {
                    let row = format!(
                        "{}|{}|{}|{}|{}|{:?}",
                        c.number,
                        c.item_code,
                        c.unit_id,
                        c.status.as_str(),
                        c.visits,
                        c.completed_at
                    );
                    json!({"id": id, "digest": crate::crypto::sm3_hex(row.as_bytes())})
                })
                .collect();
            let batch = new_id();
            let head = with_pool!(self, pool => {
                let mut tx = pool.begin_write().await?;
                for (part, part_ids) in chunk.chunks(1_000).zip(ids.chunks(1_000)) {
                    let mut insert = sqlx::QueryBuilder::new(
                        "INSERT INTO service_case (tenant_id, id, number, item_code, unit_id, window_id, level, channel, status, \
                         visits, result, received_at, completed_at, working_days, on_time, rating_token, created_at, updated_at) ",
                    );
                    insert.push_values(part.iter().zip(part_ids), |mut b, (c, id)| {
                        b.push_bind(tenant_id)
                            .push_bind(id)
                            .push_bind(&c.number)
                            .push_bind(&c.item_code)
                            .push_bind(&c.unit_id)
                            .push_bind(&c.window_id)
                            .push_bind(c.level.as_str())
                            .push_bind(c.channel)
                            .push_bind(c.status.as_str())
                            .push_bind(i64::from(c.visits))
                            .push_bind("")
                            .push_bind(c.received_at)
                            .push_bind(c.completed_at)
                            .push_bind(c.working_days.map(i64::from))
                            .push_bind(c.on_time)
                            .push_bind(crate::rating::link_token())
                            .push_bind(c.received_at)
                            .push_bind(now);
                    });
                    insert.build().execute(&mut *tx).await?;
                }
                let head = append!(self, tx, ctx, now, &AuditEntry {
                    tenant_id: Some(tenant_id),
                    action: "create_bulk",
                    entity: "service_case",
                    entity_id: &batch,
                    changes: json!({"rows": digests}),
                });
                tx.commit().await?;
                head
            });
            self.advance_head(head);
            out.extend(ids);
        }
        with_pool!(self, pool => {
            sqlx::query("ANALYZE service_case").execute(pool).await?;
        });
        Ok(out)
    }
}

/// The columns of a case file (CSV or XLSX), as the provincial platform's export names them;
/// the first five are required.
pub const CASE_COLUMNS_IN_FILE: [&str; 13] = [
    "办件编号",
    "事项编码",
    "办理单位编码",
    "办件状态",
    "受理时间",
    "办结时间",
    "窗口编码",
    "办理层级",
    "受理渠道",
    "跑动次数",
    "申请企业统一社会信用代码",
    "办理结果",
    "补正时段",
];

/// The case sheet to fill in: the columns of [`CASE_COLUMNS_IN_FILE`] and one example row.
pub fn cases_template() -> Result<Vec<u8>> {
    crate::import::template(
        "办件",
        &CASE_COLUMNS_IN_FILE,
        &[
            "SP-20261102-0001",
            "SB-001",
            "RSJ",
            "办结",
            "2026-11-02 09:30",
            "2026-11-03 10:00",
            "ZWFW-08",
            "区级",
            "窗口",
            "1",
            "",
            "准予许可",
            "",
        ],
    )
}

/// The pauses of a case file's 补正时段 cell: `开始~结束` in Beijing time (`YYYY-MM-DD HH:MM`),
/// several separated by `;` or `；`, the last one's end left out while the case still waits.
/// `Err` holds the clerk's message.
pub fn parse_pauses(cell: &str) -> std::result::Result<Vec<CasePause>, String> {
    let bad =
        || "补正时段应写作 开始~结束（YYYY-MM-DD HH:MM，北京时间），多段以分号分隔".to_owned();
    cell.split([';', '；'])
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (from, to) = part.split_once(['~', '～']).ok_or_else(bad)?;
            let from = beijing_time(from).ok_or_else(bad)?;
            let to = match to.trim() {
                "" => None,
                to => Some(beijing_time(to).ok_or_else(bad)?),
            };
            Ok(CasePause { from, to })
        })
        .collect()
}

/// The file column a field of [`NewCase`] comes from.
fn column_of(field: &str) -> &'static str {
    let c = &CASE_COLUMNS_IN_FILE;
    match field {
        "number" => c[0],
        "item_code" => c[1],
        "unit_id" => c[2],
        "status" => c[3],
        "received_at" => c[4],
        "completed_at" => c[5],
        "window_id" => c[6],
        "level" => c[7],
        "channel" => c[8],
        "visits" => c[9],
        "enterprise_uscc" => c[10],
        "result" => c[11],
        "pauses" => c[12],
        _ => "",
    }
}

/// A Beijing time written `YYYY-MM-DD HH:MM[:SS]` (or with a `T`).
pub(crate) fn beijing_time(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim().replace('T', " ");
    let naive = chrono::NaiveDateTime::parse_from_str(&text, "%Y-%m-%d %H:%M:%S")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(&text, "%Y-%m-%d %H:%M"))
        .ok()?;
    naive
        .and_local_timezone(domain::calendar::shanghai())
        .single()
        .map(|t| t.with_timezone(&Utc))
}

impl Store {
    /// Imports a case file (CSV or XLSX read into a [`crate::import::Table`]): every row is
    /// taken on its own like a case of [`Self::ingest_cases`] — created, updated by its number
    /// or unchanged — and every bad row is reported with its row, column and reason while the
    /// good rows land.
    pub async fn import_cases(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        table: &crate::import::Table,
    ) -> Result<crate::import::ImportReport> {
        table.require(&CASE_COLUMNS_IN_FILE[..5])?;
        let units = self.units(tenant_id).await?;
        let unit_by_code = |code: &str| units.iter().find(|u| u.code == code).map(|u| u.id.clone());
        let mut report = crate::import::ImportReport::default();
        for record in table.records() {
            let c = &CASE_COLUMNS_IN_FILE;
            let parsed = (|| {
                let unit_id = unit_by_code(record.get(c[2]))
                    .ok_or_else(|| record.error(c[2], "没有这个单位编码"))?;
                let window_id = match record.get(c[6]) {
                    "" => None,
                    code => Some(
                        unit_by_code(code).ok_or_else(|| record.error(c[6], "没有这个窗口编码"))?,
                    ),
                };
                let status = record
                    .get(c[3])
                    .parse::<CaseStatus>()
                    .map_err(|e| record.error(c[3], e))?;
                let received_at = beijing_time(record.get(c[4]))
                    .ok_or_else(|| record.error(c[4], "时间应写作 YYYY-MM-DD HH:MM（北京时间）"))?;
                let completed_at = match record.get(c[5]) {
                    "" => None,
                    text => Some(beijing_time(text).ok_or_else(|| {
                        record.error(c[5], "时间应写作 YYYY-MM-DD HH:MM（北京时间）")
                    })?),
                };
                let level = match record.get(c[7]) {
                    "" => HandlingLevel::District,
                    text => text
                        .parse::<HandlingLevel>()
                        .map_err(|e| record.error(c[7], e))?,
                };
                let channel = match record.get(c[8]) {
                    "" => "window",
                    text => CASE_CHANNELS
                        .iter()
                        .find(|(code, label)| *code == text || *label == text)
                        .map(|(code, _)| *code)
                        .ok_or_else(|| record.error(c[8], "受理渠道应为 窗口、网上 或 邮寄"))?,
                };
                let visits = match record.get(c[9]) {
                    "" => 1,
                    text => text
                        .parse::<u32>()
                        .map_err(|_| record.error(c[9], "跑动次数应为 0 至 50 的整数"))?,
                };
                Ok::<_, crate::import::RowError>(NewCase {
                    number: record.get(c[0]).to_owned(),
                    item_code: record.get(c[1]).to_owned(),
                    unit_id,
                    window_id,
                    staff_id: None,
                    enterprise_uscc: Some(record.get(c[10]).to_owned()).filter(|u| !u.is_empty()),
                    level,
                    channel: channel.to_owned(),
                    status,
                    visits,
                    result: record.get(c[11]).to_owned(),
                    received_at,
                    completed_at,
                    pauses: parse_pauses(record.get(c[12])).map_err(|e| record.error(c[12], e))?,
                })
            })();
            let case = match parsed {
                Ok(case) => case,
                Err(e) => {
                    report.errors.push(e);
                    continue;
                }
            };
            match self.ingest_case(ctx, tenant_id, &case).await {
                Ok(CaseOutcome::Created(_)) => report.created += 1,
                Ok(CaseOutcome::Updated(_)) => report.updated += 1,
                Ok(CaseOutcome::Unchanged(_)) => report.unchanged += 1,
                Ok(CaseOutcome::Refused { field, message }) => {
                    report.errors.push(record.error(column_of(field), message))
                }
                Err(StoreError::InvalidField { field, message }) => {
                    report.errors.push(record.error(column_of(field), message))
                }
                Err(StoreError::Conflict(message)) => {
                    report.errors.push(record.error(c[0], message))
                }
                Err(e) => return Err(e),
            }
        }
        Ok(report)
    }
}
