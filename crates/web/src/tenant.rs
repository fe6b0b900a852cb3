//! Which tenant a public request is about: a signed-in user's own; otherwise the one named
//! with `?tenant=CODE`, or the installation's only tenant.

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use store::tenant::Tenant;

use crate::error::Error;
use crate::state::AppState;

/// The tenant of this request.
pub struct CurrentTenant {
    /// The tenant.
    pub tenant: Tenant,
    /// Whether it is a demo tenant (pages say 示例数据).
    pub demo: bool,
}

impl FromRequestParts<AppState> for CurrentTenant {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        // a signed-in user's pages are always about their own tenant
        if let Ok(user) = crate::auth::CurrentUser::from_request_parts(parts, state).await {
            return Ok(CurrentTenant {
                tenant: user.tenant,
                demo: user.demo,
            });
        }
        let asked = parts.uri.query().and_then(|q| {
            q.split('&')
                .filter_map(|pair| pair.split_once('='))
                .find(|(k, _)| *k == "tenant")
                .map(|(_, v)| v.to_owned())
        });
        let tenant = match asked {
            Some(code) => state
                .store
                .tenant_by_code(&code)
                .await?
                .ok_or_else(Error::not_found)?,
            None => {
                let mut tenants = state.store.tenants().await?;
                match tenants.len() {
                    0 => {
                        return Err(Error::client(
                            StatusCode::NOT_FOUND,
                            "no_tenant",
                            "系统尚未设置任何地区，请先用 bizenv tenant add 添加，或以 --demo 启动示例",
                        ));
                    }
                    1 => tenants.remove(0),
                    _ => {
                        return Err(Error::bad_param(
                            "tenant",
                            "本系统有多个地区，请用 tenant 参数指明行政区划代码",
                        ));
                    }
                }
            }
        };
        let demo = state.store.is_demo_tenant(&tenant.id).await?;
        Ok(CurrentTenant { tenant, demo })
    }
}
