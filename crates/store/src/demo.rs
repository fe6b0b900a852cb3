//! The demo district (`serve --demo`): each part is seeded once per demo database and
//! recorded in `demo_seed` with its version, so later modules add their parts to an
//! existing demo. Seeding is idempotent and audited with the actor `demo`.

use std::collections::HashSet;

use domain::org::{UnitCode, UnitKind};
use serde::Deserialize;

use domain::account::Role;

use crate::account::NewAccount;
use crate::audit::{AuditCtx, AuditEntry, append};
use crate::db::with_pool;
use crate::tenant::Tenant;
use crate::unit::NewUnit;
use crate::{Result, Store, StoreError};

/// The demo tenant's unit tree.
const HUAIYIN: &str = include_str!("demo/huaiyin.toml");

/// The version of the `org` part; bump it when the part seeds more.
const ORG_VERSION: i32 = 1;

/// The version of the `accounts` part.
const ACCOUNTS_VERSION: i32 = 1;

/// The password of every demo account (printed at start and in the README).
pub const DEMO_PASSWORD: &str = "Demo@2026";

/// The demo accounts: username, shown name, role, unit code or USCC.
pub const DEMO_ACCOUNTS: &[(&str, &str, Role, Option<&str>)] = &[
    ("admin", "系统管理员（示例）", Role::Sysadmin, None),
    ("secadmin", "安全管理员（示例）", Role::Secadmin, None),
    ("auditor", "审计管理员（示例）", Role::Auditor, None),
    ("leader", "王建国（区级领导）", Role::Leader, None),
    ("supervisor", "李明（营商办）", Role::Supervisor, None),
    ("inspector", "赵强（明察暗访组）", Role::Inspector, None),
    (
        "unitadmin",
        "陈静（行政审批服务局联络员）",
        Role::UnitAdmin,
        Some("SPJ"),
    ),
    (
        "street",
        "刘洋（振兴街街道联络员）",
        Role::UnitAdmin,
        Some("370104001"),
    ),
    (
        "window",
        "孙丽（综合受理1号窗口）",
        Role::WindowStaff,
        Some("ZWFW-01"),
    ),
    ("observer", "周敏（人大代表监督员）", Role::Observer, None),
    (
        "enterprise",
        "济南示例科技有限公司",
        Role::Enterprise,
        Some("91370104MA3C5T8R15"),
    ),
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoFile {
    tenant: DemoTenant,
    unit: Vec<DemoUnit>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoTenant {
    code: String,
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoUnit {
    code: String,
    name: String,
    kind: String,
    parent: Option<String>,
    staffed_by: Option<String>,
}

/// What the demo holds after seeding; written to the data directory's manifest for tests.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DemoSummary {
    /// The demo tenant's code.
    pub tenant_code: String,
    /// The demo tenant's name.
    pub tenant_name: String,
    /// Units per kind.
    pub units: std::collections::BTreeMap<String, usize>,
    /// Parts seeded by this run (empty when the demo was already complete).
    pub seeded_now: Vec<String>,
}

fn invalid(e: impl std::fmt::Display) -> StoreError {
    StoreError::Other(anyhow::anyhow!("demo data: {e}"))
}

impl Store {
    /// Seeds whatever part of the demo district this database does not have yet.
    #[tracing::instrument(skip(self))]
    pub async fn seed_demo(&self) -> Result<DemoSummary> {
        let file: DemoFile = toml::from_str(HUAIYIN).map_err(invalid)?;
        let ctx = AuditCtx::demo();
        let tenant = match self.tenant_by_code(&file.tenant.code).await? {
            Some(t) => t,
            None => {
                self.create_tenant(&ctx, &file.tenant.code, &file.tenant.name)
                    .await?
            }
        };
        let mut seeded_now = Vec::new();
        if self.demo_part_version(&tenant, "org").await? < ORG_VERSION {
            let existing: HashSet<String> = self
                .units(&tenant.id)
                .await?
                .into_iter()
                .map(|u| u.code)
                .collect();
            let units = file
                .unit
                .iter()
                .filter(|u| !existing.contains(&u.code))
                .map(|u| {
                    let code = |c: &str| UnitCode::parse(c).map_err(invalid);
                    Ok(NewUnit {
                        code: code(&u.code)?,
                        name: u.name.clone(),
                        kind: u.kind.parse::<UnitKind>().map_err(invalid)?,
                        parent: u.parent.as_deref().map(code).transpose()?,
                        staffed_by: u.staffed_by.as_deref().map(code).transpose()?,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            if !units.is_empty() {
                self.create_units(&ctx, &tenant.id, &units).await?;
            }
            self.record_demo_part(&tenant, "org", ORG_VERSION).await?;
            seeded_now.push("org".to_owned());
        }
        if self.demo_part_version(&tenant, "accounts").await? < ACCOUNTS_VERSION {
            for (username, name, role, scope) in DEMO_ACCOUNTS {
                if self.account_by_username(username).await?.is_some() {
                    continue;
                }
                let (unit_code, uscc) = match role {
                    Role::Enterprise => (None, scope.map(str::to_owned)),
                    _ => (scope.map(str::to_owned), None),
                };
                self.create_account(
                    &ctx,
                    &NewAccount {
                        tenant_id: tenant.id.clone(),
                        username: (*username).to_owned(),
                        display_name: (*name).to_owned(),
                        password: DEMO_PASSWORD.to_owned(),
                        must_change_password: false,
                        roles: vec![*role],
                        unit_code,
                        uscc,
                    },
                )
                .await?;
            }
            self.record_demo_part(&tenant, "accounts", ACCOUNTS_VERSION)
                .await?;
            seeded_now.push("accounts".to_owned());
        }
        let mut per_kind = std::collections::BTreeMap::new();
        for unit in self.units(&tenant.id).await? {
            *per_kind.entry(unit.kind.as_str().to_owned()).or_insert(0) += 1;
        }
        Ok(DemoSummary {
            tenant_code: tenant.code,
            tenant_name: tenant.name,
            units: per_kind,
            seeded_now,
        })
    }

    /// Whether the tenant is a demo tenant (any part seeded).
    pub async fn is_demo_tenant(&self, tenant_id: &str) -> Result<bool> {
        let count: i64 = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM demo_seed WHERE tenant_id = $1")
                .bind(tenant_id)
                .fetch_one(pool)
                .await?
        });
        Ok(count > 0)
    }

    async fn demo_part_version(&self, tenant: &Tenant, part: &str) -> Result<i32> {
        let version: Option<i32> = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT version FROM demo_seed WHERE tenant_id = $1 AND part = $2")
                .bind(&tenant.id)
                .bind(part)
                .fetch_optional(pool)
                .await?
        });
        Ok(version.unwrap_or(0))
    }

    async fn record_demo_part(&self, tenant: &Tenant, part: &str, version: i32) -> Result<()> {
        let now = self.clock.now();
        let head = with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO demo_seed (tenant_id, part, version, seeded_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (tenant_id, part) DO UPDATE SET version = excluded.version, seeded_at = excluded.seeded_at",
            )
            .bind(&tenant.id)
            .bind(part)
            .bind(version)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let head = append!(self, tx, &AuditCtx::demo(), now, &AuditEntry {
                tenant_id: Some(&tenant.id),
                action: "seed",
                entity: "demo_seed",
                entity_id: part,
                changes: serde_json::json!({"version": version}),
            });
            tx.commit().await?;
            head
        });
        self.advance_head(head);
        Ok(())
    }
}
