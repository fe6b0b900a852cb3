//! Paging of lists, as the API convention says: `?page=1&per_page=50` (max 200).

/// A requested page, already clamped to the allowed range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// 1-based page number.
    pub page: u32,
    /// Items per page, 1–200.
    pub per_page: u32,
}

impl PageRequest {
    /// The largest page size the API allows.
    pub const MAX_PER_PAGE: u32 = 200;
    /// The page size when none is asked for.
    pub const DEFAULT_PER_PAGE: u32 = 50;

    /// Rows to skip.
    pub fn offset(&self) -> i64 {
        i64::from(self.page.saturating_sub(1)) * i64::from(self.per_page)
    }

    /// Rows to take.
    pub fn limit(&self) -> i64 {
        i64::from(self.per_page)
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            page: 1,
            per_page: Self::DEFAULT_PER_PAGE,
        }
    }
}

/// One page of a list and the size of the whole list.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// The request that produced it.
    pub request: PageRequest,
    /// Items in the whole list.
    pub total: i64,
}
