//! The binary itself: migrate, serve with the demo, logs, graceful shutdown, errors.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use test_support::{Backend, TestApp, db_tests};

use crate::bizenv;

db_tests!(
    migrate_creates_the_database_and_tenant_add_adds_a_tenant,
    the_card_benchmark_runs_through_the_product_code,
    the_appeal_benchmark_runs_through_the_product_code,
    the_rating_benchmark_runs_through_the_product_code,
    the_http_rating_benchmark_runs_under_wrk,
);

/// `bizenv bench ratings-http` serves the product and loads it with wrk: a one-second run per
/// connection count on both databases, every acknowledged rating stored, totals = recount.
async fn the_http_rating_benchmark_runs_under_wrk(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let url = app.database_url().expose().to_owned();
    let mut args = vec![
        "bench",
        "ratings-http",
        "--seconds",
        "1",
        "--connections",
        "4,16",
    ];
    if matches!(backend, Backend::Postgres) {
        args.extend(["--scratch-database-url", url.as_str()]);
    }
    let out = bizenv(&app, &args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for line in [
        "4 个连接：",
        "16 个连接：",
        "非 2xx 0 条",
        "累计值与重算一致",
    ] {
        assert!(stdout.contains(line), "{line}: {stdout}");
    }
}

/// `bizenv bench ratings` stores ratings one by one, loads more in bulk, reads the dashboard's
/// totals and checks them against a recount: a small run on both databases.
async fn the_rating_benchmark_runs_through_the_product_code(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let url = app.database_url().expose().to_owned();
    let mut args = vec![
        "bench",
        "ratings",
        "--ratings",
        "300",
        "--intake",
        "10",
        "--queries",
        "3",
    ];
    if matches!(backend, Backend::Postgres) {
        args.extend(["--scratch-database-url", url.as_str()]);
    }
    let out = bizenv(&app, &args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut lines = vec![
        "逐条评价（",
        "批量写入至 300 条",
        "统计页读取（单个单位，300 条评价）",
        "累计值与逐条重算一致",
    ];
    if matches!(backend, Backend::Sqlite) {
        lines.push("参照：同一磁盘上逐行插入");
    }
    for line in lines {
        assert!(stdout.contains(line), "{line}: {stdout}");
    }
}

/// `bizenv bench appeals` receives appeals one by one, loads more in bulk and reads one
/// unit's queue: a small run on both databases.
async fn the_appeal_benchmark_runs_through_the_product_code(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let url = app.database_url().expose().to_owned();
    let mut args = vec![
        "bench",
        "appeals",
        "--appeals",
        "400",
        "--open",
        "120",
        "--intake",
        "10",
        "--queries",
        "5",
        "--seconds",
        "1",
        "--connections",
        "4",
    ];
    if matches!(backend, Backend::Postgres) {
        args.extend(["--scratch-database-url", url.as_str()]);
    }
    let out = bizenv(&app, &args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for line in [
        "逐件受理",
        "批量写入 400 件诉求",
        "单位待办首页（最新 50 件未办结，共 120 件",
        "单位待办页面（HTML，最新 50 件未办结） 4 个连接：",
        "公众提交诉求（接口，逐件事务） 4 个连接：",
    ] {
        assert!(stdout.contains(line), "{line}: {stdout}");
    }
    for line in stdout.lines().filter(|l| l.contains("个连接")) {
        assert!(
            line.contains("非 2xx 0 次"),
            "every request answered: {line}"
        );
    }
}

/// `bizenv bench cards` seeds deadlines through the store's bulk open and sweeps them: a
/// small run proves it works on both databases (its figures are for docs/BENCHMARKS.md).
async fn the_card_benchmark_runs_through_the_product_code(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let url = app.database_url().expose().to_owned();
    let mut args = vec!["bench", "cards", "--deadlines", "300"];
    if matches!(backend, Backend::Postgres) {
        args.extend(["--scratch-database-url", url.as_str()]);
    }
    let out = bizenv(&app, &args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for line in [
        "写入 300 个时限",
        "首次巡检",
        "一分钟后的增量巡检",
        "无变化的巡检：黄牌 0，红牌 0",
        "参照：逐个重算全部 300 个时限",
    ] {
        assert!(stdout.contains(line), "{line}: {stdout}");
    }
    if matches!(backend, Backend::Postgres) {
        let rows = app
            .sql_rows("SELECT COUNT(*) FROM deadline WHERE record_type = 'bench'")
            .await;
        assert_eq!(rows, [vec!["300".to_owned()]]);
    }
}

/// A served binary that is killed if the test fails before stopping it.
pub(crate) struct Served(pub(crate) std::process::Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl std::ops::Deref for Served {
    type Target = std::process::Child;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::ops::DerefMut for Served {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_bizenv"));
    c.env_remove("BIZENV_DATABASE_URL")
        .env_remove("BIZENV_CONFIG")
        .env_remove("BIZENV_DATA_DIR");
    c
}

async fn migrate_creates_the_database_and_tenant_add_adds_a_tenant(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let out = bizenv(&app, &["migrate"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !stdout.contains("postgres://postgres:"),
        "no password printed: {stdout}"
    );

    let out = bizenv(
        &app,
        &["tenant", "add", "--code", "370104", "--name", "槐荫区"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tenant = app.store.tenant_by_code("370104").await.unwrap().unwrap();
    assert_eq!(tenant.name, "槐荫区");
    let entries = app.store.audit_entries(&tenant.id, 5).await.unwrap();
    assert!(entries[0].actor.starts_with("cli:"));

    let again = bizenv(
        &app,
        &["tenant", "add", "--code", "370104", "--name", "槐荫区"],
    );
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("已存在"));
    let bad = bizenv(&app, &["tenant", "add", "--code", "3701", "--name", "x"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("6 位数字"));
}

#[test]
fn serve_demo_from_an_empty_data_directory_then_stop_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = bin()
        .args([
            "serve",
            "--demo",
            "--demo-volume",
            "tenth",
            "--bind",
            "127.0.0.1:0",
            "--log-format",
            "json",
        ])
        .arg("--data-dir")
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map(Served)
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let url = line
        .trim()
        .split_once("http://")
        .map(|(_, rest)| format!("http://{rest}"))
        .unwrap_or_else(|| panic!("no address in {line:?}"));
    assert!(dir.path().join("bizenv.db").exists());
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("demo-manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["tenant_code"], "370104");
    assert_eq!(manifest["units"]["street"], 16);
    let printed: String = {
        let mut rest = String::new();
        for _ in 0..13 {
            let mut l = String::new();
            stdout.read_line(&mut l).unwrap();
            rest.push_str(&l);
        }
        rest
    };
    assert!(
        printed.contains(store::demo::DEMO_PASSWORD),
        "demo passwords are printed: {printed}"
    );
    assert!(printed.contains("supervisor"), "{printed}");

    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let client = reqwest::Client::new();
        let health = client.get(format!("{url}healthz")).send().await.unwrap();
        assert_eq!(health.status(), 200);
        let login = client
            .post(format!("{url}api/v1/auth/login"))
            .json(
                &serde_json::json!({"username": "leader", "password": store::demo::DEMO_PASSWORD}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(login.status(), 200);
        let cookie = login.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let units = client
            .get(format!("{url}units"))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap();
        assert!(units.text().await.unwrap().contains("振兴街街道"));
    });

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut waited = 0;
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            waited < 100,
            "the server did not stop within 10 s of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(100));
        waited += 1;
    };
    assert!(exit.success(), "graceful shutdown exits 0: {exit:?}");
    let mut logs = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut logs).unwrap();
    let lines: Vec<&str> = logs.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!lines.is_empty());
    for l in &lines {
        let v: serde_json::Value =
            serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}"));
        assert!(v["level"].is_string());
    }
    assert!(logs.contains("shutting down"));

    // a second start finds the demo in place and seeds nothing
    let out = bin()
        .args(["migrate", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
}

#[test]
fn a_database_that_cannot_be_reached_is_a_clear_error() {
    let out = bin()
        .args([
            "migrate",
            "--database-url",
            "postgres://nobody:secret@127.0.0.1:1/none",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("错误"), "{stderr}");
    assert!(stderr.contains("127.0.0.1:1"), "{stderr}");
    assert!(
        !stderr.contains("secret"),
        "the password never shows: {stderr}"
    );
}

#[test]
fn global_options_may_stand_before_or_after_the_command() {
    let dir = tempfile::tempdir().unwrap();
    let before = bin()
        .arg("--data-dir")
        .arg(dir.path())
        .arg("migrate")
        .output()
        .unwrap();
    assert!(
        before.status.success(),
        "{}",
        String::from_utf8_lossy(&before.stderr)
    );
    let other = tempfile::tempdir().unwrap();
    let after = bin()
        .arg("migrate")
        .arg("--data-dir")
        .arg(other.path())
        .output()
        .unwrap();
    assert!(after.status.success());
    assert!(other.path().join("bizenv.db").exists());
}

#[test]
fn a_phone_never_reaches_the_logs_even_at_debug_level() {
    const CANARY: &str = "13987654321";
    let dir = tempfile::tempdir().unwrap();
    let mut child = bin()
        .args([
            "serve",
            "--demo",
            "--demo-volume",
            "tenth",
            "--bind",
            "127.0.0.1:0",
            "--log-format",
            "json",
        ])
        .arg("--data-dir")
        .arg(dir.path())
        .env("RUST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map(Served)
        .unwrap();
    // drain stderr from the start, or the server blocks on a full pipe of debug logs
    let mut stderr = child.stderr.take().unwrap();
    let logs = std::thread::spawn(move || {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut text).unwrap();
        text
    });
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let url = line
        .trim()
        .split_once("http://")
        .map(|(_, rest)| format!("http://{rest}"))
        .unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let client = reqwest::Client::new();
        let login = client
            .post(format!("{url}api/v1/auth/login"))
            .json(&serde_json::json!({"username": "admin", "password": store::demo::DEMO_PASSWORD}))
            .send()
            .await
            .unwrap();
        let cookie = login.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
        let body: serde_json::Value = login.json().await.unwrap();
        let csrf = body["csrf_token"].as_str().unwrap().to_owned();
        let units: serde_json::Value = client
            .get(format!("{url}api/v1/units?kind=street&per_page=1"))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let unit = units["items"][0]["id"].as_str().unwrap();
        let created = client
            .post(format!("{url}api/v1/staff"))
            .header("cookie", &cookie)
            .header("x-csrf-token", &csrf)
            .json(&serde_json::json!({"name": "金丝雀", "unit_id": unit, "position": "科员", "phone": CANARY}))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201);
        let staff: serde_json::Value = created.json().await.unwrap();
        let id = staff["id"].as_str().unwrap();
        for path in [format!("api/v1/staff?phone={CANARY}"), format!("api/v1/staff/{id}/phone"), format!("staff?phone={CANARY}")] {
            let response = client.get(format!("{url}{path}")).header("cookie", &cookie).send().await.unwrap();
            assert_eq!(response.status(), 200, "{path}");
        }
        let bad = client
            .post(format!("{url}api/v1/staff"))
            .header("cookie", &cookie)
            .header("x-csrf-token", &csrf)
            .json(&serde_json::json!({"name": "坏号", "unit_id": unit, "position": "科员", "phone": "1398765432x"}))
            .send()
            .await
            .unwrap();
        assert_eq!(bad.status(), 422);
    });
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    child.wait().unwrap();
    let logs = logs.join().unwrap();
    assert!(logs.contains("\"level\":\"DEBUG\""), "debug logging was on");
    assert!(logs.contains("/api/v1/staff"), "requests were logged");
    assert!(!logs.contains(CANARY), "the phone reached the logs");
    assert!(
        !logs.contains("1398765432x"),
        "a refused phone reached the logs"
    );
}

#[test]
fn keys_may_be_kept_outside_the_data_directory() {
    let data = tempfile::tempdir().unwrap();
    let vault = tempfile::tempdir().unwrap();
    let first = bin()
        .arg("migrate")
        .arg("--data-dir")
        .arg(data.path())
        .output()
        .unwrap();
    assert!(first.status.success());
    let kept = vault.path().join("bizenv.keys");
    std::fs::rename(data.path().join("bizenv.keys"), &kept).unwrap();
    let with_keys = |args: &[&str]| {
        bin()
            .args(args)
            .arg("--data-dir")
            .arg(data.path())
            .arg("--key-file")
            .arg(&kept)
            .output()
            .unwrap()
    };
    let added = with_keys(&["tenant", "add", "--code", "370104", "--name", "槐荫区"]);
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let verified = with_keys(&["audit", "verify"]);
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stdout)
    );
    assert!(
        !data.path().join("bizenv.keys").exists(),
        "no second key file was made"
    );
    // without the kept keys, a fresh key file cannot verify the chain
    let wrong = bin()
        .args(["audit", "verify"])
        .arg("--data-dir")
        .arg(data.path())
        .output()
        .unwrap();
    assert!(
        !wrong.status.success(),
        "other keys do not verify the chain"
    );
    let missing = bin()
        .args(["migrate", "--key-file", "/nonexistent/bizenv.keys"])
        .arg("--data-dir")
        .arg(data.path())
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/nonexistent/bizenv.keys"));
}
