//! The unified social credit code (统一社会信用代码, GB 32100-2015), the key of the enterprise
//! registry (SPEC "Enterprise registry"). Parsing checks both check characters: the
//! organisation code's own (GB 11714, positions 9–17) and the code's own (position 18).

use std::fmt;
use std::str::FromStr;

/// The 31 characters of the USCC alphabet; a character's value is its index here.
const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// GB 32100-2015 weights of positions 1–17.
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// GB 11714 weights of the organisation code's first 8 characters.
const ORGANISATION_WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];

/// A unified social credit code (统一社会信用代码, GB 32100-2015), checked.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Uscc(String);

/// Why a string is not a unified social credit code; the text is shown to users.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsccError {
    /// Not 18 characters long (after trimming); holds the actual count of characters.
    #[error("统一社会信用代码应为 18 位，实际为 {0} 位")]
    Length(usize),
    /// A character outside the USCC alphabet, at a 1-based position.
    #[error("第 {position} 位“{character}”不是统一社会信用代码允许的字符（不含 I、O、Z、S、V）")]
    Character {
        /// 1-based position of the character.
        position: usize,
        /// The offending character (after upper-casing).
        character: char,
    },
    /// The organisation code's check character (position 17, GB 11714) is wrong.
    #[error("组织机构代码校验位错误：第 17 位应为 {expected}，实际为 {found}")]
    OrganisationCheck {
        /// The check character the first 8 organisation-code characters call for.
        expected: char,
        /// The character found at position 17.
        found: char,
    },
    /// The code's own check character (position 18) is wrong.
    #[error("校验位错误：第 18 位应为 {expected}，实际为 {found}")]
    Check {
        /// The check character the first 17 characters call for.
        expected: char,
        /// The character found at position 18.
        found: char,
    },
}

impl Uscc {
    /// Parses a code: trims, upper-cases ASCII letters, then checks length 18, alphabet, both check characters.
    pub fn parse(s: &str) -> Result<Uscc, UsccError> {
        let normalised: String = s.trim().chars().map(|c| c.to_ascii_uppercase()).collect();
        let chars: Vec<char> = normalised.chars().collect();
        if chars.len() != 18 {
            return Err(UsccError::Length(chars.len()));
        }
        let mut values = [0u32; 18];
        for (i, &c) in chars.iter().enumerate() {
            values[i] = alphabet_value(c).ok_or(UsccError::Character {
                position: i + 1,
                character: c,
            })?;
        }
        let expected = organisation_check(&chars[8..16]);
        if chars[16] != expected {
            return Err(UsccError::OrganisationCheck {
                expected,
                found: chars[16],
            });
        }
        let expected = check_character(&values[..17]);
        if chars[17] != expected {
            return Err(UsccError::Check {
                expected,
                found: chars[17],
            });
        }
        Ok(Uscc(normalised))
    }

    /// Completes the first 16 characters (registering authority, category, region code and
    /// the organisation code's first 8) with both check characters: for issuing demo and test
    /// codes, and for telling a clerk which code a mistyped one may have meant.
    pub fn complete(body: &str) -> Result<Uscc, UsccError> {
        let chars: Vec<char> = body
            .trim()
            .chars()
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if chars.len() != 16 {
            return Err(UsccError::Length(chars.len() + 2));
        }
        let mut values = Vec::with_capacity(17);
        for (i, &c) in chars.iter().enumerate() {
            values.push(alphabet_value(c).ok_or(UsccError::Character {
                position: i + 1,
                character: c,
            })?);
        }
        let organisation = organisation_check(&chars[8..16]);
        values.push(alphabet_value(organisation).unwrap_or(0));
        let check = check_character(&values);
        let code: String = chars.into_iter().chain([organisation, check]).collect();
        Uscc::parse(&code)
    }

    /// The code as 18 upper-case ASCII characters.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Positions 9–17: the organisation code (GB 11714), 9 characters incl. its check character.
    pub fn organisation_code(&self) -> &str {
        // All 18 characters are ASCII (checked by `parse`), so byte offsets are character offsets.
        &self.0[8..17]
    }

    /// Positions 3–8: the registering authority's region code.
    pub fn region_code(&self) -> &str {
        &self.0[2..8]
    }
}

/// The value of a character in the USCC alphabet (0..=30), if it is in it.
fn alphabet_value(c: char) -> Option<u32> {
    ALPHABET
        .iter()
        .position(|&b| char::from(b) == c)
        .and_then(|i| u32::try_from(i).ok())
}

/// GB 32100 check character of the first 17 values: 31 − (Σ mod 31), 31 → 0.
fn check_character(values: &[u32]) -> char {
    let sum: u32 = values.iter().zip(WEIGHTS).map(|(v, w)| v * w).sum();
    let check = (31 - sum % 31) % 31;
    char::from(ALPHABET[check as usize])
}

/// GB 11714 check character of an organisation code's first 8 characters, with GB 11714's own
/// values (0–9, A = 10 … Z = 35): 11 − (Σ mod 11), 10 → X, 11 → 0.
fn organisation_check(chars: &[char]) -> char {
    let sum: u32 = chars
        .iter()
        .zip(ORGANISATION_WEIGHTS)
        // Every character here is in the USCC alphabet, hence a base-36 digit.
        .map(|(c, w)| c.to_digit(36).unwrap_or(0) * w)
        .sum();
    match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        d => char::from_digit(d, 10).unwrap_or('0'),
    }
}

impl fmt::Display for Uscc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Uscc {
    type Err = UsccError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uscc::parse(s)
    }
}

impl serde::Serialize for Uscc {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Uscc {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Uscc::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    //! Check characters below are worked out by hand.
    //!
    //! USCC values: 0–9 → 0–9, A10 B11 C12 D13 E14 F15 G16 H17 J18 K19 L20 M21 N22 P23 Q24
    //! R25 T26 U27 W28 X29 Y30. Weights 1,3,9,27,19,26,16,17,20,29,25,13,8,24,10,30,28.
    //! GB 11714 values: 0–9, A10 … M22 … R27 … T29 … Z35. Weights 3,7,9,10,5,8,4,2.

    use super::*;

    /// Published example, numeric organisation code 60003734-1.
    /// Organisation: 6·3 + 0·7 + 0·9 + 0·10 + 3·5 + 7·8 + 3·4 + 4·2 = 18+15+56+12+8 = 109;
    /// 109 mod 11 = 10; 11 − 10 = 1 → '1'.
    /// Overall: 9·1 + 1·3 + 1·9 + 1·27 + 0 + 0 + 0 + 0 + 6·20 + 0 + 0 + 0 + 3·8 + 7·24 + 3·10 +
    /// 4·30 + 1·28 = 9+3+9+27+120+24+168+30+120+28 = 538; 538 mod 31 = 11 (527 = 17·31);
    /// 31 − 11 = 20 → 'L'.
    const NUMERIC: &str = "91110000600037341L";

    /// Post-2015 organisation code MA3C5T8R-1.
    /// Organisation (GB 11714 values M=22, A=10, C=12, T=29, R=27):
    /// 22·3 + 10·7 + 3·9 + 12·10 + 5·5 + 29·8 + 8·4 + 27·2 = 66+70+27+120+25+232+32+54 = 626;
    /// 626 mod 11 = 10 (616 = 56·11); 11 − 10 = 1 → '1'.
    /// Overall (USCC values M=21, A=10, C=12, T=26, R=25):
    /// 9·1 + 1·3 + 3·9 + 7·27 + 0·19 + 1·26 + 0·16 + 4·17 + 21·20 + 10·29 + 3·25 + 12·13 + 5·8 +
    /// 26·24 + 8·10 + 25·30 + 1·28 =
    /// 9+3+27+189+0+26+0+68+420+290+75+156+40+624+80+750+28 = 2785;
    /// 2785 mod 31 = 26 (2759 = 89·31); 31 − 26 = 5 → '5'.
    const MA: &str = "91370104MA3C5T8R15";

    /// The same first 16 characters with the organisation check computed with the USCC
    /// alphabet's values instead (M=21, T=26, R=25):
    /// 21·3 + 70 + 27 + 120 + 25 + 26·8 + 32 + 25·2 = 63+70+27+120+25+208+32+50 = 595;
    /// 595 mod 11 = 1 (594 = 54·11); 11 − 1 = 10 → 'X'.
    /// Its overall check is then consistent: 2785 − 1·28 + 29·28 = 2785 − 28 + 812 = 3569;
    /// 3569 mod 31 = 4 (3565 = 115·31); 31 − 4 = 27 → 'U'. So only the GB 11714 letter values
    /// tell this code is wrong.
    const MA_WITH_USCC_VALUES: &str = "91370104MA3C5T8RXU";

    /// Organisation code 70000001-X.
    /// Organisation: 7·3 + 1·2 = 21 + 2 = 23; 23 mod 11 = 1; 11 − 1 = 10 → 'X'.
    /// Overall: 9·1 + 1·3 + 3·9 + 2·27 + 0·19 + 1·26 + 0·16 + 2·17 + 7·20 + (six zeros) + 1·30 +
    /// X(29)·28 = 9+3+27+54+26+34+140+30+812 = 1135; 1135 mod 31 = 19 (1116 = 36·31);
    /// 31 − 19 = 12 → 'C'.
    const ORG_X: &str = "9132010270000001XC";

    /// Organisation code 70000006-0.
    /// Organisation: 7·3 + 6·2 = 21 + 12 = 33; 33 mod 11 = 0; 11 − 0 = 11 → '0'.
    /// Overall: 9+3+27+54+26+34+140 + 6·30 + 0·28 = 293 + 180 = 473; 473 mod 31 = 8
    /// (465 = 15·31); 31 − 8 = 23 → 'P'.
    const ORG_ZERO: &str = "91320102700000060P";

    /// Organisation code MA500049-5, overall check 31 → '0'.
    /// Organisation: 22·3 + 10·7 + 5·9 + 0 + 0 + 0 + 4·4 + 9·2 = 66+70+45+16+18 = 215;
    /// 215 mod 11 = 6 (209 = 19·11); 11 − 6 = 5 → '5'.
    /// Overall: 9·1 + 1·3 + 4·9 + 4·27 + 0·19 + 3·26 + 0 + 0 + 21·20 + 10·29 + 5·25 + 0 + 0 + 0 +
    /// 4·10 + 9·30 + 5·28 = 9+3+36+108+78+420+290+125+40+270+140 = 1519 = 49·31;
    /// 1519 mod 31 = 0; 31 − 0 = 31 → 0 → '0'.
    const CHECK_ZERO: &str = "91440300MA50004950";

    fn ok(s: &str) -> Uscc {
        Uscc::parse(s).unwrap_or_else(|e| panic!("{s} should be valid: {e}"))
    }

    #[test]
    fn accepts_published_code_with_numeric_organisation_code() {
        let code = ok(NUMERIC);
        assert_eq!(code.as_str(), "91110000600037341L");
        assert_eq!(code.region_code(), "110000");
        assert_eq!(code.organisation_code(), "600037341");
    }

    #[test]
    fn accepts_ma_organisation_code_using_gb11714_letter_values() {
        let code = ok(MA);
        assert_eq!(code.as_str(), "91370104MA3C5T8R15");
        assert_eq!(code.region_code(), "370104");
        assert_eq!(code.organisation_code(), "MA3C5T8R1");
    }

    #[test]
    fn refuses_ma_code_checked_with_uscc_alphabet_values() {
        assert_eq!(
            Uscc::parse(MA_WITH_USCC_VALUES),
            Err(UsccError::OrganisationCheck {
                expected: '1',
                found: 'X'
            })
        );
    }

    #[test]
    fn accepts_organisation_check_x() {
        let code = ok(ORG_X);
        assert_eq!(code.organisation_code(), "70000001X");
        assert_eq!(code.region_code(), "320102");
    }

    #[test]
    fn accepts_organisation_check_eleven_as_zero() {
        assert_eq!(ok(ORG_ZERO).organisation_code(), "700000060");
    }

    #[test]
    fn accepts_overall_check_thirty_one_as_zero() {
        let code = ok(CHECK_ZERO);
        assert_eq!(code.as_str(), "91440300MA50004950");
        assert_eq!(code.organisation_code(), "MA5000495");
    }

    #[test]
    fn trims_and_upper_cases_input() {
        let code = ok("  91370104ma3c5t8r15\t\n");
        assert_eq!(code.as_str(), "91370104MA3C5T8R15");
        assert_eq!(code, ok(MA));
        assert_eq!(
            ok("\u{3000}9132010270000001xc ").as_str(),
            "9132010270000001XC"
        );
    }

    #[test]
    fn display_and_from_str() {
        let code: Uscc = "91110000600037341l".parse().unwrap();
        assert_eq!(code.to_string(), "91110000600037341L");
        assert_eq!(
            "91110000600037341".parse::<Uscc>(),
            Err(UsccError::Length(17))
        );
    }

    #[test]
    fn refuses_wrong_length() {
        assert_eq!(Uscc::parse("91110000600037341"), Err(UsccError::Length(17)));
        assert_eq!(
            Uscc::parse("91110000600037341L0"),
            Err(UsccError::Length(19))
        );
        assert_eq!(Uscc::parse("   "), Err(UsccError::Length(0)));
        // Counted in characters, not bytes.
        assert_eq!(Uscc::parse("统一社会信用代码"), Err(UsccError::Length(8)));
        assert_eq!(
            Uscc::parse("91110000600037341L").map(|_| ()),
            Ok(()),
            "exactly 18 is fine"
        );
    }

    #[test]
    fn refuses_forbidden_letters_with_position() {
        let cases = [
            ("91110000I00037341L", 9, 'I'),
            ("9111000060O037341L", 11, 'O'),
            ("Z1110000600037341L", 1, 'Z'),
            ("91110000600037341S", 18, 'S'),
            ("91110000600037V41L", 15, 'V'),
            // Lower case is upper-cased first, and reported so.
            ("91110000600037341o", 18, 'O'),
        ];
        for (input, position, character) in cases {
            assert_eq!(
                Uscc::parse(input),
                Err(UsccError::Character {
                    position,
                    character
                }),
                "{input}"
            );
        }
    }

    #[test]
    fn refuses_non_ascii_characters() {
        assert_eq!(
            Uscc::parse("９1110000600037341L"),
            Err(UsccError::Character {
                position: 1,
                character: '９'
            })
        );
        assert_eq!(
            Uscc::parse("91110000600037341-"),
            Err(UsccError::Character {
                position: 18,
                character: '-'
            })
        );
    }

    #[test]
    fn refuses_wrong_organisation_check_before_overall_check() {
        // Position 17 should be '1' (see NUMERIC). With '2' there the overall check would be
        // 538 − 28 + 56 = 566; 566 mod 31 = 8; 31 − 8 = 23 → 'P', so the final '1' is wrong
        // too — the organisation check is reported first.
        assert_eq!(
            Uscc::parse("911100006000373421"),
            Err(UsccError::OrganisationCheck {
                expected: '1',
                found: '2'
            })
        );
        assert_eq!(
            Uscc::parse("91320102700000011C"),
            Err(UsccError::OrganisationCheck {
                expected: 'X',
                found: '1'
            })
        );
    }

    #[test]
    fn refuses_wrong_final_check_with_expected_character() {
        assert_eq!(
            Uscc::parse("91110000600037341M"),
            Err(UsccError::Check {
                expected: 'L',
                found: 'M'
            })
        );
        assert_eq!(
            Uscc::parse("91370104MA3C5T8R16"),
            Err(UsccError::Check {
                expected: '5',
                found: '6'
            })
        );
        assert_eq!(
            Uscc::parse("91440300MA5000495Y"),
            Err(UsccError::Check {
                expected: '0',
                found: 'Y'
            })
        );
    }

    #[test]
    fn error_messages() {
        assert_eq!(
            UsccError::Length(17).to_string(),
            "统一社会信用代码应为 18 位，实际为 17 位"
        );
        assert_eq!(
            UsccError::Character {
                position: 9,
                character: 'I'
            }
            .to_string(),
            "第 9 位“I”不是统一社会信用代码允许的字符（不含 I、O、Z、S、V）"
        );
        assert_eq!(
            UsccError::OrganisationCheck {
                expected: '1',
                found: 'X'
            }
            .to_string(),
            "组织机构代码校验位错误：第 17 位应为 1，实际为 X"
        );
        assert_eq!(
            UsccError::Check {
                expected: 'L',
                found: 'M'
            }
            .to_string(),
            "校验位错误：第 18 位应为 L，实际为 M"
        );
    }

    mod generated {
        //! Property tests against a reference written here, digit by digit, from the standards'
        //! text: generated valid codes parse; every single-character change is caught.

        use proptest::prelude::*;

        use super::super::*;

        const USCC_ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";

        /// GB 32100: the value of a character is its place in the alphabet.
        fn reference_value(c: char) -> u32 {
            USCC_ALPHABET.find(c).expect("in the alphabet") as u32
        }

        /// GB 11714: digits are themselves, letters A = 10 … Z = 35.
        fn reference_organisation_value(c: char) -> u32 {
            if c.is_ascii_digit() {
                c as u32 - '0' as u32
            } else {
                c as u32 - 'A' as u32 + 10
            }
        }

        fn reference_code(body: &str) -> String {
            let body: Vec<char> = body.chars().collect();
            let weights = [3, 7, 9, 10, 5, 8, 4, 2];
            let mut sum = 0;
            for i in 0..8 {
                sum += reference_organisation_value(body[8 + i]) * weights[i];
            }
            let organisation = match 11 - sum % 11 {
                10 => 'X',
                11 => '0',
                d => char::from_digit(d, 10).unwrap(),
            };
            let mut first17 = body.clone();
            first17.push(organisation);
            let weights = [
                1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
            ];
            let mut sum = 0;
            for i in 0..17 {
                sum += reference_value(first17[i]) * weights[i];
            }
            let check = USCC_ALPHABET
                .chars()
                .nth(((31 - sum % 31) % 31) as usize)
                .unwrap();
            first17.into_iter().chain([check]).collect()
        }

        fn alphabet_char() -> impl Strategy<Value = char> {
            proptest::sample::select(USCC_ALPHABET.chars().collect::<Vec<_>>())
        }

        /// 16 characters: authority and category from the alphabet, six region digits, and an
        /// organisation code's first 8 — numeric or post-2015 `MA…`.
        fn body() -> impl Strategy<Value = String> {
            (
                alphabet_char(),
                alphabet_char(),
                proptest::collection::vec(0..10u32, 6),
                prop_oneof![
                    proptest::collection::vec(alphabet_char(), 8),
                    proptest::collection::vec(alphabet_char(), 6).prop_map(|rest| {
                        ['M', 'A'].into_iter().chain(rest).collect::<Vec<_>>()
                    }),
                ],
            )
                .prop_map(|(a, b, region, organisation)| {
                    let mut s = String::new();
                    s.push(a);
                    s.push(b);
                    s.extend(region.iter().map(|d| char::from_digit(*d, 10).unwrap()));
                    s.extend(organisation);
                    s
                })
        }

        proptest! {
            #[test]
            fn generated_codes_parse_and_match_the_reference(body in body()) {
                let code = reference_code(&body);
                prop_assert_eq!(Uscc::parse(&code).map(|c| c.as_str().to_owned()), Ok(code.clone()));
                prop_assert_eq!(Uscc::complete(&body).map(|c| c.as_str().to_owned()), Ok(code.clone()));
                prop_assert_eq!(Uscc::parse(&code.to_ascii_lowercase()).map(|c| c.as_str().to_owned()), Ok(code));
            }

            #[test]
            fn every_single_character_change_is_caught(body in body(), position in 0..18usize, replacement in alphabet_char()) {
                let code = reference_code(&body);
                let mut chars: Vec<char> = code.chars().collect();
                prop_assume!(chars[position] != replacement);
                chars[position] = replacement;
                let changed: String = chars.into_iter().collect();
                prop_assert!(Uscc::parse(&changed).is_err(), "{} accepted", changed);
            }

            #[test]
            fn characters_outside_the_alphabet_are_named(body in body(), position in 0..18usize, bad in proptest::sample::select(vec!['I', 'O', 'Z', 'S', 'V', '-', '中'])) {
                let code = reference_code(&body);
                let mut chars: Vec<char> = code.chars().collect();
                chars[position] = bad;
                let changed: String = chars.into_iter().collect();
                prop_assert_eq!(
                    Uscc::parse(&changed),
                    Err(UsccError::Character { position: position + 1, character: bad })
                );
            }
        }

        #[test]
        fn the_ma_codes_of_the_standards_examples() {
            assert_eq!(reference_code("91370104MA3C5T8R"), super::MA);
            assert_eq!(reference_code("91440300MA500049"), super::CHECK_ZERO);
            assert_eq!(
                Uscc::complete("91370104MA3C5T8R").unwrap().as_str(),
                super::MA
            );
            assert_eq!(
                Uscc::complete("91370104MA3C5T8"),
                Err(UsccError::Length(17))
            );
            assert!(matches!(
                Uscc::complete("91370104MA3C5T8I"),
                Err(UsccError::Character {
                    position: 16,
                    character: 'I'
                })
            ));
        }
    }

    #[derive(Debug, serde::Deserialize, serde::Serialize)]
    struct Holder {
        code: Uscc,
    }

    #[test]
    fn deserializes_via_parse() {
        let holder: Holder = toml::from_str(r#"code = " 91370104ma3c5t8r15 ""#).unwrap();
        assert_eq!(holder.code.as_str(), "91370104MA3C5T8R15");
    }

    #[test]
    fn deserialize_refuses_invalid_code_with_chinese_reason() {
        let err = toml::from_str::<Holder>(r#"code = "91110000600037341M""#).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("校验位错误：第 18 位应为 L，实际为 M"),
            "{text}"
        );
        let err = toml::from_str::<Holder>(r#"code = "91370104MA3C5T8RXU""#).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("组织机构代码校验位错误：第 17 位应为 1，实际为 X"),
            "{text}"
        );
    }

    #[test]
    fn serializes_as_string() {
        let value = toml::Value::try_from(ok(ORG_X)).unwrap();
        assert_eq!(value, toml::Value::String("9132010270000001XC".to_owned()));
        let table = toml::Table::try_from(Holder { code: ok(MA) }).unwrap();
        assert_eq!(
            table.get("code"),
            Some(&toml::Value::String("91370104MA3C5T8R15".to_owned()))
        );
        let back: Holder = table.try_into().unwrap();
        assert_eq!(back.code, ok(MA));
    }
}
