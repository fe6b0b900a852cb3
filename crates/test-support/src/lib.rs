//! The test harness: `TestApp` boots the real application on port 0 against a fresh
//! database — an SQLite file in a temporary data directory, or a new PostgreSQL database
//! that is dropped when the test ends — with a [`ManualClock`] the test can move.
//!
//! `db_tests!(a, b)` turns `async fn a(backend: Backend)` into one test per backend, so the
//! same suite runs on SQLite and on PostgreSQL.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use chrono::{TimeZone, Utc};
use domain::clock::ManualClock;
use store::{DatabaseUrl, Store};

pub mod sinks;

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The embedded default.
    Sqlite,
    /// The server database on 127.0.0.1:5432.
    Postgres,
}

/// The PostgreSQL server tests create their databases on
/// (`BIZENV_TEST_POSTGRES_URL`, default `postgres://postgres@127.0.0.1:5432/postgres`).
pub fn postgres_admin_url() -> String {
    std::env::var("BIZENV_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A fresh, empty database for one test; dropped with the guard.
pub struct TestDatabase {
    /// Its URL.
    pub url: DatabaseUrl,
    /// The data directory (always present: SQLite lives here, key files later too).
    pub data_dir: tempfile::TempDir,
    postgres_name: Option<String>,
}

impl TestDatabase {
    /// Creates a fresh database on `backend`.
    pub async fn create(backend: Backend) -> anyhow::Result<Self> {
        let data_dir = tempfile::tempdir().context("creating a temporary data directory")?;
        match backend {
            Backend::Sqlite => Ok(Self {
                url: DatabaseUrl::sqlite_in(data_dir.path()),
                data_dir,
                postgres_name: None,
            }),
            Backend::Postgres => {
                let name = format!("bizenv_test_{}", uuid::Uuid::now_v7().simple());
                let admin = postgres_admin_url();
                let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin)
                    .await
                    .with_context(|| {
                        format!("connecting to PostgreSQL at {admin} (is it running?)")
                    })?;
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut conn)
                    .await
                    .context("creating the test database")?;
                let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
                Ok(Self {
                    url: DatabaseUrl::new(format!("{base}/{name}")),
                    data_dir,
                    postgres_name: Some(name),
                })
            }
        }
    }

    /// The data directory's path.
    pub fn data_path(&self) -> &Path {
        self.data_dir.path()
    }

    /// A fresh copy of the demo district on `backend`: the template seeded once per test
    /// process (database, key files and audit heads alike), copied for each test — PostgreSQL
    /// by `CREATE DATABASE … TEMPLATE`, SQLite by copying the data directory.
    pub async fn demo_copy(backend: Backend) -> anyhow::Result<Self> {
        let template = demo_template(backend).await?;
        let data_dir = tempfile::tempdir().context("creating a temporary data directory")?;
        copy_dir(&template.dir, data_dir.path())?;
        match (&template.postgres_name, backend) {
            (None, Backend::Sqlite) => Ok(Self {
                url: DatabaseUrl::sqlite_in(data_dir.path()),
                data_dir,
                postgres_name: None,
            }),
            (Some(template), Backend::Postgres) => {
                let name = format!("bizenv_test_{}", uuid::Uuid::now_v7().simple());
                let admin = postgres_admin_url();
                let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin).await?;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "CREATE DATABASE {name} TEMPLATE {template}"
                )))
                .execute(&mut conn)
                .await
                .context("copying the demo template database")?;
                let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
                Ok(Self {
                    url: DatabaseUrl::new(format!("{base}/{name}")),
                    data_dir,
                    postgres_name: Some(name),
                })
            }
            _ => anyhow::bail!("a demo template of the wrong backend"),
        }
    }
}

/// The demo district seeded once per test process and backend, at [`default_now`].
struct DemoTemplate {
    dir: std::path::PathBuf,
    postgres_name: Option<String>,
}

static SQLITE_DEMO: tokio::sync::OnceCell<DemoTemplate> = tokio::sync::OnceCell::const_new();
static POSTGRES_DEMO: tokio::sync::OnceCell<DemoTemplate> = tokio::sync::OnceCell::const_new();

async fn demo_template(backend: Backend) -> anyhow::Result<&'static DemoTemplate> {
    let cell = match backend {
        Backend::Sqlite => &SQLITE_DEMO,
        Backend::Postgres => &POSTGRES_DEMO,
    };
    cell.get_or_try_init(|| seed_template(backend)).await
}

async fn seed_template(backend: Backend) -> anyhow::Result<DemoTemplate> {
    // kept for the process; the OS's temporary directory is cleaned as usual
    let dir = tempfile::Builder::new()
        .prefix("bizenv-demo-template-")
        .tempdir()
        .context("creating the demo template's directory")?
        .keep();
    let (url, postgres_name) = match backend {
        Backend::Sqlite => (DatabaseUrl::sqlite_in(&dir), None),
        Backend::Postgres => {
            let admin = postgres_admin_url();
            let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin)
                .await
                .with_context(|| format!("connecting to PostgreSQL at {admin} (is it running?)"))?;
            drop_stale_templates(&mut conn).await;
            let name = format!(
                "bizenv_tmpl_{}_{}",
                std::process::id(),
                uuid::Uuid::now_v7().simple()
            );
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut conn)
                .await
                .context("creating the demo template database")?;
            let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
            (DatabaseUrl::new(format!("{base}/{name}")), Some(name))
        }
    };
    let clock = Arc::new(ManualClock::new(default_now()));
    let store = Store::open(&url, &dir, clock)
        .await
        .context("opening the demo template")?;
    // a tenth of a year's cases and ratings: every test starts from a copy of it
    store
        .seed_demo_with(store::demo::DemoVolume::Tenth)
        .await
        .context("seeding the demo template")?;
    // no connection may stay open on a template database; SQLite checkpoints on close
    store.close().await;
    Ok(DemoTemplate { dir, postgres_name })
}

/// Drops the template databases of test processes that are no longer running.
async fn drop_stale_templates(conn: &mut sqlx::PgConnection) {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT datname FROM pg_database WHERE datname LIKE 'bizenv\\_tmpl\\_%'",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap_or_default();
    for name in names {
        let pid = name.split('_').nth(2).unwrap_or_default();
        if !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&mut *conn)
            .await;
        }
    }
}

/// Copies the files and folders of `from` into `to`.
fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            std::fs::create_dir_all(&target)?;
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some(name) = self.postgres_name.take() else {
            return;
        };
        // Drop runs outside any async context we may block; use a thread with its own runtime.
        let handle = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime to drop the test database");
            runtime.block_on(async move {
                let admin = postgres_admin_url();
                if let Ok(mut conn) =
                    <sqlx::PgConnection as sqlx::Connection>::connect(&admin).await
                {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&mut conn)
                    .await;
                }
            });
        });
        let _ = handle.join();
    }
}

/// The default instant of test clocks: Monday 2026-11-30 10:00 in Shanghai (a working day).
pub fn default_now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, 2, 0, 0).unwrap()
}

/// The instant of a Beijing wall-clock time written `YYYY-MM-DD HH:MM`.
pub fn at_local(text: &str) -> chrono::DateTime<Utc> {
    domain::calendar::shanghai()
        .from_local_datetime(
            &chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M")
                .expect("a time written YYYY-MM-DD HH:MM"),
        )
        .single()
        .expect("an unambiguous local time")
        .with_timezone(&Utc)
}

/// Builds a [`TestApp`].
pub struct TestAppBuilder {
    backend: Backend,
    demo: bool,
    trusted_proxies: Vec<std::net::IpAddr>,
    mail_relay: Option<store::delivery::MailRelay>,
}

impl TestAppBuilder {
    /// Sends mail through this relay (a [`sinks::MailSink`] on loopback).
    pub fn with_mail_relay(mut self, relay: store::delivery::MailRelay) -> Self {
        self.mail_relay = Some(relay);
        self
    }

    /// Seeds the demo district before serving.
    pub fn with_demo(mut self) -> Self {
        self.demo = true;
        self
    }

    /// Believes `X-Forwarded-For` from this reverse proxy.
    pub fn trusting(mut self, proxy: std::net::IpAddr) -> Self {
        self.trusted_proxies.push(proxy);
        self
    }

    /// Boots the app.
    pub async fn spawn(self) -> TestApp {
        // the demo district is seeded once per process and copied for each test
        let database = if self.demo {
            TestDatabase::demo_copy(self.backend)
                .await
                .expect("a copy of the demo district")
        } else {
            TestDatabase::create(self.backend)
                .await
                .expect("a fresh test database")
        };
        let clock = Arc::new(ManualClock::new(default_now()));
        let store = Store::open(&database.url, database.data_path(), clock.clone())
            .await
            .expect("opening the test store")
            .with_mail_relay(self.mail_relay.clone());
        let app = web::Application::build_with(
            "127.0.0.1:0".parse().unwrap(),
            store.clone(),
            self.trusted_proxies.clone(),
        )
        .await
        .expect("building the app")
        // tests move the clock and run the jobs themselves
        .without_background_jobs();
        let address = app.local_addr();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until(async move {
            let _ = stopped.await;
        }));
        TestApp {
            address,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("an HTTP client"),
            store,
            clock,
            backend: self.backend,
            stop: Some(stop),
            server: Some(server),
            database,
        }
    }
}

/// The real application, serving on a free port of 127.0.0.1.
pub struct TestApp {
    /// Where it listens.
    pub address: SocketAddr,
    /// A client that does not follow redirects.
    pub client: reqwest::Client,
    /// The store the app runs on (same database).
    pub store: Store,
    /// The clock the app reads; move it instead of sleeping.
    pub clock: Arc<ManualClock>,
    /// The database backend.
    pub backend: Backend,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    database: TestDatabase,
}

impl TestApp {
    /// Starts building an app on `backend`.
    pub fn builder(backend: Backend) -> TestAppBuilder {
        TestAppBuilder {
            backend,
            demo: false,
            trusted_proxies: Vec::new(),
            mail_relay: None,
        }
    }

    /// An app on `backend` with an empty database.
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::builder(backend).spawn().await
    }

    /// An app on `backend` with the demo district.
    pub async fn spawn_demo(backend: Backend) -> TestApp {
        Self::builder(backend).with_demo().spawn().await
    }

    /// The absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.address, path)
    }

    /// GET `path`.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("GET request")
    }

    /// GET `path` and read the JSON answer with its status.
    pub async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        let response = self.get(path).await;
        let status = response.status().as_u16();
        let body = response.json().await.expect("a JSON body");
        (status, body)
    }

    /// GET `path` and read the text answer with its status.
    pub async fn get_text(&self, path: &str) -> (u16, String) {
        let response = self.get(path).await;
        let status = response.status().as_u16();
        (status, response.text().await.expect("a text body"))
    }

    /// POST raw `body` with a JSON content type to `path`.
    pub async fn post_raw_json(
        &self,
        path: &str,
        body: impl Into<String>,
    ) -> (u16, serde_json::Value) {
        let response = self
            .client
            .post(self.url(path))
            .header("content-type", "application/json")
            .body(body.into())
            .send()
            .await
            .expect("POST request");
        let status = response.status().as_u16();
        (status, response.json().await.expect("a JSON body"))
    }

    /// The database URL, for running the binary against the same database.
    pub fn database_url(&self) -> &DatabaseUrl {
        &self.database.url
    }

    /// Runs SQL on the app's database behind the store's back (to play an attacker with
    /// database access, or to check what is stored).
    pub async fn sql(&self, sql: &str) {
        use sqlx::Connection;
        match self.backend {
            Backend::Sqlite => {
                let mut conn = sqlx::SqliteConnection::connect(self.database.url.expose())
                    .await
                    .expect("connecting to the test database");
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
                    .execute(&mut conn)
                    .await
                    .expect("running SQL");
            }
            Backend::Postgres => {
                let mut conn = sqlx::PgConnection::connect(self.database.url.expose())
                    .await
                    .expect("connecting to the test database");
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
                    .execute(&mut conn)
                    .await
                    .expect("running SQL");
            }
        }
    }

    /// Runs a query on the app's database behind the store's back; answers each row's
    /// columns as text (text and integer columns).
    pub async fn sql_rows(&self, sql: &str) -> Vec<Vec<String>> {
        use sqlx::{Connection, Row};
        fn cell<R: Row>(row: &R, i: usize) -> String
        where
            usize: sqlx::ColumnIndex<R>,
            for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
            for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
        {
            row.try_get::<String, _>(i)
                .or_else(|_| row.try_get::<i64, _>(i).map(|n| n.to_string()))
                .expect("a text or integer column")
        }
        let query = sqlx::AssertSqlSafe(sql.to_owned());
        match self.backend {
            Backend::Sqlite => {
                let mut conn = sqlx::SqliteConnection::connect(self.database.url.expose())
                    .await
                    .expect("connecting to the test database");
                let rows = sqlx::query(query)
                    .fetch_all(&mut conn)
                    .await
                    .expect("running SQL");
                rows.iter()
                    .map(|r| (0..r.len()).map(|i| cell(r, i)).collect())
                    .collect()
            }
            Backend::Postgres => {
                let mut conn = sqlx::PgConnection::connect(self.database.url.expose())
                    .await
                    .expect("connecting to the test database");
                let rows = sqlx::query(query)
                    .fetch_all(&mut conn)
                    .await
                    .expect("running SQL");
                rows.iter()
                    .map(|r| (0..r.len()).map(|i| cell(r, i)).collect())
                    .collect()
            }
        }
    }

    /// The data directory.
    pub fn data_dir(&self) -> PathBuf {
        self.database.data_path().to_path_buf()
    }

    /// Stops the server gracefully and closes the pool (the database is dropped after).
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.expect("server task").expect("server ran");
        }
        self.store.close().await;
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A signed-in user of a [`TestApp`]: its requests carry the session cookie, and unsafe ones
/// the CSRF token.
#[derive(Clone)]
pub struct TestUser {
    base: String,
    client: reqwest::Client,
    /// The session cookie's token.
    pub token: String,
    /// The session's CSRF token.
    pub csrf_token: String,
    /// The login answer.
    pub login: serde_json::Value,
}

impl TestUser {
    fn cookie(&self) -> String {
        format!("bizenv_session={}", self.token)
    }

    /// GET `path` as this user.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .header("cookie", self.cookie())
            .send()
            .await
            .expect("GET request")
    }

    /// GET `path` and read the JSON answer with its status.
    pub async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        let response = self.get(path).await;
        status_and_json(response).await
    }

    /// GET `path` and read the text answer with its status.
    pub async fn get_text(&self, path: &str) -> (u16, String) {
        let response = self.get(path).await;
        let status = response.status().as_u16();
        (status, response.text().await.expect("a text body"))
    }

    /// POST JSON as this user, with (`csrf` true) or without the CSRF header.
    pub async fn post_json(
        &self,
        path: &str,
        body: &serde_json::Value,
        csrf: bool,
    ) -> (u16, serde_json::Value) {
        let mut request = self
            .client
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie())
            .json(body);
        if csrf {
            request = request.header("x-csrf-token", &self.csrf_token);
        }
        let response = request.send().await.expect("POST request");
        status_and_json(response).await
    }

    /// POSTs a multipart form as this user (with the CSRF header): text fields, then one file
    /// field `file` named `file_name`. Answers status and body text.
    pub async fn post_multipart(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        file_name: &str,
        content: &[u8],
    ) -> (u16, String) {
        let boundary = "bizenv-test-boundary-7f3a";
        let mut body = Vec::new();
        for (name, value) in fields {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                    .as_bytes(),
            );
        }
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
                 Content-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(content);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie())
            .header("x-csrf-token", &self.csrf_token)
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
            .await
            .expect("POST request");
        let status = response.status().as_u16();
        (status, response.text().await.unwrap_or_default())
    }

    /// POSTs a raw body of `content_type` (a file to an import API) with the CSRF header; the
    /// answer as JSON (null when it is not).
    pub async fn post_body(
        &self,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> (u16, serde_json::Value) {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie())
            .header("x-csrf-token", &self.csrf_token)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("POST request");
        status_and_json(response).await
    }

    /// The id of the unit with `code`, as this user's unit list shows it.
    pub async fn unit_id(&self, code: &str) -> String {
        let mut page = 1;
        loop {
            let (_, body) = self
                .get_json(&format!("/api/v1/units?per_page=200&page={page}"))
                .await;
            let items = body["items"].as_array().expect("a unit list");
            assert!(!items.is_empty(), "no unit {code}");
            if let Some(unit) = items.iter().find(|u| u["code"] == code) {
                return unit["id"].as_str().expect("an id").to_owned();
            }
            page += 1;
        }
    }

    /// Sends JSON with `method` (POST, PUT, PATCH) as this user, with the CSRF header.
    pub async fn send_json(
        &self,
        method: &str,
        path: &str,
        body: serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let url = format!("{}{path}", self.base);
        let request = match method {
            "PUT" => self.client.put(url),
            "PATCH" => self.client.patch(url),
            "POST" => self.client.post(url),
            other => panic!("send_json does not send {other}"),
        };
        let response = request
            .header("cookie", self.cookie())
            .header("x-csrf-token", &self.csrf_token)
            .json(&body)
            .send()
            .await
            .expect("request");
        status_and_json(response).await
    }

    /// POST a form as this user (the caller puts `csrf_token` in the fields if wanted).
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let body = fields
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        self.client
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .expect("POST request")
    }
}

/// Percent-encodes a form value.
pub fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl TestApp {
    /// Signs in through the API; panics if the login fails.
    pub async fn login(&self, username: &str, password: &str) -> TestUser {
        let (status, body) = self.try_login(username, password).await;
        assert_eq!(status, 200, "login of {username}: {body}");
        let token = body["__token"]
            .as_str()
            .expect("a session cookie")
            .to_owned();
        TestUser {
            base: format!("http://{}", self.address),
            client: self.client.clone(),
            token,
            csrf_token: body["csrf_token"].as_str().unwrap().to_owned(),
            login: body,
        }
    }

    /// Signs in as a demo account (the app must have been spawned with the demo).
    pub async fn demo_user(&self, username: &str) -> TestUser {
        self.login(username, store::demo::DEMO_PASSWORD).await
    }

    /// Tries to sign in; the answer's JSON gets the session token as `__token` when set.
    pub async fn try_login(&self, username: &str, password: &str) -> (u16, serde_json::Value) {
        let response = self
            .client
            .post(self.url("/api/v1/auth/login"))
            .json(&serde_json::json!({"username": username, "password": password}))
            .send()
            .await
            .expect("login request");
        let status = response.status().as_u16();
        let token = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.strip_prefix("bizenv_session="))
            .map(|v| v.split(';').next().unwrap_or_default().to_owned());
        let mut body: serde_json::Value = response.json().await.unwrap_or(serde_json::Value::Null);
        if let Some(token) = token {
            body["__token"] = serde_json::Value::String(token);
        }
        (status, body)
    }
}

/// One `#[tokio::test]` per backend for each `async fn name(backend: Backend)` named.
#[macro_export]
macro_rules! db_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::Backend::Postgres).await
                }
            )*
        }
    };
}

/// A response's status and its JSON body (`Null` when the body is not JSON).
async fn status_and_json(response: reqwest::Response) -> (u16, serde_json::Value) {
    let status = response.status().as_u16();
    (
        status,
        response.json().await.unwrap_or(serde_json::Value::Null),
    )
}
