//! Pure domain rules of bizenv: validated types, the working-day calendar and the clock
//! abstraction. No I/O, no web, no database: everything here is testable by value.

/// A closed set of names used in code, tables and the API, each with its Chinese label.
macro_rules! named {
    ($(#[$meta:meta])* $name:ident, $what:literal, { $($(#[$vmeta:meta])* $variant:ident = $code:literal / $label:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every value, in display order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The name used in code, tables and the API.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $code),+
                }
            }

            /// The Chinese label shown on pages and in exports.
            pub fn label(self) -> &'static str {
                match self {
                    $($name::$variant => $label),+
                }
            }

            /// The value named by a code or by its Chinese label.
            pub fn from_code_or_label(s: &str) -> Option<Self> {
                let s = s.trim();
                Self::ALL.iter().copied().find(|v| v.as_str() == s || v.label() == s)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::from_code_or_label(s).ok_or_else(|| {
                    let known: Vec<String> = Self::ALL
                        .iter()
                        .map(|v| format!("{}（{}）", v.as_str(), v.label()))
                        .collect();
                    format!("未知的{}“{s}”，应为 {}", $what, known.join("、"))
                })
            }
        }
    };
}

pub mod account;
pub mod appeal;
pub mod calendar;
pub mod clock;
pub mod deadline;
pub mod enterprise;
pub mod finding;
pub mod history;
pub mod notify;
pub mod org;
pub mod rating;
pub mod reorg;
pub mod service;
pub mod staff;
pub mod task;
pub mod upload;
pub mod uscc;
pub mod visit;
