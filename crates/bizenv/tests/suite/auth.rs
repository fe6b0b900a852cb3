//! Accounts and sign-in: the login API and page, sessions, CSRF, the lifecycle rules with the
//! injectable clock, 三员分立 and scopes at account creation, and what roles may see.

use chrono::Duration;
use serde_json::json;
use test_support::{Backend, TestApp, db_tests};

use crate::{bizenv, bizenv_with_input};

db_tests!(
    a_login_answers_the_user_roles_and_a_csrf_token,
    an_unknown_user_and_a_wrong_password_get_the_same_answer,
    five_failures_lock_the_account_for_fifteen_minutes,
    an_idle_session_ends_after_thirty_minutes,
    at_most_three_sessions_live_at_once,
    a_password_set_by_an_administrator_must_be_changed_first,
    an_expired_password_must_be_changed,
    unsafe_requests_of_a_session_need_its_csrf_token,
    accounts_keep_the_three_administrators_apart_and_check_scopes,
    roles_that_may_not_read_the_organisation_get_404,
    the_login_page_signs_in_and_out,
    secadmin_sets_the_password_and_session_policy,
    the_client_address_comes_from_a_trusted_proxy_only,
);

const PASSWORD: &str = store::demo::DEMO_PASSWORD;

async fn a_login_answers_the_user_roles_and_a_csrf_token(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let user = app.demo_user("window").await;
    assert_eq!(user.login["roles"], json!(["window_staff"]));
    assert_eq!(user.login["must_change_password"], false);
    assert_eq!(user.login["user"]["username"], "window");
    assert!(
        user.login["user"]["unit_id"].is_string(),
        "bound to its window"
    );
    assert_eq!(user.csrf_token.len(), 64);
    let (status, me) = user.get_json("/api/v1/auth/me").await;
    assert_eq!(status, 200);
    assert_eq!(me["csrf_token"], user.csrf_token);
    assert!(me.get("password_hash").is_none() && !me.to_string().contains("argon2"));

    let (status, _) = user
        .post_json("/api/v1/auth/logout", &json!({}), true)
        .await;
    assert_eq!(status, 204);
    let (status, body) = user.get_json("/api/v1/auth/me").await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "unauthenticated");
}

async fn an_unknown_user_and_a_wrong_password_get_the_same_answer(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let (s1, unknown) = app.try_login("nobody", PASSWORD).await;
    let (s2, wrong) = app.try_login("leader", "Wrong@2026").await;
    assert_eq!((s1, s2), (401, 401));
    assert_eq!(unknown, wrong);
    assert_eq!(wrong["error"]["message"], "用户名或密码错误");
    let (status, _) = app.try_login("leader", PASSWORD).await;
    assert_eq!(status, 200);
    let (status, body) = app
        .post_raw_json("/api/v1/auth/login", "{\"username\":")
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("malformed_json"))
    );

    let tenant = app.store.tenant_by_code("370104").await.unwrap().unwrap();
    let log = app.store.login_log(&tenant.id, 10).await.unwrap();
    let outcomes: Vec<(&str, &str)> = log
        .iter()
        .map(|(_, u, o)| (u.as_str(), o.as_str()))
        .collect();
    assert_eq!(outcomes, [("leader", "success"), ("leader", "failure")]);
}

async fn five_failures_lock_the_account_for_fifteen_minutes(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    for _ in 0..4 {
        assert_eq!(app.try_login("supervisor", "Wrong@2026").await.0, 401);
    }
    let (status, body) = app.try_login("supervisor", "Wrong@2026").await;
    assert_eq!(status, 423, "the fifth failure locks: {body}");
    assert_eq!(body["error"]["code"], "account_locked");
    let (status, _) = app.try_login("supervisor", PASSWORD).await;
    assert_eq!(
        status, 423,
        "the right password does not open a locked account"
    );

    app.clock.advance(Duration::minutes(14));
    assert_eq!(app.try_login("supervisor", PASSWORD).await.0, 423);
    app.clock.advance(Duration::minutes(1));
    assert_eq!(
        app.try_login("supervisor", PASSWORD).await.0,
        200,
        "after 15 minutes"
    );

    // a success resets the count: four more failures do not lock
    for _ in 0..4 {
        assert_eq!(app.try_login("supervisor", "Wrong@2026").await.0, 401);
    }
    assert_eq!(app.try_login("supervisor", PASSWORD).await.0, 200);

    // sysadmin's unlock (CLI) ends a lock at once
    for _ in 0..5 {
        app.try_login("inspector", "Wrong@2026").await;
    }
    assert_eq!(app.try_login("inspector", PASSWORD).await.0, 423);
    let out = bizenv(&app, &["user", "unlock", "--username", "inspector"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(app.try_login("inspector", PASSWORD).await.0, 200);
    let tenant = app.store.tenant_by_code("370104").await.unwrap().unwrap();
    let log = app.store.login_log(&tenant.id, 20).await.unwrap();
    assert!(
        log.iter()
            .any(|(_, u, o)| u == "inspector" && o == "lockout")
    );
    let audit = app.store.audit_entries(&tenant.id, 5).await.unwrap();
    assert_eq!(audit[0].action, "unlock");
}

async fn an_idle_session_ends_after_thirty_minutes(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let user = app.demo_user("leader").await;
    app.clock.advance(Duration::minutes(29));
    assert_eq!(
        user.get_json("/api/v1/auth/me").await.0,
        200,
        "used at 29 minutes"
    );
    app.clock.advance(Duration::minutes(29));
    assert_eq!(
        user.get_json("/api/v1/auth/me").await.0,
        200,
        "idle time counts from last use"
    );
    app.clock.advance(Duration::minutes(30));
    assert_eq!(
        user.get_json("/api/v1/auth/me").await.0,
        401,
        "30 idle minutes end it"
    );
}

async fn at_most_three_sessions_live_at_once(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let first = app.demo_user("observer").await;
    app.clock.advance(Duration::seconds(1));
    let second = app.demo_user("observer").await;
    app.clock.advance(Duration::seconds(1));
    let third = app.demo_user("observer").await;
    app.clock.advance(Duration::seconds(1));
    let fourth = app.demo_user("observer").await;
    assert_eq!(
        first.get_json("/api/v1/auth/me").await.0,
        401,
        "the oldest session ended"
    );
    for live in [&second, &third, &fourth] {
        assert_eq!(live.get_json("/api/v1/auth/me").await.0, 200);
    }
    let account = app
        .store
        .account_by_username("observer")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(app.store.session_count(&account).await.unwrap(), 3);
}

async fn a_password_set_by_an_administrator_must_be_changed_first(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let out = bizenv_with_input(
        &app,
        &[
            "user",
            "add",
            "--username",
            "zhangsan",
            "--name",
            "张三",
            "--role",
            "unit_admin",
            "--unit",
            "370104002",
        ],
        "First@2026\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let user = app.login("zhangsan", "First@2026").await;
    assert_eq!(user.login["must_change_password"], true);
    let (status, body) = user.get_json("/api/v1/units").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("must_change_password"))
    );
    let page = user.get("/units").await;
    assert_eq!(page.status(), 303);
    assert_eq!(page.headers()["location"], "/password");

    let (status, body) = user
        .post_json(
            "/api/v1/auth/password",
            &json!({"current_password": "First@2026", "new_password": "short"}),
            true,
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"]["fields"]["new_password"]
            .as_str()
            .unwrap()
            .contains("至少 8 位")
    );
    let (status, _) = user
        .post_json(
            "/api/v1/auth/password",
            &json!({"current_password": "First@2026", "new_password": "First@2026"}),
            true,
        )
        .await;
    assert_eq!(status, 422, "the same password again is refused");
    let (status, _) = user
        .post_json(
            "/api/v1/auth/password",
            &json!({"current_password": "First@2026", "new_password": "Second#2026"}),
            true,
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(user.get_json("/api/v1/units").await.0, 200);

    // reset by the CLI: a new password that must again be changed
    let out = bizenv_with_input(
        &app,
        &["user", "reset-password", "--username", "zhangsan"],
        "Third$2026\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // the server keeps accounts between requests; a change by another process (the CLI)
    // still reaches the open session at its next request
    assert_eq!(
        user.get_json("/api/v1/units").await.0,
        403,
        "the open session must now change its password"
    );
    assert_eq!(app.try_login("zhangsan", "Second#2026").await.0, 401);
    let again = app.login("zhangsan", "Third$2026").await;
    assert_eq!(again.login["must_change_password"], true);
    let weak = bizenv_with_input(
        &app,
        &["user", "reset-password", "--username", "zhangsan"],
        "abc\n",
    );
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("至少 8 位"));
}

async fn an_expired_password_must_be_changed(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    app.clock.advance(Duration::days(90));
    let user = app.demo_user("leader").await;
    assert_eq!(user.login["must_change_password"], true, "90 days old");
    assert_eq!(user.get_json("/api/v1/units").await.0, 403);
}

async fn unsafe_requests_of_a_session_need_its_csrf_token(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let user = app.demo_user("leader").await;
    let (status, body) = user
        .post_json("/api/v1/auth/logout", &json!({}), false)
        .await;
    assert_eq!(status, 403);
    assert_eq!(body["error"]["code"], "csrf_failed");
    let response = user.post_form("/logout", &[("csrf_token", "forged")]).await;
    assert_eq!(response.status(), 403);
    assert!(response.text().await.unwrap().contains("安全令牌"));
    assert_eq!(
        user.get_json("/api/v1/auth/me").await.0,
        200,
        "still signed in"
    );
    let csrf = user.csrf_token.clone();
    let response = user.post_form("/logout", &[("csrf_token", &csrf)]).await;
    assert_eq!(response.status(), 303);
    assert_eq!(user.get_json("/api/v1/auth/me").await.0, 401);
}

async fn accounts_keep_the_three_administrators_apart_and_check_scopes(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    for (args, reason) in [
        (vec!["--role", "sysadmin", "--role", "secadmin"], "三员分立"),
        (
            vec!["--role", "auditor", "--role", "leader"],
            "不能与业务角色",
        ),
        (
            vec!["--role", "enterprise", "--uscc", "91370104MA3C5T8R16"],
            "统一社会信用代码无效",
        ),
        (
            vec!["--role", "unit_admin", "--unit", "NOPE"],
            "单位 NOPE 不存在",
        ),
        (vec!["--role", "unit_admin"], "须指定所属单位"),
        (
            vec!["--role", "window_staff", "--unit", "SPJ"],
            "须绑定到窗口",
        ),
        (vec!["--role", "bureaucrat"], "bureaucrat"),
        (
            vec!["--role", "leader", "--tenant", "110101"],
            "地区 110101 不存在",
        ),
    ] {
        let mut full = vec!["user", "add", "--username", "newbie"];
        full.extend(args.iter().copied());
        let out = bizenv_with_input(&app, &full, "Good@2026x\n");
        assert!(!out.status.success(), "{full:?} should be refused");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(reason), "{full:?}: {stderr}");
    }
    assert!(
        app.store
            .account_by_username("newbie")
            .await
            .unwrap()
            .is_none(),
        "nothing written"
    );
    let duplicate = bizenv_with_input(
        &app,
        &["user", "add", "--username", "leader", "--role", "leader"],
        "Good@2026x\n",
    );
    assert!(String::from_utf8_lossy(&duplicate.stderr).contains("已被使用"));
    let ok = bizenv_with_input(
        &app,
        &[
            "user",
            "add",
            "--username",
            "qiye2",
            "--role",
            "enterprise",
            "--uscc",
            "91370104ma3c5t8r15",
        ],
        "Good@2026x\n",
    );
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let account = app
        .store
        .account_by_username("qiye2")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(account.uscc.as_deref(), Some("91370104MA3C5T8R15"));
}

async fn roles_that_may_not_read_the_organisation_get_404(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let (_, list) = app
        .demo_user("leader")
        .await
        .get_json("/api/v1/units?per_page=1")
        .await;
    let id = list["items"][0]["id"].as_str().unwrap().to_owned();
    for username in ["auditor", "enterprise"] {
        let user = app.demo_user(username).await;
        for path in ["/api/v1/units".to_owned(), format!("/api/v1/units/{id}")] {
            let (status, body) = user.get_json(&path).await;
            assert_eq!(status, 404, "{username} {path}: {body}");
            assert!(!body.to_string().contains(&id), "not even the id shows");
        }
        for page in ["/units".to_owned(), format!("/units/{id}")] {
            assert_eq!(user.get(&page).await.status(), 404, "{username} {page}");
        }
    }
    for username in [
        "admin",
        "secadmin",
        "leader",
        "supervisor",
        "inspector",
        "unitadmin",
        "street",
        "window",
        "observer",
    ] {
        let user = app.demo_user(username).await;
        assert_eq!(user.get_json("/api/v1/units").await.0, 200, "{username}");
    }
    let anonymous = app.get("/units/list?kind=street").await;
    assert_eq!(anonymous.status(), 303);
    assert_eq!(
        anonymous.headers()["location"],
        "/login?next=%2Funits%2Flist%3Fkind%3Dstreet"
    );
}

async fn the_login_page_signs_in_and_out(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let (status, page) = app.get_text("/login").await;
    assert_eq!(status, 200);
    assert!(page.contains("用户名") && page.contains("密码"));
    let form = |user: &str, pass: &str| {
        format!(
            "username={user}&password={}&next=%2Funits",
            test_support::encode(pass)
        )
    };
    let wrong = app
        .client
        .post(app.url("/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form("leader", "nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let html = wrong.text().await.unwrap();
    assert!(html.contains("用户名或密码错误"));
    assert!(
        html.contains("value=\"leader\""),
        "the username stays in the form"
    );
    let right = app
        .client
        .post(app.url("/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form("leader", PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 303);
    assert_eq!(right.headers()["location"], "/units");
    let cookie = right.headers()["set-cookie"].to_str().unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let evil = app
        .client
        .post(app.url("/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("username=leader&password=Demo%402026&next=https%3A%2F%2Fevil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(evil.headers()["location"], "/", "no open redirect");
}

async fn secadmin_sets_the_password_and_session_policy(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let secadmin = app.demo_user("secadmin").await;
    let (status, policy) = secadmin.get_json("/api/v1/settings/password-policy").await;
    assert_eq!(status, 200);
    assert_eq!(
        policy,
        json!({"min_length": 8, "min_classes": 3, "max_age_days": 90, "max_failures": 5,
               "lockout_minutes": 15, "idle_minutes": 30, "max_sessions": 3})
    );
    let put = |body: serde_json::Value| {
        let request = app
            .client
            .put(app.url("/api/v1/settings/password-policy"))
            .header("cookie", format!("bizenv_session={}", secadmin.token))
            .header("x-csrf-token", &secadmin.csrf_token)
            .json(&body);
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (
                status,
                response
                    .json::<serde_json::Value>()
                    .await
                    .unwrap_or_default(),
            )
        }
    };
    let mut weak = policy.clone();
    weak["min_length"] = json!(6);
    let (status, body) = put(weak).await;
    assert_eq!(status, 422);
    assert_eq!(
        body["error"]["fields"]["min_length"],
        "密码最短长度 应在 8 到 64 之间"
    );
    let mut strict = policy.clone();
    strict["max_failures"] = json!(3);
    strict["idle_minutes"] = json!(10);
    strict["min_length"] = json!(10);
    let (status, body) = put(strict).await;
    assert_eq!(status, 200, "{body}");

    // three failures now lock
    for _ in 0..2 {
        assert_eq!(app.try_login("leader", "Wrong@2026").await.0, 401);
    }
    assert_eq!(app.try_login("leader", "Wrong@2026").await.0, 423);
    // ten idle minutes now end a session
    let observer = app.demo_user("observer").await;
    app.clock.advance(Duration::minutes(10));
    assert_eq!(observer.get_json("/api/v1/auth/me").await.0, 401);
    // the password page states the rule in force
    let window = app.demo_user("window").await;
    let (_, page) = window.get_text("/password").await;
    assert!(page.contains("密码至少 10 位"), "{page}");
    // others: the settings do not exist
    let admin = app.demo_user("admin").await;
    assert_eq!(
        admin.get_json("/api/v1/settings/password-policy").await.0,
        404
    );
    assert_eq!(admin.get("/settings/security").await.status(), 404);
    let audit = app.store.audit_entries("*", 1).await.unwrap();
    assert_eq!(audit[0].entity, "password_policy");
    // the page form (the earlier session has idled out under the new policy)
    let secadmin = app.demo_user("secadmin").await;
    let csrf = secadmin.csrf_token.clone();
    let fields = [
        ("csrf_token", csrf.as_str()),
        ("min_length", "12"),
        ("min_classes", "4"),
        ("max_age_days", "90"),
        ("max_failures", "5"),
        ("lockout_minutes", "15"),
        ("idle_minutes", "30"),
        ("max_sessions", "3"),
    ];
    let saved = secadmin.post_form("/settings/security", &fields).await;
    assert_eq!(saved.status(), 303);
    assert_eq!(saved.headers()["location"], "/settings/security?saved=1");
    let (_, page) = secadmin.get_text("/settings/security?saved=1").await;
    assert!(page.contains("value=\"12\""), "{page}");
    let mut bad = fields;
    bad[7] = ("max_sessions", "many");
    let refused = secadmin.post_form("/settings/security", &bad).await;
    assert_eq!(refused.status(), 422);
    assert!(refused.text().await.unwrap().contains("不是有效的整数"));
}

async fn the_client_address_comes_from_a_trusted_proxy_only(backend: Backend) {
    let login = |app: &TestApp| {
        let request = app
            .client
            .post(app.url("/api/v1/auth/login"))
            .header("x-forwarded-for", "203.0.113.7")
            .json(&json!({"username": "leader", "password": PASSWORD}));
        async move { request.send().await.unwrap().status().as_u16() }
    };
    for (app, expected) in [
        (
            TestApp::builder(backend)
                .with_demo()
                .trusting("127.0.0.1".parse().unwrap())
                .spawn()
                .await,
            "203.0.113.7",
        ),
        (TestApp::spawn_demo(backend).await, "127.0.0.1"),
    ] {
        assert_eq!(login(&app).await, 200);
        let tenant = app.store.tenant_by_code("370104").await.unwrap().unwrap();
        let page = app
            .store
            .login_log_page(&tenant.id, Default::default())
            .await
            .unwrap();
        assert_eq!(page.items[0].client_ip.as_deref(), Some(expected));
    }
}
