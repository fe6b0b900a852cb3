//! The list convention: `?page=1&per_page=50` (max 200) → `{items, page, per_page, total}`.

use serde::Serialize;
use store::page::{Page, PageRequest};

use crate::error::Error;

/// Parses `page` and `per_page` query values.
pub fn page_request(page: Option<&str>, per_page: Option<&str>) -> Result<PageRequest, Error> {
    let mut request = PageRequest::default();
    if let Some(p) = page.filter(|p| !p.is_empty()) {
        request.page = p
            .parse()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| Error::bad_param("page", "页码 page 应为不小于 1 的整数"))?;
    }
    if let Some(p) = per_page.filter(|p| !p.is_empty()) {
        request.per_page = p
            .parse()
            .ok()
            .filter(|n| (1..=PageRequest::MAX_PER_PAGE).contains(n))
            .ok_or_else(|| {
                Error::bad_param("per_page", "每页条数 per_page 应为 1 到 200 的整数")
            })?;
    }
    Ok(request)
}

/// A page of a list as the API answers it.
#[derive(Debug, Serialize)]
pub struct ListBody<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// The page number.
    pub page: u32,
    /// Items per page.
    pub per_page: u32,
    /// Items in the whole list.
    pub total: i64,
}

impl<T> ListBody<T> {
    /// The body of a stored page, items converted by `f`.
    pub fn from_page<U>(page: Page<U>, f: impl FnMut(U) -> T) -> Self {
        Self {
            items: page.items.into_iter().map(f).collect(),
            page: page.request.page,
            per_page: page.request.per_page,
            total: page.total,
        }
    }

    /// A page cut from a list held in memory.
    pub fn from_all(all: Vec<T>, request: PageRequest) -> Self {
        let total = all.len() as i64;
        let items = all
            .into_iter()
            .skip(usize::try_from(request.offset()).unwrap_or(usize::MAX))
            .take(request.per_page as usize)
            .collect();
        Self {
            items,
            page: request.page,
            per_page: request.per_page,
            total,
        }
    }
}

/// A timestamp as the API writes it: RFC 3339 in Shanghai time (`2026-11-28T09:30:00+08:00`).
pub fn timestamp(at: chrono::DateTime<chrono::Utc>) -> String {
    at.with_timezone(&domain::calendar::shanghai())
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// An instant as pages show it: `2026-11-28 09:30` in Shanghai time.
pub fn local_minute(at: chrono::DateTime<chrono::Utc>) -> String {
    at.with_timezone(&domain::calendar::shanghai())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}
