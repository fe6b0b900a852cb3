//! Configuration, layered: defaults → config file (TOML) → `BIZENV_…` environment → flags.
//! clap reads flags and the environment (a flag wins); the file fills what both left unset.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::ValueEnum;
use serde::Deserialize;
use store::DatabaseUrl;
use store::delivery::MailRelay;

/// How logs are written to standard error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// The config file's keys; all optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Data directory (SQLite database, key files, demo manifest).
    pub data_dir: Option<PathBuf>,
    /// PostgreSQL URL; without it, SQLite in the data directory.
    pub database_url: Option<String>,
    /// Address the server listens on.
    pub bind: Option<SocketAddr>,
    /// Log format.
    pub log_format: Option<LogFormat>,
    /// Reverse proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Option<Vec<std::net::IpAddr>>,
    /// The key file, when kept outside the data directory.
    pub key_file: Option<PathBuf>,
    /// The mail relay, `smtp://host[:port]`.
    pub mail_relay: Option<String>,
    /// The sender of mail.
    pub mail_from: Option<String>,
    /// The address users reach the platform at (links in mail).
    pub public_url: Option<String>,
}

impl FileConfig {
    /// Reads a config file.
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the config file {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("config file {}", path.display()))
    }
}

/// The settled configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Data directory.
    pub data_dir: PathBuf,
    /// The database (password hidden when printed).
    pub database_url: DatabaseUrl,
    /// Where `serve` listens.
    pub bind: SocketAddr,
    /// Log format.
    pub log_format: LogFormat,
    /// Reverse proxies whose `X-Forwarded-For` is believed for the client address.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// The key file, when kept outside the data directory (it must exist).
    pub key_file: Option<PathBuf>,
    /// Where mail goes; none: mail is not sent.
    pub mail_relay: Option<MailRelay>,
}

/// The sender of mail unless configured.
pub const DEFAULT_MAIL_FROM: &str = "营商环境优化平台 <noreply@bizenv.local>";

/// Values given as flags or environment variables.
#[derive(Debug, Default)]
pub struct Given {
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub config: Option<PathBuf>,
    pub log_format: Option<LogFormat>,
    pub bind: Option<SocketAddr>,
    pub trusted_proxies: Option<Vec<std::net::IpAddr>>,
    pub key_file: Option<PathBuf>,
    pub mail_relay: Option<String>,
    pub mail_from: Option<String>,
    pub public_url: Option<String>,
}

/// The address `serve` listens on unless told otherwise.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

impl Config {
    /// Settles the layers.
    pub fn settle(given: Given) -> anyhow::Result<Self> {
        let file = match &given.config {
            Some(path) => FileConfig::read(path)?,
            None => FileConfig::default(),
        };
        let data_dir = given
            .data_dir
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("./data"));
        let database_url = match given.database_url.or(file.database_url) {
            Some(url) if !url.trim().is_empty() => DatabaseUrl::new(url),
            _ => DatabaseUrl::sqlite_in(&data_dir),
        };
        let mail_from = given
            .mail_from
            .or(file.mail_from)
            .unwrap_or_else(|| DEFAULT_MAIL_FROM.to_owned());
        let public_url = given.public_url.or(file.public_url);
        let mail_relay = match given.mail_relay.or(file.mail_relay) {
            Some(url) if !url.trim().is_empty() => Some(
                MailRelay::parse(&url, &mail_from, public_url.as_deref())
                    .context("the mail relay setting")?,
            ),
            _ => None,
        };
        Ok(Self {
            mail_relay,
            bind: given
                .bind
                .or(file.bind)
                .unwrap_or_else(|| DEFAULT_BIND.parse().expect("valid default address")),
            log_format: given.log_format.or(file.log_format).unwrap_or_default(),
            trusted_proxies: given
                .trusted_proxies
                .or(file.trusted_proxies)
                .unwrap_or_default(),
            key_file: given.key_file.or(file.key_file),
            data_dir,
            database_url,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_and_environment_win_over_the_file_which_wins_over_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bizenv.toml");
        std::fs::write(
            &path,
            "data_dir = \"/srv/bizenv\"\nbind = \"0.0.0.0:9000\"\nlog_format = \"json\"\n",
        )
        .unwrap();
        let from_file = Config::settle(Given {
            config: Some(path.clone()),
            ..Given::default()
        })
        .unwrap();
        assert_eq!(from_file.data_dir, PathBuf::from("/srv/bizenv"));
        assert_eq!(from_file.bind.to_string(), "0.0.0.0:9000");
        assert_eq!(from_file.log_format, LogFormat::Json);
        assert_eq!(
            from_file.database_url.expose(),
            "sqlite:///srv/bizenv/bizenv.db"
        );

        let flagged = Config::settle(Given {
            config: Some(path),
            data_dir: Some(PathBuf::from("/tmp/x")),
            bind: Some("127.0.0.1:1".parse().unwrap()),
            database_url: Some("postgres://u:p@h/db".into()),
            ..Given::default()
        })
        .unwrap();
        assert_eq!(flagged.data_dir, PathBuf::from("/tmp/x"));
        assert_eq!(flagged.bind.to_string(), "127.0.0.1:1");
        assert_eq!(flagged.log_format, LogFormat::Json);
        assert!(flagged.database_url.is_postgres());
        assert!(!format!("{flagged:?}").contains(":p@"));

        let defaults = Config::settle(Given::default()).unwrap();
        assert_eq!(defaults.data_dir, PathBuf::from("./data"));
        assert_eq!(defaults.bind.to_string(), DEFAULT_BIND);
        assert_eq!(defaults.log_format, LogFormat::Text);
    }

    #[test]
    fn the_mail_relay_from_the_file_or_a_flag_and_a_bad_one_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bizenv.toml");
        std::fs::write(
            &path,
            "mail_relay = \"smtp://10.1.2.3\"\npublic_url = \"https://yshj.example.gov.cn/\"\n",
        )
        .unwrap();
        let relay = Config::settle(Given {
            config: Some(path.clone()),
            ..Given::default()
        })
        .unwrap()
        .mail_relay
        .unwrap();
        assert_eq!((relay.host.as_str(), relay.port), ("10.1.2.3", 25));
        assert_eq!(relay.from, DEFAULT_MAIL_FROM);
        assert_eq!(
            relay.public_url.as_deref(),
            Some("https://yshj.example.gov.cn")
        );
        let flagged = Config::settle(Given {
            config: Some(path.clone()),
            mail_relay: Some("smtp://mail.local:2525".into()),
            mail_from: Some("督查室 <duban@example.gov.cn>".into()),
            ..Given::default()
        })
        .unwrap()
        .mail_relay
        .unwrap();
        assert_eq!((flagged.host.as_str(), flagged.port), ("mail.local", 2525));
        assert_eq!(flagged.from, "督查室 <duban@example.gov.cn>");
        assert!(
            Config::settle(Given::default())
                .unwrap()
                .mail_relay
                .is_none()
        );
        for bad in ["mail.local:25", "smtp://mail.local:port"] {
            let err = Config::settle(Given {
                mail_relay: Some(bad.into()),
                ..Given::default()
            })
            .unwrap_err();
            assert!(format!("{err:#}").contains("mail relay"), "{err:#}");
        }
        let err = Config::settle(Given {
            mail_relay: Some("smtp://mail.local".into()),
            mail_from: Some("not an address".into()),
            ..Given::default()
        })
        .unwrap_err();
        assert!(format!("{err:#}").contains("sender"), "{err:#}");
    }

    #[test]
    fn an_unknown_key_in_the_config_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bizenv.toml");
        std::fs::write(&path, "databse_url = \"x\"\n").unwrap();
        let err = Config::settle(Given {
            config: Some(path),
            ..Given::default()
        })
        .unwrap_err();
        assert!(format!("{err:#}").contains("databse_url"), "{err:#}");
    }
}
