//! Import of the enterprise registry from CSV or XLSX (SPEC "Enterprise registry").
//!
//! The file's kind is told by its content (an XLSX is a ZIP); a CSV's encoding is detected
//! (UTF-8 with or without BOM, else GB18030, what Excel on Chinese Windows saves). Rows are
//! read in two passes: the codes first (a bad code, or a code twice in the file, refuses the
//! row), then the values over what is stored for that code, so a column the file leaves out
//! keeps the stored value and a blank cell clears an optional one. Streets are matched by
//! name (or code) within the tenant, liaison leaders by name among active staff — `张三（区发改局）`
//! when two share a name. Each row is then created, updated or left unchanged (its audit
//! digest equal to the stored one's), so a second import of the same file changes nothing.
//! Good rows land in transactions of up to 100,000 rows (250,000 from the CLI), with an audit entry for each
//! [`crate::deadline::BULK_CHUNK`] rows holding a digest per row and the import's batch id; bad
//! rows are reported with their spreadsheet row number (the header is row 1), column and reason.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};

use domain::enterprise::{
    FILE_COLUMNS, IndustryCode, Scale, Status, parse_capital, parse_date, parse_flag,
};
use domain::org::UnitKind;
use domain::staff::Phone;
use domain::uscc::Uscc;
use serde_json::{Value, json};

use crate::audit::AuditCtx;
use crate::enterprise::{EnterpriseValues, Write, diff};
use crate::import::{ImportReport, Record, RowError, Table, read_table, xlsx_sheet};
use crate::{Result, Store, StoreError, new_id};

const USCC: &str = FILE_COLUMNS[0];
const NAME: &str = FILE_COLUMNS[1];
const LEGAL_REP: &str = FILE_COLUMNS[2];
const ADDRESS: &str = FILE_COLUMNS[3];
const STREET: &str = FILE_COLUMNS[4];
const INDUSTRY: &str = FILE_COLUMNS[5];
const LEADING: &str = FILE_COLUMNS[6];
const SCALE: &str = FILE_COLUMNS[7];
const ESTABLISHED: &str = FILE_COLUMNS[8];
const CAPITAL: &str = FILE_COLUMNS[9];
const STATUS: &str = FILE_COLUMNS[10];
const CONTACT: &str = FILE_COLUMNS[11];
const PHONE: &str = FILE_COLUMNS[12];
const KEY: &str = FILE_COLUMNS[13];
const LEADER: &str = FILE_COLUMNS[14];

/// What a file says it is (its name's extension, or the request's media type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// Claims to be an XLSX workbook.
    Xlsx,
    /// Claims to be CSV.
    Csv,
    /// Says nothing: the content decides.
    Unknown,
}

impl FileKind {
    /// The kind a file name claims.
    pub fn from_name(name: &str) -> Self {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".xlsx") {
            FileKind::Xlsx
        } else if lower.ends_with(".csv") || lower.ends_with(".txt") {
            FileKind::Csv
        } else {
            FileKind::Unknown
        }
    }

    /// The kind a media type claims.
    pub fn from_media_type(media_type: &str) -> Self {
        let media_type = media_type.to_ascii_lowercase();
        if media_type.contains("spreadsheetml") {
            FileKind::Xlsx
        } else if media_type.starts_with("text/csv") || media_type.starts_with("text/plain") {
            FileKind::Csv
        } else {
            FileKind::Unknown
        }
    }
}

/// CSV text: UTF-8 (a byte order mark dropped) when it is valid UTF-8, else GB18030.
fn csv_text(bytes: &[u8]) -> Result<Cow<'_, str>> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(Cow::Borrowed(text));
    }
    let (text, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
    if had_errors {
        return Err(StoreError::Invalid(
            "无法识别文件的文字编码：请另存为 UTF-8 或 GB18030（GBK）编码的 CSV，或 XLSX 表格"
                .into(),
        ));
    }
    Ok(text)
}

/// Reads CSV: row 1 is the header; a record's row number is the one a spreadsheet shows.
fn read_csv(bytes: &[u8]) -> Result<Table> {
    let text = csv_text(bytes)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let headers: Vec<String> = match records.next() {
        Some(Ok(record)) => record.iter().map(str::to_owned).collect(),
        Some(Err(e)) => return Err(StoreError::Invalid(format!("CSV 第 1 行无法读取：{e}"))),
        None => return Err(StoreError::Invalid("文件是空的：第 1 行应为列名".into())),
    };
    let mut rows = Vec::new();
    for (i, record) in records.enumerate() {
        let record =
            record.map_err(|e| StoreError::Invalid(format!("CSV 第 {} 行无法读取：{e}", i + 2)))?;
        rows.push((i + 2, record.iter().map(str::to_owned).collect()));
    }
    Ok(Table::new(headers, rows))
}

/// Reads an enterprise file: XLSX when its content is a ZIP, else CSV. A file that claims to
/// be XLSX and is not, an old `.xls`, an empty file: each refused with the reason.
pub fn read_enterprise_file(bytes: &[u8], claimed: FileKind) -> Result<Table> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(StoreError::Invalid("文件是空的".into()));
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return read_table(bytes);
    }
    if bytes.starts_with(b"\xD0\xCF\x11\xE0") {
        return Err(StoreError::Invalid(
            "这是旧版 Excel（.xls）文件：请在 Excel 中另存为 .xlsx 或 CSV 后再导入".into(),
        ));
    }
    if claimed == FileKind::Xlsx {
        return Err(StoreError::Invalid(
            "文件名或类型是 XLSX，但内容不是 XLSX 表格：请在 Excel 中另存为 .xlsx 后再导入".into(),
        ));
    }
    read_csv(bytes)
}

/// What rows are matched against: the tenant's streets, active staff and leading industries.
struct Directory {
    /// (id, name, code) of each active street.
    streets: Vec<(String, String, String)>,
    /// Active staff by name: (id, unit id, unit name).
    staff: HashMap<String, Vec<(String, String, String)>>,
    leading: Vec<String>,
}

impl Directory {
    async fn load(store: &Store, tenant_id: &str) -> Result<Self> {
        let units = store.units(tenant_id).await?;
        let unit_name: HashMap<&str, &str> = units
            .iter()
            .map(|u| (u.id.as_str(), u.name.as_str()))
            .collect();
        let streets = units
            .iter()
            .filter(|u| u.active && u.kind == UnitKind::Street)
            .map(|u| (u.id.clone(), u.name.clone(), u.code.clone()))
            .collect();
        let mut staff: HashMap<String, Vec<(String, String, String)>> = HashMap::new();
        for (id, name, unit_id) in store.active_staff_names(tenant_id).await? {
            let unit = unit_name.get(unit_id.as_str()).copied().unwrap_or("");
            staff
                .entry(name)
                .or_default()
                .push((id, unit_id.clone(), unit.to_owned()));
        }
        Ok(Self {
            streets,
            staff,
            leading: store.leading_industries(tenant_id).await?,
        })
    }

    /// The street a cell names: its full name, the name without 办事处 or 街道, or its code.
    fn street(&self, text: &str) -> std::result::Result<String, String> {
        street_named(&self.streets, text)
    }

    /// The leader a cell names, with their unit: `张三`, or `张三（区发改局）` to tell apart
    /// two of the same name.
    fn leader(&self, text: &str) -> std::result::Result<(String, String), String> {
        let (name, unit) = match text.trim_end_matches(['）', ')']).split_once(['（', '(']) {
            Some((name, unit)) if text.ends_with(['）', ')']) => (name.trim(), Some(unit.trim())),
            _ => (text, None),
        };
        let found: Vec<&(String, String, String)> = self
            .staff
            .get(name)
            .into_iter()
            .flatten()
            .filter(|(_, _, unit_name)| unit.is_none_or(|u| unit_name == u))
            .collect();
        match found.as_slice() {
            [(id, unit_id, _)] => Ok((id.clone(), unit_id.clone())),
            [] => Err(format!("“{text}”不是在岗人员")),
            _ => Err(format!(
                "有 {} 名在岗人员叫“{name}”，请写成“{name}（所在单位）”以区分",
                found.len()
            )),
        }
    }

    /// How a leader is written in a file: the name, with the unit when the name is shared.
    fn leader_text(&self, leader_id: &str) -> String {
        for (name, people) in &self.staff {
            if let Some((_, _, unit)) = people.iter().find(|(id, ..)| id == leader_id) {
                return if people.len() > 1 {
                    format!("{name}（{unit}）")
                } else {
                    name.clone()
                };
            }
        }
        String::new()
    }
}

/// The street a cell names among `streets` ((id, name, code) of each active street): its
/// full name, the name without 办事处 or 街道, or its code (also the hotline import's rule).
pub(crate) fn street_named(
    streets: &[(String, String, String)],
    text: &str,
) -> std::result::Result<String, String> {
    let found: Vec<&String> = streets
        .iter()
        .filter(|(_, name, code)| {
            name == text
                || name.strip_suffix("办事处") == Some(text)
                || name.strip_suffix("街道办事处") == Some(text)
                || name.strip_suffix("街道") == Some(text)
                || code == text
        })
        .map(|(id, ..)| id)
        .collect();
    match found.as_slice() {
        [id] => Ok((*id).clone()),
        [] => Err(format!(
            "“{text}”不是本区的街道（写街道名称，如“振兴街街道”）"
        )),
        _ => Err(format!(
            "有 {} 个街道都叫“{text}”，请写街道代码",
            found.len()
        )),
    }
}

/// The values a row gives, over `base` (what is stored for its code, if anything): columns the
/// file leaves out keep the base's values. Every bad cell is reported.
fn row_values(
    record: &Record<'_>,
    uscc: Uscc,
    base: Option<&EnterpriseValues>,
    dir: &Directory,
) -> std::result::Result<EnterpriseValues, Vec<RowError>> {
    let mut errors = Vec::new();
    let has = |column: &str| record.table_has(column);
    let mut v = base.cloned().unwrap_or_else(|| EnterpriseValues {
        uscc: uscc.clone(),
        name: String::new(),
        legal_rep: String::new(),
        address: String::new(),
        street_id: None,
        industry_code: None,
        leading_industry: None,
        scale: None,
        established_on: None,
        capital: None,
        status: Status::Existing,
        contact_name: String::new(),
        contact_phone: None,
        key_enterprise: false,
        liaison_leader_id: None,
        liaison_unit_id: None,
    });
    let mut text = |column: &str, max: usize, required: bool, out: &mut String| {
        if !has(column) {
            return;
        }
        let value = record.get(column);
        if required && value.is_empty() {
            errors.push(record.error(column, format!("{column}不能为空")));
        } else if value.chars().count() > max {
            errors.push(record.error(column, format!("{column}不能超过 {max} 个字")));
        } else {
            *out = value.to_owned();
        }
    };
    text(NAME, 100, true, &mut v.name);
    text(LEGAL_REP, 50, false, &mut v.legal_rep);
    text(ADDRESS, 200, false, &mut v.address);
    text(CONTACT, 50, false, &mut v.contact_name);
    // an optional cell: blank clears, otherwise `parse` reads it
    fn optional<T>(
        record: &Record<'_>,
        column: &str,
        errors: &mut Vec<RowError>,
        out: &mut Option<T>,
        parse: impl FnOnce(&str) -> std::result::Result<T, String>,
    ) {
        if !record.table_has(column) {
            return;
        }
        let value = record.get(column);
        if value.is_empty() {
            *out = None;
            return;
        }
        match parse(value) {
            Ok(parsed) => *out = Some(parsed),
            Err(reason) => errors.push(record.error(column, reason)),
        }
    }
    optional(record, STREET, &mut errors, &mut v.street_id, |t| {
        dir.street(t)
    });
    optional(record, INDUSTRY, &mut errors, &mut v.industry_code, |t| {
        IndustryCode::parse(t)
    });
    optional(record, LEADING, &mut errors, &mut v.leading_industry, |t| {
        if dir.leading.iter().any(|l| l == t) {
            Ok(t.to_owned())
        } else {
            Err(format!(
                "“{t}”不在本区的主导产业中（{}）",
                dir.leading.join("、")
            ))
        }
    });
    optional(record, SCALE, &mut errors, &mut v.scale, Scale::parse);
    optional(
        record,
        ESTABLISHED,
        &mut errors,
        &mut v.established_on,
        parse_date,
    );
    optional(record, CAPITAL, &mut errors, &mut v.capital, parse_capital);
    optional(record, PHONE, &mut errors, &mut v.contact_phone, |t| {
        if t.contains('*') {
            Err("联系电话是隐去中间位的号码（如从无权查看号码的导出中来），请填完整号码".into())
        } else {
            Phone::parse(t).map_err(|e| e.to_string())
        }
    });
    if has(STATUS) && !record.get(STATUS).is_empty() {
        match Status::parse(record.get(STATUS)) {
            Ok(status) => v.status = status,
            Err(reason) => errors.push(record.error(STATUS, reason)),
        }
    }
    if has(KEY) {
        match parse_flag(record.get(KEY)) {
            Ok(flag) => v.key_enterprise = flag,
            Err(reason) => errors.push(record.error(KEY, reason)),
        }
    }
    if has(LEADER) {
        let text = record.get(LEADER);
        if text.is_empty() {
            v.liaison_leader_id = None;
            v.liaison_unit_id = None;
        } else {
            match dir.leader(text) {
                // the same leader keeps the liaison unit set on the page
                Ok((id, _)) if v.liaison_leader_id.as_deref() == Some(id.as_str()) => {}
                Ok((id, unit_id)) => {
                    v.liaison_leader_id = Some(id);
                    v.liaison_unit_id = Some(unit_id);
                }
                Err(reason) => errors.push(record.error(LEADER, reason)),
            }
        }
    }
    if errors.is_empty() {
        Ok(v)
    } else {
        Err(errors)
    }
}

/// How far an import is: rows read and rows written of all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportProgress {
    /// Rows done.
    pub done: usize,
    /// Rows in the file.
    pub total: usize,
}

/// What an enterprise import did, with the row errors as an XLSX to download.
#[derive(Debug, Clone, Default)]
pub struct EnterpriseImport {
    /// Counts and row errors.
    pub report: ImportReport,
    /// The import's batch id (in its audit entries), when anything was written.
    pub batch: Option<String>,
}

/// The row errors as a worksheet: 行号, 列, 原因.
pub fn error_report_xlsx(report: &ImportReport) -> Result<Vec<u8>> {
    let rows: Vec<Vec<String>> = report
        .errors
        .iter()
        .map(|e| vec![e.row.to_string(), e.column.clone(), e.reason.clone()])
        .collect();
    xlsx_sheet("导入错误", &["行号", "列", "原因"], &rows)
}

/// The enterprise sheet to fill in: the file columns and one example row.
pub fn enterprise_template() -> Result<Vec<u8>> {
    let example = [
        "91370104MA3C8QXX1Y",
        "济南华瑞物流有限公司",
        "王明",
        "济南市槐荫区经十路 1 号",
        "振兴街街道",
        "G5430",
        "现代物流",
        "小型",
        "2015-03-01",
        "500",
        "存续",
        "李华",
        "13800138000",
        "否",
        "",
    ];
    xlsx_sheet(
        "企业",
        &FILE_COLUMNS,
        &[example.iter().map(|v| (*v).to_owned()).collect()],
    )
}

/// Rows an import from the page or the API writes in one transaction: other writers (the
/// rating writer, forms) wait for the write lock a few seconds at most.
const TX_ROWS: usize = 100_000;

/// Rows a bulk import (the CLI: a registry's first load, when the platform is quiet) writes in
/// one transaction. Each transaction writes nearly every page of the name-gram index to the
/// write-ahead log and the checkpoint copies them again, so fewer, larger transactions write
/// less: a million rows took 60.6 s in transactions of 100,000 and 57.3–57.8 s in
/// transactions of 250,000 (docs/BENCHMARKS.md) — but each holds the write lock for 10–15 s,
/// longer than other writers wait.
const BULK_TX_ROWS: usize = 250_000;

/// Largest enterprise file read (a million rows as CSV are about 150 MB).
pub const FILE_LIMIT: usize = 200 * 1024 * 1024;

/// How long a row-error report stays downloadable.
const REPORT_DAYS: u64 = 7;

fn is_id(text: &str) -> bool {
    !text.is_empty() && text.len() <= 64 && text.bytes().all(|b| b.is_ascii_alphanumeric())
}

impl Store {
    fn reports_dir(&self, account_id: &str) -> Result<std::path::PathBuf> {
        // a system's bearer token acts as the account `token:{id}`: its folder is `token-{id}`
        let folder = match account_id.strip_prefix("token:") {
            Some(token) if is_id(token) => format!("token-{token}"),
            _ if is_id(account_id) => account_id.to_owned(),
            _ => return Err(StoreError::NotFound),
        };
        Ok(self.data_dir.0.join("import-reports").join(folder))
    }

    /// Keeps a row-error report for its importer to download ([`REPORT_DAYS`] days); returns
    /// its id. Older reports of the same account are removed.
    pub fn keep_import_report(&self, account_id: &str, bytes: &[u8]) -> Result<String> {
        let dir = self.reports_dir(account_id)?;
        let io = |e: std::io::Error| {
            StoreError::Other(anyhow::Error::new(e).context("keeping an import report"))
        };
        std::fs::create_dir_all(&dir).map_err(io)?;
        // a report's id begins with the clock's time of writing: `{unix seconds}t{random}`
        let now = self.clock.now().timestamp();
        let max_age = i64::try_from(REPORT_DAYS * 24 * 3600).unwrap_or(i64::MAX);
        for entry in std::fs::read_dir(&dir).map_err(io)?.flatten() {
            let name = entry.file_name();
            let written = name
                .to_str()
                .and_then(|n| n.split_once('t'))
                .and_then(|(t, _)| t.parse::<i64>().ok());
            if written.is_none_or(|t| now - t > max_age) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        let id = format!("{now}t{}", new_id());
        std::fs::write(dir.join(format!("{id}.xlsx")), bytes).map_err(io)?;
        Ok(id)
    }

    /// A row-error report kept for this account, if it is theirs and still kept.
    pub fn import_report(&self, account_id: &str, id: &str) -> Result<Option<Vec<u8>>> {
        if !is_id(id) {
            return Ok(None);
        }
        let path = self.reports_dir(account_id)?.join(format!("{id}.xlsx"));
        match std::fs::read(path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StoreError::Other(e.into())),
        }
    }

    /// Active staff as (id, name, primary unit id).
    async fn active_staff_names(&self, tenant_id: &str) -> Result<Vec<(String, String, String)>> {
        Ok(crate::db::with_pool!(self, pool => {
            sqlx::query_as::<_, (String, String, String)>(
                "SELECT id, name, unit_id FROM staff WHERE tenant_id = $1 AND active = $2",
            )
            .bind(tenant_id)
            .bind(true)
            .fetch_all(pool)
            .await?
        }))
    }

    /// How each leader is written in an enterprise file (the name, with the unit when shared).
    pub async fn leader_texts(&self, tenant_id: &str) -> Result<HashMap<String, String>> {
        let dir = Directory::load(self, tenant_id).await?;
        Ok(dir
            .staff
            .values()
            .flatten()
            .map(|(id, ..)| (id.clone(), dir.leader_text(id)))
            .collect())
    }

    /// Imports enterprises from a CSV or XLSX file (see the module's documentation).
    /// `only_streets` confines the import to some streets (a street's unit_admin): rows of
    /// other streets, and stored enterprises of other streets, are refused. `progress` is told the
    /// rows done.
    pub async fn import_enterprises(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        bytes: &[u8],
        claimed: FileKind,
        only_streets: Option<&[String]>,
        progress: &(dyn Fn(ImportProgress) + Sync),
    ) -> Result<EnterpriseImport> {
        self.import_enterprises_by(
            ctx,
            tenant_id,
            bytes,
            claimed,
            only_streets,
            progress,
            TX_ROWS,
        )
        .await
    }

    /// As [`Store::import_enterprises`], in larger transactions that hold the write lock longer
    /// than other writers wait (10 s): for `bizenv import enterprises`, a registry's first load
    /// while the platform is quiet.
    pub async fn import_enterprises_in_bulk(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        bytes: &[u8],
        claimed: FileKind,
        progress: &(dyn Fn(ImportProgress) + Sync),
    ) -> Result<EnterpriseImport> {
        self.import_enterprises_by(ctx, tenant_id, bytes, claimed, None, progress, BULK_TX_ROWS)
            .await
    }

    #[tracing::instrument(skip(self, ctx, bytes, progress), fields(size = bytes.len()))]
    #[allow(clippy::too_many_arguments)]
    async fn import_enterprises_by(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        bytes: &[u8],
        claimed: FileKind,
        only_streets: Option<&[String]>,
        progress: &(dyn Fn(ImportProgress) + Sync),
        tx_rows: usize,
    ) -> Result<EnterpriseImport> {
        if bytes.len() > FILE_LIMIT {
            return Err(StoreError::Invalid(format!(
                "文件过大：一次最多导入 {} MB，请分成几个文件",
                FILE_LIMIT / 1024 / 1024
            )));
        }
        let table = read_enterprise_file(bytes, claimed)?;
        table.require(&[USCC, NAME])?;
        let dir = Directory::load(self, tenant_id).await?;
        let records: Vec<Record<'_>> = table.records().collect();
        let total = records.len();
        progress(ImportProgress { done: 0, total });
        let mut errors: Vec<RowError> = Vec::new();

        // pass 1: the codes; a code twice in the file refuses every row that carries it
        let mut codes: Vec<Option<Uscc>> = Vec::with_capacity(total);
        let mut rows_of: HashMap<String, Vec<usize>> = HashMap::with_capacity(total);
        for record in &records {
            let text = record.get(USCC);
            let code = if text.is_empty() {
                errors.push(record.error(USCC, "统一社会信用代码不能为空"));
                None
            } else {
                match Uscc::parse(text) {
                    Ok(code) => Some(code),
                    Err(e) => {
                        errors.push(record.error(USCC, e.to_string()));
                        None
                    }
                }
            };
            if let Some(code) = &code {
                rows_of
                    .entry(code.as_str().to_owned())
                    .or_default()
                    .push(record.row);
            }
            codes.push(code);
        }
        for (record, code) in records.iter().zip(codes.iter_mut()) {
            let Some(rows) = code.as_ref().and_then(|c| rows_of.get(c.as_str())) else {
                continue;
            };
            if rows.len() > 1 {
                let others: Vec<String> = rows
                    .iter()
                    .filter(|r| **r != record.row)
                    .map(|r| r.to_string())
                    .collect();
                errors.push(record.error(
                    USCC,
                    format!(
                        "统一社会信用代码与第 {} 行重复：同一企业只能有一行，这些行都未导入",
                        others.join("、")
                    ),
                ));
                *code = None;
            }
        }

        // what is stored for the file's codes
        let wanted: Vec<&str> = codes.iter().flatten().map(Uscc::as_str).collect();
        let stored = self.enterprises_by_usccs(tenant_id, &wanted).await?;

        // pass 2: the values over what is stored (each row checked alone, so the rows are
        // shared among the cores), then what each row does, in the file's order
        let rows: Vec<(&Record<'_>, Uscc)> = records
            .iter()
            .zip(codes)
            .filter_map(|(record, code)| code.map(|code| (record, code)))
            .collect();
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
        let per_core = rows.len().div_ceil(cores).max(1);
        let checked: Vec<std::result::Result<EnterpriseValues, Vec<RowError>>> =
            std::thread::scope(|scope| {
                let parts: Vec<_> = rows
                    .chunks(per_core)
                    .map(|part| {
                        let (stored, dir) = (&stored, &dir);
                        scope.spawn(move || {
                            part.iter()
                                .map(|(record, code)| {
                                    let old = stored.get(code.as_str()).map(|s| &s.values);
                                    row_values(record, code.clone(), old, dir)
                                })
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                parts
                    .into_iter()
                    .flat_map(|part| part.join().expect("checking a part of the rows"))
                    .collect()
            });
        let mut report = ImportReport::default();
        let mut planned: Vec<Planned> = Vec::new();
        for ((record, code), values) in rows.into_iter().zip(checked) {
            let old = stored.get(code.as_str());
            let values = match values {
                Ok(values) => values,
                Err(row_errors) => {
                    errors.extend(row_errors);
                    continue;
                }
            };
            if let Some(streets) = only_streets {
                let theirs = |s: &Option<String>| s.as_ref().is_some_and(|s| streets.contains(s));
                if !theirs(&values.street_id) || old.is_some_and(|o| !theirs(&o.values.street_id)) {
                    errors.push(record.error(STREET, "只能导入本街道的企业"));
                    continue;
                }
            }
            match old {
                Some(old) => {
                    let index = values
                        .contact_phone
                        .as_ref()
                        .map(|p| self.index.of(p.as_str()));
                    if old.view == values.audit_view(index.as_deref()) {
                        report.unchanged += 1;
                    } else {
                        report.updated += 1;
                        planned.push(Planned {
                            row: record.row,
                            id: old.id.clone(),
                            values,
                            old: Some((old.view.clone(), old.values.name.clone())),
                        });
                    }
                }
                None => {
                    report.created += 1;
                    planned.push(Planned {
                        row: record.row,
                        id: new_id(),
                        values,
                        old: None,
                    });
                }
            }
        }
        errors.sort_by_key(|e| e.row);
        let refused: BTreeSet<usize> = errors.iter().map(|e| e.row).collect();
        report.errors = errors;
        let mut done = total - planned.len();
        progress(ImportProgress { done, total });
        if planned.is_empty() {
            return Ok(EnterpriseImport {
                report,
                batch: None,
            });
        }

        let batch = new_id();
        let summary = Summary {
            batch: batch.clone(),
            parts: planned.len().div_ceil(crate::deadline::BULK_CHUNK),
            counts: json!({
                "created": report.created, "updated": report.updated,
                "unchanged": report.unchanged, "refused": refused.len(),
            }),
        };
        let planned_rows = planned.len();
        // a transaction writes up to tx_rows rows (the indexes' pages are written to the log
        // once for many rows), an audit entry covers up to BULK_CHUNK of them; while the
        // database writes one transaction, the next is prepared on another thread (sealing,
        // blind indexes, grams and digests need no database)
        let mut chunks = Vec::new();
        let mut rest = planned.into_iter().peekable();
        while rest.peek().is_some() {
            chunks.push(rest.by_ref().take(tx_rows).collect::<Vec<_>>());
        }
        let summary = std::sync::Arc::new(summary);
        let mut first_part = 0;
        let mut prepare = |chunk: Vec<Planned>| {
            let (store, summary) = (self.clone(), summary.clone());
            let part = first_part;
            first_part += chunk.len().div_ceil(crate::deadline::BULK_CHUNK);
            tokio::task::spawn_blocking(move || store.prepare_import(chunk, part, &summary))
        };
        let mut chunks = chunks.into_iter();
        let mut next = chunks.next().map(&mut prepare);
        while let Some(prepared) = next.take() {
            let (writes, audits) = prepared
                .await
                .map_err(|e| StoreError::Other(anyhow::Error::new(e).context("preparing rows")))?;
            next = chunks.next().map(&mut prepare);
            self.write_batch(
                ctx, tenant_id, &writes, "imported", "import", &batch, audits,
            )
            .await?;
            done += writes.len();
            progress(ImportProgress { done, total });
        }
        if planned_rows >= crate::deadline::BULK_CHUNK {
            self.analyze_enterprises().await?;
        }
        Ok(EnterpriseImport {
            report,
            batch: Some(batch),
        })
    }

    /// The writes of one transaction of an import and its audit entries (parts after
    /// `part`), each entry with a digest per row.
    fn prepare_import(
        &self,
        chunk: Vec<Planned>,
        mut part: usize,
        summary: &Summary,
    ) -> (Vec<Write<'static>>, Vec<Value>) {
        let mut writes = Vec::with_capacity(chunk.len());
        let mut audits = Vec::new();
        let mut rows = Vec::new();
        for planned in chunk {
            let fields = planned
                .old
                .as_ref()
                .map(|(view, _)| {
                    let index = planned
                        .values
                        .contact_phone
                        .as_ref()
                        .map(|p| self.index.of(p.as_str()));
                    diff(view, &planned.values.audit_view(index.as_deref()))
                        .as_object()
                        .map(|m| m.keys().cloned().collect())
                        .unwrap_or_default()
                })
                .unwrap_or_default();
            let write = self.write_of(
                planned.id,
                Cow::Owned(planned.values),
                planned.old.map(|(_, name)| name),
                fields,
            );
            rows.push(json!({
                "row": planned.row, "op": if write.creates() { "create" } else { "update" },
                "id": write.id, "digest": write.digest(),
            }));
            writes.push(write);
            if rows.len() == crate::deadline::BULK_CHUNK {
                part += 1;
                audits.push(summary.entry(part, std::mem::take(&mut rows)));
            }
        }
        if !rows.is_empty() {
            audits.push(summary.entry(part + 1, rows));
        }
        (writes, audits)
    }

    /// The stored enterprises with these codes, by code, with their audit views.
    async fn enterprises_by_usccs(
        &self,
        tenant_id: &str,
        codes: &[&str],
    ) -> Result<HashMap<String, Stored>> {
        let mut found = HashMap::new();
        for part in codes.chunks(500) {
            for (enterprise, index) in self.enterprises_with_codes(tenant_id, part).await? {
                let view = enterprise.values.audit_view(index.as_deref());
                found.insert(
                    enterprise.values.uscc.as_str().to_owned(),
                    Stored {
                        id: enterprise.id,
                        values: enterprise.values,
                        view,
                    },
                );
            }
        }
        Ok(found)
    }
}

/// A stored enterprise as an import compares it.
struct Stored {
    id: String,
    values: EnterpriseValues,
    view: Value,
}

/// A row an import writes: its row number, the enterprise's id, its new values and, for a
/// stored enterprise, its audit view and name.
struct Planned {
    row: usize,
    id: String,
    values: EnterpriseValues,
    old: Option<(Value, String)>,
}

/// What every audit entry of an import says besides its rows.
struct Summary {
    batch: String,
    parts: usize,
    counts: Value,
}

impl Summary {
    fn entry(&self, part: usize, rows: Vec<Value>) -> Value {
        let mut entry =
            json!({"batch": self.batch, "part": part, "parts": self.parts, "rows": rows});
        if let (Some(entry), Some(counts)) = (entry.as_object_mut(), self.counts.as_object()) {
            entry.extend(counts.clone());
        }
        entry
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_csv_is_read_in_utf8_with_or_without_bom_and_in_gb18030() {
        let text = "统一社会信用代码,企业名称\r\n91350100M000100Y43,\"福州市某某科技有限公司\"\r\n";
        let (gb, _, _) = encoding_rs::GB18030.encode(text);
        let with_bom = [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat();
        for bytes in [text.as_bytes(), &with_bom, &gb] {
            let table = read_enterprise_file(bytes, FileKind::Csv).unwrap();
            assert_eq!(table.headers(), ["统一社会信用代码", "企业名称"]);
            assert_eq!(table.rows()[0].0, 2);
            assert_eq!(table.rows()[0].1[1], "福州市某某科技有限公司");
        }
        assert!(matches!(gb, Cow::Owned(_)), "GB18030 differs from UTF-8");
    }

    fn directory() -> Directory {
        let person = |id: &str, unit: &str| (id.to_owned(), format!("u-{unit}"), unit.to_owned());
        Directory {
            streets: vec![
                ("s1".into(), "振兴街街道".into(), "370104001".into()),
                ("s2".into(), "道德街街道办事处".into(), "370104003".into()),
            ],
            staff: HashMap::from([
                (
                    "张三".to_owned(),
                    vec![person("a", "区发改局"), person("b", "区财政局")],
                ),
                ("李四".to_owned(), vec![person("c", "区政府办")]),
            ]),
            leading: vec!["现代物流".into()],
        }
    }

    #[test]
    fn streets_are_matched_by_name_short_name_or_code() {
        let dir = directory();
        for text in ["振兴街街道", "振兴街", "370104001"] {
            assert_eq!(dir.street(text), Ok("s1".to_owned()), "{text}");
        }
        for text in ["道德街街道办事处", "道德街街道", "道德街"] {
            assert_eq!(dir.street(text), Ok("s2".to_owned()), "{text}");
        }
        assert!(
            dir.street("火星街道")
                .unwrap_err()
                .contains("不是本区的街道")
        );
    }

    #[test]
    fn a_shared_leader_name_is_refused_unless_the_unit_tells_them_apart() {
        let dir = directory();
        assert_eq!(
            dir.leader("李四"),
            Ok(("c".to_owned(), "u-区政府办".to_owned()))
        );
        let ambiguous = dir.leader("张三").unwrap_err();
        assert!(ambiguous.contains("有 2 名在岗人员叫“张三”"), "{ambiguous}");
        assert_eq!(
            dir.leader("张三（区财政局）"),
            Ok(("b".to_owned(), "u-区财政局".to_owned()))
        );
        assert_eq!(
            dir.leader("张三(区发改局)"),
            Ok(("a".to_owned(), "u-区发改局".to_owned()))
        );
        assert!(dir.leader("王五").unwrap_err().contains("不是在岗人员"));
        assert_eq!(dir.leader_text("b"), "张三（区财政局）");
        assert_eq!(dir.leader_text("c"), "李四");
    }

    #[test]
    fn a_quoted_line_break_keeps_the_row_numbers_a_spreadsheet_shows() {
        let text = "企业名称,注册地址\n甲,\"一行\n两行\"\n乙,地址\n";
        let table = read_enterprise_file(text.as_bytes(), FileKind::Unknown).unwrap();
        let rows: Vec<usize> = table.rows().iter().map(|(r, _)| *r).collect();
        assert_eq!(rows, [2, 3]);
    }

    #[test]
    fn files_that_are_not_tables_are_refused_with_the_reason() {
        let reason = |bytes: &[u8], kind| match read_enterprise_file(bytes, kind) {
            Err(StoreError::Invalid(m)) => m,
            other => panic!("expected a refusal, got {other:?}"),
        };
        assert!(reason(b"", FileKind::Csv).contains("空"));
        assert!(reason(b" \r\n", FileKind::Unknown).contains("空"));
        assert!(reason("企业名称\n甲\n".as_bytes(), FileKind::Xlsx).contains("不是 XLSX"));
        assert!(reason(b"\xD0\xCF\x11\xE0rest", FileKind::Unknown).contains(".xls"));
        assert!(reason(b"PK\x03\x04broken", FileKind::Xlsx).contains("XLSX"));
        // bytes neither UTF-8 nor GB18030
        assert!(reason(b"\x81\x20\xFF\xFF", FileKind::Csv).contains("编码"));
        assert_eq!(FileKind::from_name("企业.XLSX"), FileKind::Xlsx);
        assert_eq!(FileKind::from_name("qy.csv"), FileKind::Csv);
        assert_eq!(
            FileKind::from_media_type("text/csv; charset=gbk"),
            FileKind::Csv
        );
    }
}
