//! Reorganisation (机构改革): renames, merges and splits of units that take effect on a date.
//!
//! A reorganisation is recorded as a plan; on its effective date (at once when the date has
//! come, otherwise by [`Store::apply_due_reorganisations`], which the server runs every
//! minute) the plan is checked again against the organisation as it then is and carried out
//! in one transaction with one audit entry and a timeline entry on every unit it touches.
//! Units are never deleted or re-used: a dissolved unit keeps its id, name and records, a
//! renamed unit keeps its former names with the day each ended, so history stays attributed
//! to the unit as it was. Inactive staff, sub-units and disabled accounts stay where they were.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use domain::history::Audience;
use domain::org::UnitCode;
use domain::reorg::{ReorgAction, ReorgKind, ReorgState};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit::{AuditCtx, AuditEntry, append};
use crate::db::{BeginWrite, with_pool};
use crate::history::{NewHistory, history};
use crate::page::{Page, PageRequest};
use crate::unit::Unit;
use crate::{Result, Store, StoreError, new_id};

/// A new unit made by a merge or a split: code (new in the tenant) and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewPart {
    /// Code, new in the tenant.
    pub code: String,
    /// Name, 1–64 characters.
    pub name: String,
}

/// What a split moves to one of its new units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MoveWhat {
    /// A staff member whose primary unit is the source.
    Staff,
    /// A sub-unit of the source, or a window it staffs.
    Unit,
    /// An account bound to the source.
    Account,
}

/// One item a split moves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Move {
    /// What it is.
    pub what: MoveWhat,
    /// Its id.
    pub id: String,
    /// The code of the new unit it goes to.
    pub to: String,
}

/// What a reorganisation does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Plan {
    /// A unit gets a new name.
    Rename {
        /// The unit.
        unit_id: String,
        /// Its new name.
        name: String,
    },
    /// Units are dissolved into an existing unit (`target_id`) or a new one (`new_target`,
    /// of the sources' kind, under the first source's parent).
    Merge {
        /// The units dissolved, all of one kind.
        source_ids: Vec<String>,
        /// The existing unit they merge into.
        target_id: Option<String>,
        /// Or the new unit they form.
        new_target: Option<NewPart>,
    },
    /// New units (of the source's kind, beside it) take over named staff, sub-units and
    /// accounts; a dissolved source hands everything not named to the first new unit.
    Split {
        /// The unit split.
        source_id: String,
        /// Whether the source goes on existing.
        keep_source: bool,
        /// The new units.
        parts: Vec<NewPart>,
        /// What goes where.
        moves: Vec<Move>,
    },
}

impl Plan {
    /// Its kind.
    pub fn kind(&self) -> ReorgKind {
        match self {
            Plan::Rename { .. } => ReorgKind::Rename,
            Plan::Merge { .. } => ReorgKind::Merge,
            Plan::Split { .. } => ReorgKind::Split,
        }
    }

    /// The existing units it changes or dissolves.
    fn sources(&self) -> Vec<&str> {
        match self {
            Plan::Rename { unit_id, .. } => vec![unit_id],
            Plan::Merge { source_ids, .. } => source_ids.iter().map(String::as_str).collect(),
            Plan::Split { source_id, .. } => vec![source_id],
        }
    }
}

/// A reorganisation to record.
#[derive(Debug, Clone)]
pub struct NewReorganisation {
    /// The day it takes effect.
    pub effective_on: NaiveDate,
    /// The document that decides it (文号), e.g. 槐编〔2026〕5号.
    pub document: String,
    /// What it does.
    pub plan: Plan,
}

/// A reorganisation as stored.
#[derive(Debug, Clone)]
pub struct Reorganisation {
    /// Its id.
    pub id: String,
    /// Where it stands.
    pub state: ReorgState,
    /// The day it takes effect.
    pub effective_on: NaiveDate,
    /// The deciding document.
    pub document: String,
    /// What it does.
    pub plan: Plan,
    /// Why it could not be carried out on its day, if so (it is tried again every minute).
    pub last_error: Option<String>,
    /// Recorded at.
    pub created_at: DateTime<Utc>,
    /// Carried out at.
    pub applied_at: Option<DateTime<Utc>>,
    /// Units it touches: `(unit id, "source" | "target")`; targets made by it appear once
    /// it has been applied.
    pub units: Vec<(String, String)>,
}

#[derive(sqlx::FromRow)]
struct ReorgRow {
    id: String,
    state: String,
    effective_on: String,
    document: String,
    plan: String,
    last_error: Option<String>,
    created_at: DateTime<Utc>,
    applied_at: Option<DateTime<Utc>>,
}

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Other(anyhow::anyhow!("reorganisation: {what}"))
}

impl ReorgRow {
    fn into_reorg(self, units: Vec<(String, String)>) -> Result<Reorganisation> {
        Ok(Reorganisation {
            state: self.state.parse().map_err(corrupt)?,
            effective_on: self.effective_on.parse().map_err(corrupt)?,
            plan: serde_json::from_str(&self.plan).map_err(corrupt)?,
            id: self.id,
            document: self.document,
            last_error: self.last_error,
            created_at: self.created_at,
            applied_at: self.applied_at,
            units,
        })
    }
}

const COLUMNS: &str = "id, state, effective_on, document, plan, last_error, created_at, applied_at";

/// One step of carrying out a plan, in order; also what the audit entry records.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Op {
    CreateUnit {
        id: String,
        code: String,
        name: String,
        kind: &'static str,
        parent_id: Option<String>,
        staffed_by_id: Option<String>,
        sort_order: i32,
    },
    Rename {
        unit_id: String,
        from: String,
        to: String,
    },
    MoveStaff {
        staff_id: String,
        to: String,
    },
    MovePartTime {
        from: String,
        to: String,
    },
    MoveChild {
        unit_id: String,
        to: String,
    },
    MoveStaffedWindow {
        unit_id: String,
        to: String,
    },
    MoveAccount {
        account_id: String,
        to: String,
    },
    Dissolve {
        unit_id: String,
    },
    ClearHeadIfGone {
        unit_id: String,
    },
}

/// The organisation as a plan is checked against.
struct World {
    units: HashMap<String, Unit>,
    by_code: HashMap<String, String>,
    /// (id, name, primary unit) of active staff.
    staff: Vec<(String, String, String)>,
    /// (id, username, unit) of enabled accounts bound to a unit.
    accounts: Vec<(String, String, String)>,
    /// Units named by other planned reorganisations: unit id -> document.
    busy: HashMap<String, String>,
}

fn refuse(field: &'static str, message: impl Into<String>) -> StoreError {
    StoreError::InvalidField {
        field,
        message: message.into(),
    }
}

fn check_name(field: &'static str, name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 {
        return Err(refuse(field, "名称应为 1 到 64 个字符"));
    }
    Ok(name.to_owned())
}

impl World {
    fn unit(&self, field: &'static str, id: &str) -> Result<&Unit> {
        let unit = self
            .units
            .get(id)
            .ok_or_else(|| refuse(field, format!("单位 {id} 不存在")))?;
        if let Some(day) = unit.dissolved_on {
            return Err(refuse(field, format!("单位“{}”已于 {day} 撤并", unit.name)));
        }
        if !unit.active {
            return Err(refuse(field, format!("单位“{}”已停用", unit.name)));
        }
        if let Some(document) = self.busy.get(id) {
            return Err(refuse(
                field,
                format!(
                    "单位“{}”已有待生效的机构调整（{document}），请先撤销该调整或待其生效",
                    unit.name
                ),
            ));
        }
        Ok(unit)
    }

    /// Checks new units' codes and names (against the tenant and each other).
    fn check_parts(&self, field: &'static str, parts: &[NewPart]) -> Result<Vec<NewPart>> {
        let mut seen = HashSet::new();
        parts
            .iter()
            .map(|p| {
                let code = UnitCode::parse(&p.code)
                    .map_err(|e| refuse(field, format!("新单位代码“{}”：{e}", p.code)))?;
                if self.by_code.contains_key(code.as_str()) || !seen.insert(code.to_string()) {
                    return Err(refuse(field, format!("单位代码 {code} 已存在")));
                }
                let name = check_name(field, &p.name).map_err(|_| {
                    refuse(field, format!("新单位 {code} 的名称应为 1 到 64 个字符"))
                })?;
                Ok(NewPart {
                    code: code.to_string(),
                    name,
                })
            })
            .collect()
    }

    fn next_order(&self, parent: Option<&str>) -> i32 {
        self.units
            .values()
            .filter(|u| u.parent_id.as_deref() == parent)
            .map(|u| u.sort_order)
            .max()
            .unwrap_or(0)
            + 1
    }

    /// Everything active under or staffed by `from`, and accounts bound to it, moved to `to`;
    /// `except` names items moved elsewhere.
    fn hand_over(
        &self,
        from: &str,
        to: &str,
        except: &HashSet<(MoveWhat, &str)>,
        ops: &mut Vec<Op>,
    ) {
        for (id, _, unit) in &self.staff {
            if unit == from && !except.contains(&(MoveWhat::Staff, id.as_str())) {
                ops.push(Op::MoveStaff {
                    staff_id: id.clone(),
                    to: to.to_owned(),
                });
            }
        }
        ops.push(Op::MovePartTime {
            from: from.to_owned(),
            to: to.to_owned(),
        });
        let mut units: Vec<&Unit> = self.units.values().filter(|u| u.active).collect();
        units.sort_by_key(|u| (u.sort_order, u.code.clone()));
        for u in units {
            if except.contains(&(MoveWhat::Unit, u.id.as_str())) {
                continue;
            }
            if u.parent_id.as_deref() == Some(from) {
                ops.push(Op::MoveChild {
                    unit_id: u.id.clone(),
                    to: to.to_owned(),
                });
            }
            if u.staffed_by_id.as_deref() == Some(from) {
                ops.push(Op::MoveStaffedWindow {
                    unit_id: u.id.clone(),
                    to: to.to_owned(),
                });
            }
        }
        for (id, _, unit) in &self.accounts {
            if unit == from && !except.contains(&(MoveWhat::Account, id.as_str())) {
                ops.push(Op::MoveAccount {
                    account_id: id.clone(),
                    to: to.to_owned(),
                });
            }
        }
    }

    /// Checks a plan and answers the steps that carry it out, with the history entries
    /// (unit id, event, detail) and the units it touches (unit id, role).
    fn steps(&self, plan: &Plan, document: &str, effective_on: NaiveDate) -> Result<Steps> {
        let mut steps = Steps::default();
        let reorg = json!({"document": document, "effective_on": effective_on.to_string()});
        let with = |extra: serde_json::Value| {
            let mut detail = reorg.clone();
            if let (Some(d), Some(e)) = (detail.as_object_mut(), extra.as_object()) {
                d.extend(e.clone());
            }
            detail
        };
        match plan {
            Plan::Rename { unit_id, name } => {
                let unit = self.unit("unit_id", unit_id)?;
                let name = check_name("name", name)?;
                if name == unit.name {
                    return Err(refuse("name", "新名称与现名称相同"));
                }
                steps.ops.push(Op::Rename {
                    unit_id: unit.id.clone(),
                    from: unit.name.clone(),
                    to: name.clone(),
                });
                steps.history.push((
                    unit.id.clone(),
                    "renamed",
                    with(json!({"from": unit.name, "to": name})),
                ));
                steps.touched.push((unit.id.clone(), "source"));
            }
            Plan::Merge {
                source_ids,
                target_id,
                new_target,
            } => {
                let mut sources: Vec<&Unit> = Vec::new();
                for id in source_ids {
                    let unit = self.unit("source_ids", id)?;
                    if sources.iter().any(|s| s.id == unit.id) {
                        return Err(refuse("source_ids", format!("单位“{}”重复列出", unit.name)));
                    }
                    if let Some(first) = sources.first()
                        && first.kind != unit.kind
                    {
                        return Err(refuse("source_ids", "合并的单位须为同一类型"));
                    }
                    sources.push(unit);
                }
                let Some(first) = sources.first() else {
                    return Err(refuse("source_ids", "请列出被合并的单位"));
                };
                let (target_id, target_name) = match (target_id, new_target) {
                    (Some(id), None) => {
                        let target = self.unit("target_id", id)?;
                        if sources.iter().any(|s| s.id == target.id) {
                            return Err(refuse("target_id", "合并后的单位不能同时是被合并的单位"));
                        }
                        if target.kind != first.kind {
                            return Err(refuse(
                                "target_id",
                                "合并后的单位须与被合并的单位同一类型",
                            ));
                        }
                        (target.id.clone(), target.name.clone())
                    }
                    (None, Some(part)) => {
                        if sources.len() < 2 {
                            return Err(refuse(
                                "source_ids",
                                "合并组建新单位至少需要两个单位；单个单位改名请用“更名”",
                            ));
                        }
                        let part = self
                            .check_parts("new_target", std::slice::from_ref(part))?
                            .remove(0);
                        let id = new_id();
                        steps.ops.push(Op::CreateUnit {
                            id: id.clone(),
                            code: part.code,
                            name: part.name.clone(),
                            kind: first.kind.as_str(),
                            parent_id: first.parent_id.clone(),
                            staffed_by_id: first.staffed_by_id.clone(),
                            sort_order: self.next_order(first.parent_id.as_deref()),
                        });
                        (id, part.name)
                    }
                    _ => {
                        return Err(refuse(
                            "target_id",
                            "请指定合并后的单位：已有单位或新单位（二选一）",
                        ));
                    }
                };
                let none = HashSet::new();
                for source in &sources {
                    self.hand_over(&source.id, &target_id, &none, &mut steps.ops);
                    steps.ops.push(Op::Dissolve {
                        unit_id: source.id.clone(),
                    });
                    steps.history.push((
                        source.id.clone(),
                        "merged_into",
                        with(json!({"target_id": target_id, "target_name": target_name})),
                    ));
                    steps.touched.push((source.id.clone(), "source"));
                }
                let names: Vec<_> = sources
                    .iter()
                    .map(|s| json!({"id": s.id, "name": s.name}))
                    .collect();
                steps.history.push((
                    target_id.clone(),
                    "merged_from",
                    with(json!({"sources": names})),
                ));
                steps.touched.push((target_id, "target"));
            }
            Plan::Split {
                source_id,
                keep_source,
                parts,
                moves,
            } => {
                let source = self.unit("source_id", source_id)?;
                if parts.is_empty() || (!keep_source && parts.len() < 2) {
                    return Err(refuse(
                        "parts",
                        if *keep_source {
                            "请列出拆分出的新单位"
                        } else {
                            "撤销原单位的拆分至少需要两个新单位；单个单位改名请用“更名”"
                        },
                    ));
                }
                let parts = self.check_parts("parts", parts)?;
                let mut ids = HashMap::new();
                let first_order = self.next_order(source.parent_id.as_deref());
                for (order, part) in (first_order..).zip(&parts) {
                    let id = new_id();
                    ids.insert(part.code.clone(), id.clone());
                    steps.ops.push(Op::CreateUnit {
                        id,
                        code: part.code.clone(),
                        name: part.name.clone(),
                        kind: source.kind.as_str(),
                        parent_id: source.parent_id.clone(),
                        staffed_by_id: source.staffed_by_id.clone(),
                        sort_order: order,
                    });
                }
                let mut moved = HashSet::new();
                for m in moves {
                    let to = ids.get(m.to.trim()).ok_or_else(|| {
                        refuse("moves", format!("去向 {} 不是拆分出的新单位", m.to))
                    })?;
                    if !moved.insert((m.what, m.id.as_str())) {
                        return Err(refuse("moves", format!("{} 重复指定了去向", m.id)));
                    }
                    let op = match m.what {
                        MoveWhat::Staff => self
                            .staff
                            .iter()
                            .find(|(id, _, unit)| *id == m.id && *unit == source.id)
                            .map(|(id, ..)| Op::MoveStaff {
                                staff_id: id.clone(),
                                to: to.clone(),
                            })
                            .ok_or_else(|| {
                                refuse("moves", format!("人员 {} 不是原单位的在职人员", m.id))
                            })?,
                        MoveWhat::Account => self
                            .accounts
                            .iter()
                            .find(|(id, _, unit)| *id == m.id && *unit == source.id)
                            .map(|(id, ..)| Op::MoveAccount {
                                account_id: id.clone(),
                                to: to.clone(),
                            })
                            .ok_or_else(|| {
                                refuse("moves", format!("账号 {} 不属于原单位", m.id))
                            })?,
                        MoveWhat::Unit => match self.units.get(&m.id) {
                            Some(u) if u.active && u.parent_id.as_deref() == Some(&source.id) => {
                                Op::MoveChild {
                                    unit_id: u.id.clone(),
                                    to: to.clone(),
                                }
                            }
                            Some(u)
                                if u.active && u.staffed_by_id.as_deref() == Some(&source.id) =>
                            {
                                Op::MoveStaffedWindow {
                                    unit_id: u.id.clone(),
                                    to: to.clone(),
                                }
                            }
                            _ => {
                                return Err(refuse(
                                    "moves",
                                    format!("单位 {} 不是原单位的下级单位或派驻窗口", m.id),
                                ));
                            }
                        },
                    };
                    steps.ops.push(op);
                }
                let first = &ids[&parts[0].code];
                if *keep_source {
                    steps.ops.push(Op::ClearHeadIfGone {
                        unit_id: source.id.clone(),
                    });
                } else {
                    self.hand_over(&source.id, first, &moved, &mut steps.ops);
                    steps.ops.push(Op::Dissolve {
                        unit_id: source.id.clone(),
                    });
                }
                let made: Vec<_> = parts
                    .iter()
                    .map(|p| json!({"id": ids[&p.code], "name": p.name}))
                    .collect();
                steps.history.push((
                    source.id.clone(),
                    "split_into",
                    with(json!({"parts": made, "kept": keep_source})),
                ));
                steps.touched.push((source.id.clone(), "source"));
                for part in &parts {
                    let id = &ids[&part.code];
                    steps.history.push((
                        id.clone(),
                        "split_from",
                        with(json!({"source_id": source.id, "source_name": source.name})),
                    ));
                    steps.touched.push((id.clone(), "target"));
                }
            }
        }
        Ok(steps)
    }
}

#[derive(Default)]
struct Steps {
    ops: Vec<Op>,
    history: Vec<(String, &'static str, serde_json::Value)>,
    touched: Vec<(String, &'static str)>,
}

fn check_document(document: &str) -> Result<String> {
    let document = document.trim();
    if document.is_empty() || document.chars().count() > 64 {
        return Err(refuse(
            "document",
            "请填写决定调整的文件文号（1 到 64 个字符）",
        ));
    }
    Ok(document.to_owned())
}

impl Store {
    /// Today in Asia/Shanghai, by the store's clock.
    pub fn today(&self) -> NaiveDate {
        self.clock
            .now()
            .with_timezone(&domain::calendar::shanghai())
            .date_naive()
    }

    async fn world(&self, tenant_id: &str, except_reorg: Option<&str>) -> Result<World> {
        let units: HashMap<String, Unit> = self
            .units(tenant_id)
            .await?
            .into_iter()
            .map(|u| (u.id.clone(), u))
            .collect();
        let by_code = units
            .values()
            .map(|u| (u.code.clone(), u.id.clone()))
            .collect();
        let (staff, accounts, busy) = with_pool!(self, pool => {
            let staff: Vec<(String, String, String)> = sqlx::query_as(
                "SELECT id, name, unit_id FROM staff WHERE tenant_id = $1 AND active = TRUE ORDER BY name, id",
            )
            .bind(tenant_id)
            .fetch_all(pool)
            .await?;
            let accounts: Vec<(String, String, String)> = sqlx::query_as(
                "SELECT id, username, unit_id FROM account \
                 WHERE tenant_id = $1 AND unit_id IS NOT NULL AND disabled = FALSE ORDER BY username",
            )
            .bind(tenant_id)
            .fetch_all(pool)
            .await?;
            let busy: Vec<(String, String)> = sqlx::query_as(
                "SELECT ru.unit_id, r.document FROM reorganisation_unit ru \
                 JOIN reorganisation r ON r.tenant_id = ru.tenant_id AND r.id = ru.reorganisation_id \
                 WHERE ru.tenant_id = $1 AND r.state = 'planned' AND ($2 IS NULL OR r.id <> $2)",
            )
            .bind(tenant_id)
            .bind(except_reorg)
            .fetch_all(pool)
            .await?;
            (staff, accounts, busy)
        });
        Ok(World {
            units,
            by_code,
            staff,
            accounts,
            busy: busy.into_iter().collect(),
        })
    }

    /// Records a reorganisation after checking it against the organisation as it is; one
    /// whose day has come is carried out at once (same call). Answers it as stored.
    #[tracing::instrument(skip(self, ctx, new), fields(kind = %new.plan.kind()))]
    pub async fn create_reorganisation(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        new: &NewReorganisation,
    ) -> Result<Reorganisation> {
        let document = check_document(&new.document)?;
        if new.effective_on < NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default() {
            return Err(refuse("effective_on", "生效日期不能早于 2000 年"));
        }
        let world = self.world(tenant_id, None).await?;
        let steps = world.steps(&new.plan, &document, new.effective_on)?;
        let id = new_id();
        let now = self.clock.now();
        let plan = serde_json::to_string(&new.plan).map_err(corrupt)?;
        let kind = new.plan.kind();
        let changes = json!({
            "kind": kind.as_str(), "effective_on": new.effective_on.to_string(),
            "document": document, "plan": new.plan,
        });
        let sources = new.plan.sources();
        let head = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "INSERT INTO reorganisation (tenant_id, id, kind, state, effective_on, document, plan, created_at, updated_at) \
                 VALUES ($1, $2, $3, 'planned', $4, $5, $6, $7, $7)",
            )
            .bind(tenant_id)
            .bind(&id)
            .bind(kind.as_str())
            .bind(new.effective_on.to_string())
            .bind(&document)
            .bind(&plan)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            for (unit_id, role) in &steps.touched {
                // targets made by the plan do not exist yet: linked when it is applied
                if *role == "source" || world.units.contains_key(unit_id) {
                    sqlx::query(
                        "INSERT INTO reorganisation_unit (tenant_id, reorganisation_id, unit_id, role) VALUES ($1, $2, $3, $4)",
                    )
                    .bind(tenant_id)
                    .bind(&id)
                    .bind(unit_id)
                    .bind(role)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            for unit_id in &sources {
                history!(tx, tenant_id, ctx, now, &NewHistory {
                    record_type: "unit",
                    record_id: unit_id,
                    event: "reorg_planned",
                    audience: Audience::Public,
                    detail: json!({"reorganisation_id": id, "kind": kind.as_str(),
                        "document": document, "effective_on": new.effective_on.to_string()}),
                });
            }
            let head = append!(self, tx, ctx, now, &AuditEntry {
                tenant_id: Some(tenant_id),
                action: "create",
                entity: "reorganisation",
                entity_id: &id,
                changes: changes.clone(),
            });
            tx.commit().await?;
            head
        });
        self.advance_head(head);
        if new.effective_on <= self.today() {
            self.apply_reorganisation(ctx, tenant_id, &id).await?;
        }
        self.reorganisation(tenant_id, &id)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// The reorganisation, if `action` may be taken on it today (else a conflict saying why).
    async fn allowing(
        &self,
        tenant_id: &str,
        id: &str,
        action: ReorgAction,
    ) -> Result<Reorganisation> {
        let reorg = self
            .reorganisation(tenant_id, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        domain::reorg::next(reorg.state, action, reorg.effective_on, self.today())
            .map_err(|r| StoreError::Conflict(r.to_string()))?;
        Ok(reorg)
    }

    /// Carries out a planned reorganisation whose day has come, in one transaction.
    pub async fn apply_reorganisation(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        id: &str,
    ) -> Result<Reorganisation> {
        let reorg = self.allowing(tenant_id, id, ReorgAction::Apply).await?;
        let world = self.world(tenant_id, Some(id)).await?;
        let steps = world
            .steps(&reorg.plan, &reorg.document, reorg.effective_on)
            .map_err(|e| match e {
                StoreError::InvalidField { message, .. } => StoreError::Conflict(format!(
                    "机构调整（{}）无法执行：{message}",
                    reorg.document
                )),
                other => other,
            })?;
        let now = self.clock.now();
        let day = reorg.effective_on.to_string();
        let head = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            // the state moves first, so a second applier (the minute job, a retry) finds nothing to do
            let claimed = sqlx::query(
                "UPDATE reorganisation SET state = 'applied', applied_at = $3, updated_at = $3, last_error = NULL \
                 WHERE tenant_id = $1 AND id = $2 AND state = 'planned'",
            )
            .bind(tenant_id)
            .bind(id)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if claimed != 1 {
                return Err(StoreError::Conflict(domain::reorg::ReorgRefusal::AlreadyApplied.to_string()));
            }
            for op in &steps.ops {
                match op {
                    Op::CreateUnit { id: unit_id, code, name, kind, parent_id, staffed_by_id, sort_order } => {
                        sqlx::query(
                            "INSERT INTO unit (tenant_id, id, code, name, kind, parent_id, staffed_by_id, sort_order, active, created_at, updated_at) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, TRUE, $9, $9)",
                        )
                        .bind(tenant_id).bind(unit_id).bind(code).bind(name).bind(kind)
                        .bind(parent_id).bind(staffed_by_id).bind(sort_order).bind(now)
                        .execute(&mut *tx).await?;
                    }
                    Op::Rename { unit_id, from, to } => {
                        sqlx::query(
                            "INSERT INTO unit_former_name (tenant_id, unit_id, valid_until, name, reorganisation_id) VALUES ($1, $2, $3, $4, $5)",
                        )
                        .bind(tenant_id).bind(unit_id).bind(&day).bind(from).bind(id)
                        .execute(&mut *tx).await?;
                        sqlx::query("UPDATE unit SET name = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2")
                            .bind(tenant_id).bind(unit_id).bind(to).bind(now)
                            .execute(&mut *tx).await?;
                    }
                    Op::MoveStaff { staff_id, to } => {
                        sqlx::query("UPDATE staff SET unit_id = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2")
                            .bind(tenant_id).bind(staff_id).bind(to).bind(now)
                            .execute(&mut *tx).await?;
                        sqlx::query("DELETE FROM staff_unit WHERE tenant_id = $1 AND staff_id = $2 AND unit_id = $3")
                            .bind(tenant_id).bind(staff_id).bind(to)
                            .execute(&mut *tx).await?;
                    }
                    Op::MovePartTime { from, to } => {
                        // a post the person already holds at the target (primary or part-time) is not doubled
                        sqlx::query(
                            "DELETE FROM staff_unit WHERE tenant_id = $1 AND unit_id = $2 AND (\
                             staff_id IN (SELECT id FROM staff WHERE tenant_id = $1 AND unit_id = $3) \
                             OR staff_id IN (SELECT t.staff_id FROM staff_unit t WHERE t.tenant_id = $1 AND t.unit_id = $3))",
                        )
                        .bind(tenant_id).bind(from).bind(to)
                        .execute(&mut *tx).await?;
                        sqlx::query("UPDATE staff_unit SET unit_id = $3 WHERE tenant_id = $1 AND unit_id = $2")
                            .bind(tenant_id).bind(from).bind(to)
                            .execute(&mut *tx).await?;
                    }
                    Op::MoveChild { unit_id, to } => {
                        sqlx::query("UPDATE unit SET parent_id = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2")
                            .bind(tenant_id).bind(unit_id).bind(to).bind(now)
                            .execute(&mut *tx).await?;
                    }
                    Op::MoveStaffedWindow { unit_id, to } => {
                        sqlx::query("UPDATE unit SET staffed_by_id = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2")
                            .bind(tenant_id).bind(unit_id).bind(to).bind(now)
                            .execute(&mut *tx).await?;
                    }
                    Op::MoveAccount { account_id, to } => {
                        sqlx::query("UPDATE account SET unit_id = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2")
                            .bind(tenant_id).bind(account_id).bind(to).bind(now)
                            .execute(&mut *tx).await?;
                    }
                    Op::Dissolve { unit_id } => {
                        sqlx::query(
                            "UPDATE unit SET active = FALSE, dissolved_on = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2",
                        )
                        .bind(tenant_id).bind(unit_id).bind(&day).bind(now)
                        .execute(&mut *tx).await?;
                    }
                    Op::ClearHeadIfGone { unit_id } => {
                        sqlx::query(
                            "UPDATE unit SET head_staff_id = NULL, updated_at = $3 WHERE tenant_id = $1 AND id = $2 \
                             AND head_staff_id IS NOT NULL \
                             AND head_staff_id NOT IN (SELECT s.id FROM staff s WHERE s.tenant_id = $1 AND s.unit_id = $2) \
                             AND head_staff_id NOT IN (SELECT p.staff_id FROM staff_unit p WHERE p.tenant_id = $1 AND p.unit_id = $2)",
                        )
                        .bind(tenant_id).bind(unit_id).bind(now)
                        .execute(&mut *tx).await?;
                    }
                }
            }
            for (unit_id, role) in &steps.touched {
                sqlx::query(
                    "INSERT INTO reorganisation_unit (tenant_id, reorganisation_id, unit_id, role) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT DO NOTHING",
                )
                .bind(tenant_id).bind(id).bind(unit_id).bind(role)
                .execute(&mut *tx).await?;
            }
            for (unit_id, event, detail) in &steps.history {
                let mut detail = detail.clone();
                if let Some(d) = detail.as_object_mut() {
                    d.insert("reorganisation_id".into(), json!(id));
                }
                history!(tx, tenant_id, ctx, now, &NewHistory {
                    record_type: "unit",
                    record_id: unit_id,
                    event,
                    audience: Audience::Public,
                    detail,
                });
            }
            let head = append!(self, tx, ctx, now, &AuditEntry {
                tenant_id: Some(tenant_id),
                action: "apply",
                entity: "reorganisation",
                entity_id: id,
                changes: json!({"state": ["planned", "applied"], "ops": steps.ops}),
            });
            tx.commit().await?;
            head
        });
        self.advance_head(head);
        self.reorganisation(tenant_id, id)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// Withdraws a planned reorganisation.
    pub async fn cancel_reorganisation(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        id: &str,
    ) -> Result<Reorganisation> {
        let reorg = self.allowing(tenant_id, id, ReorgAction::Cancel).await?;
        let now = self.clock.now();
        let sources = reorg.plan.sources();
        let head = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let claimed = sqlx::query(
                "UPDATE reorganisation SET state = 'cancelled', updated_at = $3 \
                 WHERE tenant_id = $1 AND id = $2 AND state = 'planned'",
            )
            .bind(tenant_id)
            .bind(id)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if claimed != 1 {
                return Err(StoreError::Conflict(domain::reorg::ReorgRefusal::AlreadyApplied.to_string()));
            }
            for unit_id in &sources {
                history!(tx, tenant_id, ctx, now, &NewHistory {
                    record_type: "unit",
                    record_id: unit_id,
                    event: "reorg_cancelled",
                    audience: Audience::Public,
                    detail: json!({"reorganisation_id": id, "kind": reorg.plan.kind().as_str(),
                        "document": reorg.document, "effective_on": reorg.effective_on.to_string()}),
                });
            }
            let head = append!(self, tx, ctx, now, &AuditEntry {
                tenant_id: Some(tenant_id),
                action: "cancel",
                entity: "reorganisation",
                entity_id: id,
                changes: json!({"state": ["planned", "cancelled"]}),
            });
            tx.commit().await?;
            head
        });
        self.advance_head(head);
        self.reorganisation(tenant_id, id)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// Carries out every planned reorganisation whose day has come, in every tenant, as the
    /// system. One that cannot be carried out keeps its plan and records why (audited when the
    /// reason changes); it is tried again next time. Answers how many were applied.
    pub async fn apply_due_reorganisations(&self) -> Result<usize> {
        let today = self.today().to_string();
        let due: Vec<(String, String, Option<String>)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT tenant_id, id, last_error FROM reorganisation \
                 WHERE state = 'planned' AND effective_on <= $1 ORDER BY effective_on, created_at",
            )
            .bind(&today)
            .fetch_all(pool)
            .await?
        });
        let ctx = AuditCtx::system();
        let mut applied = 0;
        for (tenant_id, id, last_error) in due {
            match self.apply_reorganisation(&ctx, &tenant_id, &id).await {
                Ok(_) => applied += 1,
                Err(StoreError::Conflict(reason)) => {
                    tracing::warn!(%tenant_id, reorganisation = %id, %reason, "reorganisation not applied");
                    if last_error.as_deref() != Some(reason.as_str()) {
                        self.note_reorg_error(&ctx, &tenant_id, &id, &reason)
                            .await?;
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Ok(applied)
    }

    async fn note_reorg_error(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        id: &str,
        reason: &str,
    ) -> Result<()> {
        let now = self.clock.now();
        let head = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("UPDATE reorganisation SET last_error = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2")
                .bind(tenant_id)
                .bind(id)
                .bind(reason)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            let head = append!(self, tx, ctx, now, &AuditEntry {
                tenant_id: Some(tenant_id),
                action: "apply_failed",
                entity: "reorganisation",
                entity_id: id,
                changes: json!({"last_error": reason}),
            });
            tx.commit().await?;
            head
        });
        self.advance_head(head);
        Ok(())
    }

    /// One reorganisation of the tenant.
    pub async fn reorganisation(
        &self,
        tenant_id: &str,
        id: &str,
    ) -> Result<Option<Reorganisation>> {
        let row = with_pool!(self, pool => {
            sqlx::query_as::<_, ReorgRow>(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM reorganisation WHERE tenant_id = $1 AND id = $2"
            )))
            .bind(tenant_id)
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
        let Some(row) = row else { return Ok(None) };
        let mut units = self.reorg_units(tenant_id, &[row.id.as_str()]).await?;
        let units = units.remove(&row.id).unwrap_or_default();
        row.into_reorg(units).map(Some)
    }

    async fn reorg_units(
        &self,
        tenant_id: &str,
        ids: &[&str],
    ) -> Result<HashMap<String, Vec<(String, String)>>> {
        let mut out: HashMap<String, Vec<(String, String)>> = HashMap::new();
        for id in ids {
            let rows: Vec<(String, String)> = with_pool!(self, pool => {
                sqlx::query_as(
                    "SELECT unit_id, role FROM reorganisation_unit WHERE tenant_id = $1 AND reorganisation_id = $2 \
                     ORDER BY role DESC, unit_id",
                )
                .bind(tenant_id)
                .bind(id)
                .fetch_all(pool)
                .await?
            });
            out.insert((*id).to_owned(), rows);
        }
        Ok(out)
    }

    /// One page of the tenant's reorganisations, newest effective date first; with a unit,
    /// only those touching it.
    pub async fn list_reorganisations(
        &self,
        tenant_id: &str,
        unit_id: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<Reorganisation>> {
        let condition = "tenant_id = $1 AND ($2 IS NULL OR id IN (SELECT reorganisation_id FROM reorganisation_unit \
                         WHERE tenant_id = $1 AND unit_id = $2))";
        let (rows, total) = with_pool!(self, pool => {
            let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT COUNT(*) FROM reorganisation WHERE {condition}"
            )))
            .bind(tenant_id)
            .bind(unit_id)
            .fetch_one(pool)
            .await?;
            let rows = sqlx::query_as::<_, ReorgRow>(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM reorganisation WHERE {condition} \
                 ORDER BY effective_on DESC, created_at DESC LIMIT $3 OFFSET $4"
            )))
            .bind(tenant_id)
            .bind(unit_id)
            .bind(page.limit())
            .bind(page.offset())
            .fetch_all(pool)
            .await?;
            (rows, total)
        });
        let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        let mut units = self.reorg_units(tenant_id, &ids).await?;
        let items = rows
            .into_iter()
            .map(|r| {
                let u = units.remove(&r.id).unwrap_or_default();
                r.into_reorg(u)
            })
            .collect::<Result<_>>()?;
        Ok(Page {
            items,
            request: page,
            total,
        })
    }

    /// A unit's former names: `(until, name)`, most recent first.
    pub async fn former_names(
        &self,
        tenant_id: &str,
        unit_id: &str,
    ) -> Result<Vec<(NaiveDate, String)>> {
        let rows: Vec<(String, String)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT valid_until, name FROM unit_former_name WHERE tenant_id = $1 AND unit_id = $2 \
                 ORDER BY valid_until DESC",
            )
            .bind(tenant_id)
            .bind(unit_id)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|(until, name)| Ok((until.parse().map_err(corrupt)?, name)))
            .collect()
    }

    /// Every unit's name as it was on `day` (SPEC: history stays attributed to the unit as it
    /// was): figures and lists of past records name units through this.
    pub async fn unit_names_on(
        &self,
        tenant_id: &str,
        day: NaiveDate,
    ) -> Result<HashMap<String, String>> {
        let units = self.units(tenant_id).await?;
        let rows: Vec<(String, String, String)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT unit_id, valid_until, name FROM unit_former_name WHERE tenant_id = $1",
            )
            .bind(tenant_id)
            .fetch_all(pool)
            .await?
        });
        let mut former: HashMap<String, Vec<(NaiveDate, String)>> = HashMap::new();
        for (unit_id, until, name) in rows {
            former
                .entry(unit_id)
                .or_default()
                .push((until.parse().map_err(corrupt)?, name));
        }
        Ok(units
            .into_iter()
            .map(|u| {
                let name = domain::reorg::name_on(
                    &u.name,
                    former.get(&u.id).map(Vec::as_slice).unwrap_or_default(),
                    day,
                )
                .to_owned();
                (u.id, name)
            })
            .collect())
    }
}
