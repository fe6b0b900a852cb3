//! The enterprise registry (企业库): saved by USCC (create, or update what changed; the same
//! values again change nothing), the contact's phone sealed with its blind index, the name's
//! bigrams kept in `enterprise_gram` in the same transaction, every change audited and told on
//! the enterprise's timeline. Search by a name fragment of two or more characters reads the
//! gram index and then checks the normalised name; an 18-character code is looked up exactly.

use std::borrow::Cow;

use chrono::{DateTime, NaiveDate, Utc};
use domain::enterprise::{IndustryCode, MIN_FRAGMENT, Scale, Status, grams, normalise};
use domain::history::Audience;
use domain::staff::Phone;
use domain::uscc::Uscc;
use serde_json::{Value, json};

use crate::audit::{AuditCtx, AuditEntry, append};
use crate::db::{BeginWrite, with_pool};
use crate::history::{NewHistory, history};
use crate::page::{Page, PageRequest};
use crate::{Result, Store, StoreError, new_id};

/// An enterprise's values, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct EnterpriseValues {
    /// The key.
    pub uscc: Uscc,
    /// 企业名称, 1–100 characters.
    pub name: String,
    /// 法定代表人.
    pub legal_rep: String,
    /// 注册地址.
    pub address: String,
    /// 所属街道 (a street unit).
    pub street_id: Option<String>,
    /// 行业代码.
    pub industry_code: Option<IndustryCode>,
    /// 主导产业 (one of the tenant's list).
    pub leading_industry: Option<String>,
    /// 企业规模.
    pub scale: Option<Scale>,
    /// 成立日期.
    pub established_on: Option<NaiveDate>,
    /// 注册资本, yuan.
    pub capital: Option<i64>,
    /// 经营状态.
    pub status: Status,
    /// 联系人.
    pub contact_name: String,
    /// 联系电话.
    pub contact_phone: Option<Phone>,
    /// 重点企业.
    pub key_enterprise: bool,
    /// 包联领导 (a staff member).
    pub liaison_leader_id: Option<String>,
    /// 包联单位.
    pub liaison_unit_id: Option<String>,
}

/// An enterprise as stored (the phone still sealed; the caller decides who reads it).
#[derive(Debug, Clone, PartialEq)]
pub struct Enterprise {
    /// Its id.
    pub id: String,
    /// Its values.
    pub values: EnterpriseValues,
    /// The contact phone masked (138****1234).
    pub contact_phone_masked: Option<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// What saving did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saved {
    /// A new enterprise.
    Created,
    /// Values changed.
    Updated,
    /// Nothing to change.
    Unchanged,
}

/// Which enterprises a list shows.
#[derive(Debug, Clone, Default)]
pub struct EnterpriseFilter {
    /// A name fragment (two characters or more) or a USCC.
    pub q: Option<String>,
    /// In this street.
    pub street_id: Option<String>,
    /// Industry code starting with this (a section letter, a division …).
    pub industry: Option<String>,
    /// This leading industry.
    pub leading_industry: Option<String>,
    /// This scale.
    pub scale: Option<Scale>,
    /// This status.
    pub status: Option<Status>,
    /// Key enterprises only (true) or the others (false).
    pub key_enterprise: Option<bool>,
    /// With this liaison leader.
    pub liaison_leader_id: Option<String>,
    /// Without a liaison leader (true) or with one (false).
    pub without_liaison: Option<bool>,
}

/// How far liaison (包联) covers the key enterprises.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiaisonCoverage {
    /// Key enterprises.
    pub key_enterprises: i64,
    /// Key enterprises with no liaison leader.
    pub without_liaison: i64,
    /// Per liaison leader (staff id): enterprises, of which key ones.
    pub leaders: Vec<(String, i64, i64)>,
}

/// The tenant setting listing its leading industries (one per line).
pub const LEADING_INDUSTRIES_SETTING: &str = "leading_industries";

/// A name search counts its matches up to this many; beyond, the list says "more than".
pub const SEARCH_COUNT_CAP: i64 = 1_000;

/// The leading industries of a district that has not set its own.
pub const DEFAULT_LEADING_INDUSTRIES: [&str; 5] =
    ["智能制造", "现代物流", "医养健康", "商贸服务", "文化旅游"];

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    uscc: String,
    name: String,
    legal_rep: String,
    address: String,
    street_id: Option<String>,
    industry_code: Option<String>,
    leading_industry: Option<String>,
    scale: Option<String>,
    established_on: Option<String>,
    capital: Option<i64>,
    status: String,
    contact_name: String,
    contact_phone_enc: Option<String>,
    key_enterprise: bool,
    liaison_leader_id: Option<String>,
    liaison_unit_id: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "e.id, e.uscc, e.name, e.legal_rep, e.address, e.street_id, e.industry_code, e.leading_industry, \
     e.scale, e.established_on, e.capital, e.status, e.contact_name, e.contact_phone_enc, e.key_enterprise, \
     e.liaison_leader_id, e.liaison_unit_id, e.created_at, e.updated_at";

fn invalid(field: &'static str, message: impl Into<String>) -> StoreError {
    StoreError::InvalidField {
        field,
        message: message.into(),
    }
}

fn bounded(
    field: &'static str,
    value: &str,
    max: usize,
    what: &str,
    required: bool,
) -> Result<String> {
    let value = value.trim();
    if required && value.is_empty() {
        return Err(invalid(field, format!("请填写{what}")));
    }
    if value.chars().count() > max {
        return Err(invalid(field, format!("{what}不能超过 {max} 个字")));
    }
    Ok(value.to_owned())
}

/// What changed between two audit views: `{field: [old, new]}`.
pub(crate) fn diff(old: &Value, new: &Value) -> Value {
    let mut diff = serde_json::Map::new();
    for (key, value) in new.as_object().into_iter().flatten() {
        if old.get(key) != Some(value) {
            diff.insert(key.clone(), json!([old.get(key), value]));
        }
    }
    Value::Object(diff)
}

impl EnterpriseValues {
    /// What the audit log and the change check compare (the phone as its blind index).
    pub(crate) fn audit_view(&self, phone_index: Option<&str>) -> Value {
        json!({
            "uscc": self.uscc.as_str(), "name": self.name, "legal_rep": self.legal_rep,
            "address": self.address, "street_id": self.street_id,
            "industry_code": self.industry_code.as_ref().map(IndustryCode::as_str),
            "leading_industry": self.leading_industry, "scale": self.scale.map(Scale::code),
            "established_on": self.established_on.map(|d| d.to_string()), "capital": self.capital,
            "status": self.status.code(), "contact_name": self.contact_name,
            "contact_phone_index": phone_index, "key_enterprise": self.key_enterprise,
            "liaison_leader_id": self.liaison_leader_id, "liaison_unit_id": self.liaison_unit_id,
        })
    }
}

/// One enterprise a batch writes: a new one, or new values of a stored one. Everything a
/// write needs besides the database is worked out here (sealing, blind index, grams), so a
/// bulk load can prepare the next batch while the database writes this one.
pub(crate) struct Write<'a> {
    pub(crate) id: String,
    pub(crate) values: Cow<'a, EnterpriseValues>,
    sealed: Option<String>,
    index: Option<String>,
    /// The stored name when this is an update (its grams change with the name).
    old_name: Option<String>,
    /// The fields an update changes, for the timeline.
    fields: Vec<String>,
    /// The name grams to add and to remove.
    added: Vec<String>,
    removed: Vec<String>,
}

impl Write<'_> {
    /// The digest of the values as the audit log keeps them (the phone as its blind index).
    pub(crate) fn digest(&self) -> String {
        crate::audit::row_digest(&self.values.audit_view(self.index.as_deref()))
    }

    /// Whether this creates an enterprise.
    pub(crate) fn creates(&self) -> bool {
        self.old_name.is_none()
    }
}

impl Store {
    /// A write of `values` under `id`, the phone sealed and indexed; `old_name` for an update.
    pub(crate) fn write_of<'a>(
        &self,
        id: String,
        values: Cow<'a, EnterpriseValues>,
        old_name: Option<String>,
        fields: Vec<String>,
    ) -> Write<'a> {
        let phone = values.contact_phone.as_ref();
        let sealed = phone.map(|p| self.cipher.encrypt(p.as_str()));
        let index = phone.map(|p| self.index.of(p.as_str()));
        let new = grams(&values.name);
        let old = old_name.as_deref().map(grams).unwrap_or_default();
        Write {
            id,
            sealed,
            index,
            added: new.difference(&old).cloned().collect(),
            removed: old.difference(&new).cloned().collect(),
            values,
            old_name,
            fields,
        }
    }

    /// Writes enterprises in one transaction: new ones with multi-row inserts, changed ones
    /// one by one; the name grams kept alongside; each on its timeline (`created_event` for
    /// the new); an audit entry for each of `audits` (the `changes` of each).
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn write_batch(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        writes: &[Write<'_>],
        created_event: &str,
        action: &str,
        entity_id: &str,
        audits: Vec<Value>,
    ) -> Result<()> {
        let now = self.clock.now();
        let creates: Vec<&Write<'_>> = writes.iter().filter(|w| w.creates()).collect();
        let updates: Vec<&Write<'_>> = writes.iter().filter(|w| !w.creates()).collect();
        let mut added: Vec<(&str, &str)> = Vec::new();
        let mut removed: Vec<(&str, &str)> = Vec::new();
        for w in writes {
            removed.extend(w.removed.iter().map(|g| (g.as_str(), w.id.as_str())));
            added.extend(w.added.iter().map(|g| (g.as_str(), w.id.as_str())));
        }
        // neighbouring keys go in together: the gram index is written in order
        added.sort_unstable();
        let internal = Audience::Internal.as_str();
        let created: Vec<(&str, String)> = creates
            .iter()
            .map(|w| (w.id.as_str(), json!({"name": w.values.name}).to_string()))
            .collect();
        let head = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            // 22 values a row: 500 rows stay under both databases' parameter limits
            for part in creates.chunks(500) {
                let mut insert = sqlx::QueryBuilder::new(
                    "INSERT INTO enterprise (tenant_id, id, uscc, name, name_norm, legal_rep, address, street_id, \
                     industry_code, leading_industry, scale, established_on, capital, status, contact_name, \
                     contact_phone_enc, contact_phone_index, key_enterprise, liaison_leader_id, liaison_unit_id, \
                     created_at, updated_at) ",
                );
                insert.push_values(part, |mut b, w| {
                    let v = &*w.values;
                    b.push_bind(tenant_id)
                        .push_bind(&w.id)
                        .push_bind(v.uscc.as_str())
                        .push_bind(&v.name)
                        .push_bind(normalise(&v.name))
                        .push_bind(&v.legal_rep)
                        .push_bind(&v.address)
                        .push_bind(&v.street_id)
                        .push_bind(v.industry_code.as_ref().map(|c| c.as_str().to_owned()))
                        .push_bind(&v.leading_industry)
                        .push_bind(v.scale.map(Scale::code))
                        .push_bind(v.established_on.map(|d| d.to_string()))
                        .push_bind(v.capital)
                        .push_bind(v.status.code())
                        .push_bind(&v.contact_name)
                        .push_bind(&w.sealed)
                        .push_bind(&w.index)
                        .push_bind(v.key_enterprise)
                        .push_bind(&v.liaison_leader_id)
                        .push_bind(&v.liaison_unit_id)
                        .push_bind(now)
                        .push_bind(now);
                });
                insert.build().execute(&mut *tx).await?;
            }
            for w in &updates {
                let v = &*w.values;
                sqlx::query(
                    "UPDATE enterprise SET name = $3, name_norm = $4, legal_rep = $5, address = $6, street_id = $7, \
                     industry_code = $8, leading_industry = $9, scale = $10, established_on = $11, capital = $12, \
                     status = $13, contact_name = $14, contact_phone_enc = $15, contact_phone_index = $16, \
                     key_enterprise = $17, liaison_leader_id = $18, liaison_unit_id = $19, updated_at = $20 \
                     WHERE tenant_id = $1 AND id = $2",
                )
                .bind(tenant_id).bind(&w.id).bind(&v.name).bind(normalise(&v.name))
                .bind(&v.legal_rep).bind(&v.address).bind(&v.street_id)
                .bind(v.industry_code.as_ref().map(IndustryCode::as_str)).bind(&v.leading_industry)
                .bind(v.scale.map(Scale::code)).bind(v.established_on.map(|d| d.to_string())).bind(v.capital)
                .bind(v.status.code()).bind(&v.contact_name).bind(&w.sealed).bind(&w.index)
                .bind(v.key_enterprise).bind(&v.liaison_leader_id).bind(&v.liaison_unit_id).bind(now)
                .execute(&mut *tx)
                .await?;
            }
            for (gram, id) in &removed {
                sqlx::query("DELETE FROM enterprise_gram WHERE tenant_id = $1 AND gram = $2 AND enterprise_id = $3")
                    .bind(tenant_id).bind(*gram).bind(*id)
                    .execute(&mut *tx)
                    .await?;
            }
            // many rows in one parameter: a JSON array of [gram, id] the database unpacks
            for part in added.chunks(50_000) {
                let rows = serde_json::to_string(part).map_err(|e| StoreError::Other(e.into()))?;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "INSERT INTO enterprise_gram (tenant_id, gram, enterprise_id) \
                     SELECT $1, value ->> 0, value ->> 1 FROM {}",
                    self.db.json_rows(2)
                )))
                .bind(tenant_id)
                .bind(rows)
                .execute(&mut *tx)
                .await?;
            }
            for part in created.chunks(50_000) {
                let rows = serde_json::to_string(part).map_err(|e| StoreError::Other(e.into()))?;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "INSERT INTO record_history (tenant_id, record_type, record_id, seq, at, event, actor, audience, detail) \
                     SELECT $1, 'enterprise', value ->> 0, 1, $2, $3, $4, $5, value ->> 1 FROM {}",
                    self.db.json_rows(6)
                )))
                .bind(tenant_id)
                .bind(now)
                .bind(created_event)
                .bind(&ctx.actor)
                .bind(internal)
                .bind(rows)
                .execute(&mut *tx)
                .await?;
            }
            for w in &updates {
                history!(tx, tenant_id, ctx, now, &NewHistory {
                    record_type: "enterprise",
                    record_id: &w.id,
                    event: "updated",
                    audience: Audience::Internal,
                    detail: json!({"name": w.values.name, "fields": w.fields}),
                });
            }
            let mut head = None;
            for changes in audits {
                head = Some(append!(self, tx, ctx, now, &AuditEntry {
                    tenant_id: Some(tenant_id),
                    action,
                    entity: "enterprise",
                    entity_id,
                    changes: changes.clone(),
                }));
            }
            tx.commit().await?;
            head
        });
        if let Some(head) = head {
            self.advance_head(head);
        }
        Ok(())
    }

    /// After a bulk load, PostgreSQL's planner needs fresh statistics (without them it
    /// scans), and the gram index's visibility map (without it an index-only count of a
    /// gram's range visits the table row by row).
    pub(crate) async fn analyze_enterprises(&self) -> Result<()> {
        if let crate::db::Db::Postgres(pool) = &self.db {
            sqlx::query("ANALYZE enterprise").execute(pool).await?;
            sqlx::query("VACUUM (ANALYZE) enterprise_gram")
                .execute(pool)
                .await?;
        }
        Ok(())
    }

    /// The tenant's leading industries.
    pub async fn leading_industries(&self, tenant_id: &str) -> Result<Vec<String>> {
        Ok(
            match self
                .tenant_setting(tenant_id, LEADING_INDUSTRIES_SETTING)
                .await?
            {
                Some(list) => list
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(str::to_owned)
                    .collect(),
                None => DEFAULT_LEADING_INDUSTRIES.map(str::to_owned).to_vec(),
            },
        )
    }

    /// Checks what only the tenant's data can tell: the street is an active street, the
    /// liaison leader an active staff member, the liaison unit an active unit, the leading
    /// industry one of the tenant's; trims and bounds the texts.
    pub async fn check_enterprise(
        &self,
        tenant_id: &str,
        values: &mut EnterpriseValues,
    ) -> Result<()> {
        values.name = bounded("name", &values.name, 100, "企业名称", true)?;
        values.legal_rep = bounded("legal_rep", &values.legal_rep, 50, "法定代表人", false)?;
        values.address = bounded("address", &values.address, 200, "注册地址", false)?;
        values.contact_name = bounded("contact_name", &values.contact_name, 50, "联系人", false)?;
        let units = self.units(tenant_id).await?;
        let unit = |id: &str| units.iter().find(|u| u.id == id && u.active);
        if let Some(street) = &values.street_id
            && unit(street).is_none_or(|u| u.kind != domain::org::UnitKind::Street)
        {
            return Err(invalid("street_id", "所属街道不存在或已撤并"));
        }
        if let Some(liaison) = &values.liaison_unit_id
            && unit(liaison).is_none()
        {
            return Err(invalid("liaison_unit_id", "包联单位不存在或已撤并"));
        }
        if let Some(leader) = &values.liaison_leader_id {
            let staff = self.staff(tenant_id, leader).await?;
            if !staff.is_some_and(|s| s.active) {
                return Err(invalid("liaison_leader_id", "包联领导不存在或已不在岗"));
            }
        }
        if let Some(industry) = &values.leading_industry {
            let list = self.leading_industries(tenant_id).await?;
            if !list.iter().any(|l| l == industry) {
                return Err(invalid(
                    "leading_industry",
                    format!(
                        "主导产业“{industry}”不在本区的主导产业中（{}）",
                        list.join("、")
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Saves an enterprise by its USCC: created, updated where values differ, or unchanged.
    pub async fn save_enterprise(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        values: &EnterpriseValues,
    ) -> Result<(Enterprise, Saved)> {
        let mut values = values.clone();
        self.check_enterprise(tenant_id, &mut values).await?;
        let existing = self.enterprise_by_uscc(tenant_id, &values.uscc).await?;
        let phone_index = values
            .contact_phone
            .as_ref()
            .map(|p| self.index.of(p.as_str()));
        let new_view = values.audit_view(phone_index.as_deref());
        let old_view = existing
            .as_ref()
            .map(|(e, old_index)| e.values.audit_view(old_index.as_deref()));
        if old_view.as_ref() == Some(&new_view) {
            let (enterprise, _) = existing.ok_or(StoreError::NotFound)?;
            return Ok((enterprise, Saved::Unchanged));
        }
        let id = existing
            .as_ref()
            .map(|(e, _)| e.id.clone())
            .unwrap_or_else(new_id);
        let saved = if existing.is_some() {
            Saved::Updated
        } else {
            Saved::Created
        };
        let changes = match &old_view {
            Some(old) => diff(old, &new_view),
            None => new_view.clone(),
        };
        let fields = changes
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        let write = self.write_of(
            id.clone(),
            Cow::Borrowed(&values),
            existing.as_ref().map(|(e, _)| e.values.name.clone()),
            fields,
        );
        self.write_batch(
            ctx,
            tenant_id,
            &[write],
            "created",
            if saved == Saved::Created {
                "create"
            } else {
                "update"
            },
            &id,
            vec![changes],
        )
        .await?;
        let enterprise = self
            .enterprise(tenant_id, &id)
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok((enterprise, saved))
    }

    fn enterprise_from(&self, row: Row) -> Result<(Enterprise, Option<String>)> {
        let corrupt =
            |what: &str| StoreError::Other(anyhow::anyhow!("enterprise {}: {what}", row.id));
        let phone = match &row.contact_phone_enc {
            Some(sealed) => Some(
                self.cipher
                    .decrypt(sealed)
                    .ok()
                    .and_then(|p| Phone::parse(&p).ok())
                    .ok_or_else(|| corrupt("sealed phone"))?,
            ),
            None => None,
        };
        let index = phone.as_ref().map(|p| self.index.of(p.as_str()));
        let values = EnterpriseValues {
            uscc: Uscc::parse(&row.uscc).map_err(|_| corrupt("uscc"))?,
            industry_code: row
                .industry_code
                .as_deref()
                .map(IndustryCode::parse)
                .transpose()
                .map_err(|_| corrupt("industry code"))?,
            scale: row
                .scale
                .as_deref()
                .map(Scale::parse)
                .transpose()
                .map_err(|_| corrupt("scale"))?,
            established_on: row
                .established_on
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(|_| corrupt("established on"))?,
            status: Status::parse(&row.status).map_err(|_| corrupt("status"))?,
            name: row.name,
            legal_rep: row.legal_rep,
            address: row.address,
            street_id: row.street_id,
            leading_industry: row.leading_industry,
            capital: row.capital,
            contact_name: row.contact_name,
            contact_phone: phone.clone(),
            key_enterprise: row.key_enterprise,
            liaison_leader_id: row.liaison_leader_id,
            liaison_unit_id: row.liaison_unit_id,
        };
        Ok((
            Enterprise {
                id: row.id,
                contact_phone_masked: phone.as_ref().map(Phone::masked),
                values,
                created_at: row.created_at,
                updated_at: row.updated_at,
            },
            index,
        ))
    }

    /// One enterprise.
    pub async fn enterprise(&self, tenant_id: &str, id: &str) -> Result<Option<Enterprise>> {
        let row = with_pool!(self, pool => {
            sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM enterprise e WHERE e.tenant_id = $1 AND e.id = $2"
            )))
            .bind(tenant_id)
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
        row.map(|r| self.enterprise_from(r).map(|(e, _)| e))
            .transpose()
    }

    /// The enterprise with this code, with its phone's blind index.
    pub(crate) async fn enterprise_by_uscc(
        &self,
        tenant_id: &str,
        uscc: &Uscc,
    ) -> Result<Option<(Enterprise, Option<String>)>> {
        let row = with_pool!(self, pool => {
            sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM enterprise e WHERE e.tenant_id = $1 AND e.uscc = $2"
            )))
            .bind(tenant_id)
            .bind(uscc.as_str())
            .fetch_optional(pool)
            .await?
        });
        row.map(|r| self.enterprise_from(r)).transpose()
    }

    /// The enterprises with these codes, each with its phone's blind index.
    pub(crate) async fn enterprises_with_codes(
        &self,
        tenant_id: &str,
        codes: &[&str],
    ) -> Result<Vec<(Enterprise, Option<String>)>> {
        if codes.is_empty() {
            return Ok(Vec::new());
        }
        let rows = with_pool!(self, pool => {
            let mut query = sqlx::QueryBuilder::new(format!(
                "SELECT {COLUMNS} FROM enterprise e WHERE e.tenant_id = "
            ));
            query.push_bind(tenant_id).push(" AND e.uscc IN (");
            let mut list = query.separated(", ");
            for code in codes {
                list.push_bind(*code);
            }
            query.push(")");
            query.build_query_as::<Row>().fetch_all(pool).await?
        });
        rows.into_iter().map(|r| self.enterprise_from(r)).collect()
    }

    /// Adds many new enterprises at once (a demo, a benchmark, the writing half of an import):
    /// values already checked against the tenant's data; in transactions of
    /// [`crate::deadline::BULK_CHUNK`] rows, each one audit entry with a digest per row, the
    /// name grams written alongside; `progress` is told the rows done. A code already on file
    /// fails its chunk (nothing of it stays).
    pub async fn insert_enterprises(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        all: &[EnterpriseValues],
        progress: &(dyn Fn(usize) + Sync),
    ) -> Result<usize> {
        let mut done = 0;
        for chunk in all.chunks(crate::deadline::BULK_CHUNK) {
            let writes: Vec<Write<'_>> = chunk
                .iter()
                .map(|v| self.write_of(new_id(), Cow::Borrowed(v), None, Vec::new()))
                .collect();
            let digests: Vec<Value> = writes
                .iter()
                .map(|w| json!({"id": w.id, "digest": w.digest()}))
                .collect();
            self.write_batch(
                ctx,
                tenant_id,
                &writes,
                "created",
                "create",
                &new_id(),
                vec![json!({"rows": digests})],
            )
            .await?;
            done += chunk.len();
            progress(done);
        }
        if all.len() >= crate::deadline::BULK_CHUNK {
            self.analyze_enterprises().await?;
        }
        Ok(done)
    }

    /// How many names hold `fragment`, by scanning every name without the gram index: the
    /// benchmark's reference for the indexed search.
    pub async fn scan_enterprise_names(&self, tenant_id: &str, fragment: &str) -> Result<i64> {
        let like = format!("%{}%", normalise(fragment).replace(['%', '_'], ""));
        Ok(with_pool!(self, pool => {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM enterprise WHERE tenant_id = $1 AND name_norm LIKE $2")
                .bind(tenant_id)
                .bind(&like)
                .fetch_one(pool)
                .await?
        }))
    }

    /// Liaison coverage: key enterprises, those without a liaison leader, and each leader's
    /// enterprises.
    pub async fn liaison_coverage(&self, tenant_id: &str) -> Result<LiaisonCoverage> {
        let (totals, leaders) = with_pool!(self, pool => {
            let totals: (i64, i64) = sqlx::query_as(
                "SELECT COUNT(*), COUNT(*) - COUNT(liaison_leader_id) FROM enterprise \
                 WHERE tenant_id = $1 AND key_enterprise = $2",
            )
            .bind(tenant_id)
            .bind(true)
            .fetch_one(pool)
            .await?;
            let leaders: Vec<(String, i64, i64)> = sqlx::query_as(
                "SELECT liaison_leader_id, COUNT(*), SUM(CASE WHEN key_enterprise = $2 THEN 1 ELSE 0 END) FROM enterprise \
                 WHERE tenant_id = $1 AND liaison_leader_id IS NOT NULL GROUP BY liaison_leader_id ORDER BY liaison_leader_id",
            )
            .bind(tenant_id)
            .bind(true)
            .fetch_all(pool)
            .await?;
            (totals, leaders)
        });
        Ok(LiaisonCoverage {
            key_enterprises: totals.0,
            without_liaison: totals.1,
            leaders,
        })
    }

    /// The id of the enterprise with this code, if on file.
    pub async fn enterprise_id_by_uscc(
        &self,
        tenant_id: &str,
        uscc: &Uscc,
    ) -> Result<Option<String>> {
        Ok(with_pool!(self, pool => {
            sqlx::query_scalar::<_, String>("SELECT id FROM enterprise WHERE tenant_id = $1 AND uscc = $2")
                .bind(tenant_id)
                .bind(uscc.as_str())
                .fetch_optional(pool)
                .await?
        }))
    }

    /// The contact phone of an enterprise in clear, for the roles that need it.
    pub fn enterprise_phone(&self, enterprise: &Enterprise) -> Option<String> {
        enterprise
            .values
            .contact_phone
            .as_ref()
            .map(|p| p.as_str().to_owned())
    }

    /// One page of enterprises by name; a fragment of fewer than two characters is refused.
    pub async fn list_enterprises(
        &self,
        tenant_id: &str,
        filter: &EnterpriseFilter,
        page: PageRequest,
    ) -> Result<Page<Enterprise>> {
        let q = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
        let (uscc, fragment) = match q {
            Some(q) if q.chars().count() == 18 && q.is_ascii() => match Uscc::parse(q) {
                Ok(code) => (Some(code.as_str().to_owned()), None),
                Err(e) => return Err(invalid("q", e.to_string())),
            },
            Some(q) => {
                let fragment = normalise(q);
                if fragment.chars().count() < MIN_FRAGMENT {
                    return Err(invalid(
                        "q",
                        format!("请至少输入 {MIN_FRAGMENT} 个字查询企业名称"),
                    ));
                }
                (None, Some(fragment))
            }
            None => (None, None),
        };
        let industry = filter
            .industry
            .as_deref()
            .map(|i| format!("{}%", i.trim().to_ascii_uppercase().replace('%', "")));
        let scale = filter.scale.map(Scale::code);
        let status = filter.status.map(Status::code);
        // binds $1–$14 as the conditions number them
        macro_rules! bind_all {
            ($query:expr, $like:expr, $gram:expr, $limit:expr, $offset:expr) => {
                $query
                    .bind(tenant_id)
                    .bind(&uscc)
                    .bind($like)
                    .bind($gram)
                    .bind(&filter.street_id)
                    .bind(&industry)
                    .bind(&filter.leading_industry)
                    .bind(scale)
                    .bind(status)
                    .bind(filter.key_enterprise)
                    .bind(&filter.liaison_leader_id)
                    .bind($limit)
                    .bind($offset)
                    .bind(filter.without_liaison)
            };
        }
        let filters = "($2 IS NULL OR e.uscc = $2) \
            AND ($5 IS NULL OR e.street_id = $5) \
            AND ($6 IS NULL OR e.industry_code LIKE $6) \
            AND ($7 IS NULL OR e.leading_industry = $7) \
            AND ($8 IS NULL OR e.scale = $8) \
            AND ($9 IS NULL OR e.status = $9) \
            AND ($10 IS NULL OR e.key_enterprise = $10) \
            AND ($11 IS NULL OR e.liaison_leader_id = $11) \
            AND ($14 IS NULL OR ($14 = (e.liaison_leader_id IS NULL)))";
        let only_fragment = filter.street_id.is_none()
            && industry.is_none()
            && filter.leading_industry.is_none()
            && scale.is_none()
            && status.is_none()
            && filter.key_enterprise.is_none()
            && filter.liaison_leader_id.is_none()
            && filter.without_liaison.is_none();
        let Some(fragment) = fragment else {
            // no name fragment: the whole filtered list by name, counted
            let condition =
                format!("e.tenant_id = $1 AND {filters} AND ($3 IS NULL OR $4 IS NULL)");
            let none: Option<String> = None;
            let (rows, total) = with_pool!(self, pool => {
                let total: i64 = bind_all!(
                sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT COUNT(*) FROM enterprise e WHERE {condition}"
                ))),
                &none, &none, 0_i64, 0_i64
            )
                .fetch_one(pool)
                .await?;
                let rows = bind_all!(
                sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
                    "SELECT {COLUMNS} FROM enterprise e WHERE {condition} ORDER BY e.name_norm, e.id LIMIT $12 OFFSET $13"
                ))),
                &none, &none, page.limit(), page.offset()
            )
                .fetch_all(pool)
                .await?;
                (rows, total)
            });
            return self.page_of(rows, page, total);
        };
        // a name fragment: its rarest gram's range of the gram index, read in key order
        // (newest first) and joined to the names that hold the whole fragment; the total is
        // counted up to SEARCH_COUNT_CAP + 1
        let gram = self.rarest_gram(tenant_id, &fragment).await?;
        let like = format!("%{}%", fragment.replace(['%', '_'], ""));
        let joined = format!(
            "enterprise_gram g JOIN enterprise e ON e.tenant_id = g.tenant_id AND e.id = g.enterprise_id \
             WHERE g.tenant_id = $1 AND g.gram = $4 AND e.name_norm LIKE $3 AND {filters}"
        );
        let cap = SEARCH_COUNT_CAP + 1;
        let (rows, total) = with_pool!(self, pool => {
            let total: i64 = if only_fragment && fragment.chars().count() == 2 {
                // the gram is the fragment: its index range is the answer
                sqlx::query_scalar(
                    "SELECT COUNT(*) FROM (SELECT 1 FROM enterprise_gram WHERE tenant_id = $1 AND gram = $2 LIMIT $3) c",
                )
                .bind(tenant_id).bind(&gram).bind(cap)
                .fetch_one(pool)
                .await?
            } else {
                bind_all!(
                sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT COUNT(*) FROM (SELECT 1 FROM {joined} LIMIT $15) c"
                ))),
                &like, &gram, 0_i64, 0_i64
            )
                .bind(cap)
                .fetch_one(pool)
                .await?
            };
            let rows = bind_all!(
            sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM {joined} ORDER BY g.enterprise_id DESC LIMIT $12 OFFSET $13"
            ))),
            &like, &gram, page.limit(), page.offset()
        )
            .fetch_all(pool)
            .await?;
            (rows, total)
        });
        self.page_of(rows, page, total)
    }

    fn page_of(
        &self,
        rows: Vec<Row>,
        request: PageRequest,
        total: i64,
    ) -> Result<Page<Enterprise>> {
        let items = rows
            .into_iter()
            .map(|r| self.enterprise_from(r).map(|(e, _)| e))
            .collect::<Result<_>>()?;
        Ok(Page {
            items,
            request,
            total,
        })
    }

    /// The fragment's gram with the fewest enterprises (each counted up to
    /// [`SEARCH_COUNT_CAP`]); a fragment's grams are all in any name that holds it.
    async fn rarest_gram(&self, tenant_id: &str, fragment: &str) -> Result<String> {
        let mut best: Option<(i64, String)> = None;
        for gram in grams(fragment) {
            if found_none(&best) {
                break;
            }
            let n: i64 = with_pool!(self, pool => {
                sqlx::query_scalar(
                    "SELECT COUNT(*) FROM (SELECT 1 FROM enterprise_gram WHERE tenant_id = $1 AND gram = $2 LIMIT $3) c",
                )
                .bind(tenant_id).bind(&gram).bind(SEARCH_COUNT_CAP + 1)
                .fetch_one(pool)
                .await?
            });
            if best.as_ref().is_none_or(|(fewest, _)| n < *fewest) {
                best = Some((n, gram));
            }
        }
        Ok(best.map(|(_, g)| g).unwrap_or_default())
    }
}

/// Whether a gram already found is as rare as can be (no enterprise holds it).
fn found_none(best: &Option<(i64, String)>) -> bool {
    best.as_ref().is_some_and(|(n, _)| *n == 0)
}
