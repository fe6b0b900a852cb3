//! Staff (人员) of a tenant's units: a primary unit, further units for part-time posts (兼职),
//! a position, a phone and an active flag.
//!
//! The phone is personal data. It is stored sealed (SM4, [`crate::crypto::FieldCipher`]) and as
//! a keyed blind index for exact search; the audit log sees only the index. Reads answer a
//! masked number (`138****8000`); the number in clear leaves the store only through
//! [`Store::staff_phone`], which records each read in the audit log.

use std::collections::HashMap;
use std::fmt;

use chrono::{DateTime, Utc};
use domain::staff::Phone;

use crate::audit::{AuditCtx, AuditEntry, append};
use crate::db::{BeginWrite, with_pool};
use crate::page::{Page, PageRequest};
use crate::unit::Unit;
use crate::{Result, Store, StoreError, new_id};

/// A staff member as read: the phone only masked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staff {
    /// Its id.
    pub id: String,
    /// Name.
    pub name: String,
    /// The primary unit.
    pub unit_id: String,
    /// Further units (兼职), by id.
    pub part_time_unit_ids: Vec<String>,
    /// Position, e.g. 科长.
    pub position: String,
    /// Whether a phone is on file.
    pub has_phone: bool,
    /// The phone with its middle digits hidden, e.g. `138****8000`.
    pub phone_masked: Option<String>,
    /// False once disabled (leavers are disabled, not deleted).
    pub active: bool,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct StaffRow {
    id: String,
    name: String,
    unit_id: String,
    position: String,
    phone_enc: Option<String>,
    phone_index: Option<String>,
    active: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "s.id, s.name, s.unit_id, s.position, s.phone_enc, s.phone_index, s.active, \
     s.created_at, s.updated_at";

/// A staff member to create.
#[derive(Clone, Default)]
pub struct NewStaff {
    /// Name, 1–32 characters.
    pub name: String,
    /// The primary unit: an active unit of the tenant.
    pub unit_id: String,
    /// Further active units (兼职).
    pub part_time_unit_ids: Vec<String>,
    /// Position, 1–32 characters.
    pub position: String,
    /// Phone: a mainland mobile number or a fixed line with area code ([`Phone`]).
    pub phone: Option<String>,
}

impl fmt::Debug for NewStaff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewStaff")
            .field("name", &self.name)
            .field("unit_id", &self.unit_id)
            .field("part_time_unit_ids", &self.part_time_unit_ids)
            .field("position", &self.position)
            .field("has_phone", &self.phone.is_some())
            .finish()
    }
}

/// What to change of a staff member; `None` leaves a field as it is.
#[derive(Clone, Default)]
pub struct StaffChange {
    /// New name.
    pub name: Option<String>,
    /// New primary unit.
    pub unit_id: Option<String>,
    /// New set of part-time units.
    pub part_time_unit_ids: Option<Vec<String>>,
    /// New position.
    pub position: Option<String>,
    /// New phone (`Some(None)` removes it).
    pub phone: Option<Option<String>>,
    /// Enable or disable.
    pub active: Option<bool>,
}

impl fmt::Debug for StaffChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaffChange")
            .field("name", &self.name)
            .field("unit_id", &self.unit_id)
            .field("part_time_unit_ids", &self.part_time_unit_ids)
            .field("position", &self.position)
            .field("phone_changed", &self.phone.is_some())
            .field("active", &self.active)
            .finish()
    }
}

/// Filters of the staff list.
#[derive(Clone, Default)]
pub struct StaffFilter {
    /// Only staff of this unit (primary or part-time post).
    pub unit_id: Option<String>,
    /// Only names containing this text.
    pub name_contains: Option<String>,
    /// Only this exact phone (any spelling [`Phone::parse`] accepts), found by blind index.
    pub phone: Option<String>,
    /// Only staff with a post (primary or part-time) in this unit's subtree: the scope of a
    /// `unit_admin`.
    pub within: Option<String>,
    /// Only active (or only disabled) staff.
    pub active: Option<bool>,
}

fn field(field: &'static str, message: impl Into<String>) -> StoreError {
    StoreError::InvalidField {
        field,
        message: message.into(),
    }
}

fn check_text(value: &str, name: &'static str, label: &str) -> Result<String> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > 32 {
        return Err(field(name, format!("{label}应为 1 到 32 个字符")));
    }
    Ok(value.to_owned())
}

fn check_phone(phone: Option<&str>) -> Result<Option<Phone>> {
    match phone.map(str::trim).filter(|p| !p.is_empty()) {
        Some(p) => Phone::parse(p)
            .map(Some)
            .map_err(|e| field("phone", e.to_string())),
        None => Ok(None),
    }
}

/// The primary unit: exists in the tenant and is active.
fn check_unit(units: &HashMap<String, Unit>, id: &str) -> Result<()> {
    match units.get(id) {
        Some(u) if u.active => Ok(()),
        Some(_) => Err(field("unit_id", "所属单位已停用")),
        None => Err(field("unit_id", "所属单位不存在")),
    }
}

/// Part-time units: exist, differ from the primary unit; new ones must be active. Answers
/// them without duplicates, in the given order.
fn check_part_time(
    units: &HashMap<String, Unit>,
    primary: &str,
    ids: &[String],
    already: &[String],
) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for id in ids.iter().map(|i| i.trim()).filter(|i| !i.is_empty()) {
        match units.get(id) {
            None => return Err(field("part_time_unit_ids", "兼职单位不存在")),
            Some(u) if !u.active && !already.iter().any(|a| a == id) => {
                return Err(field("part_time_unit_ids", "兼职单位已停用"));
            }
            Some(_) if id == primary => {
                return Err(field("part_time_unit_ids", "兼职单位不能与所属单位相同"));
            }
            Some(_) => {
                if !out.iter().any(|o| o == id) {
                    out.push(id.to_owned());
                }
            }
        }
    }
    Ok(out)
}

/// A new staff member, checked and ready to insert.
struct Checked {
    id: String,
    name: String,
    unit_id: String,
    part_time: Vec<String>,
    position: String,
    phone_enc: Option<String>,
    phone_index: Option<String>,
}

impl Checked {
    /// The row as the audit log may see it: the phone only as its blind index.
    fn audit_json(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id, "name": self.name, "unit_id": self.unit_id,
            "part_time_unit_ids": self.part_time, "position": self.position,
            "phone_index": self.phone_index, "active": true,
        })
    }
}

impl Store {
    async fn units_by_id(&self, tenant_id: &str) -> Result<HashMap<String, Unit>> {
        Ok(self
            .units(tenant_id)
            .await?
            .into_iter()
            .map(|u| (u.id.clone(), u))
            .collect())
    }

    fn check_new_staff(&self, units: &HashMap<String, Unit>, new: &NewStaff) -> Result<Checked> {
        let name = check_text(&new.name, "name", "姓名")?;
        let unit_id = new.unit_id.trim().to_owned();
        check_unit(units, &unit_id)?;
        let part_time = check_part_time(units, &unit_id, &new.part_time_unit_ids, &[])?;
        let position = check_text(&new.position, "position", "职务")?;
        let phone = check_phone(new.phone.as_deref())?;
        Ok(Checked {
            id: new_id(),
            name,
            unit_id,
            part_time,
            position,
            phone_enc: phone.as_ref().map(|p| self.cipher.encrypt(p.as_str())),
            phone_index: phone.as_ref().map(|p| self.index.of(p.as_str())),
        })
    }

    /// The masked phone of a sealed value: opened here only to hide its middle digits.
    fn masked(&self, staff_id: &str, sealed: Option<&str>) -> Result<Option<String>> {
        let Some(sealed) = sealed else {
            return Ok(None);
        };
        let clear = self.cipher.decrypt(sealed).map_err(|e| {
            StoreError::Other(anyhow::anyhow!("staff {staff_id}: stored phone: {e}"))
        })?;
        let phone = Phone::parse(&clear).map_err(|_| {
            StoreError::Other(anyhow::anyhow!(
                "staff {staff_id}: stored phone is malformed"
            ))
        })?;
        Ok(Some(phone.masked()))
    }

    fn to_staff(&self, row: StaffRow, part_time: Vec<String>) -> Result<Staff> {
        let phone_masked = self.masked(&row.id, row.phone_enc.as_deref())?;
        Ok(Staff {
            has_phone: row.phone_enc.is_some(),
            phone_masked,
            id: row.id,
            name: row.name,
            unit_id: row.unit_id,
            part_time_unit_ids: part_time,
            position: row.position,
            active: row.active,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }

    async fn insert_staff(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        rows: &[Checked],
        entry: AuditEntry<'_>,
    ) -> Result<()> {
        let now = self.clock.now();
        let head = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            for row in rows {
                sqlx::query(
                    "INSERT INTO staff (tenant_id, id, name, unit_id, position, phone_enc, phone_index, active, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, TRUE, $8, $8)",
                )
                .bind(tenant_id)
                .bind(&row.id)
                .bind(&row.name)
                .bind(&row.unit_id)
                .bind(&row.position)
                .bind(&row.phone_enc)
                .bind(&row.phone_index)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                for unit_id in &row.part_time {
                    sqlx::query("INSERT INTO staff_unit (tenant_id, staff_id, unit_id) VALUES ($1, $2, $3)")
                        .bind(tenant_id)
                        .bind(&row.id)
                        .bind(unit_id)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            let head = append!(self, tx, ctx, now, &entry);
            tx.commit().await?;
            head
        });
        self.advance_head(head);
        Ok(())
    }

    /// Creates a staff member in one transaction and one audit entry (the phone only as its
    /// blind index); a refusal names its field.
    #[tracing::instrument(skip(self, ctx, new))]
    pub async fn create_staff(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        new: &NewStaff,
    ) -> Result<Staff> {
        let units = self.units_by_id(tenant_id).await?;
        let row = self.check_new_staff(&units, new)?;
        let entry = AuditEntry {
            tenant_id: Some(tenant_id),
            action: "create",
            entity: "staff",
            entity_id: &row.id,
            changes: row.audit_json(),
        };
        self.insert_staff(ctx, tenant_id, std::slice::from_ref(&row), entry)
            .await?;
        self.staff(tenant_id, &row.id)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// Creates many staff members in one transaction and one audit entry with a digest per
    /// row (of the row with the phone as blind index: a digest of a clear phone could be
    /// found by trying every number). Any refusal refuses the batch, naming the row.
    #[tracing::instrument(skip(self, ctx, staff), fields(count = staff.len()))]
    pub async fn create_staff_batch(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        staff: &[NewStaff],
    ) -> Result<Vec<String>> {
        let units = self.units_by_id(tenant_id).await?;
        let rows = staff
            .iter()
            .enumerate()
            .map(|(index, new)| {
                self.check_new_staff(&units, new).map_err(|e| match e {
                    StoreError::InvalidField { message, .. } => {
                        StoreError::Invalid(format!("第 {} 位人员：{message}", index + 1))
                    }
                    other => other,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let digests: Vec<_> = rows
            .iter()
            .map(|r| serde_json::json!({"id": r.id, "digest": crate::audit::row_digest(&r.audit_json())}))
            .collect();
        let batch_id = new_id();
        let entry = AuditEntry {
            tenant_id: Some(tenant_id),
            action: "create",
            entity: "staff",
            entity_id: &batch_id,
            changes: serde_json::json!({"rows": digests}),
        };
        self.insert_staff(ctx, tenant_id, &rows, entry).await?;
        Ok(rows.into_iter().map(|r| r.id).collect())
    }

    async fn staff_row(&self, tenant_id: &str, id: &str) -> Result<Option<StaffRow>> {
        let row = with_pool!(self, pool => {
            sqlx::query_as::<_, StaffRow>(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM staff s WHERE s.tenant_id = $1 AND s.id = $2"
            )))
            .bind(tenant_id)
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
        Ok(row)
    }

    /// Part-time units of these staff members, by staff id.
    async fn part_time_units(
        &self,
        tenant_id: &str,
        staff_ids: &[&str],
    ) -> Result<HashMap<String, Vec<String>>> {
        let mut out: HashMap<String, Vec<String>> = HashMap::new();
        if staff_ids.is_empty() {
            return Ok(out);
        }
        let placeholders = (2..staff_ids.len() + 2)
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let rows: Vec<(String, String)> = with_pool!(self, pool => {
            let sql = format!(
                "SELECT staff_id, unit_id FROM staff_unit WHERE tenant_id = $1 AND staff_id IN ({placeholders}) \
                 ORDER BY staff_id, unit_id"
            );
            let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(tenant_id);
            for id in staff_ids {
                query = query.bind(*id);
            }
            query.fetch_all(pool).await?
        });
        for (staff_id, unit_id) in rows {
            out.entry(staff_id).or_default().push(unit_id);
        }
        Ok(out)
    }

    async fn rows_to_staff(&self, tenant_id: &str, rows: Vec<StaffRow>) -> Result<Vec<Staff>> {
        let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        let mut part_time = self.part_time_units(tenant_id, &ids).await?;
        rows.into_iter()
            .map(|row| {
                let units = part_time.remove(&row.id).unwrap_or_default();
                self.to_staff(row, units)
            })
            .collect()
    }

    /// The staff member with this id in the tenant (phone masked).
    pub async fn staff(&self, tenant_id: &str, id: &str) -> Result<Option<Staff>> {
        match self.staff_row(tenant_id, id).await? {
            Some(row) => Ok(self.rows_to_staff(tenant_id, vec![row]).await?.pop()),
            None => Ok(None),
        }
    }

    /// The staff members with these ids in the tenant (unknown ids are left out).
    pub async fn staff_by_ids(&self, tenant_id: &str, ids: &[&str]) -> Result<Vec<Staff>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders = (2..ids.len() + 2)
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let rows: Vec<StaffRow> = with_pool!(self, pool => {
            let sql = format!(
                "SELECT {COLUMNS} FROM staff s WHERE s.tenant_id = $1 AND s.id IN ({placeholders}) ORDER BY s.id"
            );
            let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(tenant_id);
            for id in ids {
                query = query.bind(*id);
            }
            query.fetch_all(pool).await?
        });
        self.rows_to_staff(tenant_id, rows).await
    }

    /// One page of the tenant's staff, filtered, in the order they were created.
    #[tracing::instrument(skip(self, filter))]
    pub async fn list_staff(
        &self,
        tenant_id: &str,
        filter: &StaffFilter,
        page: PageRequest,
    ) -> Result<Page<Staff>> {
        let like = filter.name_contains.as_deref().map(|t| {
            format!(
                "%{}%",
                t.replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_")
            )
        });
        // An exact phone: the index of what Phone accepts, or of the text as given (which then
        // matches nothing stored, as every stored phone passed Phone::parse).
        let phone_index = filter.phone.as_deref().map(|p| match Phone::parse(p) {
            Ok(phone) => self.index.of(phone.as_str()),
            Err(_) => self.index.of(p),
        });
        let scope = "WITH RECURSIVE scope (id) AS (\
                     SELECT id FROM unit WHERE tenant_id = $1 AND id = $5 \
                     UNION ALL SELECT u.id FROM unit u JOIN scope ON u.parent_id = scope.id WHERE u.tenant_id = $1) ";
        let condition = "s.tenant_id = $1 \
             AND ($2 IS NULL OR s.unit_id = $2 OR EXISTS (SELECT 1 FROM staff_unit x \
                  WHERE x.tenant_id = $1 AND x.staff_id = s.id AND x.unit_id = $2)) \
             AND ($3 IS NULL OR s.name LIKE $3 ESCAPE '\\') \
             AND ($4 IS NULL OR s.phone_index = $4) \
             AND ($5 IS NULL OR s.unit_id IN (SELECT id FROM scope) OR EXISTS (SELECT 1 FROM staff_unit x \
                  WHERE x.tenant_id = $1 AND x.staff_id = s.id AND x.unit_id IN (SELECT id FROM scope))) \
             AND ($6 IS NULL OR s.active = $6)";
        let (rows, total) = with_pool!(self, pool => {
            let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "{scope}SELECT COUNT(*) FROM staff s WHERE {condition}"
            )))
            .bind(tenant_id)
            .bind(&filter.unit_id)
            .bind(&like)
            .bind(&phone_index)
            .bind(&filter.within)
            .bind(filter.active)
            .fetch_one(pool)
            .await?;
            let rows: Vec<StaffRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{scope}SELECT {COLUMNS} FROM staff s WHERE {condition} ORDER BY s.id LIMIT $7 OFFSET $8"
            )))
            .bind(tenant_id)
            .bind(&filter.unit_id)
            .bind(&like)
            .bind(&phone_index)
            .bind(&filter.within)
            .bind(filter.active)
            .bind(page.limit())
            .bind(page.offset())
            .fetch_all(pool)
            .await?;
            (rows, total)
        });
        Ok(Page {
            items: self.rows_to_staff(tenant_id, rows).await?,
            request: page,
            total,
        })
    }

    /// Changes a staff member in one transaction and one audit entry (changed fields as
    /// `[old, new]`, the phone as its blind index); answers the staff member as now.
    #[tracing::instrument(skip(self, ctx, change))]
    pub async fn update_staff(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        id: &str,
        change: &StaffChange,
    ) -> Result<Staff> {
        let row = self
            .staff_row(tenant_id, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let old_part_time = self
            .part_time_units(tenant_id, &[id])
            .await?
            .remove(id)
            .unwrap_or_default();
        let units = self.units_by_id(tenant_id).await?;
        let mut changes = serde_json::Map::new();
        let mut note = |key: &str, old: serde_json::Value, new: serde_json::Value| {
            if old != new {
                changes.insert(key.to_owned(), serde_json::json!([old, new]));
            }
        };
        let name = match &change.name {
            Some(n) => check_text(n, "name", "姓名")?,
            None => row.name.clone(),
        };
        note("name", row.name.clone().into(), name.clone().into());
        let unit_id = match &change.unit_id {
            Some(u) if u.trim() != row.unit_id => {
                check_unit(&units, u.trim())?;
                u.trim().to_owned()
            }
            _ => row.unit_id.clone(),
        };
        note(
            "unit_id",
            row.unit_id.clone().into(),
            unit_id.clone().into(),
        );
        let part_time = match &change.part_time_unit_ids {
            Some(ids) => check_part_time(&units, &unit_id, ids, &old_part_time)?,
            None if old_part_time.contains(&unit_id) => {
                return Err(field("part_time_unit_ids", "兼职单位不能与所属单位相同"));
            }
            None => old_part_time.clone(),
        };
        note(
            "part_time_unit_ids",
            serde_json::json!(old_part_time),
            serde_json::json!(part_time),
        );
        let position = match &change.position {
            Some(p) => check_text(p, "position", "职务")?,
            None => row.position.clone(),
        };
        note(
            "position",
            row.position.clone().into(),
            position.clone().into(),
        );
        let (phone_enc, phone_index) = match &change.phone {
            Some(p) => match check_phone(p.as_deref())? {
                Some(phone) => {
                    let index = self.index.of(phone.as_str());
                    if Some(&index) == row.phone_index.as_ref() {
                        (row.phone_enc.clone(), row.phone_index.clone())
                    } else {
                        (Some(self.cipher.encrypt(phone.as_str())), Some(index))
                    }
                }
                None => (None, None),
            },
            None => (row.phone_enc.clone(), row.phone_index.clone()),
        };
        note(
            "phone_index",
            row.phone_index.clone().into(),
            phone_index.clone().into(),
        );
        let active = change.active.unwrap_or(row.active);
        if active && !row.active && !units.get(&unit_id).is_some_and(|u| u.active) {
            return Err(field("unit_id", "所属单位已停用，不能启用该人员"));
        }
        note("active", row.active.into(), active.into());
        if changes.is_empty() {
            return self
                .rows_to_staff(tenant_id, vec![row])
                .await?
                .pop()
                .ok_or(StoreError::NotFound);
        }
        let now = self.clock.now();
        let part_time_changed = part_time != old_part_time;
        let head = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "UPDATE staff SET name = $3, unit_id = $4, position = $5, phone_enc = $6, phone_index = $7, \
                 active = $8, updated_at = $9 WHERE tenant_id = $1 AND id = $2",
            )
            .bind(tenant_id)
            .bind(id)
            .bind(&name)
            .bind(&unit_id)
            .bind(&position)
            .bind(&phone_enc)
            .bind(&phone_index)
            .bind(active)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            if part_time_changed {
                sqlx::query("DELETE FROM staff_unit WHERE tenant_id = $1 AND staff_id = $2")
                    .bind(tenant_id)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                for unit in &part_time {
                    sqlx::query("INSERT INTO staff_unit (tenant_id, staff_id, unit_id) VALUES ($1, $2, $3)")
                        .bind(tenant_id)
                        .bind(id)
                        .bind(unit)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            let head = append!(self, tx, ctx, now, &AuditEntry {
                tenant_id: Some(tenant_id),
                action: "update",
                entity: "staff",
                entity_id: id,
                changes: serde_json::Value::Object(changes.clone()),
            });
            tx.commit().await?;
            head
        });
        self.advance_head(head);
        self.staff(tenant_id, id).await?.ok_or(StoreError::NotFound)
    }

    /// Enables or disables a staff member.
    pub async fn set_staff_active(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        id: &str,
        active: bool,
    ) -> Result<Staff> {
        let change = StaffChange {
            active: Some(active),
            ..StaffChange::default()
        };
        self.update_staff(ctx, tenant_id, id, &change).await
    }

    /// The staff member's phone in clear (`None` when none is on file). Every call is
    /// recorded in the audit log as `read_phone` (with the blind index) before the value is
    /// opened; callers decide who may ask.
    #[tracing::instrument(skip(self, ctx))]
    pub async fn staff_phone(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        id: &str,
    ) -> Result<Option<String>> {
        let row = self
            .staff_row(tenant_id, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let now = self.clock.now();
        let head = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let head = append!(self, tx, ctx, now, &AuditEntry {
                tenant_id: Some(tenant_id),
                action: "read_phone",
                entity: "staff",
                entity_id: id,
                changes: serde_json::json!({"phone_index": row.phone_index}),
            });
            tx.commit().await?;
            head
        });
        self.advance_head(head);
        row.phone_enc
            .as_deref()
            .map(|sealed| {
                self.cipher.decrypt(sealed).map_err(|e| {
                    StoreError::Other(anyhow::anyhow!("staff {id}: stored phone: {e}"))
                })
            })
            .transpose()
    }
}

/// Where an active staff member works: the id, the primary unit and the part-time posts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StaffPlace {
    pub(crate) id: String,
    pub(crate) units: Vec<String>,
}

impl StaffPlace {
    /// Whether this is the staff member `staff_id` or works at one of `units`.
    pub(crate) fn works_at(&self, staff_id: Option<&str>, units: &[&str]) -> bool {
        staff_id == Some(self.id.as_str()) || self.units.iter().any(|u| units.contains(&u.as_str()))
    }
}

impl Store {
    /// The active staff members with this phone (by its blind index) and where they work. The
    /// tenant's phones are kept between requests: every rating with a phone asks whether its
    /// rater works at the rated unit.
    pub(crate) async fn staff_places_of_phone(
        &self,
        tenant_id: &str,
        phone_index: &str,
    ) -> Result<Vec<StaffPlace>> {
        let by_phone = self
            .cached(
                format!("staff_phones|{tenant_id}"),
                self.load_staff_places(tenant_id),
            )
            .await?;
        Ok(by_phone.get(phone_index).cloned().unwrap_or_default())
    }

    async fn load_staff_places(
        &self,
        tenant_id: &str,
    ) -> Result<std::sync::Arc<HashMap<String, Vec<StaffPlace>>>> {
        // (id, unit, phone index) of each staff member; (staff, unit) of each part-time post
        type Rows = (Vec<(String, String, String)>, Vec<(String, String)>);
        let (staff, posts): Rows = with_pool!(self, pool => {
            let staff = sqlx::query_as(
                "SELECT id, unit_id, phone_index FROM staff \
                 WHERE tenant_id = $1 AND active AND phone_index IS NOT NULL ORDER BY id",
            )
            .bind(tenant_id)
            .fetch_all(pool)
            .await?;
            let posts = sqlx::query_as(
                "SELECT staff_id, unit_id FROM staff_unit WHERE tenant_id = $1 ORDER BY staff_id, unit_id",
            )
            .bind(tenant_id)
            .fetch_all(pool)
            .await?;
            (staff, posts)
        });
        let mut part_time: HashMap<String, Vec<String>> = HashMap::new();
        for (staff_id, unit_id) in posts {
            part_time.entry(staff_id).or_default().push(unit_id);
        }
        let mut by_phone: HashMap<String, Vec<StaffPlace>> = HashMap::new();
        for (id, unit_id, phone_index) in staff {
            let mut units = vec![unit_id];
            units.extend(part_time.remove(&id).unwrap_or_default());
            by_phone
                .entry(phone_index)
                .or_default()
                .push(StaffPlace { id, units });
        }
        Ok(std::sync::Arc::new(by_phone))
    }
}
