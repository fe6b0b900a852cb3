//! Accounts: roles and 三员分立, usernames, the password policy and the sign-in lifecycle
//! (SPEC "Users and roles"; 等保 level 3). Pure rules: the caller stores the state, checks
//! password hashes and passes the current instant in.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, TimeDelta, Utc};

/// A role an account holds (SPEC "Users and roles").
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 系统管理员: accounts, units, configuration, the calendar; no business records.
    Sysadmin,
    /// 安全管理员: roles, password and session policy, tokens.
    Secadmin,
    /// 审计管理员: the audit log and the login log only.
    Auditor,
    /// 区级领导.
    Leader,
    /// 营商办/督查.
    Supervisor,
    /// 明察暗访组.
    Inspector,
    /// 部门/街道联络员, scoped to a unit and its subtree.
    UnitAdmin,
    /// 窗口人员, bound to a window.
    WindowStaff,
    /// 监督员.
    Observer,
    /// 企业用户, bound to a USCC.
    Enterprise,
}

impl Role {
    /// Every role, administrators first, in the order of the SPEC's role table.
    pub const ALL: [Role; 10] = [
        Role::Sysadmin,
        Role::Secadmin,
        Role::Auditor,
        Role::Leader,
        Role::Supervisor,
        Role::Inspector,
        Role::UnitAdmin,
        Role::WindowStaff,
        Role::Observer,
        Role::Enterprise,
    ];

    /// The name used in code, tables and the API (`"unit_admin"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Sysadmin => "sysadmin",
            Role::Secadmin => "secadmin",
            Role::Auditor => "auditor",
            Role::Leader => "leader",
            Role::Supervisor => "supervisor",
            Role::Inspector => "inspector",
            Role::UnitAdmin => "unit_admin",
            Role::WindowStaff => "window_staff",
            Role::Observer => "observer",
            Role::Enterprise => "enterprise",
        }
    }

    /// The Chinese name shown to users (`"系统管理员"`).
    pub fn label(self) -> &'static str {
        match self {
            Role::Sysadmin => "系统管理员",
            Role::Secadmin => "安全管理员",
            Role::Auditor => "审计管理员",
            Role::Leader => "区级领导",
            Role::Supervisor => "营商办/督查",
            Role::Inspector => "明察暗访组",
            Role::UnitAdmin => "部门/街道联络员",
            Role::WindowStaff => "窗口人员",
            Role::Observer => "监督员",
            Role::Enterprise => "企业用户",
        }
    }

    /// Whether this is one of the three administrator roles (三员: sysadmin, secadmin, auditor).
    pub fn is_admin(self) -> bool {
        matches!(self, Role::Sysadmin | Role::Secadmin | Role::Auditor)
    }

    /// Whether an account with this role must be scoped to a unit (`unit_admin`,
    /// `window_staff`). For `window_staff` the unit must be a window; that needs the unit
    /// tree and is checked by the caller.
    pub fn needs_unit(self) -> bool {
        matches!(self, Role::UnitAdmin | Role::WindowStaff)
    }

    /// Whether an account with this role must be bound to a USCC (`enterprise`).
    pub fn needs_uscc(self) -> bool {
        matches!(self, Role::Enterprise)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = RoleError;

    /// Parses the exact name given by [`Role::as_str`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| RoleError::Unknown(s.to_owned()))
    }
}

/// A role name that names no role, or a set of roles one account may not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoleError {
    /// No role at all.
    #[error("账号至少须有一个角色")]
    Empty,
    /// A string that names no role.
    #[error("未知的角色“{0}”")]
    Unknown(String),
    /// The same role given twice.
    #[error("角色“{}”重复", .0.label())]
    Duplicate(Role),
    /// Two administrator roles, in the order given.
    #[error("{}与{}须由不同账号担任（三员分立）", .0.label(), .1.label())]
    TwoAdmins(Role, Role),
    /// An administrator role (first) together with a business role (second).
    #[error("管理员角色不能与业务角色（{}）兼任", .1.label())]
    AdminWithBusiness(Role, Role),
}

/// Checks a set of roles for one account (三员分立): non-empty, no duplicates, at most one
/// admin role, and no admin role together with a business role.
///
/// The first problem found is reported, in that order of rules; `TwoAdmins` names the first
/// two administrator roles in input order, `AdminWithBusiness` names the administrator role
/// first and the first business role second, whatever their order in `roles`.
pub fn check_roles(roles: &[Role]) -> Result<(), RoleError> {
    if roles.is_empty() {
        return Err(RoleError::Empty);
    }
    for (i, role) in roles.iter().enumerate() {
        if roles[..i].contains(role) {
            return Err(RoleError::Duplicate(*role));
        }
    }
    let mut admins = roles.iter().copied().filter(|r| r.is_admin());
    let Some(admin) = admins.next() else {
        return Ok(());
    };
    if let Some(second) = admins.next() {
        return Err(RoleError::TwoAdmins(admin, second));
    }
    match roles.iter().copied().find(|r| !r.is_admin()) {
        Some(business) => Err(RoleError::AdminWithBusiness(admin, business)),
        None => Ok(()),
    }
}

/// The longest password accepted, in characters (guards the hashing cost).
pub const PASSWORD_MAX_CHARS: usize = 128;

/// Password and session policy (a `secadmin` setting); the defaults are 等保 level 3's.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PasswordPolicy {
    /// Shortest password, in characters (8).
    pub min_length: usize,
    /// How many of the four classes (upper, lower, digit, symbol) a password needs (3).
    pub min_classes: usize,
    /// Days after which a password has expired and must be changed at login (90).
    pub max_age_days: i64,
    /// Consecutive failed logins that lock the account (5).
    pub max_failures: u32,
    /// How long a lock lasts, in minutes (15).
    pub lockout_minutes: i64,
    /// Minutes without a request after which a session ends (30).
    pub idle_minutes: i64,
    /// Concurrent sessions per account (3).
    pub max_sessions: usize,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            min_length: 8,
            min_classes: 3,
            max_age_days: 90,
            max_failures: 5,
            lockout_minutes: 15,
            idle_minutes: 30,
            max_sessions: 3,
        }
    }
}

impl PasswordPolicy {
    /// Checks a new password against the policy: at least `min_length` and at most
    /// [`PASSWORD_MAX_CHARS`] characters, at least `min_classes` of upper-case ASCII letters,
    /// lower-case ASCII letters, ASCII digits and symbols (any other character, including
    /// spaces and Chinese characters), and not containing the username (case-insensitive).
    /// Rules are checked in that order; the first broken one is reported.
    pub fn check_password(&self, username: &str, password: &str) -> Result<(), PasswordError> {
        let len = password.chars().count();
        if len < self.min_length {
            return Err(PasswordError::TooShort(self.min_length));
        }
        if len > PASSWORD_MAX_CHARS {
            return Err(PasswordError::TooLong);
        }
        let has = |f: fn(&char) -> bool| password.chars().any(|c| f(&c));
        let classes = [
            has(char::is_ascii_uppercase),
            has(char::is_ascii_lowercase),
            has(char::is_ascii_digit),
            has(|c| !c.is_ascii_alphanumeric()),
        ]
        .into_iter()
        .filter(|&present| present)
        .count();
        if classes < self.min_classes {
            return Err(PasswordError::TooFewClasses(self.min_classes));
        }
        let username = username.trim().to_lowercase();
        if !username.is_empty() && password.to_lowercase().contains(&username) {
            return Err(PasswordError::ContainsUsername);
        }
        Ok(())
    }

    /// Checks a password a user chooses to replace the current one. `same_as_current` is
    /// whether `new` matches the current password's hash (the caller checks it); if so the
    /// answer is [`PasswordError::Same`], otherwise that of [`Self::check_password`].
    pub fn check_new_password(
        &self,
        username: &str,
        same_as_current: bool,
        new: &str,
    ) -> Result<(), PasswordError> {
        if same_as_current {
            return Err(PasswordError::Same);
        }
        self.check_password(username, new)
    }
}

/// A password the policy refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// Shorter than the minimum length (carried).
    #[error("密码至少 {0} 位")]
    TooShort(usize),
    /// Longer than [`PASSWORD_MAX_CHARS`].
    #[error("密码最多 {} 位", PASSWORD_MAX_CHARS)]
    TooLong,
    /// Fewer character classes than the minimum (carried).
    #[error("密码须包含大写字母、小写字母、数字、符号中的至少 {0} 类")]
    TooFewClasses(usize),
    /// Contains the username.
    #[error("密码不能包含用户名")]
    ContainsUsername,
    /// The new password is the current one.
    #[error("新密码不能与当前密码相同")]
    Same,
}

/// Checks and normalises a username: trimmed, 3 to 32 characters, only ASCII letters,
/// digits, `.`, `_` and `-`; returned in lower case.
pub fn check_username(s: &str) -> Result<String, UsernameError> {
    let s = s.trim();
    let len = s.chars().count();
    if !(3..=32).contains(&len) {
        return Err(UsernameError::Length(len));
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(UsernameError::BadChar(c));
    }
    Ok(s.to_ascii_lowercase())
}

/// A username that [`check_username`] refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsernameError {
    /// Not 3 to 32 characters after trimming (the length found is carried).
    #[error("用户名须为 3 到 32 个字符（现为 {0} 个）")]
    Length(usize),
    /// A character other than ASCII letters, digits, `.`, `_`, `-`.
    #[error("用户名只能包含英文字母、数字和“.”“_”“-”，不能包含“{0}”")]
    BadChar(char),
}

/// The sign-in state of an account, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginState {
    /// Consecutive failed logins since the last success, unlock or expired lock.
    pub failed_count: u32,
    /// The account is locked until this instant (exclusive); a past instant no longer blocks.
    pub locked_until: Option<DateTime<Utc>>,
    /// When the password was last set.
    pub password_changed_at: DateTime<Utc>,
    /// The password was set by an administrator and must be changed at the next login.
    pub must_change_password: bool,
    /// The account is disabled (a leaver); it is kept, never deleted.
    pub disabled: bool,
}

/// Why a signed-in user must change the password before doing anything else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MustChange {
    /// No change needed.
    None,
    /// First login after an administrator set the password.
    FirstLogin,
    /// The password is older than the policy's `max_age_days`.
    Expired,
}

/// What a login attempt leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginOutcome {
    /// Signed in; `must_change` when first login after an administrator set the password, or
    /// the password expired.
    Success {
        /// The state to store: count 0, no lock.
        state: LoginState,
        /// Whether the password must be changed now.
        must_change: MustChange,
    },
    /// Wrong password: state with the count raised; `locked` when this failure locked the
    /// account (then `locked_until` = now + lockout).
    Failed {
        /// The state to store.
        state: LoginState,
        /// This failure locked the account.
        locked: bool,
    },
    /// The account is locked until the instant (no password check counts while locked; the
    /// count is not raised).
    Locked {
        /// When the lock ends.
        until: DateTime<Utc>,
    },
    /// The account is disabled (leaver); whether or not the password matched, nothing counts.
    Disabled,
}

/// Decides a login attempt; `password_ok` is whether the password matched. A success resets
/// the count and clears an expired lock. A lock that has expired no longer blocks (the
/// attempt is judged normally, count starting from 0).
///
/// Order: disabled, then a live lock (`now < locked_until`), then the password. On success,
/// `FirstLogin` takes precedence over `Expired` (changing the administrator's password also
/// renews the age). A password is expired when `now - password_changed_at >= max_age_days`.
/// The account locks when the raised count reaches `max_failures`; the count stays at that
/// value while locked. The caller shows the same message for `Failed`, `Locked` and
/// `Disabled` as for an unknown user if it must not reveal which accounts exist.
pub fn attempt_login(
    policy: &PasswordPolicy,
    state: &LoginState,
    password_ok: bool,
    now: DateTime<Utc>,
) -> LoginOutcome {
    if state.disabled {
        return LoginOutcome::Disabled;
    }
    let mut state = state.clone();
    match state.locked_until {
        Some(until) if now < until => return LoginOutcome::Locked { until },
        Some(_) => {
            state.locked_until = None;
            state.failed_count = 0;
        }
        None => {}
    }
    if password_ok {
        state.failed_count = 0;
        let must_change = if state.must_change_password {
            MustChange::FirstLogin
        } else if reached(
            state.password_changed_at,
            now,
            TimeDelta::try_days(policy.max_age_days),
        ) {
            MustChange::Expired
        } else {
            MustChange::None
        };
        return LoginOutcome::Success { state, must_change };
    }
    state.failed_count = state.failed_count.saturating_add(1);
    let locked = state.failed_count >= policy.max_failures;
    if locked {
        state.locked_until = Some(
            TimeDelta::try_minutes(policy.lockout_minutes)
                .and_then(|d| now.checked_add_signed(d))
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
        );
    }
    LoginOutcome::Failed { state, locked }
}

/// Whether `limit` has passed from `from` to `now`; a limit too large for a `TimeDelta`
/// never passes.
fn reached(from: DateTime<Utc>, now: DateTime<Utc>, limit: Option<TimeDelta>) -> bool {
    limit.is_some_and(|limit| now.signed_duration_since(from) >= limit)
}

/// Clears the lock and the failure count (sysadmin's unlock).
pub fn unlock(state: &LoginState) -> LoginState {
    LoginState {
        failed_count: 0,
        locked_until: None,
        ..state.clone()
    }
}

/// Whether a session last used at `last_seen` has expired by `now` (idle limit): expired when
/// `now - last_seen >= idle_minutes`.
pub fn session_expired(
    policy: &PasswordPolicy,
    last_seen: DateTime<Utc>,
    now: DateTime<Utc>,
) -> bool {
    reached(last_seen, now, TimeDelta::try_minutes(policy.idle_minutes))
}

/// Given the start instants of an account's live sessions, which must be ended when one more
/// starts so that at most max_sessions remain (oldest first). Returns indices into
/// `live_started`, oldest session first; equal instants in index order.
pub fn sessions_to_end(policy: &PasswordPolicy, live_started: &[DateTime<Utc>]) -> Vec<usize> {
    let keep = policy.max_sessions.saturating_sub(1);
    let excess = live_started.len().saturating_sub(keep);
    let mut order: Vec<usize> = (0..live_started.len()).collect();
    order.sort_by_key(|&i| live_started[i]);
    order.truncate(excess);
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().expect("RFC 3339 instant")
    }

    fn state(
        failed_count: u32,
        locked_until: Option<&str>,
        password_changed_at: &str,
        must_change_password: bool,
        disabled: bool,
    ) -> LoginState {
        LoginState {
            failed_count,
            locked_until: locked_until.map(t),
            password_changed_at: t(password_changed_at),
            must_change_password,
            disabled,
        }
    }

    // ---- roles ----

    #[test]
    fn every_role_has_its_name_and_label_and_parses_back() {
        let table = [
            (Role::Sysadmin, "sysadmin", "系统管理员"),
            (Role::Secadmin, "secadmin", "安全管理员"),
            (Role::Auditor, "auditor", "审计管理员"),
            (Role::Leader, "leader", "区级领导"),
            (Role::Supervisor, "supervisor", "营商办/督查"),
            (Role::Inspector, "inspector", "明察暗访组"),
            (Role::UnitAdmin, "unit_admin", "部门/街道联络员"),
            (Role::WindowStaff, "window_staff", "窗口人员"),
            (Role::Observer, "observer", "监督员"),
            (Role::Enterprise, "enterprise", "企业用户"),
        ];
        assert_eq!(Role::ALL.len(), 10);
        for ((role, name, label), listed) in table.into_iter().zip(Role::ALL) {
            assert_eq!(role, listed);
            assert_eq!(role.as_str(), name);
            assert_eq!(role.to_string(), name);
            assert_eq!(role.label(), label);
            assert_eq!(name.parse::<Role>(), Ok(role));
        }
    }

    #[test]
    fn unknown_role_names_are_refused() {
        assert_eq!(
            "admin".parse::<Role>(),
            Err(RoleError::Unknown("admin".to_owned()))
        );
        assert_eq!(
            "UnitAdmin".parse::<Role>(),
            Err(RoleError::Unknown("UnitAdmin".to_owned()))
        );
        assert_eq!(
            " leader".parse::<Role>(),
            Err(RoleError::Unknown(" leader".to_owned()))
        );
        assert_eq!("".parse::<Role>(), Err(RoleError::Unknown(String::new())));
        assert_eq!(
            RoleError::Unknown("admin".to_owned()).to_string(),
            "未知的角色“admin”"
        );
    }

    #[test]
    fn role_flags() {
        // (role, is_admin, needs_unit, needs_uscc)
        let table = [
            (Role::Sysadmin, true, false, false),
            (Role::Secadmin, true, false, false),
            (Role::Auditor, true, false, false),
            (Role::Leader, false, false, false),
            (Role::Supervisor, false, false, false),
            (Role::Inspector, false, false, false),
            (Role::UnitAdmin, false, true, false),
            (Role::WindowStaff, false, true, false),
            (Role::Observer, false, false, false),
            (Role::Enterprise, false, false, true),
        ];
        for (role, admin, unit, uscc) in table {
            assert_eq!(role.is_admin(), admin, "{role}");
            assert_eq!(role.needs_unit(), unit, "{role}");
            assert_eq!(role.needs_uscc(), uscc, "{role}");
        }
    }

    #[test]
    fn roles_deserialize_from_snake_case() {
        #[derive(serde::Deserialize)]
        struct Doc {
            roles: Vec<Role>,
        }
        let doc: Doc = toml::from_str(r#"roles = ["unit_admin", "window_staff", "sysadmin"]"#)
            .expect("valid roles");
        assert_eq!(
            doc.roles,
            vec![Role::UnitAdmin, Role::WindowStaff, Role::Sysadmin]
        );
        assert!(toml::from_str::<Doc>(r#"roles = ["UnitAdmin"]"#).is_err());
    }

    #[test]
    fn each_pair_of_admin_roles_is_refused() {
        let cases = [
            (
                [Role::Sysadmin, Role::Secadmin],
                RoleError::TwoAdmins(Role::Sysadmin, Role::Secadmin),
            ),
            (
                [Role::Secadmin, Role::Sysadmin],
                RoleError::TwoAdmins(Role::Secadmin, Role::Sysadmin),
            ),
            (
                [Role::Sysadmin, Role::Auditor],
                RoleError::TwoAdmins(Role::Sysadmin, Role::Auditor),
            ),
            (
                [Role::Auditor, Role::Sysadmin],
                RoleError::TwoAdmins(Role::Auditor, Role::Sysadmin),
            ),
            (
                [Role::Secadmin, Role::Auditor],
                RoleError::TwoAdmins(Role::Secadmin, Role::Auditor),
            ),
            (
                [Role::Auditor, Role::Secadmin],
                RoleError::TwoAdmins(Role::Auditor, Role::Secadmin),
            ),
        ];
        for (roles, expected) in cases {
            assert_eq!(check_roles(&roles), Err(expected), "{roles:?}");
        }
        assert_eq!(
            check_roles(&[Role::Sysadmin, Role::Secadmin, Role::Auditor]),
            Err(RoleError::TwoAdmins(Role::Sysadmin, Role::Secadmin))
        );
        // Two admins and a business role: the two admins are reported.
        assert_eq!(
            check_roles(&[Role::Leader, Role::Auditor, Role::Secadmin]),
            Err(RoleError::TwoAdmins(Role::Auditor, Role::Secadmin))
        );
    }

    #[test]
    fn each_admin_role_with_each_business_role_is_refused_in_either_order() {
        // (admin, business): expected Err(AdminWithBusiness(admin, business)) both ways round.
        let pairs = [
            (Role::Sysadmin, Role::Leader),
            (Role::Sysadmin, Role::Supervisor),
            (Role::Sysadmin, Role::Inspector),
            (Role::Sysadmin, Role::UnitAdmin),
            (Role::Sysadmin, Role::WindowStaff),
            (Role::Sysadmin, Role::Observer),
            (Role::Sysadmin, Role::Enterprise),
            (Role::Secadmin, Role::Leader),
            (Role::Secadmin, Role::Supervisor),
            (Role::Secadmin, Role::Inspector),
            (Role::Secadmin, Role::UnitAdmin),
            (Role::Secadmin, Role::WindowStaff),
            (Role::Secadmin, Role::Observer),
            (Role::Secadmin, Role::Enterprise),
            (Role::Auditor, Role::Leader),
            (Role::Auditor, Role::Supervisor),
            (Role::Auditor, Role::Inspector),
            (Role::Auditor, Role::UnitAdmin),
            (Role::Auditor, Role::WindowStaff),
            (Role::Auditor, Role::Observer),
            (Role::Auditor, Role::Enterprise),
        ];
        for (admin, business) in pairs {
            let expected = Err(RoleError::AdminWithBusiness(admin, business));
            assert_eq!(check_roles(&[admin, business]), expected);
            assert_eq!(check_roles(&[business, admin]), expected);
        }
        assert_eq!(
            check_roles(&[Role::Leader, Role::Supervisor, Role::Sysadmin]),
            Err(RoleError::AdminWithBusiness(Role::Sysadmin, Role::Leader))
        );
    }

    #[test]
    fn single_roles_and_business_combinations_are_allowed() {
        assert_eq!(check_roles(&[Role::Sysadmin]), Ok(()));
        assert_eq!(check_roles(&[Role::Secadmin]), Ok(()));
        assert_eq!(check_roles(&[Role::Auditor]), Ok(()));
        assert_eq!(check_roles(&[Role::Enterprise]), Ok(()));
        assert_eq!(check_roles(&[Role::Leader, Role::Supervisor]), Ok(()));
        assert_eq!(check_roles(&[Role::UnitAdmin, Role::WindowStaff]), Ok(()));
        assert_eq!(check_roles(&[Role::Supervisor, Role::Inspector]), Ok(()));
        assert_eq!(
            check_roles(&[
                Role::Leader,
                Role::Supervisor,
                Role::Inspector,
                Role::UnitAdmin,
                Role::WindowStaff,
                Role::Observer,
                Role::Enterprise,
            ]),
            Ok(())
        );
    }

    #[test]
    fn empty_and_duplicate_role_sets_are_refused() {
        assert_eq!(check_roles(&[]), Err(RoleError::Empty));
        assert_eq!(
            check_roles(&[Role::Leader, Role::Leader]),
            Err(RoleError::Duplicate(Role::Leader))
        );
        assert_eq!(
            check_roles(&[Role::UnitAdmin, Role::Observer, Role::UnitAdmin]),
            Err(RoleError::Duplicate(Role::UnitAdmin))
        );
        // A repeated admin role is a duplicate, not two admins.
        assert_eq!(
            check_roles(&[Role::Sysadmin, Role::Sysadmin]),
            Err(RoleError::Duplicate(Role::Sysadmin))
        );
    }

    #[test]
    fn role_error_messages() {
        assert_eq!(RoleError::Empty.to_string(), "账号至少须有一个角色");
        assert_eq!(
            RoleError::Duplicate(Role::Leader).to_string(),
            "角色“区级领导”重复"
        );
        assert_eq!(
            RoleError::TwoAdmins(Role::Sysadmin, Role::Secadmin).to_string(),
            "系统管理员与安全管理员须由不同账号担任（三员分立）"
        );
        assert_eq!(
            RoleError::AdminWithBusiness(Role::Auditor, Role::Leader).to_string(),
            "管理员角色不能与业务角色（区级领导）兼任"
        );
    }

    // ---- passwords ----

    #[test]
    fn default_policy_is_the_spec_one() {
        assert_eq!(
            PasswordPolicy::default(),
            PasswordPolicy {
                min_length: 8,
                min_classes: 3,
                max_age_days: 90,
                max_failures: 5,
                lockout_minutes: 15,
                idle_minutes: 30,
                max_sessions: 3,
            }
        );
    }

    #[test]
    fn password_rules_each_with_an_example() {
        let p = PasswordPolicy::default();
        // Length, in characters.
        assert_eq!(
            p.check_password("zhangsan", "Ab1!xyz"),
            Err(PasswordError::TooShort(8))
        );
        assert_eq!(p.check_password("zhangsan", "Ab1!xyzw"), Ok(()));
        assert_eq!(
            p.check_password("zhangsan", ""),
            Err(PasswordError::TooShort(8))
        );
        assert_eq!(p.check_password("zhangsan", "密码密码密码A1"), Ok(()));
        assert_eq!(
            p.check_password("zhangsan", "密码密码密A1"),
            Err(PasswordError::TooShort(8))
        );
        let len_128 = "Ab1!".repeat(32);
        let len_129 = format!("{len_128}x");
        assert_eq!(p.check_password("zhangsan", &len_128), Ok(()));
        assert_eq!(
            p.check_password("zhangsan", &len_129),
            Err(PasswordError::TooLong)
        );
        // Classes.
        assert_eq!(
            p.check_password("zhangsan", "abcdefgh"),
            Err(PasswordError::TooFewClasses(3))
        );
        assert_eq!(
            p.check_password("zhangsan", "abcdefgh1"),
            Err(PasswordError::TooFewClasses(3))
        );
        assert_eq!(
            p.check_password("zhangsan", "Abcdefgh"),
            Err(PasswordError::TooFewClasses(3))
        );
        assert_eq!(
            p.check_password("zhangsan", "12345678!@"),
            Err(PasswordError::TooFewClasses(3))
        );
        assert_eq!(
            p.check_password("zhangsan", "ABCDEFGH1"),
            Err(PasswordError::TooFewClasses(3))
        );
        assert_eq!(p.check_password("zhangsan", "abcdefg1!"), Ok(()));
        assert_eq!(p.check_password("zhangsan", "Abcdefg1"), Ok(()));
        assert_eq!(p.check_password("zhangsan", "ABCDEFG!a"), Ok(()));
        assert_eq!(p.check_password("zhangsan", "Abcdefg!"), Ok(()));
        assert_eq!(p.check_password("zhangsan", "Hyqz#2026"), Ok(()));
        // A space and a Chinese character count as symbols.
        assert_eq!(p.check_password("zhangsan", "correct horse 7"), Ok(()));
        assert_eq!(p.check_password("zhangsan", "营商abcd1234"), Ok(()));
        // Username, case-insensitive.
        assert_eq!(
            p.check_password("zhangsan", "zhangsan!A1"),
            Err(PasswordError::ContainsUsername)
        );
        assert_eq!(
            p.check_password("zhangsan", "Xx#ZhangSan2026"),
            Err(PasswordError::ContainsUsername)
        );
        assert_eq!(
            p.check_password("Wang.Wu", "my-wang.wu-9X"),
            Err(PasswordError::ContainsUsername)
        );
        assert_eq!(p.check_password("zhangsan", "zhang#San1"), Ok(()));
        assert_eq!(p.check_password("", "Hyqz#2026"), Ok(()));
    }

    #[test]
    fn password_rules_follow_the_policy_settings() {
        let p = PasswordPolicy {
            min_length: 12,
            min_classes: 4,
            ..PasswordPolicy::default()
        };
        assert_eq!(
            p.check_password("lisi", "Abc1!abc1!a"),
            Err(PasswordError::TooShort(12))
        );
        assert_eq!(
            p.check_password("lisi", "Abcdefgh1234"),
            Err(PasswordError::TooFewClasses(4))
        );
        assert_eq!(p.check_password("lisi", "Abcdefgh123!"), Ok(()));
    }

    #[test]
    fn new_password_must_differ_from_the_current_one() {
        let p = PasswordPolicy::default();
        assert_eq!(
            p.check_new_password("zhangsan", true, "Hyqz#2026"),
            Err(PasswordError::Same)
        );
        assert_eq!(p.check_new_password("zhangsan", false, "Hyqz#2026"), Ok(()));
        assert_eq!(
            p.check_new_password("zhangsan", false, "short"),
            Err(PasswordError::TooShort(8))
        );
    }

    #[test]
    fn password_error_messages() {
        assert_eq!(PasswordError::TooShort(8).to_string(), "密码至少 8 位");
        assert_eq!(PasswordError::TooLong.to_string(), "密码最多 128 位");
        assert_eq!(
            PasswordError::TooFewClasses(3).to_string(),
            "密码须包含大写字母、小写字母、数字、符号中的至少 3 类"
        );
        assert_eq!(
            PasswordError::ContainsUsername.to_string(),
            "密码不能包含用户名"
        );
        assert_eq!(PasswordError::Same.to_string(), "新密码不能与当前密码相同");
    }

    // ---- usernames ----

    #[test]
    fn usernames_are_trimmed_checked_and_lower_cased() {
        assert_eq!(check_username("zhangsan"), Ok("zhangsan".to_owned()));
        assert_eq!(
            check_username("  Zhang.San_01-x \t"),
            Ok("zhang.san_01-x".to_owned())
        );
        assert_eq!(check_username("abc"), Ok("abc".to_owned()));
        assert_eq!(check_username("ab"), Err(UsernameError::Length(2)));
        assert_eq!(check_username("  ab  "), Err(UsernameError::Length(2)));
        assert_eq!(check_username(""), Err(UsernameError::Length(0)));
        assert_eq!(check_username("   "), Err(UsernameError::Length(0)));
        assert_eq!(
            check_username("abcdefghijklmnopqrstuvwxyz012345"),
            Ok("abcdefghijklmnopqrstuvwxyz012345".to_owned())
        );
        assert_eq!(
            check_username("abcdefghijklmnopqrstuvwxyz0123456"),
            Err(UsernameError::Length(33))
        );
        assert_eq!(check_username("123"), Ok("123".to_owned()));
        assert_eq!(check_username("张三abc"), Err(UsernameError::BadChar('张')));
        assert_eq!(check_username("张三"), Err(UsernameError::Length(2)));
        assert_eq!(
            check_username("zhang san"),
            Err(UsernameError::BadChar(' '))
        );
        assert_eq!(check_username("a@b.com"), Err(UsernameError::BadChar('@')));
        assert_eq!(check_username("ＡＢＣ"), Err(UsernameError::BadChar('Ａ')));
    }

    #[test]
    fn username_error_messages() {
        assert_eq!(
            UsernameError::Length(2).to_string(),
            "用户名须为 3 到 32 个字符（现为 2 个）"
        );
        assert_eq!(
            UsernameError::BadChar('@').to_string(),
            "用户名只能包含英文字母、数字和“.”“_”“-”，不能包含“@”"
        );
    }

    // ---- login ----

    #[test]
    fn attempt_login_table() {
        let p = PasswordPolicy::default();
        let now = t("2026-03-02T09:00:00Z");
        // Password set 29 days before `now` unless said otherwise.
        let set = "2026-02-01T09:00:00Z";
        let cases: Vec<(&str, LoginState, bool, LoginOutcome)> = vec![
            (
                "fresh + ok",
                state(0, None, set, false, false),
                true,
                LoginOutcome::Success {
                    state: state(0, None, set, false, false),
                    must_change: MustChange::None,
                },
            ),
            (
                "fresh + bad",
                state(0, None, set, false, false),
                false,
                LoginOutcome::Failed {
                    state: state(1, None, set, false, false),
                    locked: false,
                },
            ),
            (
                "2 failures + ok resets the count",
                state(2, None, set, false, false),
                true,
                LoginOutcome::Success {
                    state: state(0, None, set, false, false),
                    must_change: MustChange::None,
                },
            ),
            (
                "3 failures + bad",
                state(3, None, set, false, false),
                false,
                LoginOutcome::Failed {
                    state: state(4, None, set, false, false),
                    locked: false,
                },
            ),
            (
                "4 failures + bad locks for 15 minutes",
                state(4, None, set, false, false),
                false,
                LoginOutcome::Failed {
                    state: state(5, Some("2026-03-02T09:15:00Z"), set, false, false),
                    locked: true,
                },
            ),
            (
                "locked (until in future) + ok",
                state(5, Some("2026-03-02T09:10:00Z"), set, false, false),
                true,
                LoginOutcome::Locked {
                    until: t("2026-03-02T09:10:00Z"),
                },
            ),
            (
                "locked (until in future) + bad: count not raised",
                state(5, Some("2026-03-02T09:00:01Z"), set, false, false),
                false,
                LoginOutcome::Locked {
                    until: t("2026-03-02T09:00:01Z"),
                },
            ),
            (
                "lock passed + ok",
                state(5, Some("2026-03-02T08:59:59Z"), set, false, false),
                true,
                LoginOutcome::Success {
                    state: state(0, None, set, false, false),
                    must_change: MustChange::None,
                },
            ),
            (
                "lock ends exactly now + ok",
                state(5, Some("2026-03-02T09:00:00Z"), set, false, false),
                true,
                LoginOutcome::Success {
                    state: state(0, None, set, false, false),
                    must_change: MustChange::None,
                },
            ),
            (
                "lock passed + bad: count starts from 0",
                state(5, Some("2026-03-02T08:59:59Z"), set, false, false),
                false,
                LoginOutcome::Failed {
                    state: state(1, None, set, false, false),
                    locked: false,
                },
            ),
            (
                "disabled + ok",
                state(0, None, set, false, true),
                true,
                LoginOutcome::Disabled,
            ),
            (
                "disabled + bad",
                state(0, None, set, false, true),
                false,
                LoginOutcome::Disabled,
            ),
            (
                "disabled and locked + ok",
                state(5, Some("2026-03-02T09:10:00Z"), set, false, true),
                true,
                LoginOutcome::Disabled,
            ),
            (
                "password set 91 days ago + ok",
                state(0, None, "2025-12-01T09:00:00Z", false, false),
                true,
                LoginOutcome::Success {
                    state: state(0, None, "2025-12-01T09:00:00Z", false, false),
                    must_change: MustChange::Expired,
                },
            ),
            (
                "password set exactly 90 days ago + ok",
                state(0, None, "2025-12-02T09:00:00Z", false, false),
                true,
                LoginOutcome::Success {
                    state: state(0, None, "2025-12-02T09:00:00Z", false, false),
                    must_change: MustChange::Expired,
                },
            ),
            (
                "password set 90 days minus 1 s ago + ok",
                state(0, None, "2025-12-02T09:00:01Z", false, false),
                true,
                LoginOutcome::Success {
                    state: state(0, None, "2025-12-02T09:00:01Z", false, false),
                    must_change: MustChange::None,
                },
            ),
            (
                "expired password + bad is just a failure",
                state(0, None, "2025-12-01T09:00:00Z", false, false),
                false,
                LoginOutcome::Failed {
                    state: state(1, None, "2025-12-01T09:00:00Z", false, false),
                    locked: false,
                },
            ),
            (
                "must_change_password + ok",
                state(0, None, set, true, false),
                true,
                LoginOutcome::Success {
                    state: state(0, None, set, true, false),
                    must_change: MustChange::FirstLogin,
                },
            ),
            (
                "must_change_password + bad keeps the flag",
                state(0, None, set, true, false),
                false,
                LoginOutcome::Failed {
                    state: state(1, None, set, true, false),
                    locked: false,
                },
            ),
            (
                "must_change_password and expired + ok: FirstLogin wins",
                state(1, None, "2025-01-01T00:00:00Z", true, false),
                true,
                LoginOutcome::Success {
                    state: state(0, None, "2025-01-01T00:00:00Z", true, false),
                    must_change: MustChange::FirstLogin,
                },
            ),
        ];
        for (name, before, ok, expected) in cases {
            assert_eq!(attempt_login(&p, &before, ok, now), expected, "{name}");
        }
    }

    #[test]
    fn attempt_login_follows_the_policy_settings() {
        let p = PasswordPolicy {
            max_failures: 3,
            lockout_minutes: 30,
            max_age_days: 30,
            ..PasswordPolicy::default()
        };
        let now = t("2026-03-02T09:00:00Z");
        assert_eq!(
            attempt_login(
                &p,
                &state(2, None, "2026-02-20T00:00:00Z", false, false),
                false,
                now
            ),
            LoginOutcome::Failed {
                state: state(
                    3,
                    Some("2026-03-02T09:30:00Z"),
                    "2026-02-20T00:00:00Z",
                    false,
                    false
                ),
                locked: true,
            }
        );
        assert_eq!(
            attempt_login(
                &p,
                &state(0, None, "2026-01-31T09:00:00Z", false, false),
                true,
                now
            ),
            LoginOutcome::Success {
                state: state(0, None, "2026-01-31T09:00:00Z", false, false),
                must_change: MustChange::Expired,
            }
        );
    }

    #[test]
    fn five_bad_attempts_in_a_row_lock_then_the_lock_lapses() {
        let p = PasswordPolicy::default();
        let mut s = state(0, None, "2026-02-01T00:00:00Z", false, false);
        let expected_counts = [1, 2, 3, 4, 5];
        let expected_locked = [false, false, false, false, true];
        for i in 0..5 {
            let now = t("2026-03-02T09:00:00Z") + TimeDelta::seconds(i);
            let LoginOutcome::Failed { state, locked } = attempt_login(&p, &s, false, now) else {
                panic!("attempt {i} should fail");
            };
            assert_eq!(state.failed_count, expected_counts[i as usize]);
            assert_eq!(locked, expected_locked[i as usize]);
            s = state;
        }
        assert_eq!(s.locked_until, Some(t("2026-03-02T09:15:04Z")));
        assert_eq!(
            attempt_login(&p, &s, true, t("2026-03-02T09:15:03Z")),
            LoginOutcome::Locked {
                until: t("2026-03-02T09:15:04Z")
            }
        );
        assert_eq!(
            attempt_login(&p, &s, true, t("2026-03-02T09:15:04Z")),
            LoginOutcome::Success {
                state: state(0, None, "2026-02-01T00:00:00Z", false, false),
                must_change: MustChange::None,
            }
        );
    }

    #[test]
    fn unlock_clears_lock_and_count_only() {
        assert_eq!(
            unlock(&state(
                5,
                Some("2026-03-02T09:15:00Z"),
                "2026-02-01T00:00:00Z",
                true,
                false
            )),
            state(0, None, "2026-02-01T00:00:00Z", true, false)
        );
        assert_eq!(
            unlock(&state(2, None, "2026-02-01T00:00:00Z", false, true)),
            state(0, None, "2026-02-01T00:00:00Z", false, true)
        );
    }

    // ---- sessions ----

    #[test]
    fn idle_sessions_expire_at_thirty_minutes() {
        let p = PasswordPolicy::default();
        let last = t("2026-03-02T09:00:00Z");
        assert!(!session_expired(&p, last, t("2026-03-02T09:00:00Z")));
        assert!(!session_expired(&p, last, t("2026-03-02T09:29:59Z")));
        assert!(session_expired(&p, last, t("2026-03-02T09:30:00Z")));
        assert!(session_expired(&p, last, t("2026-03-02T11:00:00Z")));
        // A clock that went backwards does not end the session.
        assert!(!session_expired(&p, last, t("2026-03-02T08:00:00Z")));
    }

    #[test]
    fn sessions_to_end_keeps_room_for_the_new_one() {
        let p = PasswordPolicy::default();
        assert_eq!(sessions_to_end(&p, &[]), Vec::<usize>::new());
        assert_eq!(
            sessions_to_end(&p, &[t("2026-03-02T08:00:00Z")]),
            Vec::<usize>::new()
        );
        assert_eq!(
            sessions_to_end(&p, &[t("2026-03-02T09:00:00Z"), t("2026-03-02T08:00:00Z")]),
            Vec::<usize>::new()
        );
        assert_eq!(
            sessions_to_end(
                &p,
                &[
                    t("2026-03-02T09:00:00Z"),
                    t("2026-03-02T08:00:00Z"),
                    t("2026-03-02T10:00:00Z"),
                ]
            ),
            vec![1]
        );
        assert_eq!(
            sessions_to_end(
                &p,
                &[
                    t("2026-03-02T10:00:00Z"),
                    t("2026-03-02T08:00:00Z"),
                    t("2026-03-02T09:00:00Z"),
                    t("2026-03-02T07:00:00Z"),
                ]
            ),
            vec![3, 1]
        );
        // Equal start instants: the lower index counts as older.
        assert_eq!(
            sessions_to_end(
                &p,
                &[
                    t("2026-03-02T09:00:00Z"),
                    t("2026-03-02T08:00:00Z"),
                    t("2026-03-02T08:00:00Z"),
                ]
            ),
            vec![1]
        );
    }

    #[test]
    fn sessions_to_end_with_one_session_allowed() {
        let p = PasswordPolicy {
            max_sessions: 1,
            ..PasswordPolicy::default()
        };
        assert_eq!(sessions_to_end(&p, &[]), Vec::<usize>::new());
        assert_eq!(sessions_to_end(&p, &[t("2026-03-02T08:00:00Z")]), vec![0]);
        assert_eq!(
            sessions_to_end(&p, &[t("2026-03-02T09:00:00Z"), t("2026-03-02T08:00:00Z")]),
            vec![1, 0]
        );
    }
}

impl PasswordPolicy {
    /// Checks the settings `secadmin` may choose: each within the range 等保 level 3 allows.
    pub fn validate(&self) -> Result<(), PolicyError> {
        let checks: [(&'static str, i64, i64, i64); 7] = [
            ("min_length", self.min_length as i64, 8, 64),
            ("min_classes", self.min_classes as i64, 2, 4),
            ("max_age_days", self.max_age_days, 30, 365),
            ("max_failures", i64::from(self.max_failures), 3, 10),
            ("lockout_minutes", self.lockout_minutes, 5, 1440),
            ("idle_minutes", self.idle_minutes, 5, 120),
            ("max_sessions", self.max_sessions as i64, 1, 10),
        ];
        for (field, value, min, max) in checks {
            if !(min..=max).contains(&value) {
                return Err(PolicyError { field, min, max });
            }
        }
        Ok(())
    }
}

/// A policy setting outside its allowed range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} 应在 {min} 到 {max} 之间", policy_label(field))]
pub struct PolicyError {
    /// The setting's name.
    pub field: &'static str,
    /// Its least value.
    pub min: i64,
    /// Its greatest value.
    pub max: i64,
}

fn policy_label(field: &str) -> &'static str {
    match field {
        "min_length" => "密码最短长度",
        "min_classes" => "密码字符类别数",
        "max_age_days" => "密码有效天数",
        "max_failures" => "锁定前允许的连续失败次数",
        "lockout_minutes" => "锁定分钟数",
        "idle_minutes" => "会话空闲超时分钟数",
        _ => "同一账号的最多会话数",
    }
}

#[cfg(test)]
mod policy_range_tests {
    use super::*;

    #[test]
    fn the_default_policy_is_valid_and_each_setting_has_its_range() {
        assert_eq!(PasswordPolicy::default().validate(), Ok(()));
        let weak = PasswordPolicy {
            min_length: 6,
            ..PasswordPolicy::default()
        };
        assert_eq!(
            weak.validate().unwrap_err().to_string(),
            "密码最短长度 应在 8 到 64 之间"
        );
        let lax = PasswordPolicy {
            idle_minutes: 240,
            ..PasswordPolicy::default()
        };
        assert_eq!(lax.validate().unwrap_err().field, "idle_minutes");
        let many = PasswordPolicy {
            max_sessions: 0,
            ..PasswordPolicy::default()
        };
        assert_eq!(many.validate().unwrap_err().field, "max_sessions");
        let strict = PasswordPolicy {
            min_length: 12,
            min_classes: 4,
            max_failures: 3,
            idle_minutes: 10,
            ..PasswordPolicy::default()
        };
        assert_eq!(strict.validate(), Ok(()));
    }
}
