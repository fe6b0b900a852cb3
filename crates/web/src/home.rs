//! `/`: the public home page of the tenant.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use chrono::Datelike;

use crate::error::{Error, PageError};
use crate::pages::{Layout, render};
use crate::routes::Routes;
use crate::state::AppState;
use crate::tenant::CurrentTenant;

pub(crate) fn pages() -> Routes {
    Routes::default().get("/", page)
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    layout: Layout,
    today: String,
    today_working: bool,
    provisional: bool,
    next_working_day: String,
    units: usize,
}

#[derive(Template)]
#[template(path = "choose_tenant.html")]
struct ChooseTenantPage {
    layout: Layout,
    /// (code, name) of every tenant.
    tenants: Vec<(String, String)>,
}

async fn page(
    State(state): State<AppState>,
    tenant: Result<CurrentTenant, Error>,
    crate::auth::MaybeUser(user): crate::auth::MaybeUser,
) -> Result<Response, PageError> {
    let tenant = match tenant {
        Ok(tenant) => tenant,
        // a city installation holds several districts: a visitor who named none picks one
        Err(e) if e.status() == axum::http::StatusCode::BAD_REQUEST => {
            let tenants = state.store.tenants().await?;
            return render(&ChooseTenantPage {
                layout: Layout::new("home.choose_tenant", "home"),
                tenants: tenants.into_iter().map(|t| (t.code, t.name)).collect(),
            });
        }
        Err(e) => return Err(e.into()),
    };
    let calendar = state.store.calendar().await?;
    let today = state
        .store
        .clock()
        .now()
        .with_timezone(&domain::calendar::shanghai())
        .date_naive();
    let next = today
        .iter_days()
        .skip(1)
        .take(60)
        .find(|d| calendar.is_working_day(*d))
        .ok_or_else(|| {
            Error::Internal(anyhow::anyhow!("no working day within 60 days of {today}"))
        })?;
    let units = state.store.units(&tenant.tenant.id).await?.len();
    render(&HomePage {
        layout: Layout::for_tenant("home.title", "home", &tenant).with_user(user.as_ref()),
        today: today.to_string(),
        today_working: calendar.is_working_day(today),
        provisional: !calendar.has_year(next.year()),
        next_working_day: next.to_string(),
        units,
    })
}
