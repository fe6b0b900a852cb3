//! Accounts, sessions and the login log. The rules (roles, passwords, lockout, idle expiry,
//! session limit) are `domain::account`'s; this module applies them to stored state.

use chrono::{DateTime, Utc};
use domain::account::{
    LoginOutcome, LoginState, MustChange, PasswordPolicy, Role, attempt_login, check_roles,
    check_username, session_expired, sessions_to_end,
};
use domain::org::UnitKind;
use domain::uscc::Uscc;

use crate::audit::{AuditCtx, AuditEntry, append};
use crate::crypto::{hash_password, random_token, sm3_hex, verify_password};
use crate::db::{BeginWrite, with_pool};
use crate::{Result, Store, StoreError, new_id};

/// An account as stored (without its password hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Its tenant.
    pub tenant_id: String,
    /// Its id.
    pub id: String,
    /// Login name, unique in the installation.
    pub username: String,
    /// The person's or system's name as shown.
    pub display_name: String,
    /// Its roles (checked by 三员分立 when set).
    pub roles: Vec<Role>,
    /// Scope of `unit_admin` (the unit and its subtree) and `window_staff` (a window).
    pub unit_id: Option<String>,
    /// Scope of `enterprise`.
    pub uscc: Option<String>,
    /// The sign-in state.
    pub state: LoginState,
}

impl Account {
    /// Whether the account holds `role`.
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

#[derive(sqlx::FromRow)]
struct AccountRow {
    tenant_id: String,
    id: String,
    username: String,
    display_name: String,
    password_hash: String,
    roles: String,
    unit_id: Option<String>,
    uscc: Option<String>,
    failed_count: i32,
    locked_until: Option<DateTime<Utc>>,
    password_changed_at: DateTime<Utc>,
    must_change_password: bool,
    disabled: bool,
}

impl AccountRow {
    fn into_account(self) -> Result<(Account, String)> {
        let roles = self
            .roles
            .split(',')
            .filter(|r| !r.is_empty())
            .map(|r| r.parse::<Role>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| StoreError::Other(anyhow::anyhow!("account {}: {e}", self.id)))?;
        Ok((
            Account {
                tenant_id: self.tenant_id,
                id: self.id,
                username: self.username,
                display_name: self.display_name,
                roles,
                unit_id: self.unit_id,
                uscc: self.uscc,
                state: LoginState {
                    failed_count: u32::try_from(self.failed_count).unwrap_or(0),
                    locked_until: self.locked_until,
                    password_changed_at: self.password_changed_at,
                    must_change_password: self.must_change_password,
                    disabled: self.disabled,
                },
            },
            self.password_hash,
        ))
    }
}

const ACCOUNT_COLUMNS: &str = "tenant_id, id, username, display_name, password_hash, roles, unit_id, uscc, \
     failed_count, locked_until, password_changed_at, must_change_password, disabled";

/// An account to create.
#[derive(Debug, Clone)]
pub struct NewAccount {
    /// The tenant.
    pub tenant_id: String,
    /// Login name.
    pub username: String,
    /// Shown name.
    pub display_name: String,
    /// Initial password (set by an administrator: must be changed at first login, unless
    /// `must_change_password` is false, as for demo accounts).
    pub password: String,
    /// Must be changed at first login.
    pub must_change_password: bool,
    /// Roles.
    pub roles: Vec<Role>,
    /// Unit code, for `unit_admin` and `window_staff`.
    pub unit_code: Option<String>,
    /// USCC, for `enterprise`.
    pub uscc: Option<String>,
}

/// A session just started.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// The cookie token (shown once; stored only as its digest).
    pub token: String,
    /// The CSRF token of the session.
    pub csrf_token: String,
    /// Whether the password must be changed before anything else.
    pub must_change: MustChange,
    /// The account.
    pub account: Account,
}

/// Why a login did not start a session.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Unknown user, wrong password or disabled account: one message for all.
    #[error("用户名或密码错误")]
    Invalid,
    /// Locked after repeated failures.
    #[error("连续登录失败次数过多，账号已锁定，请于 {} 后再试，或联系系统管理员解锁", until.with_timezone(&domain::calendar::shanghai()).format("%H:%M"))]
    Locked {
        /// When the lock ends.
        until: DateTime<Utc>,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One line of the login log.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LoginRecord {
    /// When.
    pub at: DateTime<Utc>,
    /// The name given.
    pub username: String,
    /// `success`, `failure`, `lockout`, `locked`, `disabled` or `unknown_user`.
    pub outcome: String,
    /// From where.
    pub client_ip: Option<String>,
}

/// A live session with its account.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    /// The account.
    pub account: Account,
    /// The session's CSRF token.
    pub csrf_token: String,
    /// Whether the password must be changed before anything else.
    pub must_change: bool,
}

impl Store {
    /// The password and session policy (secadmin's setting; 等保 defaults until set).
    pub async fn password_policy(&self) -> Result<PasswordPolicy> {
        let text: Option<String> = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT value FROM installation_setting WHERE key = 'password_policy'")
                .fetch_optional(pool)
                .await?
        });
        match text {
            Some(text) => serde_json::from_str(&text)
                .map_err(|e| StoreError::Other(anyhow::anyhow!("stored password policy: {e}"))),
            None => Ok(PasswordPolicy::default()),
        }
    }

    /// `secadmin` sets the password and session policy for the installation.
    pub async fn set_password_policy(&self, ctx: &AuditCtx, policy: &PasswordPolicy) -> Result<()> {
        policy.validate().map_err(|e| StoreError::InvalidField {
            field: e.field,
            message: e.to_string(),
        })?;
        let before = self.password_policy().await?;
        let now = self.clock.now();
        let value = serde_json::to_string(policy)
            .map_err(|e| StoreError::Other(anyhow::anyhow!("password policy: {e}")))?;
        let head = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "INSERT INTO installation_setting (key, value, updated_at) VALUES ('password_policy', $1, $2) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            )
            .bind(&value)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let head = append!(self, tx, ctx, now, &AuditEntry {
                tenant_id: None,
                action: "update",
                entity: "password_policy",
                entity_id: "password_policy",
                changes: serde_json::json!({"before": before, "after": policy}),
            });
            tx.commit().await?;
            head
        });
        self.advance_head(head);
        Ok(())
    }

    /// Creates an account after checking username, roles (三员分立), scope and password.
    #[tracing::instrument(skip(self, ctx, new), fields(username = %new.username))]
    pub async fn create_account(&self, ctx: &AuditCtx, new: &NewAccount) -> Result<Account> {
        let invalid = |m: String| StoreError::Invalid(m);
        let username = check_username(&new.username).map_err(|e| invalid(e.to_string()))?;
        let display_name = new.display_name.trim();
        if display_name.is_empty() || display_name.chars().count() > 64 {
            return Err(invalid("姓名应为 1 到 64 个字符".into()));
        }
        let (unit_id, uscc) = self
            .resolve_scope(
                &new.tenant_id,
                &new.roles,
                new.unit_code.as_deref(),
                new.uscc.as_deref(),
                true,
            )
            .await?;
        self.password_policy()
            .await?
            .check_password(&username, &new.password)
            .map_err(|e| invalid(e.to_string()))?;
        if self.account_row_by_username(&username).await?.is_some() {
            return Err(StoreError::Conflict(format!("用户名 {username} 已被使用")));
        }
        let hash = hash_password(&new.password)
            .map_err(|e| StoreError::Other(anyhow::anyhow!("hashing a password: {e}")))?;
        let now = self.clock.now();
        let id = new_id();
        let roles = new
            .roles
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(",");
        let head = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "INSERT INTO account (tenant_id, id, username, display_name, password_hash, roles, unit_id, uscc, \
                 failed_count, locked_until, password_changed_at, must_change_password, disabled, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, NULL, $9, $10, FALSE, $9, $9)",
            )
            .bind(&new.tenant_id)
            .bind(&id)
            .bind(&username)
            .bind(display_name)
            .bind(&hash)
            .bind(&roles)
            .bind(&unit_id)
            .bind(&uscc)
            .bind(now)
            .bind(new.must_change_password)
            .execute(&mut *tx)
            .await?;
            let head = append!(self, tx, ctx, now, &AuditEntry {
                tenant_id: Some(&new.tenant_id),
                action: "create",
                entity: "account",
                entity_id: &id,
                changes: serde_json::json!({
                    "username": username, "display_name": display_name, "roles": roles,
                    "unit_id": unit_id, "uscc": uscc, "password": "set",
                    "must_change_password": new.must_change_password,
                }),
            });
            tx.commit().await?;
            head
        });
        self.advance_head(head);
        self.account(&new.tenant_id, &id)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// Checks roles (三员分立) and resolves the scope they need: a unit (by code) for
    /// `unit_admin`/`window_staff` (a window for the latter), a USCC for `enterprise`. With
    /// `allow_none`, an empty role set is accepted: the account waits for `secadmin`'s grant.
    async fn resolve_scope(
        &self,
        tenant_id: &str,
        roles: &[Role],
        unit_code: Option<&str>,
        uscc: Option<&str>,
        allow_none: bool,
    ) -> Result<(Option<String>, Option<String>)> {
        let invalid = |m: String| StoreError::Invalid(m);
        if !(allow_none && roles.is_empty()) {
            check_roles(roles).map_err(|e| invalid(e.to_string()))?;
        }
        let unit_code = unit_code.map(str::trim).filter(|c| !c.is_empty());
        let uscc = uscc.map(str::trim).filter(|c| !c.is_empty());
        let needs_unit = roles.iter().any(|r| r.needs_unit());
        let unit_id = match (unit_code, needs_unit) {
            (Some(code), true) => {
                let unit = self
                    .units(tenant_id)
                    .await?
                    .into_iter()
                    .find(|u| u.code == code)
                    .ok_or_else(|| invalid(format!("单位 {code} 不存在")))?;
                if roles.contains(&Role::WindowStaff) && unit.kind != UnitKind::Window {
                    return Err(invalid(format!(
                        "窗口人员须绑定到窗口，{} 不是窗口",
                        unit.name
                    )));
                }
                Some(unit.id)
            }
            (None, true) => return Err(invalid("部门/街道联络员和窗口人员须指定所属单位".into())),
            (Some(_), false) => return Err(invalid("只有联络员和窗口人员绑定单位".into())),
            (None, false) => None,
        };
        let needs_uscc = roles.iter().any(|r| r.needs_uscc());
        let uscc = match (uscc, needs_uscc) {
            (Some(code), true) => Some(
                Uscc::parse(code)
                    .map_err(|e| invalid(format!("统一社会信用代码无效：{e}")))?
                    .to_string(),
            ),
            (None, true) => return Err(invalid("企业用户须指定统一社会信用代码".into())),
            (Some(_), false) => return Err(invalid("只有企业用户绑定统一社会信用代码".into())),
            (None, false) => None,
        };
        Ok((unit_id, uscc))
    }

    /// `secadmin` grants and revokes roles: the account's roles and scope are replaced.
    pub async fn set_account_roles(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        id: &str,
        roles: &[Role],
        unit_code: Option<&str>,
        uscc: Option<&str>,
    ) -> Result<Account> {
        let account = self
            .account(tenant_id, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let (unit_id, uscc) = self
            .resolve_scope(tenant_id, roles, unit_code, uscc, true)
            .await?;
        let text = roles
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(",");
        let before = account
            .roles
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(",");
        let now = self.clock.now();
        let head = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "UPDATE account SET roles = $3, unit_id = $4, uscc = $5, updated_at = $6 WHERE tenant_id = $1 AND id = $2",
            )
            .bind(tenant_id)
            .bind(id)
            .bind(&text)
            .bind(&unit_id)
            .bind(&uscc)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let head = append!(self, tx, ctx, now, &AuditEntry {
                tenant_id: Some(tenant_id),
                action: "set_roles",
                entity: "account",
                entity_id: id,
                changes: serde_json::json!({"roles": [before, text], "unit_id": [account.unit_id, unit_id], "uscc": [account.uscc, uscc]}),
            });
            tx.commit().await?;
            head
        });
        self.advance_head(head);
        self.account(tenant_id, id)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// `sysadmin` disables a leaver (their sessions end at once) or enables the account again.
    pub async fn set_account_disabled(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        id: &str,
        disabled: bool,
    ) -> Result<Account> {
        let account = self
            .account(tenant_id, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let now = self.clock.now();
        let head = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("UPDATE account SET disabled = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2")
                .bind(tenant_id)
                .bind(id)
                .bind(disabled)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            if disabled {
                sqlx::query("DELETE FROM session WHERE tenant_id = $1 AND account_id = $2")
                    .bind(tenant_id)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            let head = append!(self, tx, ctx, now, &AuditEntry {
                tenant_id: Some(tenant_id),
                action: if disabled { "disable" } else { "enable" },
                entity: "account",
                entity_id: id,
                changes: serde_json::json!({"disabled": [account.state.disabled, disabled]}),
            });
            tx.commit().await?;
            head
        });
        self.advance_head(head);
        self.account(tenant_id, id)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// One page of the tenant's accounts, by username.
    pub async fn list_accounts(
        &self,
        tenant_id: &str,
        page: crate::page::PageRequest,
    ) -> Result<crate::page::Page<Account>> {
        let (rows, total) = with_pool!(self, pool => {
            let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM account WHERE tenant_id = $1")
                .bind(tenant_id)
                .fetch_one(pool)
                .await?;
            let rows = sqlx::query_as::<_, AccountRow>(sqlx::AssertSqlSafe(format!(
                "SELECT {ACCOUNT_COLUMNS} FROM account WHERE tenant_id = $1 ORDER BY username LIMIT $2 OFFSET $3"
            )))
            .bind(tenant_id)
            .bind(page.limit())
            .bind(page.offset())
            .fetch_all(pool)
            .await?;
            (rows, total)
        });
        Ok(crate::page::Page {
            items: rows
                .into_iter()
                .map(|r| r.into_account().map(|(a, _)| a))
                .collect::<Result<_>>()?,
            request: page,
            total,
        })
    }

    async fn account_row_by_username(&self, username: &str) -> Result<Option<AccountRow>> {
        let row = with_pool!(self, pool => {
            sqlx::query_as::<_, AccountRow>(sqlx::AssertSqlSafe(format!(
                "SELECT {ACCOUNT_COLUMNS} FROM account WHERE username = $1"
            )))
            .bind(username)
            .fetch_optional(pool)
            .await?
        });
        Ok(row)
    }

    /// The account with this username, in any tenant.
    pub async fn account_by_username(&self, username: &str) -> Result<Option<Account>> {
        let name = username.trim().to_lowercase();
        match self.account_row_by_username(&name).await? {
            Some(row) => Ok(Some(row.into_account()?.0)),
            None => Ok(None),
        }
    }

    /// The account with this id in the tenant.
    pub async fn account(&self, tenant_id: &str, id: &str) -> Result<Option<Account>> {
        let row = with_pool!(self, pool => {
            sqlx::query_as::<_, AccountRow>(sqlx::AssertSqlSafe(format!(
                "SELECT {ACCOUNT_COLUMNS} FROM account WHERE tenant_id = $1 AND id = $2"
            )))
            .bind(tenant_id)
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
        row.map(|r| r.into_account().map(|(a, _)| a)).transpose()
    }

    async fn log_login(
        &self,
        account: Option<&Account>,
        username: &str,
        outcome: &str,
        client_ip: Option<&str>,
    ) -> Result<()> {
        let now = self.clock.now();
        with_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO login_log (id, tenant_id, at, username, account_id, outcome, client_ip) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(new_id())
            .bind(account.map(|a| a.tenant_id.as_str()))
            .bind(now)
            .bind(username)
            .bind(account.map(|a| a.id.as_str()))
            .bind(outcome)
            .bind(client_ip)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    async fn store_login_state(&self, account: &Account, state: &LoginState) -> Result<()> {
        let now = self.clock.now();
        with_pool!(self, pool => {
            sqlx::query(
                "UPDATE account SET failed_count = $3, locked_until = $4, updated_at = $5 \
                 WHERE tenant_id = $1 AND id = $2",
            )
            .bind(&account.tenant_id)
            .bind(&account.id)
            .bind(i32::try_from(state.failed_count).unwrap_or(i32::MAX))
            .bind(state.locked_until)
            .bind(now)
            .execute(pool)
            .await?;
        });
        // not audited (the login log holds the attempt), but kept accounts are stale now
        self.reads.invalidate();
        Ok(())
    }

    /// Checks a username and password and starts a session. Every attempt goes to the login
    /// log; the same error answers an unknown user, a wrong password and a disabled account.
    #[tracing::instrument(skip(self, password))]
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        client_ip: Option<&str>,
    ) -> Result<NewSession, LoginError> {
        let name = username.trim().to_lowercase();
        let Some(row) = self.account_row_by_username(&name).await? else {
            // spend the same time as a real check, so timing does not tell who exists
            let _ = verify_password(&DUMMY_HASH, password);
            self.log_login(None, &name, "unknown_user", client_ip)
                .await?;
            return Err(LoginError::Invalid);
        };
        let (account, hash) = row.into_account()?;
        let policy = self.password_policy().await?;
        let now = self.clock.now();
        let ok = verify_password(&hash, password);
        match attempt_login(&policy, &account.state, ok, now) {
            LoginOutcome::Disabled => {
                self.log_login(Some(&account), &name, "disabled", client_ip)
                    .await?;
                Err(LoginError::Invalid)
            }
            LoginOutcome::Locked { until } => {
                self.log_login(Some(&account), &name, "locked", client_ip)
                    .await?;
                Err(LoginError::Locked { until })
            }
            LoginOutcome::Failed { state, locked } => {
                self.store_login_state(&account, &state).await?;
                self.log_login(
                    Some(&account),
                    &name,
                    if locked { "lockout" } else { "failure" },
                    client_ip,
                )
                .await?;
                match (locked, state.locked_until) {
                    (true, Some(until)) => Err(LoginError::Locked { until }),
                    _ => Err(LoginError::Invalid),
                }
            }
            LoginOutcome::Success { state, must_change } => {
                self.store_login_state(&account, &state).await?;
                self.log_login(Some(&account), &name, "success", client_ip)
                    .await?;
                let session = self.start_session(&account, client_ip, must_change).await?;
                Ok(session)
            }
        }
    }

    async fn start_session(
        &self,
        account: &Account,
        client_ip: Option<&str>,
        must_change: MustChange,
    ) -> Result<NewSession> {
        let now = self.clock.now();
        let policy = self.password_policy().await?;
        let token = random_token();
        let csrf_token = random_token();
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let live: Vec<(String, DateTime<Utc>, DateTime<Utc>)> = sqlx::query_as(
                "SELECT id_hash, created_at, last_seen_at FROM session WHERE tenant_id = $1 AND account_id = $2 ORDER BY created_at",
            )
            .bind(&account.tenant_id)
            .bind(&account.id)
            .fetch_all(&mut *tx)
            .await?;
            let mut alive = Vec::new();
            for (id, created, seen) in live {
                if session_expired(&policy, seen, now) {
                    sqlx::query("DELETE FROM session WHERE id_hash = $1").bind(&id).execute(&mut *tx).await?;
                } else {
                    alive.push((id, created));
                }
            }
            let started: Vec<DateTime<Utc>> = alive.iter().map(|(_, c)| *c).collect();
            for index in sessions_to_end(&policy, &started) {
                sqlx::query("DELETE FROM session WHERE id_hash = $1")
                    .bind(&alive[index].0)
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query(
                "INSERT INTO session (id_hash, tenant_id, account_id, csrf_token, created_at, last_seen_at, client_ip) \
                 VALUES ($1, $2, $3, $4, $5, $5, $6)",
            )
            .bind(sm3_hex(token.as_bytes()))
            .bind(&account.tenant_id)
            .bind(&account.id)
            .bind(&csrf_token)
            .bind(now)
            .bind(client_ip)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        Ok(NewSession {
            token,
            csrf_token,
            must_change,
            account: account.clone(),
        })
    }

    /// The live session of a cookie token: ends it when idle too long or the account is
    /// disabled; otherwise marks it used now.
    pub async fn session(&self, token: &str) -> Result<Option<SessionInfo>> {
        let id_hash = sm3_hex(token.as_bytes());
        let now = self.clock.now();
        let row: Option<(String, String, String, DateTime<Utc>)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT tenant_id, account_id, csrf_token, last_seen_at FROM session WHERE id_hash = $1",
            )
            .bind(&id_hash)
            .fetch_optional(pool)
            .await?
        });
        let Some((tenant_id, account_id, csrf_token, last_seen)) = row else {
            return Ok(None);
        };
        // the account and the policy change only through audited writes: kept between
        // requests ([`crate::cache`])
        let account = self
            .cached(format!("account|{tenant_id}|{account_id}"), async {
                self.account(&tenant_id, &account_id).await
            })
            .await?;
        let policy = self
            .cached("password_policy".to_owned(), self.password_policy())
            .await?;
        let Some(account) = account.filter(|a| !a.state.disabled) else {
            self.end_session(token).await?;
            return Ok(None);
        };
        if session_expired(&policy, last_seen, now) {
            self.end_session(token).await?;
            return Ok(None);
        }
        // idle time is counted in minutes: the session is marked used once a minute at most,
        // not written on every request
        if now.signed_duration_since(last_seen) >= chrono::TimeDelta::minutes(1) {
            with_pool!(self, pool => {
                sqlx::query("UPDATE session SET last_seen_at = $2 WHERE id_hash = $1")
                    .bind(&id_hash)
                    .bind(now)
                    .execute(pool)
                    .await?;
            });
        }
        let expired = policy.max_age_days >= 0
            && now
                .signed_duration_since(account.state.password_changed_at)
                .num_days()
                >= policy.max_age_days;
        Ok(Some(SessionInfo {
            must_change: account.state.must_change_password || expired,
            account,
            csrf_token,
        }))
    }

    /// Ends a session (logout).
    pub async fn end_session(&self, token: &str) -> Result<()> {
        with_pool!(self, pool => {
            sqlx::query("DELETE FROM session WHERE id_hash = $1")
                .bind(sm3_hex(token.as_bytes()))
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// The number of live session rows of an account (for tests and the admin page).
    pub async fn session_count(&self, account: &Account) -> Result<i64> {
        let n = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM session WHERE tenant_id = $1 AND account_id = $2")
                .bind(&account.tenant_id)
                .bind(&account.id)
                .fetch_one(pool)
                .await?
        });
        Ok(n)
    }

    /// The user changes their own password (checked against the policy and the current one).
    pub async fn change_password(
        &self,
        ctx: &AuditCtx,
        account: &Account,
        current: &str,
        new: &str,
    ) -> Result<()> {
        let Some(row) = self.account_row_by_username(&account.username).await? else {
            return Err(StoreError::NotFound);
        };
        if !verify_password(&row.password_hash, current) {
            return Err(StoreError::Invalid("当前密码不正确".into()));
        }
        self.password_policy()
            .await?
            .check_new_password(
                &account.username,
                verify_password(&row.password_hash, new),
                new,
            )
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        self.set_password(ctx, account, new, false, "change_password")
            .await
    }

    /// An administrator sets a new password (to be changed at next login) and clears any lock.
    pub async fn reset_password(
        &self,
        ctx: &AuditCtx,
        username: &str,
        new: &str,
    ) -> Result<Account> {
        let account = self
            .account_by_username(username)
            .await?
            .ok_or_else(|| StoreError::Invalid(format!("用户 {} 不存在", username.trim())))?;
        self.password_policy()
            .await?
            .check_password(&account.username, new)
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        self.set_password(ctx, &account, new, true, "reset_password")
            .await?;
        self.account(&account.tenant_id, &account.id)
            .await?
            .ok_or(StoreError::NotFound)
    }

    async fn set_password(
        &self,
        ctx: &AuditCtx,
        account: &Account,
        new: &str,
        must_change: bool,
        action: &str,
    ) -> Result<()> {
        let hash = hash_password(new)
            .map_err(|e| StoreError::Other(anyhow::anyhow!("hashing a password: {e}")))?;
        let now = self.clock.now();
        let head = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "UPDATE account SET password_hash = $3, password_changed_at = $4, must_change_password = $5, \
                 failed_count = 0, locked_until = NULL, updated_at = $4 WHERE tenant_id = $1 AND id = $2",
            )
            .bind(&account.tenant_id)
            .bind(&account.id)
            .bind(&hash)
            .bind(now)
            .bind(must_change)
            .execute(&mut *tx)
            .await?;
            let head = append!(self, tx, ctx, now, &AuditEntry {
                tenant_id: Some(&account.tenant_id),
                action,
                entity: "account",
                entity_id: &account.id,
                changes: serde_json::json!({"password": "changed", "must_change_password": must_change}),
            });
            tx.commit().await?;
            head
        });
        self.advance_head(head);
        Ok(())
    }

    /// `sysadmin`'s unlock: clears the lock and the failure count.
    pub async fn unlock_account(&self, ctx: &AuditCtx, username: &str) -> Result<Account> {
        let account = self
            .account_by_username(username)
            .await?
            .ok_or_else(|| StoreError::Invalid(format!("用户 {} 不存在", username.trim())))?;
        let state = domain::account::unlock(&account.state);
        let now = self.clock.now();
        let head = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "UPDATE account SET failed_count = 0, locked_until = NULL, updated_at = $3 WHERE tenant_id = $1 AND id = $2",
            )
            .bind(&account.tenant_id)
            .bind(&account.id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let head = append!(self, tx, ctx, now, &AuditEntry {
                tenant_id: Some(&account.tenant_id),
                action: "unlock",
                entity: "account",
                entity_id: &account.id,
                changes: serde_json::json!({"failed_count": [account.state.failed_count, state.failed_count], "locked_until": [account.state.locked_until, state.locked_until]}),
            });
            tx.commit().await?;
            head
        });
        self.advance_head(head);
        Ok(Account { state, ..account })
    }

    /// One page of the tenant's login log, newest first.
    pub async fn login_log_page(
        &self,
        tenant_id: &str,
        page: crate::page::PageRequest,
    ) -> Result<crate::page::Page<LoginRecord>> {
        let (items, total) = with_pool!(self, pool => {
            let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM login_log WHERE tenant_id = $1")
                .bind(tenant_id)
                .fetch_one(pool)
                .await?;
            let items = sqlx::query_as::<_, LoginRecord>(
                "SELECT at, username, outcome, client_ip FROM login_log WHERE tenant_id = $1 \
                 ORDER BY at DESC, id DESC LIMIT $2 OFFSET $3",
            )
            .bind(tenant_id)
            .bind(page.limit())
            .bind(page.offset())
            .fetch_all(pool)
            .await?;
            (items, total)
        });
        Ok(crate::page::Page {
            items,
            request: page,
            total,
        })
    }

    /// The newest entries of the login log of a tenant, newest first.
    pub async fn login_log(
        &self,
        tenant_id: &str,
        limit: i64,
    ) -> Result<Vec<(DateTime<Utc>, String, String)>> {
        let rows = with_pool!(self, pool => {
            sqlx::query_as("SELECT at, username, outcome FROM login_log WHERE tenant_id = $1 ORDER BY at DESC, id DESC LIMIT $2")
                .bind(tenant_id)
                .bind(limit)
                .fetch_all(pool)
                .await?
        });
        Ok(rows)
    }
}

/// A real argon2id hash of a random password, checked against for unknown users.
static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| hash_password(&random_token()).expect("hashing a random password"));
