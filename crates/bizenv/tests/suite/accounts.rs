//! Account administration under 三员分立: sysadmin creates, disables, unlocks and resets;
//! secadmin grants roles; neither does the other's part.

use serde_json::json;
use test_support::{Backend, TestApp, TestUser, db_tests};

db_tests!(
    a_new_account_waits_for_secadmin_to_grant_its_roles,
    the_administrators_keep_to_their_own_duties,
    a_disabled_leaver_is_signed_out_and_cannot_sign_in,
    sysadmin_unlocks_and_resets_through_the_api,
    the_account_pages_do_the_same,
);

async fn create(admin: &TestUser, username: &str) -> String {
    let (status, body) = admin
        .send_json(
            "POST",
            "/api/v1/accounts",
            json!({"username": username, "display_name": "新同事", "password": "Start@2026"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

async fn a_new_account_waits_for_secadmin_to_grant_its_roles(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let admin = app.demo_user("admin").await;
    let id = create(&admin, "xintongshi").await;
    let (_, account) = admin.get_json(&format!("/api/v1/accounts/{id}")).await;
    assert_eq!(account["roles"], json!([]));
    assert_eq!(account["must_change_password"], true);

    let newcomer = app.login("xintongshi", "Start@2026").await;
    assert_eq!(newcomer.login["roles"], json!([]));
    let (status, _) = newcomer
        .send_json(
            "POST",
            "/api/v1/auth/password",
            json!({"current_password": "Start@2026", "new_password": "Mine#2026x"}),
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(
        newcomer.get_json("/api/v1/units").await.0,
        404,
        "no role, no organisation"
    );

    let secadmin = app.demo_user("secadmin").await;
    let (status, body) = secadmin
        .send_json(
            "PUT",
            &format!("/api/v1/accounts/{id}/roles"),
            json!({"roles": ["unit_admin"], "unit_code": "370104003"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["roles"], json!(["unit_admin"]));
    assert_eq!(
        newcomer.get_json("/api/v1/units").await.0,
        200,
        "the grant takes effect at once"
    );
    let tenant = app.store.tenant_by_code("370104").await.unwrap().unwrap();
    let audit = app.store.audit_entries(&tenant.id, 1).await.unwrap();
    assert_eq!(
        (audit[0].action.as_str(), audit[0].entity_id.as_str()),
        ("set_roles", id.as_str())
    );
    assert!(audit[0].actor.starts_with("user:"));
}

async fn the_administrators_keep_to_their_own_duties(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let admin = app.demo_user("admin").await;
    let secadmin = app.demo_user("secadmin").await;
    let id = create(&admin, "xiaowang").await;
    let roles = format!("/api/v1/accounts/{id}/roles");

    let (status, body) = admin
        .send_json("PUT", &roles, json!({"roles": ["leader"]}))
        .await;
    assert_eq!(status, 403, "sysadmin does not grant roles: {body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("安全管理员")
    );
    let (status, _) = secadmin
        .send_json(
            "POST",
            "/api/v1/accounts",
            json!({"username": "x1", "display_name": "x", "password": "Start@2026"}),
        )
        .await;
    assert_eq!(status, 403, "secadmin does not create accounts");
    let (status, _) = secadmin
        .send_json(
            "PATCH",
            &format!("/api/v1/accounts/{id}"),
            json!({"disabled": true}),
        )
        .await;
    assert_eq!(status, 403, "secadmin does not disable accounts");

    for (body, reason) in [
        (json!({"roles": ["sysadmin", "auditor"]}), "三员分立"),
        (json!({"roles": ["secadmin", "leader"]}), "不能与业务角色"),
        (
            json!({"roles": ["window_staff"], "unit_code": "SPJ"}),
            "须绑定到窗口",
        ),
        (
            json!({"roles": ["enterprise"], "uscc": "123"}),
            "统一社会信用代码无效",
        ),
        (json!({"roles": ["chief"]}), "chief"),
    ] {
        let (status, answer) = secadmin.send_json("PUT", &roles, body.clone()).await;
        assert_eq!(status, 422, "{body}: {answer}");
        assert!(
            answer["error"]["message"]
                .as_str()
                .unwrap()
                .contains(reason),
            "{body}: {answer}"
        );
    }
    let (_, unchanged) = admin.get_json(&format!("/api/v1/accounts/{id}")).await;
    assert_eq!(unchanged["roles"], json!([]), "nothing changed");

    let own = secadmin.login["user"]["id"].as_str().unwrap();
    let (status, _) = secadmin
        .send_json(
            "PUT",
            &format!("/api/v1/accounts/{own}/roles"),
            json!({"roles": ["sysadmin"]}),
        )
        .await;
    assert_eq!(status, 409, "nobody grants themselves");
    let own = admin.login["user"]["id"].as_str().unwrap();
    let (status, _) = admin
        .send_json(
            "PATCH",
            &format!("/api/v1/accounts/{own}"),
            json!({"disabled": true}),
        )
        .await;
    assert_eq!(status, 409, "sysadmin cannot disable itself");
}

async fn a_disabled_leaver_is_signed_out_and_cannot_sign_in(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let admin = app.demo_user("admin").await;
    let leaver = app.demo_user("inspector").await;
    let id = leaver.login["user"]["id"].as_str().unwrap().to_owned();
    let (status, body) = admin
        .send_json(
            "PATCH",
            &format!("/api/v1/accounts/{id}"),
            json!({"disabled": true}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["disabled"], true);
    assert_eq!(
        leaver.get_json("/api/v1/auth/me").await.0,
        401,
        "signed out at once"
    );
    let (status, answer) = app.try_login("inspector", store::demo::DEMO_PASSWORD).await;
    assert_eq!(
        (status, answer["error"]["message"].as_str()),
        (401, Some("用户名或密码错误"))
    );
    assert!(
        app.store
            .account_by_username("inspector")
            .await
            .unwrap()
            .is_some(),
        "kept, not deleted"
    );
    admin
        .send_json(
            "PATCH",
            &format!("/api/v1/accounts/{id}"),
            json!({"disabled": false}),
        )
        .await;
    assert_eq!(
        app.try_login("inspector", store::demo::DEMO_PASSWORD)
            .await
            .0,
        200
    );
}

async fn sysadmin_unlocks_and_resets_through_the_api(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let admin = app.demo_user("admin").await;
    for _ in 0..5 {
        app.try_login("observer", "Wrong@2026").await;
    }
    let id = app
        .store
        .account_by_username("observer")
        .await
        .unwrap()
        .unwrap()
        .id;
    let (_, listed) = admin.get_json(&format!("/api/v1/accounts/{id}")).await;
    assert_eq!(listed["locked"], true);
    let (status, body) = admin
        .send_json("POST", &format!("/api/v1/accounts/{id}/unlock"), json!({}))
        .await;
    assert_eq!((status, body["locked"].as_bool()), (200, Some(false)));
    assert_eq!(
        app.try_login("observer", store::demo::DEMO_PASSWORD)
            .await
            .0,
        200
    );

    let path = format!("/api/v1/accounts/{id}/password");
    let (status, body) = admin
        .send_json("POST", &path, json!({"password": "weak"}))
        .await;
    assert_eq!(status, 422);
    assert!(body["error"]["fields"]["password"].is_string());
    let (status, body) = admin
        .send_json("POST", &path, json!({"password": "Reset@2026"}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["must_change_password"], true);
    assert_eq!(
        app.try_login("observer", store::demo::DEMO_PASSWORD)
            .await
            .0,
        401
    );
    let (_, list) = admin.get_json("/api/v1/accounts?per_page=200").await;
    assert_eq!(list["total"], 11);
    assert!(
        !list.to_string().contains("argon2"),
        "no password hash is ever shown"
    );
}

async fn the_account_pages_do_the_same(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let admin = app.demo_user("admin").await;
    let csrf = admin.csrf_token.clone();
    let response = admin
        .post_form(
            "/accounts/new",
            &[
                ("csrf_token", &csrf),
                ("username", "yemian"),
                ("display_name", "页面新建"),
                ("password", "Page@2026x"),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let (status, html) = admin.get_text(&location).await;
    assert_eq!(status, 200);
    assert!(html.contains("待授权"), "{html}");
    let bad = admin
        .post_form(
            "/accounts/new",
            &[
                ("csrf_token", &csrf),
                ("username", "yemian"),
                ("display_name", "重复"),
                ("password", "Page@2026x"),
            ],
        )
        .await;
    assert_eq!(bad.status(), 422);
    assert!(bad.text().await.unwrap().contains("已被使用"));

    let action = format!("{location}/action");
    let disabled = admin
        .post_form(&action, &[("csrf_token", &csrf), ("action", "disable")])
        .await;
    assert_eq!(disabled.status(), 303);
    assert!(admin.get_text(&location).await.1.contains("已停用"));
    let (_, list) = admin.get_text("/accounts").await;
    assert!(list.contains("yemian") && list.contains("已停用"));

    let secadmin = app.demo_user("secadmin").await;
    let scsrf = secadmin.csrf_token.clone();
    let granted = secadmin
        .post_form(
            &action,
            &[
                ("csrf_token", &scsrf),
                ("action", "roles"),
                ("role", "leader"),
                ("role", "supervisor"),
                ("unit_code", ""),
                ("uscc", ""),
            ],
        )
        .await;
    assert_eq!(granted.status(), 303);
    assert!(
        secadmin
            .get_text(&location)
            .await
            .1
            .contains("区级领导、营商办/督查")
    );
    let refused = secadmin
        .post_form(
            &action,
            &[
                ("csrf_token", &scsrf),
                ("action", "roles"),
                ("role", "auditor"),
                ("role", "leader"),
            ],
        )
        .await;
    assert_eq!(refused.status(), 422);
    assert!(refused.text().await.unwrap().contains("不能与业务角色"));
    let not_theirs = secadmin
        .post_form(&action, &[("csrf_token", &scsrf), ("action", "disable")])
        .await;
    assert_eq!(not_theirs.status(), 403);
    let leader = app.demo_user("leader").await;
    assert_eq!(leader.get(&location).await.status(), 404);
}
