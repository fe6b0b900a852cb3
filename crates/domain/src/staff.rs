//! Staff (人员): the phone number rule. Kept simple on purpose: a mainland mobile number, or a
//! fixed line written with its area code; extensions and foreign numbers are not accepted.

use std::fmt;

/// A staff member's phone: an 11-digit mainland mobile number (`13800138000`) or a fixed
/// line with area code (`0531-88886666`: area codes 010 and 02x have three digits, all others
/// four; seven or eight digits follow).
#[derive(Clone, PartialEq, Eq)]
pub struct Phone(String);

/// Why a text is not a phone number; the message never repeats the text (it is personal).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("电话应为 11 位手机号码，或带区号的固定电话（如 0531-88886666）")]
pub struct PhoneError;

impl Phone {
    /// Parses a phone, ignoring spaces, '-' and a leading +86 (or 86 before a mobile number).
    pub fn parse(s: &str) -> Result<Self, PhoneError> {
        let compact: String = s
            .trim()
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        let digits = compact.strip_prefix("+86").unwrap_or(&compact);
        let digits = match digits.strip_prefix("86") {
            Some(rest) if rest.len() == 11 && rest.starts_with('1') => rest,
            _ => digits,
        };
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PhoneError);
        }
        let b = digits.as_bytes();
        if b.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1]) {
            return Ok(Self(digits.to_owned()));
        }
        if b.first() == Some(&b'0') && b.get(1).is_some_and(|d| *d != b'0') {
            let area = if matches!(b[1], b'1' | b'2') { 3 } else { 4 };
            let local = b.len().saturating_sub(area);
            if b.len() > area && (7..=8).contains(&local) && b[area] != b'0' {
                return Ok(Self(format!("{}-{}", &digits[..area], &digits[area..])));
            }
        }
        Err(PhoneError)
    }

    /// The canonical text: 11 digits, or area code '-' number.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number with all but its first three (or the area code) and last four digits
    /// hidden: `138****8000`, `0531-****6666`.
    pub fn masked(&self) -> String {
        let (head, rest) = match self.0.split_once('-') {
            Some((area, number)) => (format!("{area}-"), number),
            None => (self.0[..3].to_owned(), &self.0[3..]),
        };
        let keep = rest.len().saturating_sub(4);
        format!("{head}{}{}", "*".repeat(keep), &rest[keep..])
    }
}

impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Personal data stays out of logs and panic messages.
        write!(f, "Phone({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mobile_numbers_in_their_usual_spellings() {
        for text in [
            "13800138000",
            " 138 0013 8000 ",
            "138-0013-8000",
            "+86 138 0013 8000",
            "8613800138000",
        ] {
            assert_eq!(
                Phone::parse(text).unwrap().as_str(),
                "13800138000",
                "{text}"
            );
        }
        assert_eq!(Phone::parse("19912345678").unwrap().as_str(), "19912345678");
    }

    #[test]
    fn fixed_lines_need_their_area_code() {
        assert_eq!(
            Phone::parse("0531-88886666").unwrap().as_str(),
            "0531-88886666"
        );
        assert_eq!(
            Phone::parse("053188886666").unwrap().as_str(),
            "0531-88886666"
        );
        assert_eq!(
            Phone::parse("010-6512 3456").unwrap().as_str(),
            "010-65123456"
        );
        assert_eq!(
            Phone::parse("0531-8888666").unwrap().as_str(),
            "0531-8888666"
        );
    }

    #[test]
    fn other_texts_are_refused() {
        for text in [
            "",
            "88886666",
            "1380013800",
            "138001380001",
            "12800138000",
            "0531-888866",
            "0531-088886666",
            "00531-88886666",
            "1380013800a",
            "电话13800138000",
            "+1 415 555 0100",
        ] {
            assert_eq!(Phone::parse(text), Err(PhoneError), "{text}");
        }
        assert!(!PhoneError.to_string().contains("138"));
    }

    #[test]
    fn masking_keeps_the_ends_only() {
        assert_eq!(Phone::parse("13800138000").unwrap().masked(), "138****8000");
        assert_eq!(
            Phone::parse("0531-88886666").unwrap().masked(),
            "0531-****6666"
        );
        assert_eq!(Phone::parse("010-6512345").unwrap().masked(), "010-***2345");
        assert_eq!(
            format!("{:?}", Phone::parse("13912345678").unwrap()),
            "Phone(139****5678)"
        );
    }
}
