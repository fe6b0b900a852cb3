//! Role × route, generated from the router: every page and API route the router serves is
//! requested by every demo role, by a signed-out visitor and by a user of another tenant, on
//! records of the user's own unit, of a sibling unit and of another tenant. The expected
//! outcome of each is written out here, route by route — not read from the policy module.
//! A route the router serves and this table does not know fails the test.

use std::collections::BTreeMap;

use domain::account::Role;
use store::audit::AuditCtx;
use test_support::{Backend, TestApp, TestUser, db_tests};

db_tests!(every_route_answers_every_role_as_written_here);

/// What a request must answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Served: anything but 401, 403, 404 or a redirect to the login page.
    Open,
    /// Sign in first: 401, or a redirect to the login page.
    Login,
    /// Does not exist for this user: 404.
    Hidden,
    /// Visible, but this action is not allowed: 403.
    Forbidden,
}
use Outcome::*;

/// Whose record a `{id}` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    /// In 振兴街街道 (370104001), the `street` account's own subtree.
    Own,
    /// In 中大槐树街道 (370104002), a sibling street.
    Sibling,
    /// In another tenant.
    Foreign,
}

const STAFF_ROLES: [&str; 9] = [
    "admin",
    "secadmin",
    "leader",
    "supervisor",
    "inspector",
    "unitadmin",
    "street",
    "window",
    "observer",
];

/// The expected outcome, written out route by route. `user` is a demo username, `other`
/// (a supervisor of another tenant) or `anonymous`.
fn expected(method: &str, path: &str, user: &str, target: Target) -> Outcome {
    let signed_in = user != "anonymous";
    let staff_role = STAFF_ROLES.contains(&user) || user == "other";
    // a record of another tenant does not exist for anyone signed in; for `other` the demo
    // tenant is the other tenant
    let foreign = path.contains("{id}") && ((user == "other") != (target == Target::Foreign));
    // which staff records a user sees: everyone with a staff role sees the whole tenant, but
    // unitadmin (行政审批服务局) sees its own subtree only, and street (振兴街街道) its own
    let sees_staff = staff_role
        && match user {
            "street" => target == Target::Own,
            "unitadmin" => false,
            _ => true,
        };
    if !signed_in {
        return match (method, path) {
            ("GET", "/") | ("GET", "/login") | ("POST", "/login") | ("GET", "/calendar") => Open,
            ("POST", "/api/v1/auth/login") | ("GET", "/api/v1/openapi.json") => Open,
            ("GET", "/api/v1/calendar/add-working-days")
            | ("POST", "/api/v1/calendar/add-working-days")
            | ("GET", "/api/v1/calendar/working-days-between")
            | ("GET", "/api/v1/calendar/years")
            | ("GET", "/api/v1/calendar/working-hours") => Open,
            // appeals: the public form, tracking by code, the categories (with two tenants
            // here, an anonymous visitor is asked to choose one: 400)
            ("GET", "/appeal")
            | ("POST", "/appeal")
            | ("GET", "/track")
            | ("GET", "/track/{code}") => Open,
            ("GET", "/api/v1/appeal-categories")
            | ("POST", "/api/v1/public/appeals")
            | ("GET", "/api/v1/public/appeals/{code}") => Open,
            // Open311: public GETs; a POST answers 400 without its api_key
            (_, path) if path.starts_with("/open311/") => Open,
            // the rating page a QR code or a case receipt opens (an empty form is 422)
            ("GET", "/rate/{token}") | ("POST", "/rate/{token}") => Open,
            _ => Login,
        };
    }
    match (method, path) {
        // public, also when signed in
        ("GET", "/") | ("GET", "/login") | ("POST", "/login") | ("GET", "/calendar") => Open,
        ("POST", "/api/v1/auth/login") | ("GET", "/api/v1/openapi.json") => Open,
        ("GET", "/api/v1/calendar/add-working-days")
        | ("POST", "/api/v1/calendar/add-working-days")
        | ("GET", "/api/v1/calendar/working-days-between")
        | ("GET", "/api/v1/calendar/years")
        | ("GET", "/api/v1/calendar/working-hours") => Open,
        // the calendar is public, but only the sysadmin keeps it
        ("PUT", "/api/v1/calendar/working-hours")
        | ("POST", "/api/v1/calendar/years")
        | ("POST", "/calendar/working-hours")
        | ("POST", "/calendar/years") => {
            if user == "admin" {
                Open
            } else {
                Forbidden
            }
        }
        // the password and session policy: secadmin's alone
        ("GET", "/settings/security")
        | ("POST", "/settings/security")
        | ("GET", "/api/v1/settings/password-policy")
        | ("PUT", "/api/v1/settings/password-policy") => {
            if user == "secadmin" {
                Open
            } else {
                Hidden
            }
        }
        // the notification channels: the sysadmin's
        ("GET", "/settings/notifications")
        | ("POST", "/settings/notifications")
        | ("GET", "/api/v1/settings/notifications")
        | ("PUT", "/api/v1/settings/notifications") => {
            if user == "admin" {
                Open
            } else {
                Hidden
            }
        }
        // one's own session, password and inbox
        ("GET", "/inbox")
        | ("POST", "/inbox/read")
        | ("GET", "/inbox/preferences")
        | ("POST", "/inbox/preferences")
        | ("GET", "/api/v1/notifications/preferences")
        | ("PUT", "/api/v1/notifications/preferences")
        | ("GET", "/api/v1/notifications")
        | ("POST", "/api/v1/notifications/read")
        | ("POST", "/api/v1/auth/logout")
        | ("POST", "/api/v1/auth/password")
        | ("GET", "/api/v1/auth/me")
        | ("POST", "/logout")
        | ("GET", "/password")
        | ("POST", "/password") => Open,
        // the audit log: the auditor only
        ("GET", "/audit")
        | ("GET", "/api/v1/audit/entries")
        | ("GET", "/api/v1/audit/logins")
        | ("GET", "/api/v1/audit/verify") => {
            if user == "auditor" {
                Open
            } else {
                Hidden
            }
        }
        // reading the organisation: every staff role, the whole tenant
        ("GET", "/units") | ("GET", "/units/list") | ("GET", "/api/v1/units") => {
            if staff_role {
                Open
            } else {
                Hidden
            }
        }
        ("GET", "/units/{id}") | ("GET", "/api/v1/units/{id}") => {
            if staff_role && !foreign {
                Open
            } else {
                Hidden
            }
        }
        // changing the organisation: the sysadmin; others who see it get 403
        ("GET", "/units/new") | ("POST", "/units/new") | ("POST", "/api/v1/units") => match user {
            "admin" => Open,
            _ if staff_role => Forbidden,
            _ => Hidden,
        },
        ("GET", "/units/{id}/edit")
        | ("POST", "/units/{id}/edit")
        | ("PATCH", "/api/v1/units/{id}") => match user {
            _ if foreign || !staff_role => Hidden,
            "admin" => Open,
            _ => Forbidden,
        },
        // staff: lists are scoped (an empty scope is still an answer)
        ("GET", "/staff") | ("GET", "/api/v1/staff") => {
            if staff_role {
                Open
            } else {
                Hidden
            }
        }
        ("GET", "/staff/{id}") | ("GET", "/api/v1/staff/{id}") => {
            if sees_staff && !foreign {
                Open
            } else {
                Hidden
            }
        }
        ("GET", "/staff/new") | ("POST", "/staff/new") | ("POST", "/api/v1/staff") => match user {
            "admin" => Open,
            _ if staff_role => Forbidden,
            _ => Hidden,
        },
        ("GET", "/staff/{id}/edit")
        | ("POST", "/staff/{id}/edit")
        | ("PATCH", "/api/v1/staff/{id}")
        | ("GET", "/api/v1/staff/{id}/phone")
        | ("POST", "/staff/{id}/phone") => match user {
            _ if foreign || !sees_staff => Hidden,
            "admin" => Open,
            _ => Forbidden,
        },
        // imports of units and staff, their templates: the sysadmin; other staff roles see
        // the organisation and get 403; the rest do not see it
        ("GET", "/units/import")
        | ("POST", "/units/import")
        | ("GET", "/units/import/template.xlsx")
        | ("POST", "/api/v1/units/import")
        | ("GET", "/staff/import")
        | ("POST", "/staff/import")
        | ("GET", "/staff/import/template.xlsx")
        | ("POST", "/api/v1/staff/import") => match user {
            "admin" => Open,
            _ if staff_role => Forbidden,
            _ => Hidden,
        },
        // accounts: sysadmin and secadmin see them; sysadmin creates, disables, unlocks and
        // resets; secadmin grants roles (三员分立)
        ("GET", "/accounts") | ("GET", "/api/v1/accounts") => match user {
            "admin" | "secadmin" => Open,
            _ => Hidden,
        },
        ("GET", "/accounts/{id}") | ("GET", "/api/v1/accounts/{id}") => match user {
            _ if foreign => Hidden,
            "admin" | "secadmin" => Open,
            _ => Hidden,
        },
        ("GET", "/accounts/new") | ("POST", "/accounts/new") | ("POST", "/api/v1/accounts") => {
            match user {
                "admin" => Open,
                "secadmin" => Forbidden,
                _ => Hidden,
            }
        }
        ("PATCH", "/api/v1/accounts/{id}")
        | ("POST", "/api/v1/accounts/{id}/unlock")
        | ("POST", "/api/v1/accounts/{id}/password")
        | ("PUT", "/api/v1/accounts/{id}/staff") => match user {
            _ if foreign => Hidden,
            "admin" => Open,
            "secadmin" => Forbidden,
            _ => Hidden,
        },
        ("PUT", "/api/v1/accounts/{id}/roles") => match user {
            _ if foreign => Hidden,
            "secadmin" => Open,
            "admin" => Forbidden,
            _ => Hidden,
        },
        // one form for every account action: which action decides who may (tested in
        // accounts.rs); without one it is a bad request for those who see the account
        ("POST", "/accounts/{id}/action") => match user {
            _ if foreign => Hidden,
            "admin" | "secadmin" => Open,
            _ => Hidden,
        },
        // the leading group and working groups: read like the organisation, kept by sysadmin
        ("GET", "/groups") | ("GET", "/api/v1/groups") => {
            if staff_role {
                Open
            } else {
                Hidden
            }
        }
        ("GET", "/groups/{id}") | ("GET", "/api/v1/groups/{id}") => {
            if staff_role && !foreign {
                Open
            } else {
                Hidden
            }
        }
        ("POST", "/api/v1/groups") => match user {
            "admin" => Open,
            _ if staff_role => Forbidden,
            _ => Hidden,
        },
        ("PATCH", "/api/v1/groups/{id}") | ("PUT", "/api/v1/groups/{id}/members") => match user {
            _ if foreign || !staff_role => Hidden,
            "admin" => Open,
            _ => Forbidden,
        },
        // reorganisations and unit history: read like the organisation, recorded and withdrawn
        // by the sysadmin
        ("GET", "/reorganisations") | ("GET", "/api/v1/reorganisations") => {
            if staff_role {
                Open
            } else {
                Hidden
            }
        }
        ("GET", "/reorganisations/{id}")
        | ("GET", "/api/v1/reorganisations/{id}")
        | ("GET", "/api/v1/units/{id}/history") => {
            if staff_role && !foreign {
                Open
            } else {
                Hidden
            }
        }
        ("GET", "/reorganisations/new")
        | ("POST", "/reorganisations/new")
        | ("POST", "/api/v1/reorganisations") => match user {
            "admin" => Open,
            _ if staff_role => Forbidden,
            _ => Hidden,
        },
        ("POST", "/reorganisations/{id}/cancel")
        | ("POST", "/api/v1/reorganisations/{id}/cancel") => match user {
            _ if foreign || !staff_role => Hidden,
            "admin" => Open,
            _ => Forbidden,
        },
        // supervision tasks: the supervisor and leaders read all, a unit_admin those with a unit
        // in its subtree (street: its own street's task; unitadmin: neither); the supervisor
        // assigns and decides, units report; leaders only read
        ("GET", "/tasks") | ("GET", "/api/v1/tasks") => match user {
            "supervisor" | "leader" | "unitadmin" | "street" | "other" => Open,
            _ => Hidden,
        },
        ("GET", "/tasks/{id}")
        | ("GET", "/api/v1/tasks/{id}")
        | ("GET", "/api/v1/tasks/{id}/history")
        | ("GET", "/api/v1/tasks/{id}/attachments")
        | ("GET", "/attachments/{id}") => match user {
            _ if foreign => Hidden,
            "supervisor" | "leader" | "other" => Open,
            "street" if target == Target::Own => Open,
            _ => Hidden,
        },
        ("GET", "/tasks/new") | ("POST", "/tasks/new") | ("POST", "/api/v1/tasks") => match user {
            "supervisor" | "other" => Open,
            "leader" | "unitadmin" | "street" => Forbidden,
            _ => Hidden,
        },
        ("POST", "/tasks/{id}/action")
        | ("POST", "/tasks/{id}/report")
        | ("POST", "/api/v1/tasks/{id}/actions")
        | ("POST", "/tasks/{id}/attachments")
        | ("POST", "/api/v1/tasks/{id}/attachments") => match user {
            _ if foreign => Hidden,
            "supervisor" | "other" => Open,
            "leader" => Forbidden,
            "street" if target == Target::Own => Open,
            _ => Hidden,
        },
        // the enterprise registry: staff who work with enterprises read it; the supervisor
        // keeps it, a street's contact its own street's enterprises
        ("GET", "/enterprises")
        | ("GET", "/api/v1/enterprises")
        | ("GET", "/api/v1/enterprises/export")
        | ("GET", "/api/v1/enterprises/liaison")
        | ("GET", "/enterprises/liaison") => match user {
            "supervisor" | "leader" | "unitadmin" | "street" | "inspector" | "other" => Open,
            _ => Hidden,
        },
        ("GET", "/enterprises/{id}")
        | ("GET", "/api/v1/enterprises/{id}")
        | ("GET", "/api/v1/enterprises/{id}/history") => match user {
            _ if foreign => Hidden,
            "supervisor" | "leader" | "unitadmin" | "street" | "inspector" | "other" => Open,
            _ => Hidden,
        },
        ("POST", "/api/v1/enterprises")
        | ("GET", "/enterprises/new")
        | ("POST", "/enterprises/new")
        | ("POST", "/api/v1/enterprises/import")
        | ("GET", "/enterprises/import")
        | ("POST", "/enterprises/import")
        | ("GET", "/enterprises/import/template.xlsx") => match user {
            "supervisor" | "other" | "unitadmin" | "street" => Open,
            "leader" | "inspector" => Forbidden,
            _ => Hidden,
        },
        ("PATCH", "/api/v1/enterprises/{id}")
        | ("GET", "/enterprises/{id}/edit")
        | ("POST", "/enterprises/{id}/edit") => match user {
            _ if foreign => Hidden,
            "supervisor" | "other" => Open,
            "street" if target == Target::Own => Open,
            "street" | "unitadmin" | "leader" | "inspector" => Forbidden,
            _ => Hidden,
        },
        // a row-error report is its importer's only: the fixture's id names none
        ("GET", "/enterprises/import/reports/{id}") => match user {
            "leader" | "inspector" => Forbidden,
            _ => Hidden,
        },
        ("GET", "/cases/import/reports/{id}") | ("GET", "/appeals/import/reports/{id}") => Hidden,
        // liaison visits (包联走访): read by the supervisor and leaders, and by the contact of
        // the enterprise's liaison unit (the fixture's enterprises have none); recorded by the
        // enterprise's liaison leader (the fixture's have none, so not the demo leader) and by
        // the supervisor. A missing body or form answers 422: served.
        ("GET", "/api/v1/enterprises/{id}/visits") => match user {
            _ if foreign => Hidden,
            "supervisor" | "leader" | "other" => Open,
            _ => Hidden,
        },
        ("POST", "/api/v1/enterprises/{id}/visits")
        | ("GET", "/enterprises/{id}/visits/new")
        | ("POST", "/enterprises/{id}/visits/new") => match user {
            _ if foreign => Hidden,
            "supervisor" | "other" => Open,
            _ => Hidden,
        },
        // supervision notices: read like tasks, but only by the unit they are for
        ("GET", "/notices") | ("GET", "/api/v1/notices") => match user {
            "supervisor" | "leader" | "unitadmin" | "street" | "other" => Open,
            _ => Hidden,
        },
        ("GET", "/notices/{id}") | ("GET", "/api/v1/notices/{id}") => match user {
            _ if foreign => Hidden,
            "supervisor" | "leader" | "other" => Open,
            "street" if target == Target::Own => Open,
            _ => Hidden,
        },
        // inspections: the supervisor, leaders and inspectors read the open ones (the
        // fixture's are open, the demo inspector on their team); the supervisor and inspectors
        // record them
        ("GET", "/inspections") | ("GET", "/api/v1/inspections") => match user {
            "supervisor" | "leader" | "inspector" | "other" => Open,
            _ => Hidden,
        },
        ("GET", "/inspections/{id}")
        | ("GET", "/api/v1/inspections/{id}")
        | ("GET", "/api/v1/inspections/{id}/attachments") => match user {
            _ if foreign => Hidden,
            "supervisor" | "leader" | "inspector" | "other" => Open,
            _ => Hidden,
        },
        ("GET", "/inspections/new")
        | ("POST", "/inspections/new")
        | ("POST", "/api/v1/inspections") => match user {
            "supervisor" | "inspector" | "other" => Open,
            "leader" => Forbidden,
            _ => Hidden,
        },
        ("POST", "/inspections/{id}/attachments")
        | ("POST", "/api/v1/inspections/{id}/attachments") => match user {
            _ if foreign => Hidden,
            "supervisor" | "inspector" | "other" => Open,
            "leader" => Forbidden,
            _ => Hidden,
        },
        // findings (the fixture's: media reports assigned to the street and its sibling):
        // the supervisor and leaders read all, a street its own, observers and units the
        // published ones (none), inspectors those of inspections they see (none)
        ("GET", "/findings") | ("GET", "/api/v1/findings") | ("GET", "/api/v1/findings/export") => {
            match user {
                "supervisor" | "leader" | "inspector" | "unitadmin" | "street" | "observer"
                | "other" => Open,
                _ => Hidden,
            }
        }
        ("GET", "/findings/self-checks") | ("GET", "/api/v1/findings/self-checks") => match user {
            "supervisor" | "leader" | "unitadmin" | "street" | "other" => Open,
            _ => Hidden,
        },
        ("GET", "/findings/new") | ("POST", "/findings/new") | ("POST", "/api/v1/findings") => {
            match user {
                "supervisor" | "inspector" | "unitadmin" | "street" | "other" => Open,
                "leader" | "observer" => Forbidden,
                _ => Hidden,
            }
        }
        ("GET", "/findings/{id}")
        | ("GET", "/api/v1/findings/{id}")
        | ("GET", "/api/v1/findings/{id}/history")
        | ("GET", "/api/v1/findings/{id}/attachments") => match user {
            _ if foreign => Hidden,
            "supervisor" | "leader" | "other" => Open,
            "street" if target == Target::Own => Open,
            _ => Hidden,
        },
        ("POST", "/findings/{id}/action")
        | ("POST", "/api/v1/findings/{id}/actions")
        | ("POST", "/api/v1/findings/{id}/attachments") => match user {
            _ if foreign => Hidden,
            "supervisor" | "other" => Open,
            "leader" => Forbidden,
            "street" if target == Target::Own => Open,
            _ => Hidden,
        },
        ("GET", "/accountability") | ("GET", "/api/v1/accountability") => match user {
            "supervisor" | "leader" | "unitadmin" | "street" | "observer" | "other" => Open,
            _ => Hidden,
        },
        ("POST", "/accountability") | ("POST", "/api/v1/accountability") => match user {
            "supervisor" | "other" => Open,
            "leader" | "unitadmin" | "street" | "observer" => Forbidden,
            _ => Hidden,
        },
        // appeals (the fixture's: dispatched to the street and to its sibling): public
        // intake and tracking; the supervisor and leaders read all, a street its own, an
        // enterprise its own (none here); the supervisor dispatches, calls back, closes;
        // the lead unit accepts, returns, replies; only the supervisor reads the submitter
        ("GET", "/appeal") | ("POST", "/appeal") | ("GET", "/track") | ("GET", "/track/{code}") => {
            Open
        }
        ("GET", "/api/v1/appeal-categories")
        | ("POST", "/api/v1/public/appeals")
        | ("GET", "/api/v1/public/appeals/{code}") => Open,
        (_, path) if path.starts_with("/open311/") => Open,
        ("POST", "/api/v1/appeal-categories")
        | ("POST", "/api/v1/appeal-routes")
        | ("GET", "/api/v1/appeal-limits")
        | ("PUT", "/api/v1/appeal-limits")
        | ("GET", "/appeals/settings")
        | ("POST", "/appeals/settings/category")
        | ("POST", "/appeals/settings/route")
        | ("POST", "/appeals/settings/limits") => match user {
            "supervisor" | "other" => Open,
            _ => Hidden,
        },
        ("GET", "/appeals") | ("GET", "/api/v1/appeals") => match user {
            "supervisor" | "leader" | "unitadmin" | "street" | "enterprise" | "other" => Open,
            _ => Hidden,
        },
        ("POST", "/api/v1/appeals") => match user {
            "supervisor" | "window" | "enterprise" | "other" => Open,
            _ => Hidden,
        },
        // the 12345 hotline import (page, template, API): the supervisor's alone
        ("GET", "/appeals/import")
        | ("POST", "/appeals/import")
        | ("GET", "/appeals/import/template.xlsx")
        | ("POST", "/api/v1/appeals/import") => match user {
            "supervisor" | "other" => Open,
            _ => Hidden,
        },
        ("GET", "/appeals/new") | ("POST", "/appeals/new") => match user {
            "supervisor" | "window" | "other" => Open,
            _ => Hidden,
        },
        ("GET", "/appeals/figures") | ("GET", "/api/v1/appeals/figures") => match user {
            "supervisor" | "leader" | "unitadmin" | "street" | "observer" | "other" => Open,
            _ => Hidden,
        },
        ("GET", "/appeals/{id}")
        | ("GET", "/api/v1/appeals/{id}")
        | ("GET", "/api/v1/appeals/{id}/attachments")
        | ("GET", "/api/v1/appeals/{id}/history") => match user {
            _ if foreign => Hidden,
            "supervisor" | "leader" | "other" => Open,
            "street" if target == Target::Own => Open,
            _ => Hidden,
        },
        ("POST", "/appeals/{id}/action") | ("POST", "/api/v1/appeals/{id}/actions") => match user {
            _ if foreign => Hidden,
            "supervisor" | "other" => Open,
            "leader" => Forbidden,
            "street" if target == Target::Own => Open,
            _ => Hidden,
        },
        // files: the supervisor, the lead unit (the street on its own appeal); leaders read only
        ("POST", "/appeals/{id}/attachments") | ("POST", "/api/v1/appeals/{id}/attachments") => {
            match user {
                _ if foreign => Hidden,
                "supervisor" | "other" => Open,
                "leader" => Forbidden,
                "street" if target == Target::Own => Open,
                _ => Hidden,
            }
        }
        // the running deadline: the supervisor extends and pauses; the lead unit pauses (the
        // fixture's own appeal awaits the street's acceptance: visible, an empty body is 422)
        ("POST", "/appeals/{id}/deadline") | ("POST", "/api/v1/appeals/{id}/deadline") => {
            match user {
                _ if foreign => Hidden,
                "supervisor" | "other" => Open,
                "leader" => Forbidden,
                "street" if target == Target::Own => Open,
                _ => Hidden,
            }
        }
        ("POST", "/appeals/{id}/cohandle") | ("POST", "/api/v1/appeals/{id}/cohandle") => {
            match user {
                _ if foreign => Hidden,
                "supervisor" | "leader" | "other" => Forbidden,
                "street" if target == Target::Own => Open,
                _ => Hidden,
            }
        }
        ("POST", "/appeals/{id}/submitter") | ("GET", "/api/v1/appeals/{id}/submitter") => {
            match user {
                _ if foreign => Hidden,
                "supervisor" | "other" => Open,
                _ => Hidden,
            }
        }
        // ratings (the fixture's bad ratings: of the street, of its sibling, of the other
        // tenant's office): the public rating page; figures for readers of figures; systems
        // and window devices send cases and ratings; the supervisor decides bad ratings and
        // reads raters; the responsible unit rectifies; leaders only read
        ("GET", "/rate/{token}") | ("POST", "/rate/{token}") => Open,
        ("GET", "/ratings")
        | ("GET", "/api/v1/ratings/figures")
        | ("GET", "/api/v1/cases/figures")
        | ("GET", "/api/v1/service-items") => match user {
            "supervisor" | "leader" | "unitadmin" | "street" | "observer" | "other" => Open,
            _ => Hidden,
        },
        ("POST", "/api/v1/service-items")
        | ("POST", "/api/v1/cases/import")
        | ("GET", "/api/v1/rating-limits")
        | ("PUT", "/api/v1/rating-limits") => match user {
            "supervisor" | "other" => Open,
            _ => Hidden,
        },
        ("POST", "/api/v1/cases") | ("POST", "/api/v1/ratings") => match user {
            "supervisor" | "window" | "other" => Open,
            _ => Hidden,
        },
        ("GET", "/bad-ratings") | ("GET", "/api/v1/bad-ratings") => match user {
            "supervisor" | "leader" | "unitadmin" | "street" | "other" => Open,
            _ => Hidden,
        },
        ("GET", "/bad-ratings/{id}") | ("GET", "/api/v1/bad-ratings/{id}") => match user {
            _ if foreign => Hidden,
            "supervisor" | "leader" | "other" => Open,
            "street" if target == Target::Own => Open,
            _ => Hidden,
        },
        // a staff member's ratings: readers of ratings whose scope holds one of the member's posts
        ("GET", "/ratings/staff/{id}") => match user {
            _ if foreign => Hidden,
            "supervisor" | "leader" | "other" => Open,
            "street" if target == Target::Own => Open,
            _ => Hidden,
        },
        ("POST", "/bad-ratings/{id}/action") | ("POST", "/api/v1/bad-ratings/{id}/actions") => {
            match user {
                _ if foreign => Hidden,
                "supervisor" | "other" => Open,
                "leader" => Forbidden,
                "street" if target == Target::Own => Open,
                _ => Hidden,
            }
        }
        ("POST", "/bad-ratings/{id}/rater") | ("GET", "/api/v1/bad-ratings/{id}/rater") => {
            match user {
                _ if foreign => Hidden,
                "supervisor" | "other" => Open,
                _ => Hidden,
            }
        }
        // the case import page and its template: the supervisor, as the import API
        ("GET", "/cases/import")
        | ("POST", "/cases/import")
        | ("GET", "/cases/import/template.xlsx") => match user {
            "supervisor" | "other" => Open,
            _ => Hidden,
        },
        // the window's case entry and a case's receipt: window staff and the supervisor
        ("GET", "/cases/new") | ("POST", "/cases/new") => match user {
            "supervisor" | "window" | "other" => Open,
            _ => Hidden,
        },
        ("GET", "/cases/{id}/receipt") => match user {
            _ if foreign => Hidden,
            "supervisor" | "window" | "other" => Open,
            _ => Hidden,
        },
        // a window's QR code and card: the supervisor, for windows of the tenant (the other
        // tenant's unit is an office, not a window: 404 for its supervisor too)
        ("GET", "/windows/{id}/qr.svg")
        | ("GET", "/windows/{id}/qr.png")
        | ("GET", "/windows/{id}/card") => match user {
            _ if foreign => Hidden,
            "supervisor" => Open,
            _ => Hidden,
        },
        _ => panic!("{method} {path} is routed but has no expected outcome here: write one"),
    }
}

struct Fixture {
    units: BTreeMap<&'static str, String>,
    staff: BTreeMap<&'static str, String>,
    accounts: BTreeMap<&'static str, String>,
    groups: BTreeMap<&'static str, String>,
    reorgs: BTreeMap<&'static str, String>,
    tasks: BTreeMap<&'static str, String>,
    notices: BTreeMap<&'static str, String>,
    attachments: BTreeMap<&'static str, String>,
    enterprises: BTreeMap<&'static str, String>,
    inspections: BTreeMap<&'static str, String>,
    findings: BTreeMap<&'static str, String>,
    appeals: BTreeMap<&'static str, String>,
    bad_ratings: BTreeMap<&'static str, String>,
    cases: BTreeMap<&'static str, String>,
    windows: BTreeMap<&'static str, String>,
    /// The rating link token of the own window.
    rating_token: String,
    /// The tracking code of the own appeal.
    tracking_code: String,
    /// The own appeal's number (its Open311 `service_request_id`).
    appeal_number: String,
}

impl Fixture {
    fn path(&self, path: &str, target: Target) -> String {
        let key = match target {
            Target::Own => "own",
            Target::Sibling => "sibling",
            Target::Foreign => "foreign",
        };
        let id = if path.contains("/staff/") {
            &self.staff[key]
        } else if path.contains("/accounts/") {
            &self.accounts[key]
        } else if path.contains("/groups/") {
            &self.groups[key]
        } else if path.contains("/reorganisations/") {
            &self.reorgs[key]
        } else if path.contains("/tasks/") {
            &self.tasks[key]
        } else if path.contains("/notices/") {
            &self.notices[key]
        } else if path.contains("/enterprises/") {
            &self.enterprises[key]
        } else if path.contains("/inspections/") {
            &self.inspections[key]
        } else if path.contains("/findings/") {
            &self.findings[key]
        } else if path.contains("/appeals/") {
            &self.appeals[key]
        } else if path.starts_with("/cases/") {
            &self.cases[key]
        } else if path.contains("/bad-ratings/") {
            &self.bad_ratings[key]
        } else if path.starts_with("/windows/") {
            &self.windows[key]
        } else if path.starts_with("/attachments/") {
            &self.attachments[key]
        } else {
            &self.units[key]
        };
        path.replace("{id}", id)
            .replace("{code}", &self.tracking_code)
            .replace("{token}", &self.rating_token)
            .replace("{resource}", "requests.json")
            .replace("{service}", "QYKB.json")
            .replace("{request}", &format!("{}.json", self.appeal_number))
    }
}

async fn fixture(app: &TestApp) -> Fixture {
    let ctx = AuditCtx::cli();
    let tenant = app.store.tenant_by_code("370104").await.unwrap().unwrap();
    let units = app.store.units(&tenant.id).await.unwrap();
    let unit = |code: &str| units.iter().find(|u| u.code == code).unwrap().id.clone();
    let own_unit = unit("370104001");
    let sibling_unit = unit("370104002");
    let staff_of = |unit_id: String| {
        let store = app.store.clone();
        let tenant = tenant.id.clone();
        async move {
            store
                .create_staff(
                    &AuditCtx::cli(),
                    &tenant,
                    &store::staff::NewStaff {
                        name: "测试人员".into(),
                        unit_id,
                        part_time_unit_ids: vec![],
                        position: "科员".into(),
                        phone: None,
                    },
                )
                .await
                .unwrap()
                .id
        }
    };
    let own_staff = staff_of(own_unit.clone()).await;
    let sibling_staff = staff_of(sibling_unit.clone()).await;

    // another tenant with a unit, a staff member and a supervisor
    let other = app
        .store
        .create_tenant(&ctx, "370105", "天桥区（测试）")
        .await
        .unwrap();
    let ids = app
        .store
        .create_units(
            &ctx,
            &other.id,
            &[store::unit::NewUnit {
                code: domain::org::UnitCode::parse("TQZF").unwrap(),
                name: "天桥区人民政府办公室".into(),
                kind: domain::org::UnitKind::DistrictOffice,
                parent: None,
                staffed_by: None,
            }],
        )
        .await
        .unwrap();
    let foreign_staff = app
        .store
        .create_staff(
            &ctx,
            &other.id,
            &store::staff::NewStaff {
                name: "外区人员".into(),
                unit_id: ids[0].clone(),
                part_time_unit_ids: vec![],
                position: "科员".into(),
                phone: None,
            },
        )
        .await
        .unwrap()
        .id;
    let other_account = app
        .store
        .create_account(
            &ctx,
            &store::account::NewAccount {
                tenant_id: other.id.clone(),
                username: "other".into(),
                display_name: "外区督查".into(),
                password: store::demo::DEMO_PASSWORD.into(),
                must_change_password: false,
                roles: vec![Role::Supervisor],
                unit_code: None,
                uscc: None,
            },
        )
        .await
        .unwrap()
        .id;
    let account = |name: &str| {
        let store = app.store.clone();
        let name = name.to_owned();
        async move { store.account_by_username(&name).await.unwrap().unwrap().id }
    };
    let demo_groups = app.store.groups(&tenant.id).await.unwrap();
    let foreign_group = app
        .store
        .create_group(
            &ctx,
            &other.id,
            &store::group::NewGroup {
                name: "天桥区优化营商环境工作领导小组".into(),
                parent_id: None,
                duties: String::new(),
            },
        )
        .await
        .unwrap()
        .id;
    // a planned rename in each place (effective next year, so nothing changes meanwhile)
    let rename = |tenant_id: String, unit_id: String| {
        let store = app.store.clone();
        async move {
            store
                .create_reorganisation(
                    &AuditCtx::cli(),
                    &tenant_id,
                    &store::reorg::NewReorganisation {
                        effective_on: "2027-01-01".parse().unwrap(),
                        document: "测编〔2026〕1号".into(),
                        plan: store::reorg::Plan::Rename {
                            unit_id,
                            name: "更名后的单位".into(),
                        },
                    },
                )
                .await
                .unwrap()
                .id
        }
    };
    let reorgs = BTreeMap::from([
        ("own", rename(tenant.id.clone(), own_unit.clone()).await),
        (
            "sibling",
            rename(tenant.id.clone(), sibling_unit.clone()).await,
        ),
        ("foreign", rename(other.id.clone(), ids[0].clone()).await),
    ]);
    let task = |tenant_id: String, unit_id: String, number: &'static str| {
        let store = app.store.clone();
        async move {
            store
                .create_task(
                    &AuditCtx::cli(),
                    &tenant_id,
                    &store::task::NewTask {
                        number: number.into(),
                        measure: "措施二".into(),
                        title: "测试任务".into(),
                        description: String::new(),
                        lead_unit_id: unit_id,
                        cooperating_unit_ids: vec![],
                        due_on: "2026-12-31".parse().unwrap(),
                        milestones: Vec::new(),
                    },
                )
                .await
                .unwrap()
                .id
        }
    };
    let tasks = BTreeMap::from([
        (
            "own",
            task(tenant.id.clone(), own_unit.clone(), "T-1").await,
        ),
        (
            "sibling",
            task(tenant.id.clone(), sibling_unit.clone(), "T-2").await,
        ),
        (
            "foreign",
            task(other.id.clone(), ids[0].clone(), "T-1").await,
        ),
    ]);
    // a notice for each: an overdue step of each task, carded red by a sweep
    let overdue = |tenant_id: String, task_id: String, unit_id: String| {
        let store = app.store.clone();
        async move {
            store
                .open_deadline(
                    &AuditCtx::cli(),
                    &tenant_id,
                    &store::deadline::NewDeadline {
                        record_type: "task",
                        record_id: &task_id,
                        step: "fixture",
                        unit_id: Some(&unit_id),
                        limit: domain::deadline::Limit::WorkingDays(1),
                        received_at: "2026-11-02T02:00:00Z".parse().unwrap(),
                    },
                )
                .await
                .unwrap();
        }
    };
    overdue(tenant.id.clone(), tasks["own"].clone(), own_unit.clone()).await;
    overdue(
        tenant.id.clone(),
        tasks["sibling"].clone(),
        sibling_unit.clone(),
    )
    .await;
    overdue(other.id.clone(), tasks["foreign"].clone(), ids[0].clone()).await;
    app.store.sweep_cards(&AuditCtx::system()).await.unwrap();
    let notice_of = |tenant_id: String, task_id: String| {
        let store = app.store.clone();
        async move {
            store
                .list_notices(
                    &tenant_id,
                    &store::notice::NoticeFilter {
                        record: Some(("task".to_owned(), task_id)),
                        ..Default::default()
                    },
                    Default::default(),
                )
                .await
                .unwrap()
                .items[0]
                .id
                .clone()
        }
    };
    let notices = BTreeMap::from([
        (
            "own",
            notice_of(tenant.id.clone(), tasks["own"].clone()).await,
        ),
        (
            "sibling",
            notice_of(tenant.id.clone(), tasks["sibling"].clone()).await,
        ),
        (
            "foreign",
            notice_of(other.id.clone(), tasks["foreign"].clone()).await,
        ),
    ]);
    // a file on each task
    let file = |tenant_id: String, task_id: String| {
        let store = app.store.clone();
        async move {
            let mut upload = store.receive_upload().unwrap();
            upload.write(b"%PDF-1.7 fixture").unwrap();
            store
                .attach(
                    &AuditCtx::cli(),
                    &tenant_id,
                    "task",
                    &task_id,
                    "附件.pdf",
                    upload,
                )
                .await
                .unwrap()
                .id
        }
    };
    let attachments = BTreeMap::from([
        ("own", file(tenant.id.clone(), tasks["own"].clone()).await),
        (
            "sibling",
            file(tenant.id.clone(), tasks["sibling"].clone()).await,
        ),
        (
            "foreign",
            file(other.id.clone(), tasks["foreign"].clone()).await,
        ),
    ]);
    let enterprise = |tenant_id: String, street_id: Option<String>, body: &'static str| {
        let store = app.store.clone();
        async move {
            store
                .save_enterprise(
                    &AuditCtx::cli(),
                    &tenant_id,
                    &store::enterprise::EnterpriseValues {
                        uscc: domain::uscc::Uscc::complete(body).unwrap(),
                        name: "测试企业有限公司".into(),
                        legal_rep: String::new(),
                        address: String::new(),
                        street_id,
                        industry_code: None,
                        leading_industry: None,
                        scale: None,
                        established_on: None,
                        capital: None,
                        status: domain::enterprise::Status::Existing,
                        contact_name: String::new(),
                        contact_phone: None,
                        key_enterprise: false,
                        liaison_leader_id: None,
                        liaison_unit_id: None,
                    },
                )
                .await
                .unwrap()
                .0
                .id
        }
    };
    let enterprises = BTreeMap::from([
        (
            "own",
            enterprise(
                tenant.id.clone(),
                Some(own_unit.clone()),
                "91370104MA3C5T81",
            )
            .await,
        ),
        (
            "sibling",
            enterprise(
                tenant.id.clone(),
                Some(sibling_unit.clone()),
                "91370104MA3C5T82",
            )
            .await,
        ),
        (
            "foreign",
            enterprise(other.id.clone(), None, "91370104MA3C5T83").await,
        ),
    ]);
    // an open inspection of each street, the demo inspector on its team; a media report
    // assigned to each street
    let inspector_id = account("inspector").await;
    let inspection_of = |tenant_id: String, unit_id: String, members: Vec<String>| {
        let store = app.store.clone();
        async move {
            store
                .create_inspection(
                    &AuditCtx::cli(),
                    &tenant_id,
                    &store::inspection::NewInspection {
                        kind: domain::finding::InspectionKind::Open,
                        title: "窗口作风明察".into(),
                        held_on: "2026-11-27".parse().unwrap(),
                        notes: String::new(),
                        member_ids: members,
                        target_unit_ids: vec![unit_id],
                    },
                )
                .await
                .unwrap()
                .id
        }
    };
    let other_supervisor = app
        .store
        .account_by_username("other")
        .await
        .unwrap()
        .unwrap()
        .id;
    let inspections = BTreeMap::from([
        (
            "own",
            inspection_of(
                tenant.id.clone(),
                own_unit.clone(),
                vec![inspector_id.clone()],
            )
            .await,
        ),
        (
            "sibling",
            inspection_of(tenant.id.clone(), sibling_unit.clone(), vec![inspector_id]).await,
        ),
        (
            "foreign",
            inspection_of(other.id.clone(), ids[0].clone(), vec![other_supervisor]).await,
        ),
    ]);
    let finding_of = |tenant_id: String, unit_id: String| {
        let store = app.store.clone();
        async move {
            let id = store
                .create_findings(
                    &AuditCtx::cli(),
                    &tenant_id,
                    &store::inspection::NewFinding {
                        inspection_id: None,
                        source: domain::finding::Source::Media,
                        category: "作风".into(),
                        severity: domain::finding::Severity::General,
                        description: "媒体曝光窗口推诿".into(),
                        found_on: "2026-11-27".parse().unwrap(),
                        unit_ids: vec![unit_id.clone()],
                        persons: String::new(),
                    },
                )
                .await
                .unwrap()
                .remove(0)
                .id;
            store
                .act_on_finding(
                    &AuditCtx::cli(),
                    &tenant_id,
                    &id,
                    &store::inspection::FindingStep::Assign {
                        unit_id,
                        persons: None,
                        note: String::new(),
                    },
                    store::task::ReportFiles::default(),
                )
                .await
                .unwrap();
            id
        }
    };
    let findings = BTreeMap::from([
        ("own", finding_of(tenant.id.clone(), own_unit.clone()).await),
        (
            "sibling",
            finding_of(tenant.id.clone(), sibling_unit.clone()).await,
        ),
        (
            "foreign",
            finding_of(other.id.clone(), ids[0].clone()).await,
        ),
    ]);
    // appeals dispatched to the street and to its sibling, and one of the other tenant
    let appeal_of = |tenant_id: String, unit_id: String| {
        let store = app.store.clone();
        async move {
            let ctx = AuditCtx::cli();
            store
                .save_appeal_category(
                    &ctx,
                    &tenant_id,
                    &store::appeal::Category {
                        code: "POLICY".into(),
                        name: "测试类别".into(),
                        description: String::new(),
                        unit_id: None,
                        sort_order: 0,
                        active: true,
                    },
                )
                .await
                .unwrap();
            let appeal = store
                .create_appeal(
                    &ctx,
                    &tenant_id,
                    &store::appeal::NewAppeal {
                        kind: domain::appeal::Kind::Demand,
                        source: domain::appeal::Source::Hall,
                        category_code: "POLICY".into(),
                        street_id: None,
                        enterprise_id: None,
                        title: "门前道路破损".into(),
                        content: "请修复".into(),
                        address: String::new(),
                        publish: false,
                        submitter_name: None,
                        submitter_phone: Some("13800000000".into()),
                        submitter_account_id: None,
                        external_id: None,
                    },
                )
                .await
                .unwrap();
            store
                .act_on_appeal(
                    &ctx,
                    &tenant_id,
                    &appeal.id,
                    &store::appeal::AppealStep::Dispatch {
                        unit_id,
                        cohandler_ids: vec![],
                        note: String::new(),
                    },
                )
                .await
                .unwrap();
            (appeal.id, appeal.tracking_code, appeal.number)
        }
    };
    let (own_appeal, tracking_code, appeal_number) =
        appeal_of(tenant.id.clone(), own_unit.clone()).await;
    let appeals = BTreeMap::from([
        ("own", own_appeal),
        (
            "sibling",
            appeal_of(tenant.id.clone(), sibling_unit.clone()).await.0,
        ),
        (
            "foreign",
            appeal_of(other.id.clone(), ids[0].clone()).await.0,
        ),
    ]);
    // bad ratings of the street, of its sibling and of the other tenant's office
    let bad_of = |tenant_id: String, unit_id: String| {
        let store = app.store.clone();
        async move {
            store
                .create_rating(
                    &AuditCtx::cli(),
                    &tenant_id,
                    &store::rating::NewRating {
                        target: store::rating::RatingTarget::Department(unit_id),
                        channel: domain::rating::Channel::Online,
                        process: 2,
                        result: 1,
                        reasons: vec![domain::rating::Reason::Attitude],
                        comment: "态度差".into(),
                        rater_name: None,
                        rater_phone: Some("13900000000".into()),
                        device: None,
                        public: false,
                    },
                )
                .await
                .unwrap()
                .id
        }
    };
    let bad_ratings = BTreeMap::from([
        ("own", bad_of(tenant.id.clone(), own_unit.clone()).await),
        (
            "sibling",
            bad_of(tenant.id.clone(), sibling_unit.clone()).await,
        ),
        ("foreign", bad_of(other.id.clone(), ids[0].clone()).await),
    ]);
    // a completed case of each tenant (two of the demo's)
    let case_of = |tenant_id: String, unit_id: String, number: &'static str| {
        let store = app.store.clone();
        async move {
            let ctx = AuditCtx::cli();
            store
                .save_service_item(
                    &ctx,
                    &tenant_id,
                    &store::service::ServiceItem {
                        code: "POLICY-1".into(),
                        name: "测试事项".into(),
                        unit_id: unit_id.clone(),
                        category: String::new(),
                        levels: vec![domain::service::HandlingLevel::District],
                        promised_days: 1,
                        legal_days: 5,
                        max_visits: 1,
                        materials: String::new(),
                        online: false,
                        active: true,
                    },
                )
                .await
                .unwrap();
            let received: chrono::DateTime<chrono::Utc> = "2026-11-27T01:00:00Z".parse().unwrap();
            match store
                .ingest_cases(
                    &ctx,
                    &tenant_id,
                    &[store::service::NewCase {
                        number: number.into(),
                        item_code: "POLICY-1".into(),
                        unit_id,
                        window_id: None,
                        staff_id: None,
                        enterprise_uscc: None,
                        level: domain::service::HandlingLevel::District,
                        channel: "window".into(),
                        status: domain::service::CaseStatus::Completed,
                        visits: 1,
                        result: String::new(),
                        received_at: received,
                        completed_at: Some(received),
                        pauses: Vec::new(),
                    }],
                )
                .await
                .unwrap()
                .remove(0)
            {
                store::service::CaseOutcome::Created(id) => id,
                other => panic!("{other:?}"),
            }
        }
    };
    let cases = BTreeMap::from([
        (
            "own",
            case_of(tenant.id.clone(), own_unit.clone(), "P-1").await,
        ),
        (
            "sibling",
            case_of(tenant.id.clone(), sibling_unit.clone(), "P-2").await,
        ),
        (
            "foreign",
            case_of(other.id.clone(), ids[0].clone(), "P-3").await,
        ),
    ]);
    let windows = BTreeMap::from([
        ("own", unit("ZWFW-01")),
        ("sibling", unit("ZWFW-02")),
        ("foreign", ids[0].clone()),
    ]);
    let rating_token = app
        .store
        .window_rating_token(&ctx, &tenant.id, &windows["own"])
        .await
        .unwrap();
    let own_account = account("street").await;
    let sibling_account = account("window").await;
    Fixture {
        cases,
        bad_ratings,
        windows,
        rating_token,
        appeals,
        tracking_code,
        appeal_number,
        inspections,
        findings,
        enterprises,
        reorgs,
        tasks,
        notices,
        attachments,
        groups: BTreeMap::from([
            ("own", demo_groups[0].id.clone()),
            ("sibling", demo_groups[1].id.clone()),
            ("foreign", foreign_group),
        ]),
        accounts: BTreeMap::from([
            ("own", own_account),
            ("sibling", sibling_account),
            ("foreign", other_account),
        ]),
        units: BTreeMap::from([
            ("own", own_unit),
            ("sibling", sibling_unit),
            ("foreign", ids[0].clone()),
        ]),
        staff: BTreeMap::from([
            ("own", own_staff),
            ("sibling", sibling_staff),
            ("foreign", foreign_staff),
        ]),
    }
}

/// Sends one request as `user` (None: signed out); answers status and `Location`.
async fn send(app: &TestApp, user: Option<&TestUser>, method: &str, path: &str) -> (u16, String) {
    let url = app.url(path);
    let mut request = match method {
        "GET" => app.client.get(&url),
        "POST" => app.client.post(&url),
        "PATCH" => app.client.patch(&url),
        "PUT" => app.client.put(&url),
        other => panic!("method {other}"),
    };
    if let Some(user) = user {
        request = request.header("cookie", format!("bizenv_session={}", user.token));
        if method != "GET" {
            request = request.header("x-csrf-token", &user.csrf_token);
        }
    }
    if method != "GET" {
        request = if path.starts_with("/api/") {
            request
                .header("content-type", "application/json")
                .body("{}")
        } else {
            let csrf = user.map(|u| u.csrf_token.clone()).unwrap_or_default();
            request
                .header("content-type", "application/x-www-form-urlencoded")
                .body(format!("csrf_token={csrf}"))
        };
    }
    let response = request.send().await.unwrap();
    let location = response
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (response.status().as_u16(), location)
}

fn matches(outcome: Outcome, path: &str, status: u16, location: &str) -> bool {
    // signing out ends on the login page: that is its success
    let to_login = status == 303 && location.starts_with("/login") && path != "/logout";
    match outcome {
        Open => !matches!(status, 401 | 403 | 404) && !to_login,
        Login => status == 401 || to_login,
        Hidden => status == 404,
        Forbidden => status == 403,
    }
}

async fn every_route_answers_every_role_as_written_here(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let fixture = fixture(&app).await;
    let routes = web::routes::all_routes();
    assert!(
        routes.len() >= 40,
        "the router lists its routes: {}",
        routes.len()
    );
    let mut users: Vec<&str> = vec!["anonymous", "other"];
    users.extend(store::demo::DEMO_ACCOUNTS.iter().map(|(name, ..)| *name));
    let mut failures = Vec::new();
    let mut checked = 0;
    for user in users {
        let mut session = match user {
            "anonymous" => None,
            name => Some(app.demo_user(name).await),
        };
        for (method, path) in &routes {
            let targets: &[Target] = if path.contains("{id}") {
                &[Target::Own, Target::Sibling, Target::Foreign]
            } else {
                &[Target::Own]
            };
            for target in targets {
                let want = expected(method.as_str(), path, user, *target);
                let (status, location) = send(
                    &app,
                    session.as_ref(),
                    method.as_str(),
                    &fixture.path(path, *target),
                )
                .await;
                checked += 1;
                if !matches(want, path, status, &location) {
                    failures.push(format!("{user} {method} {path} ({target:?}): expected {want:?}, got {status} {location}"));
                }
                if session.is_some() && path.contains("logout") {
                    session = Some(app.demo_user(user).await);
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} requests answered otherwise:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
