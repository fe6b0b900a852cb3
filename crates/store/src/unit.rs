//! Units of a tenant: the tree of offices, departments, streets, communities, halls and windows.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use domain::history::Audience;
use domain::org::{UnitCode, UnitKind};

use crate::audit::{AuditCtx, AuditEntry, append};
use crate::db::{BeginWrite, with_pool};
use crate::history::{NewHistory, history};
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
    /// False once disabled (or dissolved).
    pub active: bool,
    /// The day a reorganisation dissolved it (merged or split away); it stays, inactive, so
    /// records made before keep pointing at it.
    pub dissolved_on: Option<NaiveDate>,
    /// The head (负责人), a staff member of the unit.
    pub head_staff_id: Option<String>,
    /// The district leader in charge (分管区领导), a staff member of a district office.
    pub leader_staff_id: Option<String>,
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
    dissolved_on: Option<String>,
    head_staff_id: Option<String>,
    leader_staff_id: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<UnitRow> for Unit {
    type Error = StoreError;

    fn try_from(row: UnitRow) -> Result<Self> {
        let dissolved_on = row
            .dissolved_on
            .map(|d| d.parse())
            .transpose()
            .map_err(|e| StoreError::Other(anyhow::anyhow!("unit {}: {e}", row.id)))?;
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
            dissolved_on,
            head_staff_id: row.head_staff_id,
            leader_staff_id: row.leader_staff_id,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

const COLUMNS: &str = "id, code, name, kind, parent_id, staffed_by_id, sort_order, active, \
     dissolved_on, head_staff_id, leader_staff_id, created_at, updated_at";

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

/// What to change of a unit; `None` leaves a field as it is (`Some(None)` clears a head or
/// leader).
#[derive(Debug, Clone, Default)]
pub struct UnitChange {
    /// New name, 1–64 characters.
    pub name: Option<String>,
    /// The head (负责人): an active staff member of this unit (primary or part-time post).
    pub head_staff_id: Option<Option<String>>,
    /// The district leader in charge (分管区领导): an active staff member of a district office.
    pub leader_staff_id: Option<Option<String>>,
    /// Enable or disable; a unit with active children cannot be disabled, nor a unit under a
    /// disabled parent enabled.
    pub active: Option<bool>,
}

/// Why one new unit is refused: the field at fault, the message, and whether it is a
/// conflict (duplicate code) rather than invalid input.
struct Refusal {
    field: &'static str,
    message: String,
    conflict: bool,
}

impl Refusal {
    fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
            conflict: false,
        }
    }
}

/// A unit known while checking a batch: id, kind, active.
type Known = HashMap<String, (String, UnitKind, bool)>;

/// Checks one new unit against the units known so far; answers its name, parent id and
/// staffing unit id.
fn check_new_unit(
    unit: &NewUnit,
    known: &Known,
) -> Result<(String, Option<String>, Option<String>), Refusal> {
    let name = unit.name.trim();
    if name.is_empty() || name.chars().count() > 64 {
        return Err(Refusal::invalid("name", "名称应为 1 到 64 个字符"));
    }
    if known.contains_key(unit.code.as_str()) {
        return Err(Refusal {
            field: "code",
            message: "单位代码已存在".into(),
            conflict: true,
        });
    }
    let parent = match &unit.parent {
        Some(code) => {
            let parent = known
                .get(code.as_str())
                .ok_or_else(|| Refusal::invalid("parent_id", format!("上级单位 {code} 不存在")))?;
            if !parent.2 {
                return Err(Refusal::invalid(
                    "parent_id",
                    format!("上级单位 {code} 已停用"),
                ));
            }
            Some(parent)
        }
        None => None,
    };
    if !unit.kind.may_sit_under(parent.map(|p| p.1)) {
        return Err(Refusal::invalid(
            "parent_id",
            "该类型单位不能设在此上级之下",
        ));
    }
    let staffed_by = match (&unit.staffed_by, unit.kind) {
        (None, _) => None,
        (Some(code), UnitKind::Window) => match known.get(code.as_str()) {
            Some((id, UnitKind::Department | UnitKind::Street, _)) => Some(id.clone()),
            Some(_) => {
                return Err(Refusal::invalid(
                    "staffed_by_id",
                    format!("派驻单位 {code} 应为部门或街道"),
                ));
            }
            None => {
                return Err(Refusal::invalid(
                    "staffed_by_id",
                    format!("派驻单位 {code} 不存在"),
                ));
            }
        },
        (Some(_), _) => {
            return Err(Refusal::invalid("staffed_by_id", "只有窗口才有派驻单位"));
        }
    };
    Ok((name.to_owned(), parent.map(|p| p.0.clone()), staffed_by))
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
        self.insert_units(ctx, tenant_id, units, true).await
    }

    /// Creates one unit (the page and API form); a refusal names its field.
    #[tracing::instrument(skip(self, ctx, unit), fields(code = %unit.code))]
    pub async fn create_unit(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        unit: &NewUnit,
    ) -> Result<String> {
        let ids = self
            .insert_units(ctx, tenant_id, std::slice::from_ref(unit), false)
            .await?;
        ids.into_iter().next().ok_or(StoreError::NotFound)
    }

    async fn insert_units(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        units: &[NewUnit],
        batch: bool,
    ) -> Result<Vec<String>> {
        let existing: HashMap<String, Unit> = self
            .units(tenant_id)
            .await?
            .into_iter()
            .map(|u| (u.code.clone(), u))
            .collect();
        // code -> (id, kind, active) of units known so far, existing first, then the batch
        let mut known: Known = existing
            .values()
            .map(|u| (u.code.clone(), (u.id.clone(), u.kind, u.active)))
            .collect();
        let mut rows = Vec::with_capacity(units.len());
        let mut siblings: HashMap<Option<String>, i32> = HashMap::new();
        for (index, unit) in units.iter().enumerate() {
            let (name, parent_id, staffed_by) =
                check_new_unit(unit, &known).map_err(|r| match (batch, r.conflict) {
                    (true, conflict) => {
                        let m = format!("第 {} 个单位（{}）：{}", index + 1, unit.code, r.message);
                        if conflict {
                            StoreError::Conflict(m)
                        } else {
                            StoreError::Invalid(m)
                        }
                    }
                    (false, true) => StoreError::Conflict(r.message),
                    (false, false) => StoreError::InvalidField {
                        field: r.field,
                        message: r.message,
                    },
                })?;
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
            known.insert(unit.code.to_string(), (id.clone(), unit.kind, true));
            rows.push((id, unit, name, parent_id, staffed_by, *order));
        }

        let now = self.clock.now();
        let row_json = |(id, unit, name, parent_id, staffed_by, order): &(
            String,
            &NewUnit,
            String,
            Option<String>,
            Option<String>,
            i32,
        )| {
            serde_json::json!({
                "id": id, "code": unit.code.as_str(), "name": name, "kind": unit.kind.as_str(),
                "parent_id": parent_id, "staffed_by_id": staffed_by, "sort_order": order,
            })
        };
        let (entity_id, changes) = if batch {
            let digests: Vec<_> = rows
                .iter()
                .map(|row| {
                    serde_json::json!({"id": row.0, "digest": crate::audit::row_digest(&row_json(row))})
                })
                .collect();
            (new_id(), serde_json::json!({"rows": digests}))
        } else {
            (rows[0].0.clone(), row_json(&rows[0]))
        };
        let head = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
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
                history!(tx, tenant_id, ctx, now, &NewHistory {
                    record_type: "unit",
                    record_id: id,
                    event: "created",
                    audience: Audience::Public,
                    detail: serde_json::json!({"code": unit.code.as_str(), "name": name}),
                });
            }
            let head = append!(self, tx, ctx, now, &AuditEntry {
                tenant_id: Some(tenant_id),
                action: "create",
                entity: "unit",
                entity_id: &entity_id,
                changes: changes.clone(),
            });
            tx.commit().await?;
            head
        });
        self.advance_head(head);
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// Changes a unit's name, head, leader or state in one transaction and one audit entry
    /// (changed fields as `[old, new]`); answers the unit as it is now.
    #[tracing::instrument(skip(self, ctx, change))]
    pub async fn update_unit(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        id: &str,
        change: &UnitChange,
    ) -> Result<Unit> {
        let unit = self
            .unit(tenant_id, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let mut changes = serde_json::Map::new();
        let name = match &change.name {
            Some(n) => {
                let n = n.trim();
                if n.is_empty() || n.chars().count() > 64 {
                    return Err(StoreError::InvalidField {
                        field: "name",
                        message: "名称应为 1 到 64 个字符".into(),
                    });
                }
                n.to_owned()
            }
            None => unit.name.clone(),
        };
        if name != unit.name {
            changes.insert("name".into(), serde_json::json!([unit.name, name]));
        }
        let head = match &change.head_staff_id {
            Some(Some(staff_id)) => {
                let staff = self.staff(tenant_id, staff_id).await?;
                match staff {
                    Some(s)
                        if s.active
                            && (s.unit_id == unit.id
                                || s.part_time_unit_ids.contains(&unit.id)) =>
                    {
                        Some(s.id)
                    }
                    _ => {
                        return Err(StoreError::InvalidField {
                            field: "head_staff_id",
                            message: "负责人须为本单位（含兼职）的在职人员".into(),
                        });
                    }
                }
            }
            Some(None) => None,
            None => unit.head_staff_id.clone(),
        };
        if head != unit.head_staff_id {
            changes.insert(
                "head_staff_id".into(),
                serde_json::json!([unit.head_staff_id, head]),
            );
        }
        let leader = match &change.leader_staff_id {
            Some(Some(staff_id)) => {
                let staff = self.staff(tenant_id, staff_id).await?;
                let office = match &staff {
                    Some(s) => self.unit(tenant_id, &s.unit_id).await?,
                    None => None,
                };
                match (staff, office) {
                    (Some(s), Some(o)) if s.active && o.kind == UnitKind::DistrictOffice => {
                        Some(s.id)
                    }
                    _ => {
                        return Err(StoreError::InvalidField {
                            field: "leader_staff_id",
                            message: "分管区领导须为区委区政府办公室的在职人员".into(),
                        });
                    }
                }
            }
            Some(None) => None,
            None => unit.leader_staff_id.clone(),
        };
        if leader != unit.leader_staff_id {
            changes.insert(
                "leader_staff_id".into(),
                serde_json::json!([unit.leader_staff_id, leader]),
            );
        }
        let active = change.active.unwrap_or(unit.active);
        if active
            && !unit.active
            && let Some(day) = unit.dissolved_on
        {
            return Err(StoreError::Conflict(format!(
                "该单位已于 {day} 撤并，不能启用；如需恢复，请登记新的机构调整"
            )));
        }
        if active
            && !unit.active
            && let Some(parent) = &unit.parent_id
            && !self
                .unit(tenant_id, parent)
                .await?
                .is_some_and(|p| p.active)
        {
            return Err(StoreError::Conflict(
                "上级单位已停用，须先启用上级单位".into(),
            ));
        }
        if active != unit.active {
            changes.insert("active".into(), serde_json::json!([unit.active, active]));
        }
        if changes.is_empty() {
            return Ok(unit);
        }
        let now = self.clock.now();
        let head_entry = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            if !active {
                // inside the transaction, so a child created meanwhile cannot slip through
                let children: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM unit WHERE tenant_id = $1 AND parent_id = $2 AND active = TRUE",
                )
                .bind(tenant_id)
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
                if children > 0 {
                    return Err(StoreError::Conflict(format!(
                        "该单位还有 {children} 个正常的下级单位，须先停用下级单位"
                    )));
                }
            }
            sqlx::query(
                "UPDATE unit SET name = $3, head_staff_id = $4, leader_staff_id = $5, active = $6, updated_at = $7 \
                 WHERE tenant_id = $1 AND id = $2",
            )
            .bind(tenant_id)
            .bind(id)
            .bind(&name)
            .bind(&head)
            .bind(&leader)
            .bind(active)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            for (field, values) in &changes {
                let (event, detail) = match field.as_str() {
                    "name" => ("name_corrected", serde_json::json!({"from": values[0], "to": values[1]})),
                    "active" if active => ("enabled", serde_json::json!({})),
                    "active" => ("disabled", serde_json::json!({})),
                    "head_staff_id" => ("head_changed", serde_json::json!({})),
                    _ => ("leader_changed", serde_json::json!({})),
                };
                history!(tx, tenant_id, ctx, now, &NewHistory {
                    record_type: "unit",
                    record_id: id,
                    event,
                    audience: Audience::Internal,
                    detail,
                });
            }
            let head_entry = append!(self, tx, ctx, now, &AuditEntry {
                tenant_id: Some(tenant_id),
                action: "update",
                entity: "unit",
                entity_id: id,
                changes: serde_json::Value::Object(changes.clone()),
            });
            tx.commit().await?;
            head_entry
        });
        self.advance_head(head_entry);
        self.unit(tenant_id, id).await?.ok_or(StoreError::NotFound)
    }

    /// Enables or disables a unit (see [`UnitChange::active`]).
    pub async fn set_unit_active(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        id: &str,
        active: bool,
    ) -> Result<Unit> {
        let change = UnitChange {
            active: Some(active),
            ..UnitChange::default()
        };
        self.update_unit(ctx, tenant_id, id, &change).await
    }

    /// Sets heads and leaders of many units in one transaction and one audit entry with a
    /// digest per unit (demo seeding; later the import).
    pub(crate) async fn assign_unit_heads(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        rows: &[(String, Option<String>, Option<String>)],
    ) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let now = self.clock.now();
        let batch_id = new_id();
        let digests: Vec<_> = rows
            .iter()
            .map(|(id, head, leader)| {
                let row =
                    serde_json::json!({"id": id, "head_staff_id": head, "leader_staff_id": leader});
                serde_json::json!({"id": id, "digest": crate::audit::row_digest(&row)})
            })
            .collect();
        let head_entry = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            for (id, head, leader) in rows {
                sqlx::query(
                    "UPDATE unit SET head_staff_id = $3, leader_staff_id = $4, updated_at = $5 WHERE tenant_id = $1 AND id = $2",
                )
                .bind(tenant_id)
                .bind(id)
                .bind(head)
                .bind(leader)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            let head_entry = append!(self, tx, ctx, now, &AuditEntry {
                tenant_id: Some(tenant_id),
                action: "update",
                entity: "unit",
                entity_id: &batch_id,
                changes: serde_json::json!({"rows": digests}),
            });
            tx.commit().await?;
            head_entry
        });
        self.advance_head(head_entry);
        Ok(())
    }

    /// Every unit of the tenant, parents before children's siblings order.
    pub async fn units(&self, tenant_id: &str) -> Result<Vec<Unit>> {
        self.cached(format!("units|{tenant_id}"), self.load_units(tenant_id))
            .await
    }

    async fn load_units(&self, tenant_id: &str) -> Result<Vec<Unit>> {
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
        // kept between requests with the tenant's other units: a rating, an appeal or a page
        // names its unit on every request
        let by_id = self
            .cached(format!("unit_map|{tenant_id}"), async {
                let units = self.load_units(tenant_id).await?;
                Ok(Arc::new(
                    units
                        .into_iter()
                        .map(|u| (u.id.clone(), u))
                        .collect::<HashMap<String, Unit>>(),
                ))
            })
            .await?;
        Ok(by_id.get(id).cloned())
    }
}
