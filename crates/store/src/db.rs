//! Connecting to either database and running its migrations.

use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use domain::clock::Clock;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

use crate::calendar::CalendarCache;
use crate::crypto::{BlindIndex, FieldCipher};
use crate::keys::{DataDir, Keys};

/// A database URL whose `Debug` and `Display` hide the password.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    /// Wraps a URL (`sqlite:…` or `postgres://…`).
    pub fn new(url: impl Into<String>) -> Self {
        Self(url.into())
    }

    /// The SQLite database `bizenv.db` in the data directory.
    pub fn sqlite_in(data_dir: &Path) -> Self {
        Self(format!("sqlite://{}", data_dir.join("bizenv.db").display()))
    }

    /// The URL with its secret, for connecting.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the URL names a PostgreSQL server.
    pub fn is_postgres(&self) -> bool {
        self.0.starts_with("postgres://") || self.0.starts_with("postgresql://")
    }

    fn redacted(&self) -> String {
        let Some((scheme, rest)) = self.0.split_once("://") else {
            return self.0.clone();
        };
        match rest.split_once('@') {
            Some((userinfo, host)) => match userinfo.split_once(':') {
                Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
                None => self.0.clone(),
            },
            None => self.0.clone(),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({})", self.redacted())
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// The pool of whichever database the installation runs on.
#[derive(Clone, Debug)]
pub(crate) enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to the typed pool of either backend; the body is
/// compiled once per backend, so one SQL text serves both.
macro_rules! with_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.db {
            $crate::db::Db::Sqlite($pool) => $body,
            $crate::db::Db::Postgres($pool) => $body,
        }
    };
}
pub(crate) use with_pool;

impl Db {
    /// The `FROM` item that unpacks parameter `$n`, a JSON array, into rows with a `value`
    /// column: bulk writes pass many rows in one parameter instead of one per value.
    pub(crate) fn json_rows(&self, n: usize) -> String {
        match self {
            Db::Sqlite(_) => format!("json_each(${n})"),
            Db::Postgres(_) => format!("jsonb_array_elements(CAST(${n} AS JSONB)) AS bulk (value)"),
        }
    }
}

/// Begins a transaction that will write. On SQLite it takes the write lock at once
/// (`BEGIN IMMEDIATE`): a deferred transaction that read first and writes later fails with
/// "database is locked" when another writer (the minute jobs, another request) committed in
/// between, whatever the busy timeout; taken at the start, the lock is waited for instead.
pub(crate) trait BeginWrite {
    /// The database.
    type Database: sqlx::Database;

    /// A transaction holding (or, on PostgreSQL, able to take) the write lock.
    fn begin_write(
        &self,
    ) -> impl Future<Output = Result<sqlx::Transaction<'static, Self::Database>, sqlx::Error>> + Send;
}

impl BeginWrite for SqlitePool {
    type Database = sqlx::Sqlite;

    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        self.begin_with("BEGIN IMMEDIATE").await
    }
}

impl BeginWrite for PgPool {
    type Database = sqlx::Postgres;

    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
        self.begin().await
    }
}

/// The store: the database, the clock every timestamp comes from, and the calendar cache.
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) db: Db,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) calendar: Arc<CalendarCache>,
    pub(crate) data_dir: DataDir,
    pub(crate) keys: Arc<Keys>,
    /// Seals personal fields (SM4, authenticated).
    pub(crate) cipher: FieldCipher,
    /// Keyed index of personal fields, for exact search without decrypting.
    pub(crate) index: BlindIndex,
    /// Where mail goes (installation configuration); none: mail is not sent.
    pub(crate) mail_relay: Option<Arc<crate::delivery::MailRelay>>,
    /// Reads kept until the next audited change ([`crate::cache`]).
    pub(crate) reads: Arc<crate::cache::ReadCache>,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Store {
    /// Connects (creating an SQLite file if needed), migrates, reads (or creates) the key
    /// file in `data_dir`, and makes sure the shipped calendar years are present.
    #[tracing::instrument(skip(clock))]
    pub async fn open(
        url: &DatabaseUrl,
        data_dir: &Path,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        Self::open_with_keys(url, data_dir, None, clock).await
    }

    /// As [`Self::open`], with the keys read from `key_file` (kept elsewhere than the data
    /// directory, e.g. on a separate mount) instead of the data directory's key file; a
    /// configured key file must exist.
    pub async fn open_with_keys(
        url: &DatabaseUrl,
        data_dir: &Path,
        key_file: Option<&Path>,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("creating the data directory {}", data_dir.display()))?;
        let data_dir = DataDir(data_dir.to_path_buf());
        let keys = match key_file {
            Some(path) if !path.exists() => {
                anyhow::bail!("the configured key file {} does not exist", path.display())
            }
            Some(path) => Keys::load_or_create(path)?,
            None => Keys::load_or_create(&data_dir.key_file())?,
        };
        let db = if url.is_postgres() {
            let options = PgConnectOptions::from_str(url.expose())
                .with_context(|| format!("reading the database URL {url}"))?;
            let pool = PgPoolOptions::new()
                .max_connections(10)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await
                .with_context(|| format!("connecting to {url}"))?;
            POSTGRES_MIGRATIONS
                .run(&pool)
                .await
                .context("migrating the PostgreSQL database")?;
            Db::Postgres(pool)
        } else {
            let options = SqliteConnectOptions::from_str(url.expose())
                .with_context(|| format!("reading the database URL {url}"))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
                // 64 MB of page cache per connection (SQLite's default is 2 MB): the name-gram
                // and code indexes of a million enterprises stay mostly in memory on import
                .pragma("cache_size", "-65536");
            let pool = SqlitePoolOptions::new()
                .max_connections(4)
                // a local file's connection does not drop away: no ping (a round trip to the
                // connection's thread) before each use
                .test_before_acquire(false)
                .connect_with(options)
                .await
                .with_context(|| format!("opening {url}"))?;
            SQLITE_MIGRATIONS
                .run(&pool)
                .await
                .context("migrating the SQLite database")?;
            Db::Sqlite(pool)
        };
        let store = Self {
            db,
            clock,
            calendar: Arc::new(CalendarCache::default()),
            data_dir,
            cipher: FieldCipher::new(keys.field_enc, keys.field_mac),
            index: BlindIndex::new(keys.blind_index),
            keys: Arc::new(keys),
            mail_relay: None,
            reads: Arc::default(),
        };
        store
            .ensure_shipped_calendar()
            .await
            .context("loading the shipped calendar years")?;
        Ok(store)
    }

    /// Which backend this store runs on: "sqlite" or "postgres".
    pub fn backend(&self) -> &'static str {
        match self.db {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    /// The clock all timestamps come from.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Answers when the database does (for `/healthz`).
    pub async fn ping(&self) -> crate::Result<()> {
        with_pool!(self, pool => {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    /// Closes the pool, waiting for connections to be returned.
    pub async fn close(&self) {
        with_pool!(self, pool => pool.close().await)
    }
}

#[cfg(test)]
mod tests {
    use super::DatabaseUrl;

    #[test]
    fn a_database_url_never_shows_its_password() {
        let url = DatabaseUrl::new("postgres://bizenv:s3cret@db.example:5432/bizenv");
        assert_eq!(
            format!("{url:?}"),
            "DatabaseUrl(postgres://bizenv:***@db.example:5432/bizenv)"
        );
        assert_eq!(
            url.to_string(),
            "postgres://bizenv:***@db.example:5432/bizenv"
        );
        assert!(url.is_postgres());
        let plain = DatabaseUrl::new("postgres://postgres@127.0.0.1/x");
        assert_eq!(plain.to_string(), "postgres://postgres@127.0.0.1/x");
        assert!(!DatabaseUrl::new("sqlite://data/bizenv.db").is_postgres());
    }
}
