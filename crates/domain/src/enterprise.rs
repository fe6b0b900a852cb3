//! The enterprise registry's value rules (SPEC "Enterprise registry"): scale, operating status,
//! industry code (GB/T 4754-2017), dates as clerks and spreadsheets write them, registered
//! capital, the key-enterprise flag, and the bigrams the name search indexes. The key, the
//! unified social credit code, is `crate::uscc::Uscc`.

use std::collections::BTreeSet;
use std::fmt;

use chrono::NaiveDate;

/// Enterprise scale (企业规模).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scale {
    /// 大型.
    Large,
    /// 中型.
    Medium,
    /// 小型.
    Small,
    /// 微型.
    Micro,
}

impl Scale {
    /// Every scale, largest first.
    pub const ALL: [Scale; 4] = [Scale::Large, Scale::Medium, Scale::Small, Scale::Micro];

    /// The code in tables and the API.
    pub fn code(self) -> &'static str {
        match self {
            Scale::Large => "large",
            Scale::Medium => "medium",
            Scale::Small => "small",
            Scale::Micro => "micro",
        }
    }

    /// Its name in files and on pages.
    pub fn label(self) -> &'static str {
        match self {
            Scale::Large => "大型",
            Scale::Medium => "中型",
            Scale::Small => "小型",
            Scale::Micro => "微型",
        }
    }

    /// Reads 大型/中型/小型/微型, 大/中/小/微, or the code.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        Self::ALL
            .into_iter()
            .find(|k| {
                s == k.code()
                    || s == k.label()
                    || s.chars().count() == 1 && k.label().starts_with(s)
            })
            .ok_or_else(|| format!("企业规模“{s}”应为 大型、中型、小型 或 微型"))
    }
}

/// Operating status (经营状态).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    /// 存续.
    Existing,
    /// 在业.
    Operating,
    /// 迁出.
    MovedOut,
    /// 吊销.
    Revoked,
    /// 注销.
    Cancelled,
}

impl Status {
    /// Every status.
    pub const ALL: [Status; 5] = [
        Status::Existing,
        Status::Operating,
        Status::MovedOut,
        Status::Revoked,
        Status::Cancelled,
    ];

    /// The code in tables and the API.
    pub fn code(self) -> &'static str {
        match self {
            Status::Existing => "existing",
            Status::Operating => "operating",
            Status::MovedOut => "moved_out",
            Status::Revoked => "revoked",
            Status::Cancelled => "cancelled",
        }
    }

    /// Its name in files and on pages.
    pub fn label(self) -> &'static str {
        match self {
            Status::Existing => "存续",
            Status::Operating => "在业",
            Status::MovedOut => "迁出",
            Status::Revoked => "吊销",
            Status::Cancelled => "注销",
        }
    }

    /// Reads the name or the code.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        Self::ALL
            .into_iter()
            .find(|k| s == k.code() || s == k.label())
            .ok_or_else(|| format!("经营状态“{s}”应为 存续、在业、迁出、吊销 或 注销"))
    }

    /// Still in business (存续, 在业).
    pub fn active(self) -> bool {
        matches!(self, Status::Existing | Status::Operating)
    }
}

/// The two-digit divisions of each GB/T 4754-2017 section (门类 A–T).
const SECTIONS: [(char, u8, u8); 20] = [
    ('A', 1, 5),
    ('B', 6, 12),
    ('C', 13, 43),
    ('D', 44, 46),
    ('E', 47, 50),
    ('F', 51, 52),
    ('G', 53, 60),
    ('H', 61, 62),
    ('I', 63, 65),
    ('J', 66, 69),
    ('K', 70, 70),
    ('L', 71, 72),
    ('M', 73, 75),
    ('N', 76, 79),
    ('O', 80, 82),
    ('P', 83, 83),
    ('Q', 84, 85),
    ('R', 86, 90),
    ('S', 91, 96),
    ('T', 97, 97),
];

/// An industry code (国民经济行业分类, GB/T 4754-2017): a section letter and a division of
/// that section, optionally narrowed to its group or class — `C39`, `C391`, `C3911`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IndustryCode(String);

impl IndustryCode {
    /// Reads a code, upper-casing the letter.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim().to_ascii_uppercase();
        let bad =
            || format!("行业代码“{s}”应为门类字母加 2 至 4 位数字（GB/T 4754-2017，如 C3911）");
        let mut chars = s.chars();
        let section = chars.next().ok_or_else(bad)?;
        let digits: String = chars.collect();
        if !(2..=4).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let (_, from, to) = SECTIONS
            .iter()
            .find(|(letter, ..)| *letter == section)
            .ok_or_else(bad)?;
        let division: u8 = digits[..2].parse().map_err(|_| bad())?;
        if !(*from..=*to).contains(&division) {
            return Err(format!(
                "行业代码“{s}”的大类 {division:02} 不属于门类 {section}（{section} 门类为 {from:02}–{to:02}）"
            ));
        }
        Ok(Self(s))
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Its section letter.
    pub fn section(&self) -> char {
        self.0.chars().next().unwrap_or('?')
    }
}

impl fmt::Display for IndustryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Reads a date as clerks write it: `2015-03-01`, `2015/3/1`, `2015.3.1` or `2015年3月1日`.
pub fn parse_date(s: &str) -> Result<NaiveDate, String> {
    let text = s.trim();
    let bad = || format!("日期“{text}”应写作 2015-03-01、2015/3/1 或 2015年3月1日");
    let normalised = text
        .replace(['年', '月'], "-")
        .replace('日', "")
        .replace(['/', '.'], "-");
    let parts: Vec<&str> = normalised.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return Err(bad());
    };
    let number = |p: &str, max_len: usize| {
        (!p.is_empty() && p.len() <= max_len && p.bytes().all(|b| b.is_ascii_digit()))
            .then(|| p.parse::<u32>().ok())
            .flatten()
    };
    let (Some(y), Some(m), Some(d)) = (number(y, 4), number(m, 2), number(d, 2)) else {
        return Err(bad());
    };
    if y < 1900 {
        return Err(bad());
    }
    NaiveDate::from_ymd_opt(y as i32, m, d).ok_or_else(|| format!("日期“{text}”不存在"))
}

/// Registered capital (注册资本) in 万元, kept as whole yuan: `100` → 1,000,000; at most four
/// decimals (a yuan); not negative.
pub fn parse_capital(s: &str) -> Result<i64, String> {
    let text = s.trim().replace(',', "");
    let bad = || format!("注册资本“{}”应为以万元计的数字，最多 4 位小数", s.trim());
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    if whole.is_empty()
        || whole.len() > 12
        || fraction.len() > 4
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let fraction: i64 = format!("{fraction:0<4}").parse().map_err(|_| bad())?;
    Ok(whole * 10_000 + fraction)
}

/// Capital in yuan shown in 万元 as a file writes it (`100`, `12.5`).
pub fn capital_text(yuan: i64) -> String {
    let whole = yuan / 10_000;
    let fraction = yuan % 10_000;
    if fraction == 0 {
        whole.to_string()
    } else {
        format!("{whole}.{fraction:04}")
            .trim_end_matches('0')
            .to_owned()
    }
}

/// Reads the key-enterprise flag: 是/否.
pub fn parse_flag(s: &str) -> Result<bool, String> {
    match s.trim() {
        "是" | "Y" | "y" | "true" => Ok(true),
        "否" | "N" | "n" | "false" | "" => Ok(false),
        other => Err(format!("重点企业“{other}”应为 是 或 否")),
    }
}

/// Text as the search compares it: full-width ASCII made half-width, letters upper-cased,
/// spaces and the punctuation names are written with dropped (（）() etc.).
pub fn normalise(text: &str) -> String {
    text.chars()
        .filter_map(|c| {
            let c = match c {
                '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
                '\u{3000}' => ' ',
                c => c,
            };
            (!c.is_whitespace() && !matches!(c, '(' | ')' | '（' | '）' | '·' | '-' | '_' | '.'))
                .then(|| c.to_ascii_uppercase())
        })
        .collect()
}

/// The bigrams of a name the search indexes: every two consecutive characters of its
/// normalised text (a one-character name is its own gram).
pub fn grams(name: &str) -> BTreeSet<String> {
    let chars: Vec<char> = normalise(name).chars().collect();
    if chars.len() == 1 {
        return BTreeSet::from([chars[0].to_string()]);
    }
    chars.windows(2).map(|w| w.iter().collect()).collect()
}

/// The columns of the registry's files (import template, export), in order.
pub const FILE_COLUMNS: [&str; 15] = [
    "统一社会信用代码",
    "企业名称",
    "法定代表人",
    "注册地址",
    "所属街道",
    "行业代码",
    "主导产业",
    "企业规模",
    "成立日期",
    "注册资本（万元）",
    "经营状态",
    "联系人",
    "联系电话",
    "重点企业",
    "包联领导",
];

/// Shortest fragment searched by name (a single character would match half the registry).
pub const MIN_FRAGMENT: usize = 2;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_and_statuses_in_both_spellings() {
        assert_eq!(Scale::parse("大型"), Ok(Scale::Large));
        assert_eq!(Scale::parse(" 微 "), Ok(Scale::Micro));
        assert_eq!(Scale::parse("small"), Ok(Scale::Small));
        assert!(Scale::parse("特大").unwrap_err().contains("大型、中型"));
        assert!(Scale::parse("").is_err());
        for s in Status::ALL {
            assert_eq!(Status::parse(s.label()), Ok(s));
            assert_eq!(Status::parse(s.code()), Ok(s));
        }
        assert!(Status::parse("歇业").is_err());
        assert!(Status::Operating.active() && !Status::Cancelled.active());
    }

    #[test]
    fn industry_codes_belong_to_their_section() {
        for good in ["C3911", "c39", "I651", "F5191", "A01", "T97", "K70"] {
            assert!(IndustryCode::parse(good).is_ok(), "{good}");
        }
        assert_eq!(IndustryCode::parse(" c3911 ").unwrap().as_str(), "C3911");
        assert_eq!(IndustryCode::parse("I65").unwrap().section(), 'I');
        for bad in ["3911", "C3", "C39111", "U01", "CX911", "", "C 39"] {
            assert!(IndustryCode::parse(bad).is_err(), "{bad}");
        }
        let err = IndustryCode::parse("A13").unwrap_err();
        assert!(err.contains("不属于门类 A"), "{err}");
    }

    #[test]
    fn dates_as_clerks_write_them() {
        let day = NaiveDate::from_ymd_opt(2015, 3, 1).unwrap();
        for text in [
            "2015-03-01",
            "2015/3/1",
            "2015.3.1",
            "2015年3月1日",
            " 2015-3-01 ",
        ] {
            assert_eq!(parse_date(text), Ok(day), "{text}");
        }
        for bad in [
            "2015-02-30",
            "15/3/1",
            "2015-3",
            "三月一日",
            "2015-03-01T00:00",
        ] {
            assert!(parse_date(bad).is_err(), "{bad}");
        }
        assert!(parse_date("2015-02-30").unwrap_err().contains("不存在"));
    }

    #[test]
    fn capital_in_ten_thousands_of_yuan() {
        assert_eq!(parse_capital("100"), Ok(1_000_000));
        assert_eq!(parse_capital("12.5"), Ok(125_000));
        assert_eq!(parse_capital("0.0001"), Ok(1));
        assert_eq!(parse_capital("1,000"), Ok(10_000_000));
        for bad in ["-5", "1.23456", "一百", "", "1e3"] {
            assert!(parse_capital(bad).is_err(), "{bad}");
        }
        for yuan in [1_000_000, 125_000, 1, 10_000_000, 0] {
            assert_eq!(parse_capital(&capital_text(yuan)), Ok(yuan));
        }
        assert_eq!(capital_text(125_000), "12.5");
    }

    #[test]
    fn key_flags() {
        assert_eq!(parse_flag("是"), Ok(true));
        assert_eq!(parse_flag("否"), Ok(false));
        assert_eq!(parse_flag(""), Ok(false));
        assert!(parse_flag("重点").is_err());
    }

    #[test]
    fn names_become_bigrams_across_word_boundaries() {
        let g = grams("济南市 槐荫区（山东）物流有限公司");
        assert!(g.contains("槐荫"));
        assert!(g.contains("区山"), "across the bracket");
        assert!(g.contains("物流"));
        assert_eq!(grams("Ａｂｃ"), grams("ABC"));
        assert_eq!(grams("鲁"), BTreeSet::from(["鲁".to_owned()]));
        assert!(grams("").is_empty());
        assert_eq!(normalise("ｓｄ 物流（集团）"), "SD物流集团");
    }
}
