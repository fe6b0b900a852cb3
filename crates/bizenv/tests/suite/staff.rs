//! Staff (人员) and the maintenance of units: the sysadmin creates, edits and disables both
//! through the API and the form pages; other roles get 403 on what they see and 404 on what
//! they do not; a unit_admin sees only its subtree's staff; a phone never shows in clear
//! except through the sysadmin's audited phone endpoint.

use serde_json::{Value, json};
use test_support::{Backend, TestApp, TestUser, db_tests};

db_tests!(
    the_demo_has_staff_with_heads_and_district_leaders,
    the_sysadmin_creates_edits_and_disables_a_unit_through_the_api,
    the_sysadmin_maintains_a_staff_member_through_the_api,
    the_sysadmin_uses_the_form_pages,
    bad_input_is_refused_and_changes_nothing,
    other_roles_get_403_on_what_they_see_and_404_on_the_rest,
    a_street_contact_sees_only_its_subtree_staff,
    a_phone_shows_in_clear_only_to_the_sysadmin_and_each_read_is_audited,
    staff_are_found_by_their_exact_phone,
);

const CANARY: &str = "13912345678";

const ROLES: [&str; 11] = [
    "admin",
    "secadmin",
    "auditor",
    "leader",
    "supervisor",
    "inspector",
    "unitadmin",
    "street",
    "window",
    "observer",
    "enterprise",
];

async fn tenant_id(app: &TestApp) -> String {
    app.store
        .tenant_by_code("370104")
        .await
        .unwrap()
        .unwrap()
        .id
}

async fn unit_id(app: &TestApp, code: &str) -> String {
    let tenant = tenant_id(app).await;
    app.store
        .units(&tenant)
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.code == code)
        .unwrap_or_else(|| panic!("unit {code}"))
        .id
}

/// Sends a PATCH with the CSRF header.
async fn patch(user: &TestUser, app: &TestApp, path: &str, body: &Value) -> (u16, Value) {
    let response = app
        .client
        .patch(app.url(path))
        .header("cookie", format!("bizenv_session={}", user.token))
        .header("x-csrf-token", &user.csrf_token)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Everything that could reveal a write: counts of staff, units, links and the audit chain.
async fn snapshot(app: &TestApp, admin: &TestUser) -> (i64, i64, i64, Value) {
    let tenant = tenant_id(app).await;
    let (_, staff) = admin.get_json("/api/v1/staff?per_page=1").await;
    let (_, units) = admin.get_json("/api/v1/units?per_page=1").await;
    let seq = app.store.audit_entries(&tenant, 1).await.unwrap()[0].seq;
    let (_, all_units) = admin.get_json("/api/v1/units?per_page=200&page=1").await;
    (
        staff["total"].as_i64().unwrap(),
        units["total"].as_i64().unwrap(),
        seq,
        all_units["items"].clone(),
    )
}

async fn the_demo_has_staff_with_heads_and_district_leaders(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let leader = app.demo_user("leader").await;
    let (status, all) = leader.get_json("/api/v1/staff?per_page=200").await;
    assert_eq!(status, 200);
    let total = all["total"].as_i64().unwrap();
    // 4 leaders, 2×2 office staff, 23 departments × 2–3, 16 streets × 3, 16 hall windows × 1
    assert!((130..=150).contains(&total), "{total}");
    let items = all["items"].as_array().unwrap();
    let find = |name: &str| {
        items
            .iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("{name}"))
            .clone()
    };
    let wang = find("王建国");
    assert_eq!(wang["position"], "副区长");
    assert_eq!(wang["unit_id"], unit_id(&app, "ZFB").await.as_str());
    let sun = find("孙丽");
    assert_eq!(sun["position"], "窗口工作人员");
    assert_eq!(sun["unit_id"], unit_id(&app, "ZWFW-01").await.as_str());
    assert!(
        items
            .iter()
            .all(|s| s["phone_masked"].as_str().unwrap().starts_with("138****")),
        "demo phones are 1380000xxxx, shown masked"
    );

    let (_, departments) = leader
        .get_json("/api/v1/units?kind=department&per_page=200")
        .await;
    let (_, streets) = leader
        .get_json("/api/v1/units?kind=street&per_page=200")
        .await;
    let leaders: Vec<&str> = ["王建国", "张立新", "李红梅", "赵海峰"]
        .iter()
        .map(|n| {
            items.iter().find(|s| s["name"] == *n).unwrap()["id"]
                .as_str()
                .unwrap()
        })
        .collect();
    for unit in departments["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(streets["items"].as_array().unwrap())
    {
        let head = unit["head_staff_id"]
            .as_str()
            .expect("every unit has a head");
        let (_, head) = leader.get_json(&format!("/api/v1/staff/{head}")).await;
        assert_eq!(head["unit_id"], unit["id"], "the head works there");
        assert!(["局长", "主任"].contains(&head["position"].as_str().unwrap()));
        let in_charge = unit["leader_staff_id"].as_str().unwrap();
        assert!(leaders.contains(&in_charge), "{}", unit["name"]);
    }
    let (_, page) = leader
        .get_text(&format!("/units/{}", unit_id(&app, "370104001").await))
        .await;
    assert!(
        page.contains("负责人") && page.contains("分管区领导"),
        "{page}"
    );
}

async fn the_sysadmin_creates_edits_and_disables_a_unit_through_the_api(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let admin = app.demo_user("admin").await;
    let street = unit_id(&app, "370104001").await;
    let (status, created) = admin
        .post_json(
            "/api/v1/units",
            &json!({"code": "370104001-T1", "name": "试点社区", "kind": "community", "parent_id": street}),
            true,
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["parent_id"], street.as_str());
    assert_eq!(created["active"], true);
    let (status, read) = admin.get_json(&format!("/api/v1/units/{id}")).await;
    assert_eq!((status, &read["name"]), (200, &json!("试点社区")));

    // a head must work in the unit: add one, then set head and leader
    let (status, staff) = admin
        .post_json(
            "/api/v1/staff",
            &json!({"name": "钱多多", "unit_id": id, "position": "社区书记"}),
            true,
        )
        .await;
    assert_eq!(status, 201, "{staff}");
    let (_, zfb) = admin
        .get_json(&format!(
            "/api/v1/staff?unit_id={}&q=%E7%8E%8B%E5%BB%BA%E5%9B%BD",
            unit_id(&app, "ZFB").await
        ))
        .await;
    let wang = zfb["items"][0]["id"].as_str().unwrap().to_owned();
    let (status, changed) = patch(
        &admin,
        &app,
        &format!("/api/v1/units/{id}"),
        &json!({"name": "试点社区居委会", "head_staff_id": staff["id"], "leader_staff_id": wang}),
    )
    .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["name"], "试点社区居委会");
    assert_eq!(changed["head_staff_id"], staff["id"]);
    assert_eq!(changed["leader_staff_id"], wang.as_str());
    let (status, cleared) = patch(
        &admin,
        &app,
        &format!("/api/v1/units/{id}"),
        &json!({"leader_staff_id": null}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(cleared["leader_staff_id"], Value::Null);
    assert_eq!(cleared["head_staff_id"], staff["id"], "untouched");

    // the street has active children: it cannot be disabled; the new community can
    let (status, refused) = patch(
        &admin,
        &app,
        &format!("/api/v1/units/{street}"),
        &json!({"active": false}),
    )
    .await;
    assert_eq!(status, 409, "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("须先停用下级单位")
    );
    let (status, disabled) = patch(
        &admin,
        &app,
        &format!("/api/v1/units/{id}"),
        &json!({"active": false}),
    )
    .await;
    assert_eq!((status, &disabled["active"]), (200, &json!(false)));
    let (_, read) = admin.get_json(&format!("/api/v1/units/{id}")).await;
    assert_eq!(read["active"], false);
    // nothing new goes into a disabled unit
    let (status, body) = admin
        .post_json(
            "/api/v1/staff",
            &json!({"name": "李四", "unit_id": id, "position": "网格员"}),
            true,
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["fields"]["unit_id"], "所属单位已停用");

    let tenant = tenant_id(&app).await;
    let audit = app.store.audit_entries(&tenant, 4).await.unwrap();
    assert_eq!(audit[0].action, "update");
    assert_eq!(audit[0].entity, "unit");
    assert_eq!(audit[0].changes, "{\"active\":[true,false]}");
    assert!(audit[0].actor.starts_with("user:"));
}

async fn the_sysadmin_maintains_a_staff_member_through_the_api(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let admin = app.demo_user("admin").await;
    let fgj = unit_id(&app, "FGJ").await;
    let spj = unit_id(&app, "SPJ").await;
    let (status, created) = admin
        .post_json(
            "/api/v1/staff",
            &json!({"name": " 周晓 ", "unit_id": fgj, "part_time_unit_ids": [spj], "position": "科员", "phone": "0531-88886666"}),
            true,
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["name"], "周晓");
    assert_eq!(created["part_time_unit_ids"], json!([spj]));
    assert_eq!(created["phone_masked"], "0531-****6666");
    assert_eq!(created["has_phone"], true);
    assert!(created.get("phone").is_none());
    let id = created["id"].as_str().unwrap();

    let (status, changed) = patch(
        &admin,
        &app,
        &format!("/api/v1/staff/{id}"),
        &json!({"position": "科长", "part_time_unit_ids": [], "phone": "138-0013-8000"}),
    )
    .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["position"], "科长");
    assert_eq!(changed["part_time_unit_ids"], json!([]));
    assert_eq!(changed["phone_masked"], "138****8000");
    let (_, no_phone) = patch(
        &admin,
        &app,
        &format!("/api/v1/staff/{id}"),
        &json!({"phone": null}),
    )
    .await;
    assert_eq!(no_phone["has_phone"], false);
    assert_eq!(no_phone["phone_masked"], Value::Null);
    let (status, disabled) = patch(
        &admin,
        &app,
        &format!("/api/v1/staff/{id}"),
        &json!({"active": false}),
    )
    .await;
    assert_eq!((status, &disabled["active"]), (200, &json!(false)));
    let (_, only_disabled) = admin.get_json("/api/v1/staff?active=false").await;
    assert_eq!(only_disabled["total"], 1);
    assert_eq!(only_disabled["items"][0]["id"], id);

    let tenant = tenant_id(&app).await;
    let audit = app.store.audit_entries(&tenant, 4).await.unwrap();
    let actions: Vec<(&str, &str)> = audit
        .iter()
        .map(|e| (e.action.as_str(), e.entity.as_str()))
        .collect();
    assert_eq!(
        actions,
        [
            ("update", "staff"),
            ("update", "staff"),
            ("update", "staff"),
            ("create", "staff")
        ]
    );
    assert_eq!(audit[0].changes, "{\"active\":[true,false]}");
    let changes: Value = serde_json::from_str(&audit[2].changes).unwrap();
    assert_eq!(changes["position"], json!(["科员", "科长"]));
    assert_eq!(changes["part_time_unit_ids"], json!([[spj], []]));
    let [old, new] = changes["phone_index"].as_array().unwrap().as_slice() else {
        panic!("{changes}")
    };
    assert_eq!(
        old.as_str().unwrap().len(),
        64,
        "blind index, not the phone"
    );
    assert_ne!(old, new);
}

async fn the_sysadmin_uses_the_form_pages(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let admin = app.demo_user("admin").await;
    let csrf = admin.csrf_token.clone();
    let street = unit_id(&app, "370104002").await;

    let (status, form) = admin.get_text("/units/new").await;
    assert_eq!(status, 200);
    assert!(form.contains("name=\"csrf_token\"") && form.contains("新增单位"));
    let refused = admin
        .post_form(
            "/units/new",
            &[
                ("csrf_token", &csrf),
                ("code", "坏 代码"),
                ("name", "新社区"),
                ("kind", "community"),
                ("parent_id", &street),
            ],
        )
        .await;
    assert_eq!(refused.status(), 422);
    let html = refused.text().await.unwrap();
    assert!(html.contains("单位代码只能包含字母、数字和“-”"), "{html}");
    assert!(
        html.contains("value=\"新社区\""),
        "the form keeps what was typed"
    );
    let duplicate = admin
        .post_form(
            "/units/new",
            &[
                ("csrf_token", &csrf),
                ("code", "370104001"),
                ("name", "新社区"),
                ("kind", "community"),
                ("parent_id", &street),
            ],
        )
        .await;
    assert_eq!(duplicate.status(), 409);
    assert!(duplicate.text().await.unwrap().contains("单位代码已存在"));
    let created = admin
        .post_form(
            "/units/new",
            &[
                ("csrf_token", &csrf),
                ("code", "370104002-X"),
                ("name", "新社区"),
                ("kind", "community"),
                ("parent_id", &street),
            ],
        )
        .await;
    assert_eq!(created.status(), 303);
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let id = location.strip_prefix("/units/").unwrap().to_owned();
    let (status, page) = admin.get_text(&location).await;
    assert_eq!(status, 200);
    assert!(page.contains("新社区") && page.contains("370104002-X"));

    let edited = admin
        .post_form(
            &format!("/units/{id}/edit"),
            &[
                ("csrf_token", &csrf),
                ("name", "新社区居委会"),
                ("active", "true"),
            ],
        )
        .await;
    assert_eq!(edited.status(), 303);
    let (_, page) = admin.get_text(&format!("/units/{id}")).await;
    assert!(page.contains("新社区居委会"));
    let refused = admin
        .post_form(
            &format!("/units/{street}/edit"),
            &[
                ("csrf_token", &csrf),
                ("name", "中大槐树街道"),
                ("active", "false"),
            ],
        )
        .await;
    assert_eq!(refused.status(), 409);
    assert!(refused.text().await.unwrap().contains("须先停用下级单位"));

    let (status, _) = admin.get_text(&format!("/staff/new?unit_id={id}")).await;
    assert_eq!(status, 200);
    let refused = admin
        .post_form(
            "/staff/new",
            &[
                ("csrf_token", &csrf),
                ("name", "吴桐"),
                ("unit_id", &id),
                ("position", "网格员"),
                ("phone", "12345"),
            ],
        )
        .await;
    assert_eq!(refused.status(), 422);
    let html = refused.text().await.unwrap();
    assert!(html.contains("电话应为 11 位手机号码"), "{html}");
    assert!(!html.contains("12345"), "the refused phone is not echoed");
    let created = admin
        .post_form(
            "/staff/new",
            &[
                ("csrf_token", &csrf),
                ("name", "吴桐"),
                ("unit_id", &id),
                ("position", "网格员"),
                ("phone", "13700001111"),
            ],
        )
        .await;
    assert_eq!(created.status(), 303);
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let (_, page) = admin.get_text(&location).await;
    assert!(page.contains("吴桐") && page.contains("137****1111") && page.contains("新社区居委会"));
    let staff_id = location.strip_prefix("/staff/").unwrap().to_owned();
    let edited = admin
        .post_form(
            &format!("/staff/{staff_id}/edit"),
            &[
                ("csrf_token", &csrf),
                ("name", "吴桐"),
                ("unit_id", &id),
                ("position", "社区主任"),
                ("phone", ""),
                ("active", "false"),
            ],
        )
        .await;
    assert_eq!(edited.status(), 303);
    let (_, read) = admin.get_json(&format!("/api/v1/staff/{staff_id}")).await;
    assert_eq!(read["position"], "社区主任");
    assert_eq!(read["active"], false);
    assert_eq!(
        read["phone_masked"], "137****1111",
        "a blank phone keeps the number"
    );
    let (_, list) = admin.get_text("/staff?q=%E5%90%B4%E6%A1%90").await;
    assert!(list.contains("吴桐") && list.contains("已停用"));

    // a form without the CSRF token is refused by the middleware
    let forged = admin
        .post_form(
            "/units/new",
            &[
                ("code", "X1"),
                ("name", "伪造"),
                ("kind", "district_office"),
            ],
        )
        .await;
    assert_eq!(forged.status(), 403);
}

async fn bad_input_is_refused_and_changes_nothing(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let admin = app.demo_user("admin").await;
    let fgj = unit_id(&app, "FGJ").await;
    let street = unit_id(&app, "370104001").await;
    let before = snapshot(&app, &admin).await;
    let long_name = "张".repeat(33);
    for (body, status, field, message) in [
        (
            json!({"name": "", "unit_id": fgj, "position": "科员"}),
            422,
            "name",
            "姓名应为 1 到 32 个字符",
        ),
        (
            json!({"name": long_name, "unit_id": fgj, "position": "科员"}),
            422,
            "name",
            "姓名应为 1 到 32 个字符",
        ),
        (
            json!({"name": "王五", "unit_id": "no-such-unit", "position": "科员"}),
            422,
            "unit_id",
            "所属单位不存在",
        ),
        (
            json!({"name": "王五", "unit_id": fgj, "position": " "}),
            422,
            "position",
            "职务应为 1 到 32 个字符",
        ),
        (
            json!({"name": "王五", "unit_id": fgj, "position": "科员", "phone": "1391234567"}),
            422,
            "phone",
            "电话应为 11 位手机号码，或带区号的固定电话（如 0531-88886666）",
        ),
        (
            json!({"name": "王五", "unit_id": fgj, "position": "科员", "part_time_unit_ids": [fgj]}),
            422,
            "part_time_unit_ids",
            "兼职单位不能与所属单位相同",
        ),
    ] {
        let (got, error) = admin.post_json("/api/v1/staff", &body, true).await;
        assert_eq!(got, status, "{body}: {error}");
        assert_eq!(error["error"]["code"], "validation_failed");
        assert_eq!(error["error"]["fields"][field], message, "{body}");
    }
    for (body, status, field) in [
        (
            json!({"code": "A B", "name": "甲", "kind": "community", "parent_id": street}),
            422,
            "code",
        ),
        (
            json!({"code": "370104001", "name": "甲", "kind": "community", "parent_id": street}),
            409,
            "code",
        ),
        (
            json!({"code": "T-1", "name": "", "kind": "community", "parent_id": street}),
            422,
            "name",
        ),
        (
            json!({"code": "T-1", "name": "甲", "kind": "bureau", "parent_id": street}),
            422,
            "kind",
        ),
        (
            json!({"code": "T-1", "name": "甲", "kind": "community", "parent_id": "nope"}),
            422,
            "parent_id",
        ),
        (
            json!({"code": "T-1", "name": "甲", "kind": "window", "parent_id": street}),
            422,
            "parent_id",
        ),
        (
            json!({"code": "T-1", "name": "甲", "kind": "community", "parent_id": street, "staffed_by_id": fgj}),
            422,
            "staffed_by_id",
        ),
    ] {
        let (got, error) = admin.post_json("/api/v1/units", &body, true).await;
        assert_eq!(got, status, "{body}: {error}");
        assert!(
            error["error"]["fields"][field].is_string(),
            "{body}: {error}"
        );
    }
    let (_, not_head) = admin
        .get_json(&format!("/api/v1/staff?unit_id={fgj}&per_page=1"))
        .await;
    let fgj_staff = not_head["items"][0]["id"].as_str().unwrap().to_owned();
    for (body, status, field) in [
        (json!({"name": ""}), 422, Some("name")),
        (
            json!({"head_staff_id": fgj_staff}),
            422,
            Some("head_staff_id"),
        ),
        (
            json!({"leader_staff_id": fgj_staff}),
            422,
            Some("leader_staff_id"),
        ),
        (json!({"active": false}), 409, None),
        (json!({"colour": "red"}), 422, None),
    ] {
        let (got, error) = patch(&admin, &app, &format!("/api/v1/units/{street}"), &body).await;
        assert_eq!(got, status, "{body}: {error}");
        if let Some(field) = field {
            assert!(
                error["error"]["fields"][field].is_string(),
                "{body}: {error}"
            );
        }
    }
    let (got, _) = patch(
        &admin,
        &app,
        &format!("/api/v1/staff/{fgj_staff}"),
        &json!({"phone": "abc"}),
    )
    .await;
    assert_eq!(got, 422);
    let malformed = app
        .client
        .post(app.url("/api/v1/staff"))
        .header("cookie", format!("bizenv_session={}", admin.token))
        .header("x-csrf-token", &admin.csrf_token)
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    assert_eq!(snapshot(&app, &admin).await, before, "nothing was written");
}

async fn other_roles_get_403_on_what_they_see_and_404_on_the_rest(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let street = unit_id(&app, "370104001").await;
    let admin = app.demo_user("admin").await;
    let (_, other) = admin
        .get_json(&format!(
            "/api/v1/staff?unit_id={}",
            unit_id(&app, "370104002").await
        ))
        .await;
    let other_staff = other["items"][0]["id"].as_str().unwrap().to_owned();
    let (_, own) = admin
        .get_json(&format!("/api/v1/staff?unit_id={street}"))
        .await;
    let own_staff = own["items"][0]["id"].as_str().unwrap().to_owned();
    let before = snapshot(&app, &admin).await;

    for username in [
        "leader",
        "supervisor",
        "street",
        "window",
        "observer",
        "secadmin",
    ] {
        let user = app.demo_user(username).await;
        let (status, body) = patch(
            &user,
            &app,
            &format!("/api/v1/units/{street}"),
            &json!({"name": "改名"}),
        )
        .await;
        assert_eq!(status, 403, "{username}: {body}");
        assert_eq!(body["error"]["code"], "forbidden");
        let (status, _) = patch(
            &user,
            &app,
            &format!("/api/v1/staff/{own_staff}"),
            &json!({"position": "改"}),
        )
        .await;
        assert_eq!(status, 403, "{username}");
        let (status, _) = user
            .post_json(
                "/api/v1/staff",
                &json!({"name": "甲", "unit_id": street, "position": "乙"}),
                true,
            )
            .await;
        assert_eq!(status, 403, "{username}");
        let (status, _) = user
            .post_json(
                "/api/v1/units",
                &json!({"code": "Z-1", "name": "甲", "kind": "district_office"}),
                true,
            )
            .await;
        assert_eq!(status, 403, "{username}");
        assert_eq!(
            user.get(&format!("/units/{street}/edit")).await.status(),
            403,
            "{username}"
        );
        assert_eq!(user.get("/staff/new").await.status(), 403, "{username}");
    }
    for username in ["auditor", "enterprise"] {
        let user = app.demo_user(username).await;
        let (status, body) = patch(
            &user,
            &app,
            &format!("/api/v1/units/{street}"),
            &json!({"name": "改名"}),
        )
        .await;
        assert_eq!(status, 404, "{username}: {body}");
        for path in [
            "/api/v1/staff".to_owned(),
            format!("/api/v1/staff/{own_staff}"),
        ] {
            let (status, body) = user.get_json(&path).await;
            assert_eq!(status, 404, "{username} {path}");
            assert!(!body.to_string().contains(&own_staff));
        }
        assert_eq!(user.get("/staff").await.status(), 404, "{username}");
    }
    let contact = app.demo_user("street").await;
    for path in [
        format!("/api/v1/staff/{other_staff}"),
        format!("/api/v1/staff/{other_staff}/phone"),
    ] {
        let (status, body) = contact.get_json(&path).await;
        assert_eq!(status, 404, "{path}: {body}");
    }
    let (status, _) = patch(
        &contact,
        &app,
        &format!("/api/v1/staff/{other_staff}"),
        &json!({"position": "改"}),
    )
    .await;
    assert_eq!(status, 404, "invisible staff: 404 before 403");
    assert_eq!(
        contact.get(&format!("/staff/{other_staff}")).await.status(),
        404
    );
    assert_eq!(
        contact
            .get_json(&format!("/api/v1/staff/{own_staff}"))
            .await
            .0,
        200
    );
    assert_eq!(snapshot(&app, &admin).await, before, "nothing was written");
}

async fn a_street_contact_sees_only_its_subtree_staff(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let admin = app.demo_user("admin").await;
    let community = {
        let (_, c) = admin
            .get_json(&format!(
                "/api/v1/units?kind=community&parent_id={}",
                unit_id(&app, "370104001").await
            ))
            .await;
        c["items"][0]["id"].as_str().unwrap().to_owned()
    };
    let other_street = unit_id(&app, "370104003").await;
    for (name, unit, part_time) in [
        ("社区甲", community.clone(), json!([])),
        ("兼职乙", other_street.clone(), json!([community])),
        ("外街丙", other_street.clone(), json!([])),
    ] {
        let (status, _) = admin
            .post_json(
                "/api/v1/staff",
                &json!({"name": name, "unit_id": unit, "part_time_unit_ids": part_time, "position": "网格员"}),
                true,
            )
            .await;
        assert_eq!(status, 201);
    }
    let contact = app.demo_user("street").await;
    let (status, list) = contact.get_json("/api/v1/staff?per_page=200").await;
    assert_eq!(status, 200);
    let mut names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["兼职乙", "刘文博", "刘洋", "社区甲", "陈芳"]);
    assert_eq!(list["total"], 5, "totals leave out the rest too");
    let (_, searched) = contact.get_json("/api/v1/staff?q=%E4%B8%99").await;
    assert_eq!(searched["total"], 0, "外街丙 is not found by name");
    let (status, page) = contact.get_text("/staff").await;
    assert_eq!(status, 200);
    assert!(page.contains("共 5") && page.contains("社区甲") && !page.contains("外街丙"));
    let (_, everyone) = admin.get_json("/api/v1/staff?per_page=1").await;
    assert!(everyone["total"].as_i64().unwrap() > 100);

    // the street's unit page: its head shows, its district leader (outside the subtree) does not
    let (_, unit) = contact
        .get_json(&format!(
            "/api/v1/units/{}",
            unit_id(&app, "370104001").await
        ))
        .await;
    assert!(unit["head_staff_id"].is_string());
    assert_eq!(unit["leader_staff_id"], Value::Null);
    let (_, as_admin) = admin
        .get_json(&format!(
            "/api/v1/units/{}",
            unit_id(&app, "370104001").await
        ))
        .await;
    assert!(as_admin["leader_staff_id"].is_string());
}

async fn a_phone_shows_in_clear_only_to_the_sysadmin_and_each_read_is_audited(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let admin = app.demo_user("admin").await;
    let unit = unit_id(&app, "370104001").await;
    let (status, created) = admin
        .post_json(
            "/api/v1/staff",
            &json!({"name": "金丝雀", "unit_id": unit, "position": "科员", "phone": CANARY}),
            true,
        )
        .await;
    assert_eq!(status, 201);
    assert!(!created.to_string().contains(CANARY));
    assert_eq!(created["phone_masked"], "139****5678");
    let id = created["id"].as_str().unwrap().to_owned();
    // changes and refusals that touch the record
    let (_, edited) = patch(
        &admin,
        &app,
        &format!("/api/v1/staff/{id}"),
        &json!({"position": "科长"}),
    )
    .await;
    assert!(!edited.to_string().contains(CANARY));
    let (status, refused) = patch(
        &admin,
        &app,
        &format!("/api/v1/staff/{id}"),
        &json!({"name": "", "phone": CANARY}),
    )
    .await;
    assert_eq!(status, 422);
    assert!(!refused.to_string().contains(CANARY), "{refused}");
    let (status, refused) = admin
        .post_json(
            "/api/v1/staff",
            &json!({"name": "", "unit_id": unit, "position": "科员", "phone": CANARY}),
            true,
        )
        .await;
    assert_eq!(status, 422);
    assert!(!refused.to_string().contains(CANARY));
    let form = admin
        .post_form(
            "/staff/new",
            &[
                ("csrf_token", &admin.csrf_token.clone()),
                ("name", ""),
                ("unit_id", &unit),
                ("position", "科员"),
                ("phone", CANARY),
            ],
        )
        .await;
    assert_eq!(form.status(), 422);
    assert!(!form.text().await.unwrap().contains(CANARY));

    for username in ROLES {
        let user = app.demo_user(username).await;
        for path in [
            "/api/v1/staff?per_page=200".to_owned(),
            format!("/api/v1/staff?unit_id={unit}"),
            format!("/api/v1/staff/{id}"),
            "/staff?per_page=200".to_owned(),
            format!("/staff/{id}"),
            format!("/staff/{id}/edit"),
            format!("/units/{unit}"),
        ] {
            let (_, text) = user.get_text(&path).await;
            assert!(!text.contains(CANARY), "{username} {path}");
        }
        let expected = match username {
            "admin" => continue,
            "auditor" | "enterprise" | "unitadmin" => 404,
            _ => 403,
        };
        let (status, body) = user.get_json(&format!("/api/v1/staff/{id}/phone")).await;
        assert!(!body.to_string().contains(CANARY), "{username}");
        assert_eq!(status, expected, "{username}");
        // the page's button answers the same, and offers itself to nobody else
        let page = user
            .post_form(
                &format!("/staff/{id}/phone"),
                &[("csrf_token", &user.csrf_token.clone())],
            )
            .await;
        assert_eq!(page.status().as_u16(), expected, "{username}");
        assert!(!page.text().await.unwrap().contains(CANARY), "{username}");
        let (_, detail) = user.get_text(&format!("/staff/{id}")).await;
        assert!(!detail.contains("查看完整号码"), "{username}");
    }
    let (_, list_page) = admin.get_text("/staff?q=%E9%87%91%E4%B8%9D%E9%9B%80").await;
    assert!(list_page.contains("金丝雀") && list_page.contains("139****5678"));

    let tenant = tenant_id(&app).await;
    let everything = |records: Vec<store::audit::AuditRecord>| {
        records
            .into_iter()
            .map(|r| format!("{r:?}"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let before = app.store.audit_entries(&tenant, 1).await.unwrap()[0].seq;
    let (status, phone) = admin.get_json(&format!("/api/v1/staff/{id}/phone")).await;
    assert_eq!(status, 200);
    assert_eq!(phone["phone"], CANARY, "the sysadmin's endpoint answers it");
    let last = app.store.audit_entries(&tenant, 1).await.unwrap();
    assert_eq!(last[0].seq, before + 1, "one entry per read");
    assert_eq!(
        (
            last[0].action.as_str(),
            last[0].entity.as_str(),
            last[0].entity_id.as_str()
        ),
        ("read_phone", "staff", id.as_str())
    );
    assert!(last[0].changes.contains("phone_index"));
    // the page: a button on the detail page, the number on the answer (never cached), audited
    let (_, detail) = admin.get_text(&format!("/staff/{id}")).await;
    assert!(detail.contains("查看完整号码") && !detail.contains(CANARY));
    let page = admin
        .post_form(
            &format!("/staff/{id}/phone"),
            &[("csrf_token", &admin.csrf_token.clone())],
        )
        .await;
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["cache-control"], "no-store");
    assert!(page.text().await.unwrap().contains(CANARY));
    let last = app.store.audit_entries(&tenant, 1).await.unwrap();
    assert_eq!(last[0].seq, before + 2, "the page's read is audited too");
    assert_eq!(last[0].action, "read_phone");
    let log = everything(app.store.audit_entries(&tenant, 100_000).await.unwrap())
        + &everything(app.store.audit_entries("*", 100_000).await.unwrap());
    assert!(log.contains("金丝雀"), "the scenario is in the log");
    assert!(!log.contains(CANARY), "never the phone itself");
    assert!(!log.contains("139-1234-5678") && !log.contains("1391234"));
    assert!(app.store.verify_audit().await.unwrap().problems.is_empty());
}

async fn staff_are_found_by_their_exact_phone(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let admin = app.demo_user("admin").await;
    let unit = unit_id(&app, "SCJ").await;
    let (_, created) = admin
        .post_json(
            "/api/v1/staff",
            &json!({"name": "金丝雀", "unit_id": unit, "position": "科员", "phone": CANARY}),
            true,
        )
        .await;
    for spelling in [CANARY, "139-1234-5678", "+86%20139%201234%205678"] {
        let (status, found) = admin
            .get_json(&format!("/api/v1/staff?phone={spelling}"))
            .await;
        assert_eq!(status, 200);
        assert_eq!(found["total"], 1, "{spelling}");
        assert_eq!(found["items"][0]["id"], created["id"]);
    }
    for other in ["13912345679", "1391234567", "5678"] {
        let (_, found) = admin
            .get_json(&format!("/api/v1/staff?phone={other}"))
            .await;
        assert_eq!(found["total"], 0, "{other}");
    }
    let (_, demo) = admin.get_json("/api/v1/staff?phone=13800000001").await;
    assert_eq!(demo["total"], 1);
    assert_eq!(demo["items"][0]["name"], "王建国");
    let (status, page) = admin.get_text(&format!("/staff?phone={CANARY}")).await;
    assert_eq!(status, 200);
    assert!(page.contains("金丝雀") && page.contains("共 1"));
    assert!(!page.contains(CANARY), "the searched number is not echoed");
    // the street contact searches only within its scope
    let (_, scoped) = app
        .demo_user("street")
        .await
        .get_json(&format!("/api/v1/staff?phone={CANARY}"))
        .await;
    assert_eq!(scoped["total"], 0);
}
