//! What every page shares: the layout's context, rendering, and the error page.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use domain::org::UnitKind;

use crate::error::{Error, PageError};
use crate::i18n::Catalog;

/// The context of the base layout, a field of every page's template.
pub struct Layout {
    /// The page title (already translated).
    pub title: String,
    /// The tenant's name in the header, when the page belongs to one.
    pub tenant_name: Option<String>,
    /// Marks every page of a demo tenant 示例数据.
    pub demo: bool,
    /// Which navigation entry is current: "home", "units", "calendar".
    pub nav: &'static str,
    /// The signed-in user's shown name, if any.
    pub user_name: Option<String>,
    /// The session's CSRF token, for the logout form.
    pub csrf_token: Option<String>,
    /// Show the organisation in the navigation (signed out, or allowed to read it).
    pub nav_org: bool,
    /// Show the audit log in the navigation.
    pub nav_audit: bool,
    /// Show account administration in the navigation.
    pub nav_accounts: bool,
    /// Show supervision tasks in the navigation.
    pub nav_tasks: bool,
    /// Show the enterprise registry.
    pub nav_enterprises: bool,
    /// Show findings (and inspections, self-checks, accountability).
    pub nav_findings: bool,
    /// Where the appeals entry leads: the queue for readers, hall entry for those who only
    /// record; `None` hides it.
    pub nav_appeals: Option<&'static str>,
    /// Where the ratings entry (好差评) leads: the dashboard for readers of figures, the case
    /// entry for window staff; `None` hides it.
    pub nav_ratings: Option<&'static str>,
    catalog: &'static Catalog,
}

impl Layout {
    /// A layout titled by the message `title_key`.
    pub fn new(title_key: &str, nav: &'static str) -> Self {
        let catalog = Catalog::zh_cn();
        Self {
            title: catalog.t(title_key).to_owned(),
            tenant_name: None,
            demo: false,
            nav,
            user_name: None,
            csrf_token: None,
            nav_org: true,
            nav_audit: false,
            nav_accounts: false,
            nav_tasks: false,
            nav_enterprises: false,
            nav_findings: false,
            nav_appeals: None,
            nav_ratings: None,
            catalog,
        }
    }

    /// The layout of a tenant's page.
    pub fn for_tenant(
        title_key: &str,
        nav: &'static str,
        tenant: &crate::tenant::CurrentTenant,
    ) -> Self {
        Self {
            tenant_name: Some(tenant.tenant.name.clone()),
            demo: tenant.demo,
            ..Self::new(title_key, nav)
        }
    }

    /// The layout of a signed-in user's page: their tenant, name and logout form.
    pub fn for_user(title_key: &str, nav: &'static str, user: &crate::auth::CurrentUser) -> Self {
        Self {
            tenant_name: Some(user.tenant.name.clone()),
            demo: user.demo,
            user_name: Some(user.account.display_name.clone()),
            csrf_token: Some(user.csrf_token.clone()),
            nav_org: crate::policy::allows(&user.account, crate::policy::Action::ReadOrg),
            nav_audit: crate::policy::allows(&user.account, crate::policy::Action::ReadAudit),
            nav_accounts: crate::policy::allows(&user.account, crate::policy::Action::ReadAccounts),
            nav_tasks: crate::policy::allows(&user.account, crate::policy::Action::ReadTasks),
            nav_enterprises: crate::policy::allows(
                &user.account,
                crate::policy::Action::ReadEnterprises,
            ),
            nav_findings: crate::policy::allows(&user.account, crate::policy::Action::ReadFindings),
            nav_appeals: appeals_entry(&user.account),
            nav_ratings: ratings_entry(&user.account),
            ..Self::new(title_key, nav)
        }
    }

    /// Adds the signed-in user, if any, to a public page's layout.
    pub fn with_user(mut self, user: Option<&crate::auth::CurrentUser>) -> Self {
        if let Some(user) = user {
            self.user_name = Some(user.account.display_name.clone());
            self.csrf_token = Some(user.csrf_token.clone());
            self.nav_org = crate::policy::allows(&user.account, crate::policy::Action::ReadOrg);
            self.nav_audit = crate::policy::allows(&user.account, crate::policy::Action::ReadAudit);
            self.nav_accounts =
                crate::policy::allows(&user.account, crate::policy::Action::ReadAccounts);
            self.nav_tasks = crate::policy::allows(&user.account, crate::policy::Action::ReadTasks);
            self.nav_enterprises =
                crate::policy::allows(&user.account, crate::policy::Action::ReadEnterprises);
            self.nav_findings =
                crate::policy::allows(&user.account, crate::policy::Action::ReadFindings);
            self.nav_appeals = appeals_entry(&user.account);
            self.nav_ratings = ratings_entry(&user.account);
        }
        self
    }

    /// Replaces the title with a literal (a record's name).
    pub fn titled(mut self, title: impl Into<String>) -> Self {
        self.title = title.into();
        self
    }

    /// The message for `key`.
    pub fn t<'a>(&'a self, key: &'a str) -> &'a str {
        self.catalog.t(key)
    }

    /// The Chinese name of a unit kind.
    pub fn kind_label(&self, kind: impl KindOf) -> &'static str {
        self.catalog.t(kind_key(kind.unit_kind()))
    }
}

/// The ratings entry of the navigation for `account`.
fn ratings_entry(account: &store::account::Account) -> Option<&'static str> {
    use crate::policy::{Action, allows};
    if allows(account, Action::ReadRatingFigures) {
        Some("/ratings")
    } else if allows(account, Action::RecordCases) {
        Some("/cases/new")
    } else {
        None
    }
}

/// Where the appeals entry of the navigation leads for `account`, if anywhere.
fn appeals_entry(account: &store::account::Account) -> Option<&'static str> {
    use crate::policy::{Action, allows};
    if allows(account, Action::ReadAppeals) {
        Some("/appeals")
    } else if allows(account, Action::RecordAppeals) {
        Some("/appeals/new")
    } else {
        None
    }
}

/// A unit kind, or a reference to one, as templates hand them over.
pub trait KindOf {
    /// The kind.
    fn unit_kind(&self) -> UnitKind;
}

impl KindOf for UnitKind {
    fn unit_kind(&self) -> UnitKind {
        *self
    }
}

impl<T: KindOf + ?Sized> KindOf for &T {
    fn unit_kind(&self) -> UnitKind {
        (**self).unit_kind()
    }
}

/// The catalogue key of a unit kind's name.
pub fn kind_key(kind: UnitKind) -> &'static str {
    match kind {
        UnitKind::DistrictOffice => "unit.kind.district_office",
        UnitKind::Department => "unit.kind.department",
        UnitKind::Street => "unit.kind.street",
        UnitKind::Community => "unit.kind.community",
        UnitKind::Hall => "unit.kind.hall",
        UnitKind::Window => "unit.kind.window",
    }
}

/// Renders a page template into a response.
pub fn render(template: &impl Template) -> Result<Response, PageError> {
    let html = template
        .render()
        .map_err(|e| Error::Internal(anyhow::Error::new(e).context("rendering a page")))?;
    Ok(Html(html).into_response())
}

/// Renders a page answered with `status` (a refused form shown again with its messages).
pub fn render_status(template: &impl Template, status: StatusCode) -> Result<Response, PageError> {
    let mut response = render(template)?;
    *response.status_mut() = status;
    Ok(response)
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    layout: Layout,
    status: u16,
    message: &'a str,
}

/// The Chinese error page for a status and message.
pub fn error_page(status: StatusCode, message: &str) -> Response {
    let key = match status {
        StatusCode::NOT_FOUND => "error.not_found.title",
        s if s.is_client_error() => "error.client.title",
        _ => "error.internal.title",
    };
    let page = ErrorPage {
        layout: Layout::new(key, ""),
        status: status.as_u16(),
        message,
    };
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "rendering the error page");
            (status, "错误").into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_unit_kind_has_a_chinese_name() {
        let catalog = Catalog::zh_cn();
        for kind in UnitKind::ALL {
            assert!(catalog.has(kind_key(kind)), "{kind}");
        }
        assert_eq!(catalog.t(kind_key(UnitKind::Window)), "窗口");
    }
}
