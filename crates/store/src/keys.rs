//! The installation's secret keys, kept outside the database: a key file in the data
//! directory (created with mode 0600 on first start). Someone with the database alone can
//! neither read personal fields nor forge or re-chain the audit log.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use crate::crypto::random_bytes;

/// The file name of the key file in the data directory.
pub const KEY_FILE: &str = "bizenv.keys";

/// The keys, each for one purpose.
#[derive(Clone)]
pub struct Keys {
    /// HMAC-SM3 key of the audit chain.
    pub audit: [u8; 32],
    /// SM4 key of personal fields.
    pub field_enc: [u8; 16],
    /// HMAC-SM3 key authenticating encrypted personal fields.
    pub field_mac: [u8; 32],
    /// HMAC-SM3 key of blind indexes.
    pub blind_index: [u8; 32],
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(..)")
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    audit: String,
    field_enc: String,
    field_mac: String,
    blind_index: String,
}

fn decode<const N: usize>(name: &str, hex_text: &str) -> anyhow::Result<[u8; N]> {
    let bytes = hex::decode(hex_text.trim()).with_context(|| format!("key {name} is not hex"))?;
    bytes
        .try_into()
        .map_err(|b: Vec<u8>| anyhow::anyhow!("key {name} has {} bytes, expected {N}", b.len()))
}

impl Keys {
    /// Reads the key file `path`, or creates it with fresh random keys if it does not exist.
    pub fn load_or_create(path: &Path) -> anyhow::Result<Self> {
        if path.exists() {
            return Self::read(path);
        }
        let keys = Keys {
            audit: random_bytes(),
            field_enc: random_bytes(),
            field_mac: random_bytes(),
            blind_index: random_bytes(),
        };
        let text = toml::to_string(&KeyFile {
            audit: hex::encode(keys.audit),
            field_enc: hex::encode(keys.field_enc),
            field_mac: hex::encode(keys.field_mac),
            blind_index: hex::encode(keys.blind_index),
        })?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(path) {
            Ok(mut file) => {
                file.write_all(b"# bizenv keys: keep outside the database, back up separately, never commit.\n")?;
                file.write_all(text.as_bytes())?;
                file.sync_all()?;
                Ok(keys)
            }
            // another process created it first: use theirs
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Self::read(path),
            Err(e) => Err(e).with_context(|| format!("creating the key file {}", path.display())),
        }
    }

    fn read(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the key file {}", path.display()))?;
        if text.trim().is_empty() {
            bail!("the key file {} is empty", path.display());
        }
        let file: KeyFile =
            toml::from_str(&text).with_context(|| format!("key file {}", path.display()))?;
        Ok(Keys {
            audit: decode("audit", &file.audit)?,
            field_enc: decode("field_enc", &file.field_enc)?,
            field_mac: decode("field_mac", &file.field_mac)?,
            blind_index: decode("blind_index", &file.blind_index)?,
        })
    }
}

/// Where the store keeps its files outside the database.
#[derive(Debug, Clone)]
pub struct DataDir(pub PathBuf);

impl DataDir {
    /// The key file.
    pub fn key_file(&self) -> PathBuf {
        self.0.join(KEY_FILE)
    }

    /// The audit chain heads.
    pub fn audit_heads(&self) -> PathBuf {
        self.0.join("audit-heads.json")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_created_once_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(KEY_FILE);
        let first = Keys::load_or_create(&path).unwrap();
        let again = Keys::load_or_create(&path).unwrap();
        assert_eq!(first.audit, again.audit);
        assert_eq!(first.field_enc, again.field_enc);
        assert_ne!(first.audit, first.blind_index);
        assert_eq!(format!("{first:?}"), "Keys(..)");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, "audit = \"zz\"\n").unwrap();
        assert!(Keys::load_or_create(&path).is_err());
    }
}
