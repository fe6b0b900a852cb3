//! Import of units and staff from XLSX sheets with Chinese column headers (docs/IMPORT.md).
//!
//! Reading cells ([`read_table`]: bytes → text rows with their spreadsheet row numbers) is
//! kept apart from the rules ([`plan_units`], [`plan_staff`]: text rows and what is stored →
//! what to write and row errors), so the rules are tested by value. Every bad row is
//! reported with its row number, column and reason; the good rows land in one transaction
//! with one audit entry whose `changes` hold a digest per row; a row equal to what is stored
//! changes nothing, so importing a file twice writes nothing the second time.

use std::collections::{HashMap, HashSet};
use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use domain::org::{UnitCode, UnitKind};
use domain::staff::Phone;
use serde::Serialize;

use crate::audit::{AuditCtx, AuditEntry, append, row_digest};
use crate::db::{BeginWrite, with_pool};
use crate::unit::Unit;
use crate::{Result, Store, StoreError, new_id};

/// One refused row: where, and why (Chinese).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    /// The spreadsheet row number (the header is row 1).
    pub row: usize,
    /// The column's header.
    pub column: String,
    /// Why the row was refused.
    pub reason: String,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// Rows that created a record.
    pub created: usize,
    /// Rows that changed a stored record.
    pub updated: usize,
    /// Rows equal to what is stored.
    pub unchanged: usize,
    /// Refused rows, by row number.
    pub errors: Vec<RowError>,
}

/// A sheet as text: its headers and its data rows with their spreadsheet row numbers.
#[derive(Debug, Clone, Default)]
pub struct Table {
    headers: Vec<String>,
    rows: Vec<(usize, Vec<String>)>,
}

impl Table {
    /// A table from headers and rows (row number, cells in header order).
    pub fn new(headers: Vec<String>, rows: Vec<(usize, Vec<String>)>) -> Self {
        let headers = headers.into_iter().map(|h| h.trim().to_owned()).collect();
        Self { headers, rows }
    }

    /// The header row.
    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// The data rows with their spreadsheet row numbers.
    pub fn rows(&self) -> &[(usize, Vec<String>)] {
        &self.rows
    }

    pub(crate) fn column(&self, name: &str) -> Option<usize> {
        self.headers.iter().position(|h| h == name)
    }

    /// A file-level error naming every required header that is missing.
    pub(crate) fn require(&self, names: &[&str]) -> Result<()> {
        let missing: Vec<String> = names
            .iter()
            .filter(|n| self.column(n).is_none())
            .map(|n| format!("“{n}”"))
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(StoreError::Invalid(format!(
                "表格第 1 行缺少必需的列：{}",
                missing.join("、")
            )))
        }
    }

    /// The non-blank rows, each with a reader of its cells by header.
    pub(crate) fn records(&self) -> impl Iterator<Item = Record<'_>> {
        self.rows
            .iter()
            .filter(|(_, cells)| cells.iter().any(|c| !c.trim().is_empty()))
            .map(|(row, cells)| Record {
                table: self,
                row: *row,
                cells,
            })
    }
}

pub(crate) struct Record<'a> {
    table: &'a Table,
    pub(crate) row: usize,
    pub(crate) cells: &'a [String],
}

impl Record<'_> {
    /// The trimmed text under `header` ("" when the column or cell is absent).
    pub(crate) fn get(&self, header: &str) -> &str {
        self.table
            .column(header)
            .and_then(|i| self.cells.get(i))
            .map(|c| c.trim())
            .unwrap_or("")
    }

    /// Whether the file has this column.
    pub(crate) fn table_has(&self, header: &str) -> bool {
        self.table.column(header).is_some()
    }

    pub(crate) fn error(&self, column: &str, reason: impl Into<String>) -> RowError {
        RowError {
            row: self.row,
            column: column.to_owned(),
            reason: reason.into(),
        }
    }
}

fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.trim().to_owned(),
        // codes and phones typed as numbers: 370104001 rather than 370104001.0
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Int(i) => i.to_string(),
        // a date cell as a file would write it (Excel's serial days from 1899-12-30)
        Data::DateTime(d) if d.is_datetime() => chrono::NaiveDate::from_ymd_opt(1899, 12, 30)
            .and_then(|epoch| epoch.checked_add_days(chrono::Days::new(d.as_f64().max(0.0) as u64)))
            .map(|date| date.to_string())
            .unwrap_or_default(),
        other => other.to_string().trim().to_owned(),
    }
}

/// Reads the first worksheet of an XLSX file: row 1 is the header.
pub fn read_table(bytes: &[u8]) -> Result<Table> {
    let invalid =
        |detail: String| StoreError::Invalid(format!("文件不是有效的 XLSX 表格：{detail}"));
    let mut workbook =
        Xlsx::new(Cursor::new(bytes)).map_err(|e: calamine::XlsxError| invalid(e.to_string()))?;
    let range = workbook
        .worksheet_range_at(0)
        .ok_or_else(|| invalid("没有工作表".into()))?
        .map_err(|e| invalid(e.to_string()))?;
    let first_row = range.start().map(|(r, _)| r as usize).unwrap_or(0);
    let first_col = range.start().map(|(_, c)| c as usize).unwrap_or(0);
    if first_row != 0 {
        return Err(StoreError::Invalid(
            "表格第 1 行应为列名（如“代码”“名称”）".into(),
        ));
    }
    let mut rows = range.rows().enumerate().map(|(i, cells)| {
        // columns before the used range are empty: keep positions as in the sheet
        let mut text = vec![String::new(); first_col];
        text.extend(cells.iter().map(cell_text));
        (first_row + i + 1, text)
    });
    let headers = match rows.next() {
        Some((_, headers)) => headers,
        None => return Err(StoreError::Invalid("表格是空的：第 1 行应为列名".into())),
    };
    Ok(Table::new(headers, rows.collect()))
}

// ---------------------------------------------------------------------------------------
// Units

const U_CODE: &str = "代码";
const U_NAME: &str = "名称";
const U_KIND: &str = "类型";
const U_PARENT: &str = "上级代码";
const U_STAFFED: &str = "派驻单位代码";

/// The unit kinds' names in a sheet (the first of each kind is the one a template uses).
const KIND_NAMES: [(&str, UnitKind); 11] = [
    ("区委区政府办公室", UnitKind::DistrictOffice),
    ("部门", UnitKind::Department),
    ("街道", UnitKind::Street),
    ("村居社区", UnitKind::Community),
    ("服务大厅", UnitKind::Hall),
    ("窗口", UnitKind::Window),
    ("街道办事处", UnitKind::Street),
    ("村居", UnitKind::Community),
    ("社区", UnitKind::Community),
    ("政务服务大厅", UnitKind::Hall),
    ("便民服务中心", UnitKind::Hall),
];

fn kind_name(kind: UnitKind) -> &'static str {
    KIND_NAMES
        .iter()
        .find(|(_, k)| *k == kind)
        .map(|(n, _)| *n)
        .unwrap_or("单位")
}

fn parse_kind(text: &str) -> Option<UnitKind> {
    KIND_NAMES
        .iter()
        .find(|(n, _)| *n == text)
        .map(|(_, k)| *k)
        .or_else(|| text.parse().ok())
}

/// A unit row whose cells parsed.
#[derive(Debug, Clone)]
struct UnitLine {
    row: usize,
    code: UnitCode,
    name: String,
    kind: UnitKind,
    parent: Option<UnitCode>,
    staffed_by: Option<UnitCode>,
}

/// What the import does with one good unit row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnitAction {
    /// A new unit.
    Create {
        /// Row number.
        row: usize,
        /// The new id.
        id: String,
        /// Code.
        code: String,
        /// Name.
        name: String,
        /// Kind.
        kind: UnitKind,
        /// Parent id (existing, or created earlier in this plan).
        parent_id: Option<String>,
        /// Staffing unit id (windows).
        staffed_by_id: Option<String>,
    },
    /// A stored unit whose name or staffing unit changes.
    Update {
        /// Row number.
        row: usize,
        /// Its id.
        id: String,
        /// New name.
        name: String,
        /// New staffing unit id.
        staffed_by_id: Option<String>,
    },
    /// A stored unit equal to the row.
    Unchanged {
        /// Row number.
        row: usize,
    },
}

/// The good rows' actions (parents before children) and the row errors.
#[derive(Debug, Clone, Default)]
pub struct UnitPlan {
    /// In an order that creates parents and staffing units first.
    pub actions: Vec<UnitAction>,
    /// Refused rows.
    pub errors: Vec<RowError>,
}

fn parse_unit(record: &Record<'_>) -> (Option<UnitLine>, Vec<RowError>) {
    let mut errors = Vec::new();
    let code = match record.get(U_CODE) {
        "" => {
            errors.push(record.error(U_CODE, "不能为空"));
            None
        }
        c => UnitCode::parse(c)
            .map_err(|e| errors.push(record.error(U_CODE, e.to_string())))
            .ok(),
    };
    let name = record.get(U_NAME);
    if name.is_empty() {
        errors.push(record.error(U_NAME, "不能为空"));
    } else if name.chars().count() > 64 {
        errors.push(record.error(U_NAME, "应为 1 到 64 个字符"));
    }
    let kind = match record.get(U_KIND) {
        "" => {
            errors.push(record.error(U_KIND, "不能为空"));
            None
        }
        k => parse_kind(k).or_else(|| {
            errors.push(record.error(
                U_KIND,
                format!(
                    "未知的单位类型“{k}”，应为区委区政府办公室、部门、街道、村居社区、服务大厅、窗口之一"
                ),
            ));
            None
        }),
    };
    let mut optional_code = |column: &str| match record.get(column) {
        "" => None,
        c => UnitCode::parse(c)
            .map_err(|e| errors.push(record.error(column, e.to_string())))
            .ok(),
    };
    let parent = optional_code(U_PARENT);
    let staffed_by = optional_code(U_STAFFED);
    match (code, kind, errors.is_empty()) {
        (Some(code), Some(kind), true) => (
            Some(UnitLine {
                row: record.row,
                code,
                name: name.to_owned(),
                kind,
                parent,
                staffed_by,
            }),
            errors,
        ),
        _ => (None, errors),
    }
}

/// A unit a row may refer to: stored, or a good row of the file.
#[derive(Clone)]
struct Resolved {
    id: String,
    kind: UnitKind,
    active: bool,
}

/// How a reference (parent or staffing unit) of a row stands.
enum Reference {
    None,
    Ready(Resolved),
    Waiting,
    BadRow(usize),
    Missing(String),
}

/// Decides what to do with each unit row of `table`, given the tenant's stored units.
pub fn plan_units(table: &Table, stored: &[Unit]) -> Result<UnitPlan> {
    table.require(&[U_CODE, U_NAME, U_KIND])?;
    if table.column(U_PARENT).is_none() {
        return Err(StoreError::Invalid(
            "表格第 1 行缺少必需的列：“上级代码”".into(),
        ));
    }
    let stored_by_code: HashMap<&str, &Unit> =
        stored.iter().map(|u| (u.code.as_str(), u)).collect();
    let mut plan = UnitPlan::default();
    // code -> row of a row that failed, so its children can say why they fail too
    let mut bad_code_rows: HashMap<String, usize> = HashMap::new();
    let mut first_row_of: HashMap<String, usize> = HashMap::new();
    let mut lines: Vec<UnitLine> = Vec::new();
    for record in table.records() {
        let (line, errors) = parse_unit(&record);
        let code_text = record.get(U_CODE).to_owned();
        if let Some(first) = first_row_of
            .get(&code_text)
            .filter(|_| !code_text.is_empty())
        {
            plan.errors
                .push(record.error(U_CODE, format!("与第 {first} 行的代码重复")));
            continue;
        }
        if !code_text.is_empty() {
            first_row_of.insert(code_text.clone(), record.row);
        }
        match line {
            Some(line) => lines.push(line),
            None => {
                if !code_text.is_empty() {
                    bad_code_rows.insert(code_text, record.row);
                }
                plan.errors.extend(errors);
            }
        }
    }
    let in_file: HashMap<String, usize> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| (l.code.to_string(), i))
        .collect();
    let mut done: HashMap<String, Resolved> = HashMap::new();
    let mut pending: Vec<usize> = (0..lines.len()).collect();
    loop {
        let mut progressed = false;
        let mut still = Vec::new();
        for index in pending {
            let line = &lines[index];
            let reference = |code: &Option<UnitCode>| -> Reference {
                let Some(code) = code else {
                    return Reference::None;
                };
                let key = code.as_str();
                if let Some(r) = done.get(key) {
                    return Reference::Ready(r.clone());
                }
                if let Some(row) = bad_code_rows.get(key) {
                    return Reference::BadRow(*row);
                }
                if in_file.contains_key(key) {
                    return Reference::Waiting;
                }
                match stored_by_code.get(key) {
                    Some(u) => Reference::Ready(Resolved {
                        id: u.id.clone(),
                        kind: u.kind,
                        active: u.active,
                    }),
                    None => Reference::Missing(code.to_string()),
                }
            };
            let parent = reference(&line.parent);
            let staffed = reference(&line.staffed_by);
            if matches!(parent, Reference::Waiting) || matches!(staffed, Reference::Waiting) {
                still.push(index);
                continue;
            }
            progressed = true;
            let record = Record {
                table,
                row: line.row,
                cells: &[],
            };
            match judge_unit(
                line,
                parent,
                staffed,
                stored_by_code.get(line.code.as_str()),
            ) {
                Ok((action, resolved)) => {
                    done.insert(line.code.to_string(), resolved);
                    plan.actions.push(action);
                }
                Err((column, reason)) => {
                    bad_code_rows.insert(line.code.to_string(), line.row);
                    plan.errors.push(record.error(column, reason));
                }
            }
        }
        pending = still;
        if pending.is_empty() {
            break;
        }
        if !progressed {
            // what is left waits on itself: a cycle of parents or staffing units
            for index in &pending {
                let line = &lines[*index];
                plan.errors.push(RowError {
                    row: line.row,
                    column: U_PARENT.into(),
                    reason: "上级单位或派驻单位的关系成环".into(),
                });
            }
            break;
        }
    }
    plan.errors.sort_by_key(|e| e.row);
    Ok(plan)
}

/// The rules of one unit row whose references are settled: its action and what it resolves
/// to, or the column and reason it is refused.
fn judge_unit(
    line: &UnitLine,
    parent: Reference,
    staffed: Reference,
    stored: Option<&&Unit>,
) -> std::result::Result<(UnitAction, Resolved), (&'static str, String)> {
    let parent = match parent {
        Reference::None => None,
        Reference::Ready(p) => Some(p),
        Reference::BadRow(row) => {
            return Err((
                U_PARENT,
                format!(
                    "上级单位 {}（第 {row} 行）未能导入，本行也未导入",
                    code_str(&line.parent)
                ),
            ));
        }
        Reference::Missing(code) => return Err((U_PARENT, format!("上级单位 {code} 不存在"))),
        Reference::Waiting => unreachable!("waiting rows are not judged"),
    };
    if let Some(p) = &parent
        && !p.active
    {
        return Err((
            U_PARENT,
            format!("上级单位 {} 已停用", code_str(&line.parent)),
        ));
    }
    if !line.kind.may_sit_under(parent.as_ref().map(|p| p.kind)) {
        let reason = match &parent {
            None => format!("{}须填写上级代码", kind_name(line.kind)),
            Some(_) if line.kind == UnitKind::DistrictOffice => {
                "区委区政府办公室是最上级单位，不能有上级".to_owned()
            }
            Some(p) => format!("{}不能设在{}之下", kind_name(line.kind), kind_name(p.kind)),
        };
        return Err((U_PARENT, reason));
    }
    let staffed_by = match (line.kind, staffed) {
        (UnitKind::Window, Reference::None) => {
            return Err((U_STAFFED, "窗口须填写派驻单位代码（部门或街道）".into()));
        }
        (UnitKind::Window, Reference::Ready(s)) => match s.kind {
            UnitKind::Department | UnitKind::Street => Some(s.id),
            other => {
                return Err((
                    U_STAFFED,
                    format!(
                        "派驻单位 {} 是{}，应为部门或街道",
                        code_str(&line.staffed_by),
                        kind_name(other)
                    ),
                ));
            }
        },
        (UnitKind::Window, Reference::BadRow(row)) => {
            return Err((
                U_STAFFED,
                format!(
                    "派驻单位 {}（第 {row} 行）未能导入，本行也未导入",
                    code_str(&line.staffed_by)
                ),
            ));
        }
        (UnitKind::Window, Reference::Missing(code)) => {
            return Err((U_STAFFED, format!("派驻单位 {code} 不存在")));
        }
        (_, Reference::None) => None,
        (_, _) => return Err((U_STAFFED, "只有窗口才有派驻单位".into())),
    };
    let parent_id = parent.map(|p| p.id);
    match stored {
        None => {
            let id = new_id();
            Ok((
                UnitAction::Create {
                    row: line.row,
                    id: id.clone(),
                    code: line.code.to_string(),
                    name: line.name.clone(),
                    kind: line.kind,
                    parent_id,
                    staffed_by_id: staffed_by,
                },
                Resolved {
                    id,
                    kind: line.kind,
                    active: true,
                },
            ))
        }
        Some(unit) => {
            if let Some(day) = unit.dissolved_on
                && (unit.name != line.name || unit.staffed_by_id != staffed_by)
            {
                return Err((
                    U_CODE,
                    format!(
                        "单位 {} 已于 {day} 撤并，导入不能更改；请登记机构调整",
                        unit.code
                    ),
                ));
            }
            if unit.kind != line.kind {
                return Err((
                    U_KIND,
                    format!(
                        "单位 {} 已存在且为{}，导入不能更改类型",
                        unit.code,
                        kind_name(unit.kind)
                    ),
                ));
            }
            if unit.parent_id != parent_id {
                return Err((
                    U_PARENT,
                    format!(
                        "单位 {} 已存在且在另一上级之下，导入不能更改上级单位",
                        unit.code
                    ),
                ));
            }
            let resolved = Resolved {
                id: unit.id.clone(),
                kind: unit.kind,
                active: unit.active,
            };
            let action = if unit.name == line.name && unit.staffed_by_id == staffed_by {
                UnitAction::Unchanged { row: line.row }
            } else {
                UnitAction::Update {
                    row: line.row,
                    id: unit.id.clone(),
                    name: line.name.clone(),
                    staffed_by_id: staffed_by,
                }
            };
            Ok((action, resolved))
        }
    }
}

fn code_str(code: &Option<UnitCode>) -> &str {
    code.as_ref().map(UnitCode::as_str).unwrap_or("")
}

// ---------------------------------------------------------------------------------------
// Staff

const S_NAME: &str = "姓名";
const S_UNIT: &str = "所属单位代码";
const S_POSITION: &str = "职务";
const S_PHONE: &str = "手机号";
const S_PART_TIME: &str = "兼职单位代码";

/// A stored staff member as the import compares it.
#[derive(Debug, Clone)]
pub struct StoredStaff {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Primary unit id.
    pub unit_id: String,
    /// Position.
    pub position: String,
    /// Blind index of the phone.
    pub phone_index: Option<String>,
    /// Part-time unit ids, sorted.
    pub part_time: Vec<String>,
}

/// A good staff row: who, and which stored staff member it updates (name + primary unit).
#[derive(Clone)]
pub struct StaffLine {
    /// Row number.
    pub row: usize,
    /// Name.
    pub name: String,
    /// Primary unit id.
    pub unit_id: String,
    /// Position.
    pub position: String,
    /// The phone; `None` keeps a stored phone.
    pub phone: Option<Phone>,
    /// Part-time unit ids; `None` (no such column) keeps the stored ones.
    pub part_time: Option<Vec<String>>,
    /// The stored staff member with this name in this unit.
    pub existing: Option<String>,
}

impl std::fmt::Debug for StaffLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaffLine")
            .field("row", &self.row)
            .field("name", &self.name)
            .field("unit_id", &self.unit_id)
            .field("position", &self.position)
            .field("has_phone", &self.phone.is_some())
            .field("part_time", &self.part_time)
            .field("existing", &self.existing)
            .finish()
    }
}

/// Splits the part-time codes of a cell: separated by 、 , ， ; ；.
fn split_codes(text: &str) -> Vec<&str> {
    text.split(['、', ',', '，', ';', '；'])
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect()
}

/// Decides what each staff row of `table` is, given the tenant's units and stored staff.
pub fn plan_staff(
    table: &Table,
    units: &[Unit],
    stored: &[StoredStaff],
) -> Result<(Vec<StaffLine>, Vec<RowError>)> {
    table.require(&[S_NAME, S_UNIT, S_POSITION])?;
    let has_part_time = table.column(S_PART_TIME).is_some();
    let by_code: HashMap<&str, &Unit> = units.iter().map(|u| (u.code.as_str(), u)).collect();
    let mut lines = Vec::new();
    let mut errors = Vec::new();
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    for record in table.records() {
        let before = errors.len();
        let name = record.get(S_NAME);
        if name.is_empty() {
            errors.push(record.error(S_NAME, "不能为空"));
        } else if name.chars().count() > 32 {
            errors.push(record.error(S_NAME, "应为 1 到 32 个字符"));
        }
        let unit = match record.get(S_UNIT) {
            "" => {
                errors.push(record.error(S_UNIT, "不能为空"));
                None
            }
            code => match by_code.get(code) {
                Some(u) if u.active => Some(*u),
                Some(_) => {
                    errors.push(record.error(S_UNIT, format!("单位 {code} 已停用")));
                    None
                }
                None => {
                    errors.push(record.error(S_UNIT, format!("单位 {code} 不存在")));
                    None
                }
            },
        };
        let position = record.get(S_POSITION);
        if position.is_empty() {
            errors.push(record.error(S_POSITION, "不能为空"));
        } else if position.chars().count() > 32 {
            errors.push(record.error(S_POSITION, "应为 1 到 32 个字符"));
        }
        let phone = match record.get(S_PHONE) {
            "" => None,
            p => Phone::parse(p)
                .map_err(|e| errors.push(record.error(S_PHONE, e.to_string())))
                .ok(),
        };
        let mut part_time = Vec::new();
        for code in split_codes(record.get(S_PART_TIME)) {
            match by_code.get(code) {
                None => errors.push(record.error(S_PART_TIME, format!("单位 {code} 不存在"))),
                Some(u) if !u.active => {
                    errors.push(record.error(S_PART_TIME, format!("单位 {code} 已停用")));
                }
                Some(u) if unit.is_some_and(|p| p.id == u.id) => errors
                    .push(record.error(S_PART_TIME, format!("兼职单位 {code} 与所属单位相同"))),
                Some(u) => {
                    if !part_time.contains(&u.id) {
                        part_time.push(u.id.clone());
                    }
                }
            }
        }
        let Some(unit) = unit.filter(|_| errors.len() == before) else {
            continue;
        };
        let key = (name.to_owned(), unit.id.clone());
        if let Some(first) = seen.get(&key) {
            errors.push(record.error(S_NAME, format!("与第 {first} 行是同一单位的同名人员")));
            continue;
        }
        seen.insert(key, record.row);
        let matching: Vec<&StoredStaff> = stored
            .iter()
            .filter(|s| s.name == name && s.unit_id == unit.id)
            .collect();
        if matching.len() > 1 {
            errors.push(record.error(
                S_NAME,
                format!(
                    "单位 {} 已有 {} 名叫“{name}”的人员，无法确定更新哪一位，请在页面上修改",
                    unit.code,
                    matching.len()
                ),
            ));
            continue;
        }
        part_time.sort();
        lines.push(StaffLine {
            row: record.row,
            name: name.to_owned(),
            unit_id: unit.id.clone(),
            position: position.to_owned(),
            phone,
            part_time: has_part_time.then_some(part_time),
            existing: matching.first().map(|s| s.id.clone()),
        });
    }
    errors.sort_by_key(|e| e.row);
    Ok((lines, errors))
}

// ---------------------------------------------------------------------------------------
// Templates

pub(crate) fn template(sheet: &str, headers: &[&str], example: &[&str]) -> Result<Vec<u8>> {
    xlsx_sheet(
        sheet,
        headers,
        &[example.iter().map(|v| (*v).to_owned()).collect()],
    )
}

/// One worksheet: a bold header row, then the rows, every column formatted as text (codes and
/// phones keep their leading zeros in Excel).
pub fn xlsx_sheet(sheet: &str, headers: &[&str], rows: &[Vec<String>]) -> Result<Vec<u8>> {
    let fail = |e: rust_xlsxwriter::XlsxError| {
        StoreError::Other(anyhow::Error::new(e).context("writing an XLSX sheet"))
    };
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let worksheet = workbook.add_worksheet();
    worksheet.set_name(sheet).map_err(fail)?;
    let bold = rust_xlsxwriter::Format::new().set_bold();
    let text = rust_xlsxwriter::Format::new().set_num_format("@");
    for (col, header) in headers.iter().enumerate() {
        let col = col as u16;
        worksheet
            .write_string_with_format(0, col, *header, &bold)
            .map_err(fail)?;
        // codes and phones as text, so Excel keeps leading zeros
        worksheet
            .set_column_format(col, &text)
            .map_err(fail)?
            .set_column_width(col, 18)
            .map_err(fail)?;
    }
    for (row, values) in rows.iter().enumerate() {
        let row = u32::try_from(row + 1).map_err(|e| StoreError::Other(e.into()))?;
        for (col, value) in values.iter().enumerate() {
            worksheet
                .write_string(row, col as u16, value)
                .map_err(fail)?;
        }
    }
    workbook.save_to_buffer().map_err(fail)
}

/// CSV as Excel on Chinese Windows opens it: UTF-8 with a byte order mark, CRLF lines, fields
/// quoted when they hold a comma, quote or line break (RFC 4180).
pub fn csv_with_bom(headers: &[&str], rows: &[Vec<String>]) -> Vec<u8> {
    fn field(out: &mut String, value: &str) {
        if value.contains([',', '"', '\n', '\r']) {
            out.push('"');
            out.push_str(&value.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(value);
        }
    }
    let mut out = String::from("\u{FEFF}");
    let mut line = |values: &mut dyn Iterator<Item = &str>| {
        for (i, value) in values.enumerate() {
            if i > 0 {
                out.push(',');
            }
            field(&mut out, value);
        }
        out.push_str("\r\n");
    };
    line(&mut headers.iter().copied());
    for row in rows {
        line(&mut row.iter().map(String::as_str));
    }
    out.into_bytes()
}

/// The units sheet to fill in: the header row and one example row.
pub fn units_template() -> Result<Vec<u8>> {
    template(
        "单位",
        &[U_CODE, U_NAME, U_KIND, U_PARENT, U_STAFFED],
        &["370104001", "振兴街街道办事处", "街道", "QWB", ""],
    )
}

/// The staff sheet to fill in: the header row and one example row.
pub fn staff_template() -> Result<Vec<u8>> {
    template(
        "人员",
        &[S_NAME, S_UNIT, S_POSITION, S_PHONE, S_PART_TIME],
        &["张三", "370104001", "科员", "13800138000", ""],
    )
}

// ---------------------------------------------------------------------------------------
// Writing

#[derive(sqlx::FromRow)]
struct StaffKeyRow {
    id: String,
    name: String,
    unit_id: String,
    position: String,
    phone_index: Option<String>,
}

impl Store {
    /// Imports units from an XLSX file: upsert by code (name and staffing unit change; kind
    /// and parent do not), parents before children whatever the order of the rows. Good rows
    /// land in one transaction with one audit entry of per-row digests; bad rows are
    /// reported. A file that is not an XLSX table, or lacks a required column, changes nothing.
    #[tracing::instrument(skip(self, ctx, bytes), fields(size = bytes.len()))]
    pub async fn import_units(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        bytes: &[u8],
    ) -> Result<ImportReport> {
        let table = read_table(bytes)?;
        let stored = self.units(tenant_id).await?;
        let plan = plan_units(&table, &stored)?;
        let mut report = ImportReport {
            errors: plan.errors,
            ..ImportReport::default()
        };
        let mut digests = Vec::new();
        let mut siblings: HashMap<Option<String>, i32> = HashMap::new();
        let mut writes = Vec::new();
        for action in &plan.actions {
            match action {
                UnitAction::Unchanged { .. } => report.unchanged += 1,
                UnitAction::Create {
                    row,
                    id,
                    code,
                    name,
                    kind,
                    parent_id,
                    staffed_by_id,
                } => {
                    report.created += 1;
                    let order = siblings.entry(parent_id.clone()).or_insert_with(|| {
                        stored
                            .iter()
                            .filter(|u| &u.parent_id == parent_id)
                            .map(|u| u.sort_order)
                            .max()
                            .unwrap_or(0)
                    });
                    *order += 1;
                    let json = serde_json::json!({
                        "id": id, "code": code, "name": name, "kind": kind.as_str(),
                        "parent_id": parent_id, "staffed_by_id": staffed_by_id, "sort_order": *order,
                    });
                    digests.push(serde_json::json!({"row": row, "op": "create", "id": id, "digest": row_digest(&json)}));
                    writes.push((action, *order));
                }
                UnitAction::Update {
                    row,
                    id,
                    name,
                    staffed_by_id,
                } => {
                    report.updated += 1;
                    let json =
                        serde_json::json!({"id": id, "name": name, "staffed_by_id": staffed_by_id});
                    digests.push(serde_json::json!({"row": row, "op": "update", "id": id, "digest": row_digest(&json)}));
                    writes.push((action, 0));
                }
            }
        }
        if writes.is_empty() {
            return Ok(report);
        }
        let now = self.clock.now();
        let batch_id = new_id();
        let changes = serde_json::json!({
            "created": report.created, "updated": report.updated, "unchanged": report.unchanged,
            "refused": report.errors.iter().map(|e| e.row).collect::<HashSet<_>>().len(),
            "rows": digests,
        });
        let head = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            for (action, order) in &writes {
                match action {
                    UnitAction::Create { id, code, name, kind, parent_id, staffed_by_id, .. } => {
                        sqlx::query(
                            "INSERT INTO unit (tenant_id, id, code, name, kind, parent_id, staffed_by_id, sort_order, active, created_at, updated_at) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, TRUE, $9, $9)",
                        )
                        .bind(tenant_id)
                        .bind(id)
                        .bind(code)
                        .bind(name)
                        .bind(kind.as_str())
                        .bind(parent_id)
                        .bind(staffed_by_id)
                        .bind(order)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                    }
                    UnitAction::Update { id, name, staffed_by_id, .. } => {
                        sqlx::query(
                            "UPDATE unit SET name = $3, staffed_by_id = $4, updated_at = $5 WHERE tenant_id = $1 AND id = $2",
                        )
                        .bind(tenant_id)
                        .bind(id)
                        .bind(name)
                        .bind(staffed_by_id)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                    }
                    UnitAction::Unchanged { .. } => {}
                }
            }
            let head = append!(self, tx, ctx, now, &AuditEntry {
                tenant_id: Some(tenant_id),
                action: "import",
                entity: "unit",
                entity_id: &batch_id,
                changes: changes.clone(),
            });
            tx.commit().await?;
            head
        });
        self.advance_head(head);
        Ok(report)
    }

    /// Every staff member of the tenant as the import compares them.
    async fn stored_staff(&self, tenant_id: &str) -> Result<Vec<StoredStaff>> {
        let (rows, links): (Vec<StaffKeyRow>, Vec<(String, String)>) = with_pool!(self, pool => {
            let rows = sqlx::query_as::<_, StaffKeyRow>(
                "SELECT id, name, unit_id, position, phone_index FROM staff WHERE tenant_id = $1",
            )
            .bind(tenant_id)
            .fetch_all(pool)
            .await?;
            let links = sqlx::query_as::<_, (String, String)>(
                "SELECT staff_id, unit_id FROM staff_unit WHERE tenant_id = $1",
            )
            .bind(tenant_id)
            .fetch_all(pool)
            .await?;
            (rows, links)
        });
        let mut part_time: HashMap<String, Vec<String>> = HashMap::new();
        for (staff, unit) in links {
            part_time.entry(staff).or_default().push(unit);
        }
        Ok(rows
            .into_iter()
            .map(|r| {
                let mut units = part_time.remove(&r.id).unwrap_or_default();
                units.sort();
                StoredStaff {
                    id: r.id,
                    name: r.name,
                    unit_id: r.unit_id,
                    position: r.position,
                    phone_index: r.phone_index,
                    part_time: units,
                }
            })
            .collect())
    }

    /// Imports staff from an XLSX file: a row updates the staff member with the same name in
    /// the same primary unit, else creates one. A blank phone keeps the stored one; phones
    /// are sealed, and the audit entry's per-row digests see them only as blind index.
    #[tracing::instrument(skip(self, ctx, bytes), fields(size = bytes.len()))]
    pub async fn import_staff(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        bytes: &[u8],
    ) -> Result<ImportReport> {
        let table = read_table(bytes)?;
        let units = self.units(tenant_id).await?;
        let stored = self.stored_staff(tenant_id).await?;
        let (lines, errors) = plan_staff(&table, &units, &stored)?;
        let stored_by_id: HashMap<&str, &StoredStaff> =
            stored.iter().map(|s| (s.id.as_str(), s)).collect();
        let mut report = ImportReport {
            errors,
            ..ImportReport::default()
        };
        struct Write {
            id: String,
            create: bool,
            line: StaffLine,
            phone_enc: Option<String>,
            phone_index: Option<String>,
            part_time: Option<Vec<String>>,
        }
        let mut writes = Vec::new();
        let mut digests = Vec::new();
        for line in lines {
            let index = line.phone.as_ref().map(|p| self.index.of(p.as_str()));
            match line.existing.as_deref().and_then(|id| stored_by_id.get(id)) {
                Some(s) => {
                    let phone_changed = index.is_some() && index != s.phone_index;
                    let part_time = line.part_time.clone().filter(|p| *p != s.part_time);
                    if s.position == line.position && !phone_changed && part_time.is_none() {
                        report.unchanged += 1;
                        continue;
                    }
                    report.updated += 1;
                    let phone_index = if phone_changed {
                        index
                    } else {
                        s.phone_index.clone()
                    };
                    let json = serde_json::json!({
                        "id": s.id, "name": line.name, "unit_id": line.unit_id, "position": line.position,
                        "phone_index": phone_index,
                        "part_time_unit_ids": part_time.clone().unwrap_or_else(|| s.part_time.clone()),
                    });
                    digests.push(serde_json::json!({"row": line.row, "op": "update", "id": s.id, "digest": row_digest(&json)}));
                    writes.push(Write {
                        id: s.id.clone(),
                        create: false,
                        phone_enc: phone_changed
                            .then(|| line.phone.as_ref().map(|p| self.cipher.encrypt(p.as_str())))
                            .flatten(),
                        phone_index: phone_changed.then_some(phone_index).flatten(),
                        part_time,
                        line,
                    });
                }
                None => {
                    report.created += 1;
                    let id = new_id();
                    let part_time = line.part_time.clone().unwrap_or_default();
                    let json = serde_json::json!({
                        "id": id, "name": line.name, "unit_id": line.unit_id, "position": line.position,
                        "phone_index": index, "part_time_unit_ids": part_time, "active": true,
                    });
                    digests.push(serde_json::json!({"row": line.row, "op": "create", "id": id, "digest": row_digest(&json)}));
                    writes.push(Write {
                        id,
                        create: true,
                        phone_enc: line.phone.as_ref().map(|p| self.cipher.encrypt(p.as_str())),
                        phone_index: index,
                        part_time: Some(part_time),
                        line,
                    });
                }
            }
        }
        if writes.is_empty() {
            return Ok(report);
        }
        let now = self.clock.now();
        let batch_id = new_id();
        let changes = serde_json::json!({
            "created": report.created, "updated": report.updated, "unchanged": report.unchanged,
            "refused": report.errors.iter().map(|e| e.row).collect::<HashSet<_>>().len(),
            "rows": digests,
        });
        let head = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            for w in &writes {
                if w.create {
                    sqlx::query(
                        "INSERT INTO staff (tenant_id, id, name, unit_id, position, phone_enc, phone_index, active, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, TRUE, $8, $8)",
                    )
                    .bind(tenant_id)
                    .bind(&w.id)
                    .bind(&w.line.name)
                    .bind(&w.line.unit_id)
                    .bind(&w.line.position)
                    .bind(&w.phone_enc)
                    .bind(&w.phone_index)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                } else {
                    // a phone is replaced only when the row gives a different one
                    sqlx::query(
                        "UPDATE staff SET position = $3, phone_enc = COALESCE($4, phone_enc), \
                         phone_index = COALESCE($5, phone_index), updated_at = $6 WHERE tenant_id = $1 AND id = $2",
                    )
                    .bind(tenant_id)
                    .bind(&w.id)
                    .bind(&w.line.position)
                    .bind(&w.phone_enc)
                    .bind(&w.phone_index)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
                if let Some(part_time) = &w.part_time {
                    if !w.create {
                        sqlx::query("DELETE FROM staff_unit WHERE tenant_id = $1 AND staff_id = $2")
                            .bind(tenant_id)
                            .bind(&w.id)
                            .execute(&mut *tx)
                            .await?;
                    }
                    for unit in part_time {
                        sqlx::query("INSERT INTO staff_unit (tenant_id, staff_id, unit_id) VALUES ($1, $2, $3)")
                            .bind(tenant_id)
                            .bind(&w.id)
                            .bind(unit)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
            }
            let head = append!(self, tx, ctx, now, &AuditEntry {
                tenant_id: Some(tenant_id),
                action: "import",
                entity: "staff",
                entity_id: &batch_id,
                changes: changes.clone(),
            });
            tx.commit().await?;
            head
        });
        self.advance_head(head);
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(headers: &[&str], rows: &[&[&str]]) -> Table {
        Table::new(
            headers.iter().map(|h| h.to_string()).collect(),
            rows.iter()
                .enumerate()
                .map(|(i, r)| (i + 2, r.iter().map(|c| c.to_string()).collect()))
                .collect(),
        )
    }

    fn unit(id: &str, code: &str, kind: UnitKind, parent: Option<&str>, active: bool) -> Unit {
        Unit {
            id: id.into(),
            code: code.into(),
            name: format!("{code}名称"),
            kind,
            parent_id: parent.map(str::to_owned),
            staffed_by_id: None,
            sort_order: 1,
            active,
            dissolved_on: None,
            head_staff_id: None,
            leader_staff_id: None,
            created_at: chrono::DateTime::UNIX_EPOCH,
            updated_at: chrono::DateTime::UNIX_EPOCH,
        }
    }

    fn errors(plan: &[RowError]) -> Vec<(usize, &str, &str)> {
        plan.iter()
            .map(|e| (e.row, e.column.as_str(), e.reason.as_str()))
            .collect()
    }

    const UNIT_HEADERS: [&str; 5] = ["代码", "名称", "类型", "上级代码", "派驻单位代码"];

    #[test]
    fn children_may_come_before_their_parents_and_are_created_after_them() {
        let stored = [unit("o", "QWB", UnitKind::DistrictOffice, None, true)];
        let t = table(
            &["名称", "代码", "备注", "上级代码", "类型"],
            &[
                &["振兴街社区", "S1-C1", "", "S1", "社区"],
                &["振兴街街道", "S1", "任意", "QWB", "street"],
            ],
        );
        let plan = plan_units(&t, &stored).unwrap();
        assert!(plan.errors.is_empty(), "{:?}", plan.errors);
        let rows: Vec<usize> = plan
            .actions
            .iter()
            .map(|a| match a {
                UnitAction::Create { row, .. } => *row,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(rows, [3, 2]);
        let (UnitAction::Create { id: street, .. }, UnitAction::Create { parent_id, .. }) =
            (&plan.actions[0], &plan.actions[1])
        else {
            unreachable!()
        };
        assert_eq!(parent_id.as_deref(), Some(street.as_str()));
    }

    #[test]
    fn bad_rows_are_named_with_column_and_reason_and_their_children_fail_too() {
        let stored = [
            unit("o", "QWB", UnitKind::DistrictOffice, None, true),
            unit("h", "HALL", UnitKind::Hall, Some("o"), true),
            unit("x", "OLD", UnitKind::Street, Some("o"), false),
        ];
        let t = table(
            &UNIT_HEADERS,
            &[
                &["D1", "发改局", "局", "QWB", ""],
                &["D2", "", "部门", "QWB", ""],
                &["C1", "某社区", "社区", "D1", ""],
                &["W1", "窗口一", "窗口", "HALL", ""],
                &["W2", "窗口二", "窗口", "HALL", "HALL"],
                &["D3", "财政局", "部门", "QWB", ""],
                &["D3", "财政局二", "部门", "QWB", ""],
                &["C2", "某社区", "社区", "NOPE", ""],
                &["C3", "老社区", "社区", "OLD", ""],
                &["", "", "", "", ""],
                &["D4", "商务局", "部门", "", "D3"],
                &["A", "甲", "部门", "B", ""],
                &["B", "乙", "部门", "A", ""],
            ],
        );
        let plan = plan_units(&t, &stored).unwrap();
        assert_eq!(
            errors(&plan.errors),
            [
                (
                    2,
                    "类型",
                    "未知的单位类型“局”，应为区委区政府办公室、部门、街道、村居社区、服务大厅、窗口之一"
                ),
                (3, "名称", "不能为空"),
                (
                    4,
                    "上级代码",
                    "上级单位 D1（第 2 行）未能导入，本行也未导入"
                ),
                (5, "派驻单位代码", "窗口须填写派驻单位代码（部门或街道）"),
                (
                    6,
                    "派驻单位代码",
                    "派驻单位 HALL 是服务大厅，应为部门或街道"
                ),
                (8, "代码", "与第 7 行的代码重复"),
                (9, "上级代码", "上级单位 NOPE 不存在"),
                (10, "上级代码", "上级单位 OLD 已停用"),
                (12, "上级代码", "部门须填写上级代码"),
                (13, "上级代码", "上级单位或派驻单位的关系成环"),
                (14, "上级代码", "上级单位或派驻单位的关系成环"),
            ]
        );
        assert_eq!(plan.actions.len(), 1, "only D3 (row 7) lands");
    }

    #[test]
    fn a_row_equal_to_the_stored_unit_is_unchanged_and_kind_or_parent_cannot_change() {
        let mut street = unit("s", "S1", UnitKind::Street, Some("o"), true);
        street.name = "振兴街街道".into();
        let stored = [
            unit("o", "QWB", UnitKind::DistrictOffice, None, true),
            street,
            unit("o2", "QWB2", UnitKind::DistrictOffice, None, true),
        ];
        let t = table(
            &UNIT_HEADERS,
            &[
                &["S1", "振兴街街道", "街道", "QWB", ""],
                &["S1", "x", "街道", "QWB", ""],
            ],
        );
        let plan = plan_units(&t, &stored).unwrap();
        assert_eq!(plan.actions, [UnitAction::Unchanged { row: 2 }]);
        let t = table(&UNIT_HEADERS, &[&["S1", "振兴街", "部门", "QWB2", ""]]);
        let plan = plan_units(&t, &stored).unwrap();
        assert_eq!(
            errors(&plan.errors),
            [(2, "类型", "单位 S1 已存在且为街道，导入不能更改类型")]
        );
        let t = table(&UNIT_HEADERS, &[&["S1", "振兴街", "街道", "QWB2", ""]]);
        let plan = plan_units(&t, &stored).unwrap();
        assert_eq!(
            errors(&plan.errors),
            [(
                2,
                "上级代码",
                "单位 S1 已存在且在另一上级之下，导入不能更改上级单位"
            )]
        );
        let t = table(&UNIT_HEADERS, &[&["S1", "振兴街", "街道", "QWB", ""]]);
        let plan = plan_units(&t, &stored).unwrap();
        assert_eq!(
            plan.actions,
            [UnitAction::Update {
                row: 2,
                id: "s".into(),
                name: "振兴街".into(),
                staffed_by_id: None
            }]
        );
    }

    #[test]
    fn a_missing_required_header_is_a_file_level_error_naming_it() {
        let t = table(&["代码", "类型"], &[]);
        match plan_units(&t, &[]) {
            Err(StoreError::Invalid(m)) => {
                assert_eq!(m, "表格第 1 行缺少必需的列：“名称”");
            }
            other => panic!("{other:?}"),
        }
        let t = table(&["姓名", "所属单位代码"], &[]);
        match plan_staff(&t, &[], &[]) {
            Err(StoreError::Invalid(m)) => assert_eq!(m, "表格第 1 行缺少必需的列：“职务”"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn staff_rows_are_checked_and_matched_by_name_and_primary_unit() {
        let units = [
            unit("o", "QWB", UnitKind::DistrictOffice, None, true),
            unit("d", "D1", UnitKind::Department, Some("o"), true),
            unit("x", "OLD", UnitKind::Department, Some("o"), false),
        ];
        let stored = [StoredStaff {
            id: "p1".into(),
            name: "张三".into(),
            unit_id: "d".into(),
            position: "科员".into(),
            phone_index: None,
            part_time: vec![],
        }];
        let t = table(
            &["姓名", "所属单位代码", "职务", "手机号", "兼职单位代码"],
            &[
                &["张三", "D1", "科长", "", "QWB"],
                &["李四", "D1", "科员", "12345", ""],
                &["王五", "NOPE", "科员", "", ""],
                &["赵六", "D1", "", "", "QWB、OLD，D1"],
                &["钱七", "D1", "科员", "0531-88886666", "QWB；QWB"],
                &["张三", "D1", "副科长", "", ""],
            ],
        );
        let (lines, errs) = plan_staff(&t, &units, &stored).unwrap();
        assert_eq!(
            errors(&errs),
            [
                (
                    3,
                    "手机号",
                    "电话应为 11 位手机号码，或带区号的固定电话（如 0531-88886666）"
                ),
                (4, "所属单位代码", "单位 NOPE 不存在"),
                (5, "职务", "不能为空"),
                (5, "兼职单位代码", "单位 OLD 已停用"),
                (5, "兼职单位代码", "兼职单位 D1 与所属单位相同"),
                (7, "姓名", "与第 2 行是同一单位的同名人员"),
            ]
        );
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].existing.as_deref(), Some("p1"));
        assert_eq!(lines[0].part_time.as_deref(), Some(&["o".to_owned()][..]));
        assert_eq!(lines[1].existing, None);
        assert_eq!(lines[1].phone.as_ref().unwrap().as_str(), "0531-88886666");
        assert_eq!(lines[1].part_time.as_deref(), Some(&["o".to_owned()][..]));
    }

    #[test]
    fn templates_read_back_with_their_headers() {
        let t = read_table(&units_template().unwrap()).unwrap();
        assert_eq!(
            t.headers,
            ["代码", "名称", "类型", "上级代码", "派驻单位代码"]
        );
        assert_eq!(t.rows.len(), 1);
        let t = read_table(&staff_template().unwrap()).unwrap();
        assert_eq!(
            t.headers,
            ["姓名", "所属单位代码", "职务", "手机号", "兼职单位代码"]
        );
        assert_eq!(t.rows[0].1[3], "13800138000");
    }

    #[test]
    fn bytes_that_are_not_xlsx_are_a_file_level_error() {
        match read_table(b"name,code\n") {
            Err(StoreError::Invalid(m)) => {
                assert!(m.starts_with("文件不是有效的 XLSX 表格："), "{m}")
            }
            other => panic!("{other:?}"),
        }
    }
}
