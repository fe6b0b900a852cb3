//! Import of 12345 hotline exports (CSV or XLSX, read by `enterprise_import`'s reader) as
//! appeals of source `hotline` (SPEC "Appeals").
//!
//! Each row is received like any appeal ([`Store::create_appeal`]'s checks and writes: the
//! dispatch deadline on the kernel, the caller sealed with blind indexes, the timeline, the
//! audit entry, the supervisors told, the lead unit proposed by category × street). The
//! hotline's work-order number (工单编号) is the appeal's `external_id`: a number already
//! imported is counted as such (`unchanged`) and creates nothing, so a file imported twice
//! changes nothing; a number twice in one file is refused on its later rows. Every bad row is
//! reported with its spreadsheet row number (the header is row 1), column and reason.

use chrono::{DateTime, Utc};
use domain::appeal::{Kind, Source};
use domain::org::UnitKind;

use crate::appeal::NewAppeal;
use crate::audit::AuditCtx;
use crate::db::with_pool;
use crate::enterprise_import::street_named;
use crate::import::{ImportReport, Record, RowError, Table};
use crate::{Result, Store, StoreError};

/// The columns of a hotline file, as a 12345 export names them.
pub const HOTLINE_COLUMNS: [&str; 10] = [
    "工单编号",
    "诉求类型",
    "诉求分类",
    "所属街道",
    "标题",
    "诉求内容",
    "诉求地址",
    "来电人",
    "来电号码",
    "受理时间",
];

const NUMBER: &str = HOTLINE_COLUMNS[0];
const KIND: &str = HOTLINE_COLUMNS[1];
const CATEGORY: &str = HOTLINE_COLUMNS[2];
const STREET: &str = HOTLINE_COLUMNS[3];
const TITLE: &str = HOTLINE_COLUMNS[4];
const CONTENT: &str = HOTLINE_COLUMNS[5];
const ADDRESS: &str = HOTLINE_COLUMNS[6];
const CALLER: &str = HOTLINE_COLUMNS[7];
const PHONE: &str = HOTLINE_COLUMNS[8];
const RECEIVED: &str = HOTLINE_COLUMNS[9];

/// The columns a file must have (the others may be left out).
const REQUIRED: [&str; 4] = [NUMBER, KIND, CATEGORY, CONTENT];

/// Characters of the content that make the title when the file gives none.
const TITLE_FROM_CONTENT: usize = 30;

/// The hotline sheet to fill in: the columns of [`HOTLINE_COLUMNS`] and one example row
/// (a demo district's category and street).
pub fn hotline_template() -> Result<Vec<u8>> {
    crate::import::template(
        "12345工单",
        &HOTLINE_COLUMNS,
        &[
            "GD202611300001",
            "投诉",
            "城市管理",
            "振兴街街道",
            "店外占道经营",
            "经十路某饭店长期在店外摆放桌椅占用人行道，请核实处理。",
            "经十路 100 号",
            "王先生",
            "13800138000",
            "2026-11-30 09:15",
        ],
    )
}

/// The file column a field of [`NewAppeal`] comes from.
fn column_of(field: &str) -> &'static str {
    match field {
        "external_id" => NUMBER,
        "kind" => KIND,
        "category_code" => CATEGORY,
        "street_id" => STREET,
        "title" => TITLE,
        "content" => CONTENT,
        "address" => ADDRESS,
        "submitter_name" => CALLER,
        "submitter_phone" => PHONE,
        _ => NUMBER,
    }
}

/// A hotline time: `YYYY-MM-DD HH:MM[:SS]` or with `/` (Beijing time), or a date alone.
fn hotline_time(text: &str) -> Option<DateTime<Utc>> {
    let text = text.replace('/', "-");
    crate::service::beijing_time(&text).or_else(|| {
        chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
            .ok()?
            .and_hms_opt(0, 0, 0)?
            .and_local_timezone(domain::calendar::shanghai())
            .single()
            .map(|t| t.with_timezone(&Utc))
    })
}

/// The title a row gives, or the beginning of its content.
fn title_of(title: &str, content: &str) -> String {
    if !title.is_empty() {
        return title.to_owned();
    }
    let line = content.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= TITLE_FROM_CONTENT {
        line
    } else {
        format!(
            "{}…",
            line.chars().take(TITLE_FROM_CONTENT).collect::<String>()
        )
    }
}

/// What rows are matched against: the tenant's categories and active streets.
struct Directory {
    /// (code, name, active) of each category.
    categories: Vec<(String, String, bool)>,
    /// (id, name, code) of each active street.
    streets: Vec<(String, String, String)>,
}

impl Directory {
    /// The category a cell names, by name or code.
    fn category(&self, text: &str) -> std::result::Result<String, String> {
        match self
            .categories
            .iter()
            .find(|(code, name, _)| name == text || code == text)
        {
            Some((code, _, true)) => Ok(code.clone()),
            Some(_) => Err(format!("诉求分类“{text}”已停用")),
            None => Err(format!(
                "“{text}”不是本区的诉求分类（写分类名称或代码，如“{}”）",
                self.categories
                    .iter()
                    .find(|c| c.2)
                    .map(|c| c.1.as_str())
                    .unwrap_or("城市管理")
            )),
        }
    }
}

/// A row that read well: the appeal to receive and the hotline's time.
struct HotlineRow {
    appeal: NewAppeal,
    received: Option<DateTime<Utc>>,
}

/// Reads one row; every bad cell is reported.
/// `latest`: the latest 受理时间 taken (a call from the future is a mistake).
fn read_row(
    record: &Record<'_>,
    dir: &Directory,
    latest: DateTime<Utc>,
) -> std::result::Result<HotlineRow, Vec<RowError>> {
    let mut errors = Vec::new();
    let kind = match record.get(KIND) {
        "" => {
            errors.push(record.error(KIND, "诉求类型不能为空"));
            None
        }
        text => Kind::from_hotline(text).or_else(|| {
            errors.push(record.error(
                KIND,
                format!(
                    "未知的诉求类型“{text}”，应为诉求（求助）、投诉（举报）、建议、咨询或矛盾纠纷"
                ),
            ));
            None
        }),
    };
    let category = match record.get(CATEGORY) {
        "" => {
            errors.push(record.error(CATEGORY, "诉求分类不能为空"));
            None
        }
        text => dir
            .category(text)
            .map_err(|reason| errors.push(record.error(CATEGORY, reason)))
            .ok(),
    };
    let street_id = match record.get(STREET) {
        "" => None,
        text => street_named(&dir.streets, text)
            .map_err(|reason| errors.push(record.error(STREET, reason)))
            .ok(),
    };
    let content = record.get(CONTENT);
    if content.is_empty() {
        errors.push(record.error(CONTENT, "诉求内容不能为空"));
    }
    let phone = record.get(PHONE);
    if phone.contains('*') {
        errors.push(record.error(
            PHONE,
            "来电号码是隐去中间位的号码，请从热线系统导出完整号码，或留空",
        ));
    }
    let received = match record.get(RECEIVED) {
        "" => None,
        text => match hotline_time(text) {
            Some(at) if at > latest => {
                errors.push(record.error(RECEIVED, "受理时间不能晚于当前时间"));
                None
            }
            Some(at) => Some(at),
            None => {
                errors.push(record.error(RECEIVED, "受理时间应写作 YYYY-MM-DD HH:MM（北京时间）"));
                None
            }
        },
    };
    match (kind, category, errors.is_empty()) {
        (Some(kind), Some(category_code), true) => Ok(HotlineRow {
            appeal: NewAppeal {
                kind,
                source: Source::Hotline,
                category_code,
                street_id,
                enterprise_id: None,
                title: title_of(record.get(TITLE), content),
                content: content.to_owned(),
                address: record.get(ADDRESS).to_owned(),
                publish: false,
                submitter_name: Some(record.get(CALLER).to_owned()).filter(|n| !n.is_empty()),
                submitter_phone: Some(phone.to_owned()).filter(|p| !p.is_empty()),
                submitter_account_id: None,
                external_id: Some(record.get(NUMBER).to_owned()),
            },
            received,
        }),
        _ => Err(errors),
    }
}

impl Store {
    /// Imports a hotline export (see the module's documentation): `created` counts the new
    /// appeals, `unchanged` the work orders imported before. A file without data rows, or
    /// without a required column, is refused whole.
    #[tracing::instrument(skip(self, ctx, table), fields(rows = table.rows().len()))]
    pub async fn import_hotline(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        table: &Table,
    ) -> Result<ImportReport> {
        self.import_hotline_with_progress(ctx, tenant_id, table, &|_| ())
            .await
    }

    /// As [`Self::import_hotline`], telling `progress` how many rows are done after each
    /// (the CLI's progress bar).
    pub async fn import_hotline_with_progress(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        table: &Table,
        progress: &(dyn Fn(usize) + Send + Sync),
    ) -> Result<ImportReport> {
        table.require(&REQUIRED)?;
        if table.records().next().is_none() {
            return Err(StoreError::Invalid(
                "文件中没有工单：第 1 行为列名，从第 2 行起每行一张工单".into(),
            ));
        }
        let dir = Directory {
            categories: self
                .appeal_categories(tenant_id, false)
                .await?
                .into_iter()
                .map(|c| (c.code, c.name, c.active))
                .collect(),
            streets: self
                .units(tenant_id)
                .await?
                .into_iter()
                .filter(|u| u.active && u.kind == UnitKind::Street)
                .map(|u| (u.id, u.name, u.code))
                .collect(),
        };
        // the platform's clock may run a little behind the hotline's
        let latest = self.clock.now() + chrono::Duration::days(1);
        let mut report = ImportReport::default();
        let mut first_row_of: std::collections::HashMap<String, usize> =
            std::collections::HashMap::new();
        for (done, record) in table.records().enumerate() {
            progress(done);
            let number = record.get(NUMBER);
            if number.is_empty() {
                report.errors.push(record.error(NUMBER, "工单编号不能为空"));
                continue;
            }
            if let Some(first) = first_row_of.get(number) {
                report.errors.push(record.error(
                    NUMBER,
                    format!("与第 {first} 行的工单编号重复：同一工单只导入一次，本行未导入"),
                ));
                continue;
            }
            first_row_of.insert(number.to_owned(), record.row);
            if self.hotline_imported(tenant_id, number).await? {
                report.unchanged += 1;
                continue;
            }
            let row = match read_row(&record, &dir, latest) {
                Ok(row) => row,
                Err(errors) => {
                    report.errors.extend(errors);
                    continue;
                }
            };
            match self
                .create_hotline_appeal(ctx, tenant_id, &row.appeal, row.received)
                .await
            {
                Ok(_) => report.created += 1,
                Err(StoreError::InvalidField { field, message }) => {
                    report.errors.push(record.error(column_of(field), message))
                }
                // imported meanwhile by another upload of the same work order
                Err(StoreError::Conflict(_)) => report.unchanged += 1,
                Err(e) => return Err(e),
            }
        }
        progress(table.rows().len());
        Ok(report)
    }

    /// Whether the hotline work order `number` is an appeal of the tenant already.
    async fn hotline_imported(&self, tenant_id: &str, number: &str) -> Result<bool> {
        let found: Option<String> = with_pool!(self, pool => {
            sqlx::query_scalar(
                "SELECT id FROM appeal WHERE tenant_id = $1 AND source = $2 AND external_id = $3",
            )
            .bind(tenant_id)
            .bind(Source::Hotline.as_str())
            .bind(number)
            .fetch_optional(pool)
            .await?
        });
        Ok(found.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_title_is_the_beginning_of_the_content() {
        assert_eq!(title_of("占道经营", "任意"), "占道经营");
        assert_eq!(title_of("", "路灯\n不亮"), "路灯 不亮");
        let long = "一".repeat(40);
        assert_eq!(title_of("", &long), format!("{}…", "一".repeat(30)));
    }

    #[test]
    fn hotline_times_are_beijing_time_with_dashes_or_slashes_or_a_date() {
        let nine = hotline_time("2026-11-30 09:15").unwrap();
        assert_eq!(nine.to_rfc3339(), "2026-11-30T01:15:00+00:00");
        assert_eq!(hotline_time("2026/11/30 09:15:00"), Some(nine));
        assert_eq!(
            hotline_time("2026-11-30").unwrap().to_rfc3339(),
            "2026-11-29T16:00:00+00:00"
        );
        assert_eq!(hotline_time("2026-13-30 09:15"), None);
        assert_eq!(hotline_time("昨天"), None);
    }

    #[test]
    fn categories_are_matched_by_name_or_code_and_a_retired_one_is_named() {
        let dir = Directory {
            categories: vec![
                ("CSGL".into(), "城市管理".into(), true),
                ("OLD".into(), "旧分类".into(), false),
            ],
            streets: vec![],
        };
        assert_eq!(dir.category("城市管理"), Ok("CSGL".to_owned()));
        assert_eq!(dir.category("CSGL"), Ok("CSGL".to_owned()));
        assert!(dir.category("旧分类").unwrap_err().contains("已停用"));
        let unknown = dir.category("环境保护").unwrap_err();
        assert!(unknown.contains("不是本区的诉求分类") && unknown.contains("城市管理"));
    }

    #[test]
    fn the_template_reads_back_with_the_hotline_columns() {
        let t = crate::import::read_table(&hotline_template().unwrap()).unwrap();
        assert_eq!(t.headers(), HOTLINE_COLUMNS);
        assert_eq!(t.rows().len(), 1);
        assert_eq!(t.rows()[0].1[8], "13800138000");
    }
}
