//! The message catalogue: every text of a page comes from here by key, so another language
//! is a new catalogue file, not a template change.

use std::collections::HashMap;
use std::sync::LazyLock;

static ZH_CN: LazyLock<Catalog> = LazyLock::new(|| {
    Catalog::parse(include_str!("../messages/zh-CN.toml")).expect("messages/zh-CN.toml is valid")
});

/// Messages by key.
#[derive(Debug)]
pub struct Catalog {
    messages: HashMap<String, String>,
}

impl Catalog {
    /// The Simplified Chinese catalogue.
    pub fn zh_cn() -> &'static Catalog {
        &ZH_CN
    }

    fn parse(text: &str) -> Result<Self, toml::de::Error> {
        let messages: HashMap<String, String> = toml::from_str(text)?;
        Ok(Self { messages })
    }

    /// The message for `key`; a missing key shows as the key itself (and fails a test).
    pub fn t<'a>(&'a self, key: &'a str) -> &'a str {
        self.messages.get(key).map(String::as_str).unwrap_or(key)
    }

    /// Whether the catalogue has `key`.
    pub fn has(&self, key: &str) -> bool {
        self.messages.contains_key(key)
    }
}

#[cfg(test)]
mod tests {
    use super::Catalog;

    /// Every message key a template or handler asks for exists in the catalogue.
    #[test]
    fn every_key_used_in_templates_and_code_is_in_the_catalogue() {
        let catalog = Catalog::zh_cn();
        let dirs = [
            concat!(env!("CARGO_MANIFEST_DIR"), "/templates"),
            concat!(env!("CARGO_MANIFEST_DIR"), "/src"),
        ];
        let mut used = 0;
        for dir in dirs {
            for entry in std::fs::read_dir(dir).unwrap() {
                let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
                for part in text.split(".t(\"").skip(1) {
                    let key = &part[..part.find('"').unwrap()];
                    if !key.contains(' ') {
                        used += 1;
                        assert!(catalog.has(key), "missing message key {key}");
                    }
                }
            }
        }
        assert!(used > 20, "found only {used} keys: the scan is broken");
    }
}
