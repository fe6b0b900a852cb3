//! Tenants (one region each) and their settings.

use chrono::{DateTime, Utc};
use domain::calendar::WorkingHours;

use crate::audit::{AuditCtx, AuditEntry, append};
use crate::db::{BeginWrite, with_pool};
use crate::{Result, Store, StoreError, new_id};

/// A tenant: a district or county, by its GB/T 2260 code.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Tenant {
    /// Its id.
    pub id: String,
    /// Region code, e.g. 370104.
    pub code: String,
    /// Name, e.g. 槐荫区.
    pub name: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// The setting key of a tenant's working hours.
pub const WORKING_HOURS: &str = "working_hours";

/// Checks a region code: six digits (GB/T 2260).
pub fn check_code(code: &str) -> Result<()> {
    if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "行政区划代码应为 6 位数字，“{code}”不符合"
        )))
    }
}

impl Store {
    /// Creates a tenant; its code must be new.
    #[tracing::instrument(skip(self, ctx))]
    pub async fn create_tenant(&self, ctx: &AuditCtx, code: &str, name: &str) -> Result<Tenant> {
        check_code(code)?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 64 {
            return Err(StoreError::Invalid("名称应为 1 到 64 个字符".into()));
        }
        if self.tenant_by_code(code).await?.is_some() {
            return Err(StoreError::Conflict(format!("行政区划代码 {code} 已存在")));
        }
        let tenant = Tenant {
            id: new_id(),
            code: code.to_owned(),
            name: name.to_owned(),
            created_at: self.clock.now(),
        };
        let head = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("INSERT INTO tenant (id, code, name, created_at) VALUES ($1, $2, $3, $4)")
                .bind(&tenant.id)
                .bind(&tenant.code)
                .bind(&tenant.name)
                .bind(tenant.created_at)
                .execute(&mut *tx)
                .await?;
            let head = append!(self, tx, ctx, tenant.created_at, &AuditEntry {
                tenant_id: Some(&tenant.id),
                action: "create",
                entity: "tenant",
                entity_id: &tenant.id,
                changes: serde_json::json!({"code": tenant.code, "name": tenant.name}),
            });
            tx.commit().await?;
            head
        });
        self.advance_head(head);
        Ok(tenant)
    }

    /// All tenants, by code.
    pub async fn tenants(&self) -> Result<Vec<Tenant>> {
        let rows = with_pool!(self, pool => {
            sqlx::query_as::<_, Tenant>("SELECT id, code, name, created_at FROM tenant ORDER BY code")
                .fetch_all(pool)
                .await?
        });
        Ok(rows)
    }

    /// The tenant with this id.
    pub async fn tenant(&self, id: &str) -> Result<Option<Tenant>> {
        self.cached(format!("tenant|{id}"), self.load_tenant(id))
            .await
    }

    async fn load_tenant(&self, id: &str) -> Result<Option<Tenant>> {
        let row = with_pool!(self, pool => {
            sqlx::query_as::<_, Tenant>("SELECT id, code, name, created_at FROM tenant WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        Ok(row)
    }

    /// The tenant with this region code.
    pub async fn tenant_by_code(&self, code: &str) -> Result<Option<Tenant>> {
        let row = with_pool!(self, pool => {
            sqlx::query_as::<_, Tenant>("SELECT id, code, name, created_at FROM tenant WHERE code = $1")
                .bind(code)
                .fetch_optional(pool)
                .await?
        });
        Ok(row)
    }

    /// A tenant's setting, if set.
    pub async fn tenant_setting(&self, tenant_id: &str, key: &str) -> Result<Option<String>> {
        // kept between requests: deadlines and ratings read the limits and hours each time
        self.cached(format!("setting|{tenant_id}|{key}"), async {
            Ok(with_pool!(self, pool => {
                sqlx::query_scalar::<_, String>(
                    "SELECT value FROM tenant_setting WHERE tenant_id = $1 AND key = $2",
                )
                .bind(tenant_id)
                .bind(key)
                .fetch_optional(pool)
                .await?
            }))
        })
        .await
    }

    /// A tenant's setting kept as JSON (step limits and the like), or `T`'s default when unset.
    pub async fn tenant_json<T: serde::de::DeserializeOwned + Default>(
        &self,
        tenant_id: &str,
        key: &str,
    ) -> Result<T> {
        match self.tenant_setting(tenant_id, key).await? {
            Some(json) => serde_json::from_str(&json)
                .map_err(|e| StoreError::Other(anyhow::anyhow!("{key}: {e}"))),
            None => Ok(T::default()),
        }
    }

    /// Sets a tenant's setting kept as JSON (checked by the caller).
    pub async fn set_tenant_json<T: serde::Serialize>(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        key: &str,
        value: &T,
    ) -> Result<()> {
        let json = serde_json::to_string(value).map_err(|e| StoreError::Other(e.into()))?;
        self.set_tenant_setting(ctx, tenant_id, key, &json).await
    }

    /// Sets a tenant's setting.
    #[tracing::instrument(skip(self, ctx))]
    pub async fn set_tenant_setting(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        key: &str,
        value: &str,
    ) -> Result<()> {
        let now = self.clock.now();
        let old = self.tenant_setting(tenant_id, key).await?;
        let head = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "INSERT INTO tenant_setting (tenant_id, key, value, updated_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (tenant_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            )
            .bind(tenant_id)
            .bind(key)
            .bind(value)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let head = append!(self, tx, ctx, now, &AuditEntry {
                tenant_id: Some(tenant_id),
                action: "update",
                entity: "tenant_setting",
                entity_id: key,
                changes: serde_json::json!({"value": [old, value]}),
            });
            tx.commit().await?;
            head
        });
        self.advance_head(head);
        Ok(())
    }

    /// The tenant's working hours (default 09:00–12:00, 13:30–17:30).
    pub async fn working_hours(&self, tenant_id: &str) -> Result<WorkingHours> {
        match self.tenant_setting(tenant_id, WORKING_HOURS).await? {
            Some(text) => WorkingHours::parse(&text).map_err(|e| {
                StoreError::Other(anyhow::anyhow!("stored working hours {text:?}: {e}"))
            }),
            None => Ok(WorkingHours::default()),
        }
    }

    /// Sets the tenant's working hours.
    pub async fn set_working_hours(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        hours: &WorkingHours,
    ) -> Result<()> {
        self.set_tenant_setting(ctx, tenant_id, WORKING_HOURS, &hours.to_string())
            .await
    }
}
