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
    /// Create, edit and disable units and staff.
    ManageOrg,
    /// Read staff: names, positions, units, phones masked (`unit_admin`: its subtree only,
    /// see [`sees_unit`]).
    ReadStaff,
    /// Read a staff member's phone in clear (each read is audited).
    ReadStaffPhone,
    /// See the tenant's accounts (the two administrators who manage them).
    ReadAccounts,
    /// Create, disable, unlock accounts and reset passwords (三员: sysadmin).
    ManageAccounts,
    /// Grant and revoke roles (三员: secadmin).
    GrantRoles,
    /// Load official schedules and set working hours (三员: sysadmin keeps the calendar).
    ManageCalendar,
    /// Read and set the password and session policy (三员: secadmin).
    ManageSecurity,
    /// Read supervision tasks (`unit_admin`: those with a unit in its subtree).
    ReadTasks,
    /// Create tasks, accept or send back their completion (the supervisor).
    ManageTasks,
    /// Report progress on a task of one's unit and ask for its completion.
    ReportTasks,
    /// Read supervision notices (`unit_admin`: those of units in its subtree).
    ReadNotices,
    /// Keep the tenant's notification channels: SMS gateway and template, notice numbers.
    ManageChannels,
    /// Search and read the enterprise registry.
    ReadEnterprises,
    /// Add and change enterprises (`unit_admin`: those of its street, see [`scope`]).
    ManageEnterprises,
    /// Read inspections: open ones, and covert ones of one's team (the supervisor: all); see
    /// [`inspection_visibility`].
    ReadInspections,
    /// Record inspections and their findings (inspectors, the supervisor).
    RecordInspections,
    /// Read findings as [`inspection_visibility`] grants them.
    ReadFindings,
    /// Assign, confirm claims, verify, send back and publish findings; record findings of
    /// any source; accountability decisions (the supervisor).
    ManageFindings,
    /// Claim, plan and rectify one's unit's findings and keep its self-check list.
    RectifyFindings,
    /// Read accountability decisions (`unit_admin`: those on its subtree).
    ReadAccountability,
    /// Read the self-check lists' progress per unit (`unit_admin`: its subtree's).
    ReadSelfChecks,
    /// Read appeals as [`appeal_visibility`] grants them (never the submitter's identity).
    ReadAppeals,
    /// Enter appeals received at the hall or on the 书记直通车 line, for someone else.
    RecordAppeals,
    /// Submit one's own appeal and follow it (an enterprise account).
    SubmitAppeals,
    /// Dispatch, call back, close and reopen appeals; keep categories, routes and limits
    /// (the supervisor).
    ManageAppeals,
    /// Accept, return and reply to one's unit's appeals; add a co-handling unit's part.
    HandleAppeals,
    /// Read an appeal's submitter in clear (each read is audited).
    ReadAppealSubmitter,
    /// Read the three rates (三率).
    ReadAppealFigures,
    /// Read ratings and bad ratings, never the rater's identity (`unit_admin`: its subtree's).
    ReadRatings,
    /// Send ratings from a system or a window device (no per-device limits).
    RecordRatings,
    /// Send cases (办件) from the provincial platform or the window.
    RecordCases,
    /// Decide bad ratings, call raters back (reading their identity, audited), keep service
    /// items and print windows' QR cards (the supervisor).
    ManageRatings,
    /// Object to, rectify or report as unfixable one's unit's bad ratings.
    RectifyRatings,
    /// Read satisfaction and case figures (`unit_admin`: its subtree's).
    ReadRatingFigures,
    /// Read liaison visits (包联走访) as [`reads_visits`] grants them.
    ReadVisits,
    /// Record liaison visits as [`records_visit`] grants them.
    RecordVisits,
}

/// Whether `account` may take `action`.
pub fn allows(account: &Account, action: Action) -> bool {
    account.roles.iter().any(|role| role_allows(*role, action))
}

/// The user, if they may take `action`; otherwise what they asked for does not exist for
/// them (404).
pub(crate) fn visible_to(
    user: crate::auth::CurrentUser,
    action: Action,
) -> Result<crate::auth::CurrentUser, crate::error::Error> {
    if allows(&user.account, action) {
        Ok(user)
    } else {
        Err(crate::error::Error::not_found())
    }
}

/// Nothing, if the user may take `action`; otherwise 403 with `message` (the record is
/// visible to them, the action is not theirs).
pub(crate) fn permitted(
    user: &crate::auth::CurrentUser,
    action: Action,
    message: &str,
) -> Result<(), crate::error::Error> {
    if allows(&user.account, action) {
        Ok(())
    } else {
        Err(crate::error::Error::client(
            axum::http::StatusCode::FORBIDDEN,
            "forbidden",
            message,
        ))
    }
}

fn role_allows(role: Role, action: Action) -> bool {
    use Role::*;
    match action {
        // Every staff role works with the unit tree; the auditor reads only the logs, and an
        // enterprise sees only its own records.
        Action::ReadOrg => !matches!(role, Auditor | Enterprise),
        Action::ReadAudit => role == Auditor,
        Action::ManageOrg | Action::ReadStaffPhone => role == Sysadmin,
        Action::ReadStaff => !matches!(role, Auditor | Enterprise),
        Action::ReadAccounts => matches!(role, Sysadmin | Secadmin),
        Action::ManageCalendar => role == Sysadmin,
        Action::ManageSecurity => role == Secadmin,
        Action::ManageAccounts => role == Sysadmin,
        Action::GrantRoles => role == Secadmin,
        Action::ReadTasks => matches!(role, Supervisor | Leader | UnitAdmin),
        Action::ManageTasks => role == Supervisor,
        Action::ReportTasks => role == UnitAdmin,
        Action::ReadNotices => matches!(role, Supervisor | Leader | UnitAdmin),
        Action::ManageChannels => role == Sysadmin,
        Action::ReadEnterprises => matches!(role, Supervisor | Leader | UnitAdmin | Inspector),
        Action::ManageEnterprises => matches!(role, Supervisor | UnitAdmin),
        Action::ReadInspections => matches!(role, Supervisor | Leader | Inspector),
        Action::RecordInspections => matches!(role, Supervisor | Inspector),
        Action::ReadFindings => {
            matches!(role, Supervisor | Leader | Inspector | UnitAdmin | Observer)
        }
        Action::ManageFindings => role == Supervisor,
        Action::RectifyFindings => role == UnitAdmin,
        Action::ReadAccountability => matches!(role, Supervisor | Leader | UnitAdmin | Observer),
        Action::ReadSelfChecks => matches!(role, Supervisor | Leader | UnitAdmin),
        Action::ReadAppeals => matches!(role, Supervisor | Leader | UnitAdmin | Enterprise),
        Action::RecordAppeals => matches!(role, Supervisor | WindowStaff),
        Action::SubmitAppeals => role == Enterprise,
        Action::ManageAppeals | Action::ReadAppealSubmitter => role == Supervisor,
        Action::HandleAppeals => role == UnitAdmin,
        Action::ReadAppealFigures => matches!(role, Supervisor | Leader | UnitAdmin | Observer),
        Action::ReadRatings => matches!(role, Supervisor | Leader | UnitAdmin),
        Action::RecordRatings | Action::RecordCases => matches!(role, Supervisor | WindowStaff),
        Action::ManageRatings => role == Supervisor,
        Action::RectifyRatings => role == UnitAdmin,
        Action::ReadRatingFigures => matches!(role, Supervisor | Leader | UnitAdmin | Observer),
        Action::ReadVisits => matches!(role, Supervisor | Leader | UnitAdmin),
        Action::RecordVisits => matches!(role, Supervisor | Leader),
    }
}

/// Which appeals `account` sees (SPEC "Appeals"): the supervisor and leaders all of the
/// tenant's; a `unit_admin` those its subtree leads or co-handles (`subtree` from
/// [`sees_unit`]); an enterprise those it submitted. Nobody else any.
pub fn appeal_visibility(
    account: &Account,
    subtree: Option<Vec<String>>,
) -> store::appeal::AppealVisibility {
    let mut v = store::appeal::AppealVisibility::default();
    for role in &account.roles {
        match role {
            Role::Supervisor | Role::Leader => v.all = true,
            Role::UnitAdmin => v.units = Some(subtree.clone().unwrap_or_default()),
            Role::Enterprise => v.account_id = Some(account.id.clone()),
            _ => {}
        }
    }
    v
}

/// Whether `account` reads the liaison visits (包联走访) of an enterprise whose liaison unit
/// has the path `liaison_unit_path` (ids from the root, the unit last; empty when it has
/// none): the supervisor and leaders (who read everything in the tenant) every enterprise's; a
/// `unit_admin` those of the enterprises its subtree is the liaison unit of; nobody else any.
pub fn reads_visits(account: &Account, liaison_unit_path: &[&str]) -> bool {
    sees_unit(account, Action::ReadVisits, liaison_unit_path)
}

/// Whether `account` records a visit to an enterprise whose liaison leader is the staff
/// member `liaison_leader`, the account being the staff member `own_staff` (its link, if
/// any): the supervisor to any enterprise; a leader to those it is the liaison leader of.
/// For anyone else, recording a visit to that enterprise does not exist (404).
pub fn records_visit(
    account: &Account,
    own_staff: Option<&str>,
    liaison_leader: Option<&str>,
) -> bool {
    account.roles.iter().any(|role| match role {
        Role::Supervisor => true,
        Role::Leader => own_staff.is_some() && own_staff == liaison_leader,
        _ => false,
    })
}

/// Whether a reader of ratings whose units are `scope` (`None`: the whole tenant) reads the
/// ratings page of a staff member posted at `posts` (main post first, then part-time ones):
/// one of the posts lies in the scope, or is a window staffed by a unit in it (its ratings
/// count there). `staffed_by` names the unit staffing a window. Otherwise the page does not
/// exist for the reader (404).
pub fn reads_staff_ratings<'a, 'b>(
    scope: Option<&[String]>,
    mut posts: impl Iterator<Item = &'a String>,
    staffed_by: impl Fn(&str) -> Option<&'b str>,
) -> bool {
    let Some(scope) = scope else {
        return true;
    };
    let within = |unit: &str| scope.iter().any(|s| s == unit);
    posts.any(|post| within(post) || staffed_by(post).is_some_and(within))
}

/// What `account` sees of inspections and findings (SPEC "Inspections and accountability"):
/// the supervisor everything; an inspector open inspections, covert ones of its teams and
/// their findings; a leader open inspections and every finding but the unassigned,
/// unpublished ones of covert inspections; a `unit_admin` its subtree's findings once assigned or claimed, and
/// the published ones; an observer the published ones. `subtree` is the `unit_admin`'s
/// units (from [`sees_unit`]).
pub fn inspection_visibility(
    account: &Account,
    subtree: Option<Vec<String>>,
) -> store::inspection::Visibility {
    let mut v = store::inspection::Visibility::default();
    for role in &account.roles {
        match role {
            Role::Supervisor => v.all = true,
            Role::Inspector => v.team_of = Some(account.id.clone()),
            Role::Leader => {
                v.leader = true;
                v.published = true;
            }
            Role::UnitAdmin => {
                v.units = Some(subtree.clone().unwrap_or_default());
                v.published = true;
            }
            Role::Observer => v.published = true,
            _ => {}
        }
    }
    v
}

/// Which units' records an account reads under an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope<'a> {
    /// The whole tenant.
    Tenant,
    /// This unit and its subtree (`unit_admin`).
    Subtree(&'a str),
    /// Nothing.
    Nothing,
}

/// The scope of `account` under `action`: the tenant when any of its roles reads unscoped,
/// else a `unit_admin`'s own unit and its subtree.
pub fn scope(account: &Account, action: Action) -> Scope<'_> {
    let mut scoped = false;
    for role in &account.roles {
        if role_allows(*role, action) {
            if *role != Role::UnitAdmin {
                return Scope::Tenant;
            }
            scoped = true;
        }
    }
    match (scoped, account.unit_id.as_deref()) {
        (true, Some(unit)) => Scope::Subtree(unit),
        _ => Scope::Nothing,
    }
}

/// Whether `account` sees, under `action`, a record of the unit whose path from the root
/// is `unit_path` (ids, the unit itself last).
pub fn sees_unit(account: &Account, action: Action, unit_path: &[&str]) -> bool {
    match scope(account, action) {
        Scope::Tenant => true,
        Scope::Subtree(root) => unit_path.contains(&root),
        Scope::Nothing => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::account::LoginState;

    fn account(roles: &[Role], unit: Option<&str>) -> Account {
        Account {
            tenant_id: "t".into(),
            id: "a".into(),
            username: "u".into(),
            display_name: "U".into(),
            roles: roles.to_vec(),
            unit_id: unit.map(str::to_owned),
            uscc: None,
            state: LoginState {
                failed_count: 0,
                locked_until: None,
                password_changed_at: chrono::DateTime::UNIX_EPOCH,
                must_change_password: false,
                disabled: false,
            },
        }
    }

    #[test]
    fn a_staff_members_ratings_are_read_through_a_post_or_a_staffed_window_in_scope() {
        let scope = vec!["street1".to_owned(), "community3".to_owned()];
        let windows = |w: &str| match w {
            "window7" => Some("street1"),
            "window9" => Some("dept2"),
            _ => None,
        };
        let posts = |p: &[&str]| p.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let reads = |scope: Option<&[String]>, p: &[&str]| {
            let p = posts(p);
            reads_staff_ratings(scope, p.iter(), windows)
        };
        let within = Some(scope.as_slice());
        assert!(reads(None, &["dept2"]), "the whole tenant");
        assert!(reads(within, &["community3"]), "main post in scope");
        assert!(
            reads(within, &["dept2", "street1"]),
            "a part-time post in scope"
        );
        assert!(
            reads(within, &["window7"]),
            "a window staffed by a unit in scope"
        );
        assert!(
            !reads(within, &["window9"]),
            "a window staffed by another unit"
        );
        assert!(!reads(within, &["dept2"]), "no post in scope");
        assert!(
            !reads(Some(&[]), &["street1"]),
            "an empty scope sees no one"
        );
    }

    #[test]
    fn only_sysadmin_manages_the_organisation_and_reads_phones() {
        for role in Role::ALL {
            let a = account(&[role], Some("u1"));
            let expected = role == Role::Sysadmin;
            assert_eq!(allows(&a, Action::ManageOrg), expected, "{role:?}");
            assert_eq!(allows(&a, Action::ReadStaffPhone), expected, "{role:?}");
        }
    }

    #[test]
    fn each_role_sees_its_part_of_inspections_and_findings() {
        let subtree = Some(vec!["street1".to_owned(), "community3".to_owned()]);
        let v = |roles: &[Role]| {
            inspection_visibility(&account(roles, Some("street1")), subtree.clone())
        };
        let supervisor = v(&[Role::Supervisor]);
        assert!(supervisor.all && supervisor.reads_inspections());
        let inspector = v(&[Role::Inspector]);
        assert_eq!(inspector.team_of.as_deref(), Some("a"));
        assert!(!inspector.all && !inspector.published && inspector.units.is_none());
        let leader = v(&[Role::Leader]);
        assert!(leader.leader && leader.published && !leader.all);
        let unit = v(&[Role::UnitAdmin]);
        assert_eq!(unit.units, subtree);
        assert!(unit.published && !unit.reads_inspections());
        let observer = v(&[Role::Observer]);
        assert!(observer.published && observer.reads_findings() && !observer.reads_inspections());
        for role in [
            Role::WindowStaff,
            Role::Sysadmin,
            Role::Secadmin,
            Role::Auditor,
            Role::Enterprise,
        ] {
            assert!(!v(&[role]).reads_findings(), "{role:?}");
        }
        assert_eq!(
            scope(
                &account(&[Role::UnitAdmin], Some("street1")),
                Action::ReadSelfChecks
            ),
            Scope::Subtree("street1")
        );
        assert_eq!(
            scope(&account(&[Role::Leader], None), Action::ReadSelfChecks),
            Scope::Tenant
        );
        assert_eq!(
            scope(&account(&[Role::Observer], None), Action::ReadSelfChecks),
            Scope::Nothing
        );
    }

    #[test]
    fn each_role_sees_its_part_of_appeals_and_only_the_supervisor_the_submitter() {
        let subtree = Some(vec!["street1".to_owned(), "community3".to_owned()]);
        for role in Role::ALL {
            let a = account(&[role], Some("street1"));
            let v = appeal_visibility(&a, subtree.clone());
            match role {
                Role::Supervisor | Role::Leader => assert!(v.all, "{role:?}"),
                Role::UnitAdmin => {
                    assert!(!v.all);
                    assert_eq!(v.units, subtree);
                }
                Role::Enterprise => {
                    assert!(!v.all && v.units.is_none());
                    assert_eq!(v.account_id.as_deref(), Some("a"));
                }
                _ => assert!(!v.reads_any(), "{role:?}"),
            }
            assert_eq!(
                allows(&a, Action::ReadAppealSubmitter),
                role == Role::Supervisor,
                "{role:?}"
            );
            assert_eq!(
                allows(&a, Action::ReadAppeals),
                v.reads_any(),
                "{role:?}: reading appeals and seeing some go together"
            );
        }
    }

    #[test]
    fn liaison_visits_are_recorded_by_the_liaison_leader_and_read_by_the_liaison_unit() {
        let path = ["root", "street1", "community3"];
        let elsewhere = ["root", "street2"];
        for role in Role::ALL {
            let a = account(&[role], Some("street1"));
            let (reads, reads_elsewhere, reads_none) = match role {
                Role::Supervisor | Role::Leader => (true, true, true),
                Role::UnitAdmin => (true, false, false),
                _ => (false, false, false),
            };
            assert_eq!(reads_visits(&a, &path), reads, "{role:?}");
            assert_eq!(reads_visits(&a, &elsewhere), reads_elsewhere, "{role:?}");
            assert_eq!(reads_visits(&a, &[]), reads_none, "{role:?}");
            let (own, other, unlinked) = match role {
                Role::Supervisor => (true, true, true),
                Role::Leader => (true, false, false),
                _ => (false, false, false),
            };
            assert_eq!(records_visit(&a, Some("s1"), Some("s1")), own, "{role:?}");
            assert_eq!(records_visit(&a, Some("s1"), Some("s2")), other, "{role:?}");
            assert_eq!(records_visit(&a, None, None), unlinked, "{role:?}");
            assert_eq!(records_visit(&a, None, Some("s1")), unlinked, "{role:?}");
        }
    }

    #[test]
    fn a_unit_admin_reads_staff_of_its_subtree_only() {
        let path_in = ["root", "street1", "community3"];
        let path_out = ["root", "street2"];
        let admin = account(&[Role::UnitAdmin], Some("street1"));
        assert_eq!(scope(&admin, Action::ReadStaff), Scope::Subtree("street1"));
        assert!(sees_unit(&admin, Action::ReadStaff, &path_in));
        assert!(!sees_unit(&admin, Action::ReadStaff, &path_out));
        let leader = account(&[Role::Leader], None);
        assert_eq!(scope(&leader, Action::ReadStaff), Scope::Tenant);
        assert!(sees_unit(&leader, Action::ReadStaff, &path_out));
        let both = account(&[Role::UnitAdmin, Role::Leader], Some("street1"));
        assert!(sees_unit(&both, Action::ReadStaff, &path_out));
        let unbound = account(&[Role::UnitAdmin], None);
        assert!(!sees_unit(&unbound, Action::ReadStaff, &path_in));
        for role in [Role::Auditor, Role::Enterprise] {
            let a = account(&[role], None);
            assert_eq!(scope(&a, Action::ReadStaff), Scope::Nothing, "{role:?}");
        }
    }
}
