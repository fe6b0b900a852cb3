//! Liaison visits (包联走访): a leader's visit to an enterprise, and each issue raised there
//! received as an appeal (source `visit`) through the same insert as every other appeal
//! (`appeal::insert_appeal!`) — the visit, its appeals, their deadlines, timelines,
//! notifications and audit entries in one write transaction, or nothing. Who may record and
//! read visits is the caller's policy; a leader's account names its staff member
//! (`account.staff_id`) so the policy can tell a liaison leader's own enterprises.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use domain::appeal::{Kind, Source};
use domain::visit::{MAX_ISSUES, VisitForm, check_visit_date};
use serde_json::json;

use crate::appeal::{NewAppeal, insert_appeal};
use crate::audit::{AuditCtx, AuditEntry, append};
use crate::db::{BeginWrite, with_pool};
use crate::inspection::{corrupt, invalid, optional_text, text};
use crate::page::{Page, PageRequest};
use crate::{Result, Store, StoreError, new_id};

/// An issue raised on a visit: it becomes an appeal.
#[derive(Debug, Clone)]
pub struct VisitIssue {
    /// What kind of appeal.
    pub kind: Kind,
    /// Its category's code.
    pub category_code: String,
    /// A title; the content's first words when empty.
    pub title: String,
    /// What the enterprise raised, 1–5000 characters.
    pub content: String,
}

/// A visit to record.
#[derive(Debug, Clone)]
pub struct NewVisit {
    /// The enterprise visited.
    pub enterprise_id: String,
    /// The day of the visit (not after today).
    pub visited_on: NaiveDate,
    /// How it was held.
    pub form: VisitForm,
    /// Who took part (both sides), up to 200 characters.
    pub people: String,
    /// What was discussed, 1–2000 characters.
    pub summary: String,
    /// The issues raised, each to become an appeal (at most [`MAX_ISSUES`]).
    pub issues: Vec<VisitIssue>,
}

/// A visit as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visit {
    /// Its id.
    pub id: String,
    /// The enterprise visited.
    pub enterprise_id: String,
    /// The account that recorded it.
    pub account_id: String,
    /// The liaison leader (staff) who visited.
    pub leader_staff_id: Option<String>,
    /// The day of the visit.
    pub visited_on: NaiveDate,
    /// How it was held.
    pub form: VisitForm,
    /// Who took part.
    pub people: String,
    /// What was discussed.
    pub summary: String,
    /// Recorded at.
    pub created_at: DateTime<Utc>,
    /// The appeals raised, in the order of the issues.
    pub appeal_ids: Vec<String>,
}

#[derive(sqlx::FromRow)]
struct VisitRow {
    id: String,
    enterprise_id: String,
    account_id: String,
    leader_staff_id: Option<String>,
    visited_on: NaiveDate,
    form: String,
    people: String,
    summary: String,
    created_at: DateTime<Utc>,
}

/// Prefixes an issue's field error with its position, so a form can say which one.
fn of_issue(n: usize, e: StoreError) -> StoreError {
    match e {
        StoreError::InvalidField { message, .. } => {
            invalid("issues", format!("第 {n} 条问题：{message}"))
        }
        other => other,
    }
}

impl Store {
    /// The staff member an account is (a leader's own record), if linked.
    pub async fn account_staff_id(
        &self,
        tenant_id: &str,
        account_id: &str,
    ) -> Result<Option<String>> {
        let id: Option<Option<String>> = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT staff_id FROM account WHERE tenant_id = $1 AND id = $2")
                .bind(tenant_id)
                .bind(account_id)
                .fetch_optional(pool)
                .await?
        });
        Ok(id.flatten())
    }

    /// Links an account to the staff member it is (`None` unlinks); the staff member must be
    /// active in the tenant and not linked to another account.
    pub async fn link_account_staff(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        account_id: &str,
        staff_id: Option<&str>,
    ) -> Result<()> {
        self.account(tenant_id, account_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        if let Some(staff) = staff_id {
            match self.staff(tenant_id, staff).await? {
                Some(s) if s.active => {}
                _ => return Err(invalid("staff_id", "人员不存在或已停用")),
            }
        }
        let now = self.clock.now();
        let head = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            if let Some(staff) = staff_id {
                let other: Option<String> = sqlx::query_scalar(
                    "SELECT id FROM account WHERE tenant_id = $1 AND staff_id = $2 AND id <> $3",
                )
                .bind(tenant_id).bind(staff).bind(account_id)
                .fetch_optional(&mut *tx)
                .await?;
                if other.is_some() {
                    return Err(StoreError::Conflict("该人员已关联其他账号".into()));
                }
            }
            sqlx::query("UPDATE account SET staff_id = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2")
                .bind(tenant_id).bind(account_id).bind(staff_id).bind(now)
                .execute(&mut *tx)
                .await?;
            let head = append!(self, tx, ctx, now, &AuditEntry {
                tenant_id: Some(tenant_id),
                action: "link_staff",
                entity: "account",
                entity_id: account_id,
                changes: json!({"staff_id": staff_id}),
            });
            tx.commit().await?;
            head
        });
        self.advance_head(head);
        Ok(())
    }

    /// Records a visit by `account_id` and receives each issue raised as an appeal (source
    /// `visit`, the enterprise and its street set, the enterprise's contact as submitter for
    /// the callback), all in one transaction. Bad input writes nothing.
    pub async fn record_visit(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        account_id: &str,
        new: &NewVisit,
    ) -> Result<Visit> {
        let now = self.clock.now();
        let enterprise = self
            .enterprise(tenant_id, &new.enterprise_id)
            .await?
            .ok_or_else(|| invalid("enterprise_id", "企业不存在"))?;
        check_visit_date(new.visited_on, self.today()).map_err(|m| invalid("visited_on", m))?;
        let people = optional_text("people", &new.people, 200, "参加人员")?;
        let summary = text("summary", &new.summary, 2000, "走访情况")?;
        if new.issues.len() > MAX_ISSUES {
            return Err(invalid(
                "issues",
                format!("一次走访最多记录 {MAX_ISSUES} 条问题"),
            ));
        }
        let v = &enterprise.values;
        let mut prepared = Vec::with_capacity(new.issues.len());
        for (i, issue) in new.issues.iter().enumerate() {
            let content = issue.content.trim();
            if content.is_empty() {
                return Err(invalid(
                    "issues",
                    format!("第 {} 条问题：请填写问题内容", i + 1),
                ));
            }
            let title = match issue.title.trim() {
                "" => crate::inspection::short(content),
                t => t.to_owned(),
            };
            let appeal = NewAppeal {
                kind: issue.kind,
                source: Source::Visit,
                category_code: issue.category_code.clone(),
                street_id: v.street_id.clone(),
                enterprise_id: Some(enterprise.id.clone()),
                title,
                content: content.to_owned(),
                address: v.address.chars().take(200).collect(),
                publish: false,
                submitter_name: Some(v.contact_name.clone()).filter(|n| !n.trim().is_empty()),
                submitter_phone: self.enterprise_phone(&enterprise),
                submitter_account_id: None,
                external_id: None,
            };
            prepared.push(
                self.prepare_appeal(tenant_id, &appeal, now)
                    .await
                    .map_err(|e| of_issue(i + 1, e))?,
            );
        }
        let leader = v.liaison_leader_id.clone();
        let id = new_id();
        let appeal_ids: Vec<String> = prepared.iter().map(|p| p.id.clone()).collect();
        let head = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "INSERT INTO visit (tenant_id, id, enterprise_id, account_id, leader_staff_id, visited_on, form, people, \
                 summary, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(tenant_id).bind(&id).bind(&enterprise.id).bind(account_id).bind(&leader).bind(new.visited_on)
            .bind(new.form.as_str()).bind(&people).bind(&summary).bind(&ctx.actor).bind(now)
            .execute(&mut *tx)
            .await?;
            for (position, p) in prepared.iter().enumerate() {
                insert_appeal!(self, tx, tenant_id, ctx, now, p);
                sqlx::query(
                    "INSERT INTO visit_appeal (tenant_id, visit_id, appeal_id, position) VALUES ($1, $2, $3, $4)",
                )
                .bind(tenant_id).bind(&id).bind(&p.id).bind(i64::try_from(position).unwrap_or(0))
                .execute(&mut *tx)
                .await?;
            }
            let head = append!(self, tx, ctx, now, &AuditEntry {
                tenant_id: Some(tenant_id),
                action: "create",
                entity: "visit",
                entity_id: &id,
                changes: json!({"enterprise_id": enterprise.id, "account_id": account_id,
                    "leader_staff_id": leader, "visited_on": new.visited_on.to_string(),
                    "form": new.form.as_str(), "people": people, "summary": summary,
                    "appeal_ids": appeal_ids}),
            });
            tx.commit().await?;
            head
        });
        self.advance_head(head);
        Ok(Visit {
            id,
            enterprise_id: enterprise.id,
            account_id: account_id.to_owned(),
            leader_staff_id: leader,
            visited_on: new.visited_on,
            form: new.form,
            people,
            summary,
            created_at: now,
            appeal_ids,
        })
    }

    /// One page of an enterprise's visits, newest first, each with its appeals.
    pub async fn list_visits(
        &self,
        tenant_id: &str,
        enterprise_id: &str,
        page: PageRequest,
    ) -> Result<Page<Visit>> {
        let (total, rows, links): (i64, Vec<VisitRow>, Vec<(String, String)>) = with_pool!(self, pool => {
            let total: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM visit WHERE tenant_id = $1 AND enterprise_id = $2",
            )
            .bind(tenant_id).bind(enterprise_id)
            .fetch_one(pool)
            .await?;
            let rows: Vec<VisitRow> = sqlx::query_as(
                "SELECT id, enterprise_id, account_id, leader_staff_id, visited_on, form, people, summary, created_at \
                 FROM visit WHERE tenant_id = $1 AND enterprise_id = $2 \
                 ORDER BY visited_on DESC, created_at DESC, id DESC LIMIT $3 OFFSET $4",
            )
            .bind(tenant_id).bind(enterprise_id).bind(page.limit()).bind(page.offset())
            .fetch_all(pool)
            .await?;
            let links: Vec<(String, String)> = sqlx::query_as(
                "SELECT l.visit_id, l.appeal_id FROM visit_appeal l JOIN visit v ON v.tenant_id = l.tenant_id \
                 AND v.id = l.visit_id WHERE v.tenant_id = $1 AND v.enterprise_id = $2 ORDER BY l.visit_id, l.position",
            )
            .bind(tenant_id).bind(enterprise_id)
            .fetch_all(pool)
            .await?;
            (total, rows, links)
        });
        let mut appeals: HashMap<String, Vec<String>> = HashMap::new();
        for (visit, appeal) in links {
            appeals.entry(visit).or_default().push(appeal);
        }
        let items = rows
            .into_iter()
            .map(|r| {
                Ok(Visit {
                    form: r.form.parse().map_err(|e| corrupt("visit", &r.id, e))?,
                    appeal_ids: appeals.remove(&r.id).unwrap_or_default(),
                    id: r.id,
                    enterprise_id: r.enterprise_id,
                    account_id: r.account_id,
                    leader_staff_id: r.leader_staff_id,
                    visited_on: r.visited_on,
                    people: r.people,
                    summary: r.summary,
                    created_at: r.created_at,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Page {
            items,
            request: page,
            total,
        })
    }

    /// The day each of these enterprises was last visited (those never visited are left out).
    pub async fn last_visits(
        &self,
        tenant_id: &str,
        enterprise_ids: &[&str],
    ) -> Result<HashMap<String, NaiveDate>> {
        if enterprise_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let placeholders = (2..enterprise_ids.len() + 2)
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        // every visit's date, not MAX(): SQLite would answer MAX of a date column as plain text
        let rows: Vec<(String, NaiveDate)> = with_pool!(self, pool => {
            let sql = format!(
                "SELECT enterprise_id, visited_on FROM visit WHERE tenant_id = $1 AND enterprise_id IN ({placeholders})"
            );
            let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(tenant_id);
            for id in enterprise_ids {
                query = query.bind(*id);
            }
            query.fetch_all(pool).await?
        });
        let mut last: HashMap<String, NaiveDate> = HashMap::new();
        for (enterprise, day) in rows {
            let entry = last.entry(enterprise).or_insert(day);
            if day > *entry {
                *entry = day;
            }
        }
        Ok(last)
    }
}
