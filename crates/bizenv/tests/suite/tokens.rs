//! Bearer tokens for systems: created by the CLI (shown once), used without CSRF, refused
//! once expired or revoked.

use chrono::Duration;
use test_support::{Backend, TestApp, db_tests};

use crate::bizenv;

db_tests!(
    a_token_acts_with_its_roles_until_it_expires,
    a_revoked_token_is_refused,
    tokens_keep_the_administrators_apart,
);

async fn get_with(app: &TestApp, token: &str, path: &str) -> (u16, serde_json::Value) {
    let response = app
        .client
        .get(app.url(path))
        .header("authorization", format!("Bearer {token}"))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

fn add(app: &TestApp, args: &[&str]) -> std::process::Output {
    let mut full = vec!["token", "add"];
    full.extend_from_slice(args);
    bizenv(app, &full)
}

fn secret(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_owned()
}

async fn a_token_acts_with_its_roles_until_it_expires(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    // the test clock stands at 2026-11-30 10:00 Shanghai
    let token = secret(&add(
        &app,
        &[
            "--name",
            "省平台",
            "--role",
            "leader",
            "--expires",
            "2026-12-31",
        ],
    ));
    assert!(token.starts_with("bzt_") && token.len() > 60, "{token}");
    let (status, body) = get_with(&app, &token, "/api/v1/units?per_page=1").await;
    assert_eq!(status, 200, "{body}");
    let (status, me) = get_with(&app, &token, "/api/v1/auth/me").await;
    assert_eq!(status, 200);
    assert_eq!(me["roles"], serde_json::json!(["leader"]));

    let list = bizenv(&app, &["token", "list"]);
    let listed = String::from_utf8_lossy(&list.stdout);
    assert!(
        listed.contains("省平台") && listed.contains("有效至 2026-12-31 00:00"),
        "{listed}"
    );
    assert!(!listed.contains(&token), "the token itself is never listed");

    app.clock.advance(Duration::days(31));
    let (status, body) = get_with(&app, &token, "/api/v1/units").await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "invalid_token");
    assert_eq!(body["error"]["message"], "令牌已过期");
    let (status, _) = get_with(&app, "bzt_forged", "/api/v1/units").await;
    assert_eq!(status, 401);
    // an unknown token is not kept (random ones must not crowd out what is): read each time
    let loads = app.store.kept_read_loads();
    let (status, _) = get_with(&app, "bzt_forged", "/api/v1/units").await;
    assert_eq!(status, 401);
    assert_eq!(app.store.kept_read_loads(), loads + 1);
}

async fn a_revoked_token_is_refused(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let token = secret(&add(&app, &["--name", "12345热线", "--role", "auditor"]));
    let (status, _) = get_with(&app, &token, "/api/v1/audit/entries").await;
    assert_eq!(status, 200);
    let (status, _) = get_with(&app, &token, "/api/v1/units").await;
    assert_eq!(
        status, 404,
        "an auditor token does not see the organisation"
    );
    let out = bizenv(&app, &["token", "revoke", "--name", "12345热线"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (status, body) = get_with(&app, &token, "/api/v1/audit/entries").await;
    assert_eq!(
        (status, body["error"]["message"].as_str()),
        (401, Some("令牌已吊销"))
    );
    let again = bizenv(&app, &["token", "revoke", "--name", "12345热线"]);
    assert!(!again.status.success());
    let tenant = app.store.tenant_by_code("370104").await.unwrap().unwrap();
    let entries = app.store.audit_entries(&tenant.id, 2).await.unwrap();
    assert_eq!(
        (entries[0].entity.as_str(), entries[0].action.as_str()),
        ("api_token", "revoke")
    );
    assert!(
        !entries.iter().any(|e| e.changes.contains(&token)),
        "the token is never audited"
    );
}

async fn tokens_keep_the_administrators_apart(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    for (args, reason) in [
        (
            vec!["--name", "x", "--role", "sysadmin", "--role", "auditor"],
            "三员分立",
        ),
        (
            vec!["--name", "x", "--role", "window_staff"],
            "不能持有需绑定单位",
        ),
        (
            vec!["--name", "x", "--role", "leader", "--expires", "2026-11-01"],
            "到期时间须晚于现在",
        ),
        (
            vec!["--name", "x", "--role", "leader", "--expires", "soon"],
            "应为 YYYY-MM-DD",
        ),
    ] {
        let out = add(&app, &args);
        assert!(!out.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(reason), "{args:?}: {stderr}");
    }
    secret(&add(&app, &["--name", "dup", "--role", "observer"]));
    let dup = add(&app, &["--name", "dup", "--role", "observer"]);
    assert!(String::from_utf8_lossy(&dup.stderr).contains("已存在"));
}
