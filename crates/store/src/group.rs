//! The leading group (领导小组) and its working groups (工作组): names, duties, members.
//! A group without a parent is a leading group; a working group sits under one.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use domain::org::GroupRole;

use crate::audit::{AuditCtx, AuditEntry, append};
use crate::db::{BeginWrite, with_pool};
use crate::staff::StaffFilter;
use crate::{Result, Store, StoreError, new_id};

/// A group with its members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// Its id.
    pub id: String,
    /// Its name, unique in the tenant.
    pub name: String,
    /// The leading group a working group belongs to.
    pub parent_id: Option<String>,
    /// Its duties (职责), as written by the office.
    pub duties: String,
    /// Position among its siblings.
    pub sort_order: i32,
    /// Members, heads first.
    pub members: Vec<Member>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
}

/// A member of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The staff member.
    pub staff_id: String,
    /// Their name.
    pub name: String,
    /// Their position.
    pub position: String,
    /// Their part in the group.
    pub role: GroupRole,
}

#[derive(sqlx::FromRow)]
struct GroupRow {
    id: String,
    name: String,
    parent_id: Option<String>,
    duties: String,
    sort_order: i32,
    updated_at: DateTime<Utc>,
}

/// A group to create.
#[derive(Debug, Clone)]
pub struct NewGroup {
    /// Name, 1–64 characters, new in the tenant.
    pub name: String,
    /// The leading group it belongs to (none: a leading group).
    pub parent_id: Option<String>,
    /// Duties, up to 2000 characters.
    pub duties: String,
}

fn check_text(name: &str, duties: &str) -> Result<()> {
    let count = name.trim().chars().count();
    if count == 0 || count > 64 {
        return Err(StoreError::Invalid("小组名称应为 1 到 64 个字符".into()));
    }
    if duties.chars().count() > 2000 {
        return Err(StoreError::Invalid("职责说明不能超过 2000 个字符".into()));
    }
    Ok(())
}

impl Store {
    /// The tenant's groups: leading groups first, each followed by its working groups.
    pub async fn groups(&self, tenant_id: &str) -> Result<Vec<Group>> {
        let (rows, members): (Vec<GroupRow>, Vec<(String, String, String)>) = with_pool!(self, pool => {
            let rows = sqlx::query_as::<_, GroupRow>(
                "SELECT id, name, parent_id, duties, sort_order, updated_at FROM org_group \
                 WHERE tenant_id = $1 ORDER BY sort_order, name",
            )
            .bind(tenant_id)
            .fetch_all(pool)
            .await?;
            let members = sqlx::query_as(
                "SELECT group_id, staff_id, role FROM org_group_member WHERE tenant_id = $1",
            )
            .bind(tenant_id)
            .fetch_all(pool)
            .await?;
            (rows, members)
        });
        let staff: HashMap<String, (String, String)> = self
            .list_staff(
                tenant_id,
                &StaffFilter::default(),
                crate::page::PageRequest {
                    page: 1,
                    per_page: u32::MAX,
                },
            )
            .await?
            .items
            .into_iter()
            .map(|s| (s.id, (s.name, s.position)))
            .collect();
        let mut by_group: HashMap<String, Vec<Member>> = HashMap::new();
        for (group_id, staff_id, role) in members {
            let role = role
                .parse::<GroupRole>()
                .map_err(|e| StoreError::Other(anyhow::anyhow!("group {group_id}: {e}")))?;
            let (name, position) = staff.get(&staff_id).cloned().unwrap_or_default();
            by_group.entry(group_id).or_default().push(Member {
                staff_id,
                name,
                position,
                role,
            });
        }
        let mut groups: Vec<Group> = rows
            .into_iter()
            .map(|r| {
                let mut members = by_group.remove(&r.id).unwrap_or_default();
                members.sort_by(|a, b| (a.role, &a.name).cmp(&(b.role, &b.name)));
                Group {
                    id: r.id,
                    name: r.name,
                    parent_id: r.parent_id,
                    duties: r.duties,
                    sort_order: r.sort_order,
                    members,
                    updated_at: r.updated_at,
                }
            })
            .collect();
        // leading groups, each followed by its working groups
        let mut ordered = Vec::with_capacity(groups.len());
        let leading: Vec<Group> = groups
            .iter()
            .filter(|g| g.parent_id.is_none())
            .cloned()
            .collect();
        for lead in leading {
            let id = lead.id.clone();
            ordered.push(lead);
            ordered.extend(
                groups
                    .iter()
                    .filter(|g| g.parent_id.as_deref() == Some(&id))
                    .cloned(),
            );
        }
        groups.retain(|g| !ordered.iter().any(|o| o.id == g.id));
        ordered.extend(groups);
        Ok(ordered)
    }

    /// One group.
    pub async fn group(&self, tenant_id: &str, id: &str) -> Result<Option<Group>> {
        Ok(self
            .groups(tenant_id)
            .await?
            .into_iter()
            .find(|g| g.id == id))
    }

    /// Creates a group; a working group's parent must be a leading group of the tenant.
    pub async fn create_group(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        new: &NewGroup,
    ) -> Result<Group> {
        check_text(&new.name, &new.duties)?;
        let groups = self.groups(tenant_id).await?;
        let name = new.name.trim();
        if groups.iter().any(|g| g.name == name) {
            return Err(StoreError::Conflict(format!("小组“{name}”已存在")));
        }
        if let Some(parent) = &new.parent_id {
            match groups.iter().find(|g| &g.id == parent) {
                Some(p) if p.parent_id.is_none() => {}
                Some(_) => return Err(StoreError::Invalid("工作组只能设在领导小组之下".into())),
                None => return Err(StoreError::Invalid("所属领导小组不存在".into())),
            }
        }
        let order = groups
            .iter()
            .filter(|g| g.parent_id == new.parent_id)
            .map(|g| g.sort_order)
            .max()
            .unwrap_or(0)
            + 1;
        let id = new_id();
        let now = self.clock.now();
        let head = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "INSERT INTO org_group (tenant_id, id, name, parent_id, duties, sort_order, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
            )
            .bind(tenant_id)
            .bind(&id)
            .bind(name)
            .bind(&new.parent_id)
            .bind(new.duties.trim())
            .bind(order)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let head = append!(self, tx, ctx, now, &AuditEntry {
                tenant_id: Some(tenant_id),
                action: "create",
                entity: "org_group",
                entity_id: &id,
                changes: serde_json::json!({"name": name, "parent_id": new.parent_id, "duties": new.duties.trim()}),
            });
            tx.commit().await?;
            head
        });
        self.advance_head(head);
        self.group(tenant_id, &id)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// Renames a group or rewrites its duties.
    pub async fn update_group(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        id: &str,
        name: Option<&str>,
        duties: Option<&str>,
    ) -> Result<Group> {
        let group = self
            .group(tenant_id, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let name = name.map(str::trim).unwrap_or(&group.name).to_owned();
        let duties = duties.map(str::trim).unwrap_or(&group.duties).to_owned();
        check_text(&name, &duties)?;
        if name != group.name && self.groups(tenant_id).await?.iter().any(|g| g.name == name) {
            return Err(StoreError::Conflict(format!("小组“{name}”已存在")));
        }
        let now = self.clock.now();
        let head = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("UPDATE org_group SET name = $3, duties = $4, updated_at = $5 WHERE tenant_id = $1 AND id = $2")
                .bind(tenant_id)
                .bind(id)
                .bind(&name)
                .bind(&duties)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            let head = append!(self, tx, ctx, now, &AuditEntry {
                tenant_id: Some(tenant_id),
                action: "update",
                entity: "org_group",
                entity_id: id,
                changes: serde_json::json!({"name": [group.name, name], "duties": [group.duties, duties]}),
            });
            tx.commit().await?;
            head
        });
        self.advance_head(head);
        self.group(tenant_id, id).await?.ok_or(StoreError::NotFound)
    }

    /// Replaces the members of a group: active staff of the tenant, each once, one head at most.
    pub async fn set_group_members(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        id: &str,
        members: &[(String, GroupRole)],
    ) -> Result<Group> {
        let group = self
            .group(tenant_id, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let mut seen = std::collections::HashSet::new();
        for (staff_id, _) in members {
            if !seen.insert(staff_id) {
                return Err(StoreError::Invalid("同一人员只能在小组中出现一次".into()));
            }
            match self.staff(tenant_id, staff_id).await? {
                Some(s) if s.active => {}
                Some(s) => {
                    return Err(StoreError::Invalid(format!(
                        "{} 已停用，不能加入小组",
                        s.name
                    )));
                }
                None => return Err(StoreError::Invalid(format!("人员 {staff_id} 不存在"))),
            }
        }
        if members
            .iter()
            .filter(|(_, r)| *r == GroupRole::Head)
            .count()
            > 1
        {
            return Err(StoreError::Invalid("一个小组只能有一名组长".into()));
        }
        let now = self.clock.now();
        let before: Vec<_> = group
            .members
            .iter()
            .map(|m| (m.staff_id.clone(), m.role.as_str()))
            .collect();
        let after: Vec<_> = members
            .iter()
            .map(|(s, r)| (s.clone(), r.as_str()))
            .collect();
        let head = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("DELETE FROM org_group_member WHERE tenant_id = $1 AND group_id = $2")
                .bind(tenant_id)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            for (staff_id, role) in members {
                sqlx::query("INSERT INTO org_group_member (tenant_id, group_id, staff_id, role) VALUES ($1, $2, $3, $4)")
                    .bind(tenant_id)
                    .bind(id)
                    .bind(staff_id)
                    .bind(role.as_str())
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query("UPDATE org_group SET updated_at = $3 WHERE tenant_id = $1 AND id = $2")
                .bind(tenant_id)
                .bind(id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            let head = append!(self, tx, ctx, now, &AuditEntry {
                tenant_id: Some(tenant_id),
                action: "set_members",
                entity: "org_group",
                entity_id: id,
                changes: serde_json::json!({"members": [before, after]}),
            });
            tx.commit().await?;
            head
        });
        self.advance_head(head);
        self.group(tenant_id, id).await?.ok_or(StoreError::NotFound)
    }
}
