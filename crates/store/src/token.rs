//! Bearer tokens for systems: named, with roles (三员分立 applies) and an optional expiry;
//! listed and revoked by name. Only the SM3 digest of a token is stored.

use chrono::{DateTime, Utc};
use domain::account::{LoginState, Role, check_roles};

use crate::account::Account;
use crate::audit::{AuditCtx, AuditEntry, append};
use crate::crypto::{random_token, sm3_hex};
use crate::db::{BeginWrite, with_pool};
use crate::tenant::Tenant;
use crate::{Result, Store, StoreError, new_id};

/// A token as listed (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    /// Its id.
    pub id: String,
    /// Its tenant.
    pub tenant_id: String,
    /// Its name, unique in the tenant.
    pub name: String,
    /// Its roles.
    pub roles: Vec<Role>,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Ends at, if set.
    pub expires_at: Option<DateTime<Utc>>,
    /// Revoked at, if revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// What a bearer token acts as.
#[derive(Debug, Clone)]
pub struct TokenSession {
    /// The token's account (`token:<id>`, its roles).
    pub account: Account,
    /// Its tenant.
    pub tenant: Tenant,
    /// The tenant is the demo district.
    pub demo: bool,
}

#[derive(sqlx::FromRow, Clone)]
struct TokenSessionRow {
    #[sqlx(flatten)]
    token: TokenRow,
    tenant_code: String,
    tenant_name: String,
    tenant_created_at: DateTime<Utc>,
    demo: bool,
}

#[derive(sqlx::FromRow, Clone)]
struct TokenRow {
    id: String,
    tenant_id: String,
    name: String,
    roles: String,
    created_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

impl TokenRow {
    fn into_token(self) -> Result<ApiToken> {
        let roles = self
            .roles
            .split(',')
            .map(str::parse)
            .collect::<Result<Vec<Role>, _>>()
            .map_err(|e| StoreError::Other(anyhow::anyhow!("token {}: {e}", self.id)))?;
        Ok(ApiToken {
            id: self.id,
            tenant_id: self.tenant_id,
            name: self.name,
            roles,
            created_at: self.created_at,
            expires_at: self.expires_at,
            revoked_at: self.revoked_at,
        })
    }
}

const COLUMNS: &str = "id, tenant_id, name, roles, created_at, expires_at, revoked_at";

/// Why a bearer token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenRefused {
    /// No such token.
    #[error("令牌无效")]
    Unknown,
    /// Past its expiry.
    #[error("令牌已过期")]
    Expired,
    /// Revoked.
    #[error("令牌已吊销")]
    Revoked,
}

impl Store {
    /// Creates a token and answers it with the token text (shown once).
    pub async fn create_token(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        name: &str,
        roles: &[Role],
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<(ApiToken, String)> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 64 {
            return Err(StoreError::Invalid("令牌名称应为 1 到 64 个字符".into()));
        }
        check_roles(roles).map_err(|e| StoreError::Invalid(e.to_string()))?;
        if roles.iter().any(|r| r.needs_unit() || r.needs_uscc()) {
            return Err(StoreError::Invalid(
                "令牌不能持有需绑定单位或企业的角色（联络员、窗口人员、企业用户）".into(),
            ));
        }
        let now = self.clock.now();
        if expires_at.is_some_and(|e| e <= now) {
            return Err(StoreError::Invalid("到期时间须晚于现在".into()));
        }
        if self.tokens(tenant_id).await?.iter().any(|t| t.name == name) {
            return Err(StoreError::Conflict(format!("令牌名称 {name} 已存在")));
        }
        let secret = format!("bzt_{}", random_token());
        let id = new_id();
        let role_text = roles
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(",");
        let head = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "INSERT INTO api_token (tenant_id, id, name, token_hash, roles, created_at, expires_at, revoked_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, NULL)",
            )
            .bind(tenant_id)
            .bind(&id)
            .bind(name)
            .bind(sm3_hex(secret.as_bytes()))
            .bind(&role_text)
            .bind(now)
            .bind(expires_at)
            .execute(&mut *tx)
            .await?;
            let head = append!(self, tx, ctx, now, &AuditEntry {
                tenant_id: Some(tenant_id),
                action: "create",
                entity: "api_token",
                entity_id: &id,
                changes: serde_json::json!({"name": name, "roles": role_text, "expires_at": expires_at}),
            });
            tx.commit().await?;
            head
        });
        self.advance_head(head);
        let token = self
            .tokens(tenant_id)
            .await?
            .into_iter()
            .find(|t| t.id == id)
            .ok_or(StoreError::NotFound)?;
        Ok((token, secret))
    }

    /// The tenant's tokens, newest first.
    pub async fn tokens(&self, tenant_id: &str) -> Result<Vec<ApiToken>> {
        let rows = with_pool!(self, pool => {
            sqlx::query_as::<_, TokenRow>(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM api_token WHERE tenant_id = $1 ORDER BY created_at DESC, id DESC"
            )))
            .bind(tenant_id)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(TokenRow::into_token).collect()
    }

    /// Revokes the tenant's token of this name.
    pub async fn revoke_token(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        name: &str,
    ) -> Result<ApiToken> {
        let token = self
            .tokens(tenant_id)
            .await?
            .into_iter()
            .find(|t| t.name == name.trim())
            .ok_or_else(|| StoreError::Invalid(format!("令牌 {} 不存在", name.trim())))?;
        if token.revoked_at.is_some() {
            return Err(StoreError::Conflict(format!("令牌 {} 已吊销", token.name)));
        }
        let now = self.clock.now();
        let head = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("UPDATE api_token SET revoked_at = $3 WHERE tenant_id = $1 AND id = $2")
                .bind(tenant_id)
                .bind(&token.id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            let head = append!(self, tx, ctx, now, &AuditEntry {
                tenant_id: Some(tenant_id),
                action: "revoke",
                entity: "api_token",
                entity_id: &token.id,
                changes: serde_json::json!({"revoked_at": now}),
            });
            tx.commit().await?;
            head
        });
        self.advance_head(head);
        Ok(ApiToken {
            revoked_at: Some(now),
            ..token
        })
    }

    /// The account a bearer token acts as, or why it is refused.
    pub async fn token_account(&self, secret: &str) -> Result<Result<Account, TokenRefused>> {
        Ok(self
            .token_session(secret)
            .await?
            .map(|session| session.account))
    }

    /// What a request with a bearer token acts as — the account, its tenant and whether that
    /// is the demo district — read in one query (every API call of a system starts here), or
    /// why the token is refused.
    pub async fn token_session(&self, secret: &str) -> Result<Result<TokenSession, TokenRefused>> {
        let hash = sm3_hex(secret.as_bytes());
        // kept between requests (a system sends many): revoking is an audited change, which
        // drops it; the expiry is checked against the clock on every request
        let key = format!("token|{hash}");
        let row = self
            .cached(key.clone(), self.load_token_session(&hash))
            .await?;
        let Some(row) = row else {
            // not kept: random tokens must not crowd out what is worth keeping
            self.reads.forget(&key);
            return Ok(Err(TokenRefused::Unknown));
        };
        let tenant = Tenant {
            id: row.token.tenant_id.clone(),
            code: row.tenant_code,
            name: row.tenant_name,
            created_at: row.tenant_created_at,
        };
        let token = row.token.into_token()?;
        let now = self.clock.now();
        if token.revoked_at.is_some() {
            return Ok(Err(TokenRefused::Revoked));
        }
        if token.expires_at.is_some_and(|e| e <= now) {
            return Ok(Err(TokenRefused::Expired));
        }
        Ok(Ok(TokenSession {
            account: Account {
                tenant_id: token.tenant_id,
                id: format!("token:{}", token.id),
                username: format!("token:{}", token.name),
                display_name: token.name,
                roles: token.roles,
                unit_id: None,
                uscc: None,
                state: LoginState {
                    failed_count: 0,
                    locked_until: None,
                    password_changed_at: token.created_at,
                    must_change_password: false,
                    disabled: false,
                },
            },
            tenant,
            demo: row.demo,
        }))
    }

    async fn load_token_session(&self, hash: &str) -> Result<Option<TokenSessionRow>> {
        Ok(with_pool!(self, pool => {
            sqlx::query_as::<_, TokenSessionRow>(
                "SELECT k.id, k.tenant_id, k.name, k.roles, k.created_at, k.expires_at, k.revoked_at, \
                 t.code AS tenant_code, t.name AS tenant_name, t.created_at AS tenant_created_at, \
                 EXISTS (SELECT 1 FROM demo_seed d WHERE d.tenant_id = k.tenant_id) AS demo \
                 FROM api_token k JOIN tenant t ON t.id = k.tenant_id WHERE k.token_hash = $1",
            )
            .bind(hash)
            .fetch_optional(pool)
            .await?
        }))
    }
}
