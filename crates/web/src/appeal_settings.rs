//! The supervisor's appeal settings page: the categories (with each one's default lead
//! unit), the routes (category × street → lead unit, which the routing proposes before the
//! default) and the step limits. The same store calls as `/api/v1/appeal-categories`,
//! `/api/v1/appeal-routes` and `/api/v1/appeal-limits`; anyone else gets 404.

use std::collections::HashMap;

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::response::Response;
use domain::appeal::Limits;
use domain::org::UnitKind;
use store::appeal::Category;

use crate::auth::{CurrentUser, PageUser, see_other};
use crate::error::{Error, PageError};
use crate::pages::{Layout, render, render_status};
use crate::policy::{Action, visible_to};
use crate::routes::Routes;
use crate::staff::{FormErrors, form_value};
use crate::state::AppState;

pub(crate) fn pages() -> Routes {
    Routes::default()
        .get("/appeals/settings", page)
        .post("/appeals/settings/category", category_form)
        .post("/appeals/settings/route", route_form)
        .post("/appeals/settings/limits", limits_form)
}

/// A category as the page lists it.
struct CategoryLine {
    code: String,
    name: String,
    description: String,
    unit_name: String,
    sort_order: i64,
    active: bool,
}

/// A route as the page lists it.
struct RouteLine {
    category: String,
    street: String,
    unit: String,
}

/// What the forms hold: the stored values, or what was typed into a refused form.
#[derive(Default)]
struct Typed {
    category: HashMap<&'static str, String>,
    route: HashMap<&'static str, String>,
    limits: Vec<(&'static str, &'static str, String)>,
}

/// Which form the errors belong to.
#[derive(Default, PartialEq, Eq)]
enum Refused {
    #[default]
    None,
    Category,
    Route,
    Limits,
}

#[derive(Template)]
#[template(path = "appeal_settings.html")]
struct SettingsPage {
    layout: Layout,
    csrf: String,
    categories: Vec<CategoryLine>,
    routes: Vec<RouteLine>,
    /// Units that may lead, `(id, name)`.
    units: Vec<(String, String)>,
    streets: Vec<(String, String)>,
    typed: Typed,
    refused: Refused,
    errors: FormErrors,
    saved: String,
}

impl SettingsPage {
    fn category_value(&self, field: &str) -> &str {
        self.typed.category.get(field).map_or("", String::as_str)
    }

    fn route_value(&self, field: &str) -> &str {
        self.typed.route.get(field).map_or("", String::as_str)
    }

    fn category_error(&self, field: &str) -> Option<&str> {
        (self.refused == Refused::Category)
            .then(|| self.errors.get(field))
            .flatten()
    }

    fn route_error(&self, field: &str) -> Option<&str> {
        (self.refused == Refused::Route)
            .then(|| self.errors.get(field))
            .flatten()
    }

    fn limits_error(&self, field: &str) -> Option<&str> {
        (self.refused == Refused::Limits)
            .then(|| self.errors.get(field))
            .flatten()
    }

    fn general(&self) -> Option<&str> {
        (self.refused != Refused::None)
            .then_some(self.errors.general.as_deref())
            .flatten()
    }
}

/// The limits' fields with their labels' message keys.
const LIMIT_FIELDS: [(&str, &str); 7] = [
    ("dispatch_minutes", "appeal.settings.dispatch_minutes"),
    ("accept_days", "appeal.settings.accept_days"),
    ("return_days", "appeal.settings.return_days"),
    ("reply_days", "appeal.settings.reply_days"),
    (
        "consultation_reply_days",
        "appeal.settings.consultation_reply_days",
    ),
    ("extension_max_days", "appeal.settings.extension_max_days"),
    ("callback_days", "appeal.settings.callback_days"),
];

fn limit_values(l: &Limits) -> [u32; 7] {
    [
        l.dispatch_minutes,
        l.accept_days,
        l.return_days,
        l.reply_days,
        l.consultation_reply_days,
        l.extension_max_days,
        l.callback_days,
    ]
}

fn typed_limits(
    values: impl Fn(&'static str, usize) -> String,
) -> Vec<(&'static str, &'static str, String)> {
    LIMIT_FIELDS
        .iter()
        .enumerate()
        .map(|(i, (field, label))| (*field, *label, values(field, i)))
        .collect()
}

fn manager(user: CurrentUser) -> Result<CurrentUser, Error> {
    visible_to(user, Action::ManageAppeals)
}

async fn build(
    state: &AppState,
    user: &CurrentUser,
    typed: Option<Typed>,
    refused: Refused,
    errors: FormErrors,
    saved: String,
) -> Result<SettingsPage, Error> {
    let tenant_id = &user.tenant.id;
    let units = state.store.units(tenant_id).await?;
    let name = |id: &str| {
        units
            .iter()
            .find(|u| u.id == id)
            .map_or_else(|| id.to_owned(), |u| u.name.clone())
    };
    let categories = state.store.appeal_categories(tenant_id, false).await?;
    let category_name = |code: &str| {
        categories
            .iter()
            .find(|c| c.code == code)
            .map_or_else(|| code.to_owned(), |c| c.name.clone())
    };
    let routes = state
        .store
        .appeal_routes(tenant_id)
        .await?
        .into_iter()
        .map(|(category, street, unit)| RouteLine {
            category: category_name(&category),
            street: name(&street),
            unit: name(&unit),
        })
        .collect();
    let typed = match typed {
        Some(t) => t,
        None => {
            let limits = limit_values(&state.store.appeal_limits(tenant_id).await?);
            let mut t = Typed {
                limits: typed_limits(|_, i| limits[i].to_string()),
                ..Typed::default()
            };
            t.category.insert("active", "on".to_owned());
            t.category.insert("sort_order", "0".to_owned());
            t
        }
    };
    let lead: Vec<(String, String)> = units
        .iter()
        .filter(|u| {
            u.active
                && !matches!(
                    u.kind,
                    UnitKind::Window | UnitKind::Hall | UnitKind::Community
                )
        })
        .map(|u| (u.id.clone(), u.name.clone()))
        .collect();
    let streets = units
        .iter()
        .filter(|u| u.active && u.kind == UnitKind::Street)
        .map(|u| (u.id.clone(), u.name.clone()))
        .collect();
    Ok(SettingsPage {
        layout: Layout::for_user("appeal.settings.title", "appeal", user),
        csrf: user.csrf_token.clone(),
        categories: categories
            .iter()
            .map(|c| CategoryLine {
                code: c.code.clone(),
                name: c.name.clone(),
                description: c.description.clone(),
                unit_name: c.unit_id.as_deref().map(&name).unwrap_or_default(),
                sort_order: c.sort_order,
                active: c.active,
            })
            .collect(),
        routes,
        units: lead,
        streets,
        typed,
        refused,
        errors,
        saved,
    })
}

/// `GET /appeals/settings[?saved=category|route|limits]`.
async fn page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let user = manager(user)?;
    let saved = q.get("saved").cloned().unwrap_or_default();
    render(
        &build(
            &state,
            &user,
            None,
            Refused::None,
            FormErrors::default(),
            saved,
        )
        .await?,
    )
}

/// After a form: back to the page, or the page again with the form's messages and values.
async fn answer(
    state: &AppState,
    user: &CurrentUser,
    outcome: Result<(), Error>,
    which: Refused,
    saved: &str,
    mut typed: Typed,
) -> Result<Response, PageError> {
    match outcome {
        Ok(()) => Ok(see_other(&format!("/appeals/settings?saved={saved}"))),
        Err(e) => {
            let (status, errors) = FormErrors::from_error(e)?;
            if typed.limits.is_empty() {
                let limits = limit_values(&state.store.appeal_limits(&user.tenant.id).await?);
                typed.limits = typed_limits(|_, i| limits[i].to_string());
            }
            let page = build(state, user, Some(typed), which, errors, String::new()).await?;
            render_status(&page, status)
        }
    }
}

/// `POST /appeals/settings/category`: adds a category or changes one (by its code).
async fn category_form(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let user = manager(user)?;
    let mut typed = Typed::default();
    for field in ["code", "name", "description", "unit_id", "sort_order"] {
        typed.category.insert(field, form_value(&form, field));
    }
    let active = form.iter().any(|(k, _)| k == "active");
    if active {
        typed.category.insert("active", "on".to_owned());
    }
    let outcome = async {
        let sort_order = match typed.category["sort_order"].as_str() {
            "" => 0,
            text => text
                .parse::<i64>()
                .ok()
                .filter(|n| (0..=9999).contains(n))
                .ok_or_else(|| Error::field("sort_order", "排序应为 0 至 9999 的整数"))?,
        };
        let unit = typed.category["unit_id"].clone();
        state
            .store
            .save_appeal_category(
                &user.audit(),
                &user.tenant.id,
                &Category {
                    code: typed.category["code"].clone(),
                    name: typed.category["name"].clone(),
                    description: typed.category["description"].clone(),
                    unit_id: (!unit.is_empty()).then_some(unit),
                    sort_order,
                    active,
                },
            )
            .await?;
        Ok::<_, Error>(())
    }
    .await;
    answer(&state, &user, outcome, Refused::Category, "category", typed).await
}

/// `POST /appeals/settings/route`: a category in a street goes to a lead unit (none chosen:
/// back to the category's default).
async fn route_form(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let user = manager(user)?;
    let mut typed = Typed::default();
    for field in ["category_code", "street_id", "unit_id"] {
        typed.route.insert(field, form_value(&form, field));
    }
    let outcome = async {
        if typed.route["category_code"].is_empty() {
            return Err(Error::field("category_code", "请选择诉求类别"));
        }
        if typed.route["street_id"].is_empty() {
            return Err(Error::field("street_id", "请选择街道"));
        }
        let unit = typed.route["unit_id"].as_str();
        state
            .store
            .set_appeal_route(
                &user.audit(),
                &user.tenant.id,
                &typed.route["category_code"],
                &typed.route["street_id"],
                (!unit.is_empty()).then_some(unit),
            )
            .await?;
        Ok(())
    }
    .await;
    answer(&state, &user, outcome, Refused::Route, "route", typed).await
}

/// `POST /appeals/settings/limits`: the step limits, effective for deadlines opened from now.
async fn limits_form(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let user = manager(user)?;
    let typed = Typed {
        limits: typed_limits(|field, _| form_value(&form, field)),
        ..Typed::default()
    };
    let outcome = async {
        let mut values = [0u32; 7];
        for (i, (field, _, text)) in typed.limits.iter().enumerate() {
            values[i] = text
                .parse()
                .map_err(|_| Error::field(field, "请输入正整数"))?;
        }
        let limits = Limits {
            dispatch_minutes: values[0],
            accept_days: values[1],
            return_days: values[2],
            reply_days: values[3],
            consultation_reply_days: values[4],
            extension_max_days: values[5],
            callback_days: values[6],
        };
        state
            .store
            .set_appeal_limits(&user.audit(), &user.tenant.id, &limits)
            .await?;
        Ok::<_, Error>(())
    }
    .await;
    answer(&state, &user, outcome, Refused::Limits, "limits", typed).await
}
