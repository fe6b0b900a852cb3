//! Who may do what: the one place that decides role × action × scope. Handlers ask here; a
//! record a role may not see answers 404 (`Error::not_found`), an action on a visible record
//! it may not take answers 403.

use domain::account::Role;
use store::account::Account;

/// Things a signed-in user may ask to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Read the organisation: the unit tree, lists and details.
    ReadOrg,
    /// Read the audit log and the login log.
    ReadAudit,
}

/// Whether `account` may take `action`.
pub fn allows(account: &Account, action: Action) -> bool {
    account.roles.iter().any(|role| role_allows(*role, action))
}

fn role_allows(role: Role, action: Action) -> bool {
    use Role::*;
    match action {
        // Every staff role works with the unit tree; the auditor reads only the logs, and an
        // enterprise sees only its own records.
        Action::ReadOrg => !matches!(role, Auditor | Enterprise),
        Action::ReadAudit => role == Auditor,
    }
}
