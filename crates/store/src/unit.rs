//! Units of a tenant: the tree of offices, departments, streets, communities, halls and windows.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use domain::org::{UnitCode, UnitKind};

use crate::audit::{AuditCtx, AuditEntry, append};
use crate::db::with_pool;
use crate::page::{Page, PageRequest};
use crate::{Result, Store, StoreError, new_id};

/// A unit as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    /// Its id.
    pub id: String,
    /// Code, unique in the tenant.
    pub code: String,
    /// Name.
    pub name: String,
    /// What it is.
    pub kind: UnitKind,
    /// The unit it sits under.
    pub parent_id: Option<String>,
    /// For windows: the department or street whose staff work it.
    pub staffed_by_id: Option<String>,
    /// Position among its siblings.
    pub sort_order: i32,
    /// False once disabled.
    pub active: bool,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct UnitRow {
    id: String,
    code: String,
    name: String,
    kind: String,
    parent_id: Option<String>,
    staffed_by_id: Option<String>,
    sort_order: i32,
    active: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<UnitRow> for Unit {
    type Error = StoreError;

    fn try_from(row: UnitRow) -> Result<Self> {
        let kind = row
            .kind
            .parse()
            .map_err(|e| StoreError::Other(anyhow::anyhow!("unit {}: {e}", row.id)))?;
        Ok(Unit {
            id: row.id,
            code: row.code,
            name: row.name,
            kind,
            parent_id: row.parent_id,
            staffed_by_id: row.staffed_by_id,
            sort_order: row.sort_order,
            active: row.active,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

const COLUMNS: &str =
    "id, code, name, kind, parent_id, staffed_by_id, sort_order, active, created_at, updated_at";

/// A unit to create; parents and staffing units are named by code.
#[derive(Debug, Clone)]
pub struct NewUnit {
    /// Code, new in the tenant.
    pub code: UnitCode,
    /// Name, 1–64 characters.
    pub name: String,
    /// Kind.
    pub kind: UnitKind,
    /// Code of the parent (existing, or earlier in the same batch).
    pub parent: Option<UnitCode>,
    /// Windows only: code of the department or street that staffs it.
    pub staffed_by: Option<UnitCode>,
}

/// Filters of the unit list.
#[derive(Debug, Clone, Default)]
pub struct UnitFilter {
    /// Only this kind.
    pub kind: Option<UnitKind>,
    /// Only the children of this unit.
    pub parent_id: Option<String>,
    /// Only names containing this text.
    pub name_contains: Option<String>,
}

impl Store {
    /// Creates units in one transaction and one audit entry; any invalid unit refuses the
    /// whole batch with a message naming it. Returns the ids in input order.
    #[tracing::instrument(skip(self, ctx, units), fields(count = units.len()))]
    pub async fn create_units(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        units: &[NewUnit],
    ) -> Result<Vec<String>> {
        let existing: HashMap<String, Unit> = self
            .units(tenant_id)
            .await?
            .into_iter()
            .map(|u| (u.code.clone(), u))
            .collect();
        // code -> (id, kind) of units known so far, existing first, then the batch in order
        let mut known: HashMap<String, (String, UnitKind)> = existing
            .values()
            .map(|u| (u.code.clone(), (u.id.clone(), u.kind)))
            .collect();
        let mut rows = Vec::with_capacity(units.len());
        let mut siblings: HashMap<Option<String>, i32> = HashMap::new();
        for (index, unit) in units.iter().enumerate() {
            let at = || format!("第 {} 个单位（{}）", index + 1, unit.code);
            let name = unit.name.trim();
            if name.is_empty() || name.chars().count() > 64 {
                return Err(StoreError::Invalid(format!(
                    "{}：名称应为 1 到 64 个字符",
                    at()
                )));
            }
            if known.contains_key(unit.code.as_str()) {
                return Err(StoreError::Conflict(format!("{}：单位代码已存在", at())));
            }
            let parent = match &unit.parent {
                Some(code) => Some(known.get(code.as_str()).cloned().ok_or_else(|| {
                    StoreError::Invalid(format!("{}：上级单位 {code} 不存在", at()))
                })?),
                None => None,
            };
            if !unit.kind.may_sit_under(parent.as_ref().map(|p| p.1)) {
                return Err(StoreError::Invalid(format!(
                    "{}：该类型单位不能设在此上级之下",
                    at()
                )));
            }
            let staffed_by = match (&unit.staffed_by, unit.kind) {
                (None, _) => None,
                (Some(code), UnitKind::Window) => match known.get(code.as_str()) {
                    Some((id, UnitKind::Department | UnitKind::Street)) => Some(id.clone()),
                    Some(_) => {
                        return Err(StoreError::Invalid(format!(
                            "{}：派驻单位 {code} 应为部门或街道",
                            at()
                        )));
                    }
                    None => {
                        return Err(StoreError::Invalid(format!(
                            "{}：派驻单位 {code} 不存在",
                            at()
                        )));
                    }
                },
                (Some(_), _) => {
                    return Err(StoreError::Invalid(format!(
                        "{}：只有窗口才有派驻单位",
                        at()
                    )));
                }
            };
            let parent_id = parent.map(|p| p.0);
            let order = siblings.entry(parent_id.clone()).or_insert_with(|| {
                existing
                    .values()
                    .filter(|u| u.parent_id == parent_id)
                    .map(|u| u.sort_order)
                    .max()
                    .unwrap_or(0)
            });
            *order += 1;
            let id = new_id();
            known.insert(unit.code.to_string(), (id.clone(), unit.kind));
            rows.push((id, unit, name.to_owned(), parent_id, staffed_by, *order));
        }

        let now = self.clock.now();
        let batch_id = new_id();
        let digests: Vec<_> = rows
            .iter()
            .map(|(id, unit, name, parent_id, staffed_by, order)| {
                let row = serde_json::json!({
                    "id": id, "code": unit.code.as_str(), "name": name, "kind": unit.kind.as_str(),
                    "parent_id": parent_id, "staffed_by_id": staffed_by, "sort_order": order,
                });
                serde_json::json!({"id": id, "digest": crate::audit::row_digest(&row)})
            })
            .collect();
        let head = with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            for (id, unit, name, parent_id, staffed_by, order) in &rows {
                sqlx::query(
                    "INSERT INTO unit (tenant_id, id, code, name, kind, parent_id, staffed_by_id, sort_order, active, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, TRUE, $9, $9)",
                )
                .bind(tenant_id)
                .bind(id)
                .bind(unit.code.as_str())
                .bind(name)
                .bind(unit.kind.as_str())
                .bind(parent_id)
                .bind(staffed_by)
                .bind(order)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            let head = append!(self, tx, ctx, now, &AuditEntry {
                tenant_id: Some(tenant_id),
                action: "create",
                entity: "unit",
                entity_id: &batch_id,
                changes: serde_json::json!({"rows": digests}),
            });
            tx.commit().await?;
            head
        });
        self.advance_head(head);
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// Every unit of the tenant, parents before children's siblings order.
    pub async fn units(&self, tenant_id: &str) -> Result<Vec<Unit>> {
        let rows = with_pool!(self, pool => {
            sqlx::query_as::<_, UnitRow>(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM unit WHERE tenant_id = $1 ORDER BY sort_order, code"
            )))
            .bind(tenant_id)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(Unit::try_from).collect()
    }

    /// One page of the tenant's units, filtered, ordered by kind's tree order then code.
    pub async fn list_units(
        &self,
        tenant_id: &str,
        filter: &UnitFilter,
        page: PageRequest,
    ) -> Result<Page<Unit>> {
        let kind = filter.kind.map(|k| k.as_str());
        let like = filter.name_contains.as_deref().map(|t| {
            format!(
                "%{}%",
                t.replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_")
            )
        });
        let condition = "tenant_id = $1 AND ($2 IS NULL OR kind = $2) AND ($3 IS NULL OR parent_id = $3) \
                         AND ($4 IS NULL OR name LIKE $4 ESCAPE '\\')";
        let (rows, total) = with_pool!(self, pool => {
            let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM unit WHERE {condition}")))
                .bind(tenant_id)
                .bind(kind)
                .bind(&filter.parent_id)
                .bind(&like)
                .fetch_one(pool)
                .await?;
            let rows = sqlx::query_as::<_, UnitRow>(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM unit WHERE {condition} ORDER BY code LIMIT $5 OFFSET $6"
            )))
            .bind(tenant_id)
            .bind(kind)
            .bind(&filter.parent_id)
            .bind(&like)
            .bind(page.limit())
            .bind(page.offset())
            .fetch_all(pool)
            .await?;
            (rows, total)
        });
        Ok(Page {
            items: rows
                .into_iter()
                .map(Unit::try_from)
                .collect::<Result<_>>()?,
            request: page,
            total,
        })
    }

    /// The unit with this id in the tenant.
    pub async fn unit(&self, tenant_id: &str, id: &str) -> Result<Option<Unit>> {
        let row = with_pool!(self, pool => {
            sqlx::query_as::<_, UnitRow>(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM unit WHERE tenant_id = $1 AND id = $2"
            )))
            .bind(tenant_id)
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
        row.map(Unit::try_from).transpose()
    }
}
