//! The leading group and its seven working groups: seeded in the demo, read by staff roles,
//! maintained by the sysadmin.

use serde_json::json;
use test_support::{Backend, TestApp, db_tests};

db_tests!(
    the_demo_has_the_leading_group_and_seven_working_groups,
    the_sysadmin_maintains_groups_and_bad_input_changes_nothing,
);

async fn the_demo_has_the_leading_group_and_seven_working_groups(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let leader = app.demo_user("leader").await;
    let (status, body) = leader.get_json("/api/v1/groups").await;
    assert_eq!(status, 200);
    let groups = body["items"].as_array().unwrap();
    assert_eq!(groups.len(), 8);
    assert_eq!(groups[0]["name"], "槐荫区优化营商环境工作领导小组");
    assert!(groups[0]["parent_id"].is_null());
    let lead_id = groups[0]["id"].as_str().unwrap();
    let names: Vec<&str> = groups[1..]
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "综合协调组",
            "政务服务组",
            "市场环境组",
            "法治环境组",
            "要素保障组",
            "督查考核组",
            "宣传引导组"
        ]
    );
    for g in &groups[1..] {
        assert_eq!(g["parent_id"], lead_id);
        let members = g["members"].as_array().unwrap();
        assert_eq!(members[0]["role"], "head", "the head comes first: {g}");
        assert_eq!(members.iter().filter(|m| m["role"] == "head").count(), 1);
        assert!(members.len() >= 3, "{g}");
    }
    assert_eq!(groups[0]["members"][0]["name"], "王建国");
    assert_eq!(groups[0]["members"][0]["role"], "head");

    let (status, html) = leader.get_text("/groups").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("督查考核组") && html.contains("组长 "),
        "{html}"
    );
    let (status, detail) = leader.get_text(&format!("/groups/{lead_id}")).await;
    assert_eq!(status, 200);
    assert!(detail.contains("副组长") && detail.contains("张立新"));
}

async fn the_sysadmin_maintains_groups_and_bad_input_changes_nothing(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let admin = app.demo_user("admin").await;
    let (_, list) = admin.get_json("/api/v1/groups").await;
    let lead = list["items"][0]["id"].as_str().unwrap().to_owned();
    let working = list["items"][1]["id"].as_str().unwrap().to_owned();

    let (status, body) = admin
        .send_json(
            "POST",
            "/api/v1/groups",
            json!({"name": "数字赋能组", "parent_id": lead, "duties": "推进“无证明城市”建设。"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let new_id = body["id"].as_str().unwrap().to_owned();
    let (_, staff) = admin.get_json("/api/v1/staff?per_page=3").await;
    let ids: Vec<&str> = staff["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    let (status, body) = admin.send_json("PUT", &format!("/api/v1/groups/{new_id}/members"),
        json!({"members": [{"staff_id": ids[0], "role": "组长"}, {"staff_id": ids[1], "role": "member"}]})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["members"].as_array().unwrap().len(), 2);

    let tenant = app.store.tenant_by_code("370104").await.unwrap().unwrap();
    let seq = app.store.audit_entries(&tenant.id, 1).await.unwrap()[0].seq;
    for (method, path, body, status) in [
        (
            "POST",
            "/api/v1/groups".to_owned(),
            json!({"name": "数字赋能组", "parent_id": lead}),
            409,
        ),
        (
            "POST",
            "/api/v1/groups".to_owned(),
            json!({"name": "", "parent_id": lead}),
            422,
        ),
        (
            "POST",
            "/api/v1/groups".to_owned(),
            json!({"name": "孙组", "parent_id": working}),
            422,
        ),
        (
            "POST",
            "/api/v1/groups".to_owned(),
            json!({"name": "孤组", "parent_id": "nope"}),
            422,
        ),
        (
            "PUT",
            format!("/api/v1/groups/{new_id}/members"),
            json!({"members": [{"staff_id": ids[0], "role": "head"}, {"staff_id": ids[1], "role": "head"}]}),
            422,
        ),
        (
            "PUT",
            format!("/api/v1/groups/{new_id}/members"),
            json!({"members": [{"staff_id": ids[0], "role": "head"}, {"staff_id": ids[0], "role": "member"}]}),
            422,
        ),
        (
            "PUT",
            format!("/api/v1/groups/{new_id}/members"),
            json!({"members": [{"staff_id": "ghost", "role": "member"}]}),
            422,
        ),
        (
            "PUT",
            format!("/api/v1/groups/{new_id}/members"),
            json!({"members": [{"staff_id": ids[2], "role": "boss"}]}),
            422,
        ),
        (
            "PATCH",
            "/api/v1/groups/nope".to_owned(),
            json!({"name": "x"}),
            404,
        ),
    ] {
        let (got, answer) = admin.send_json(method, &path, body.clone()).await;
        assert_eq!(got, status, "{method} {path} {body}: {answer}");
    }
    assert_eq!(
        app.store.audit_entries(&tenant.id, 1).await.unwrap()[0].seq,
        seq,
        "nothing written"
    );
    let (_, after) = admin.get_json(&format!("/api/v1/groups/{new_id}")).await;
    assert_eq!(after["members"].as_array().unwrap().len(), 2);

    let (status, body) = admin
        .send_json(
            "PATCH",
            &format!("/api/v1/groups/{new_id}"),
            json!({"duties": "推进数字政府建设。"}),
        )
        .await;
    assert_eq!(
        (status, body["duties"].as_str()),
        (200, Some("推进数字政府建设。"))
    );
    let leader = app.demo_user("leader").await;
    let (status, _) = leader
        .send_json(
            "PATCH",
            &format!("/api/v1/groups/{new_id}"),
            json!({"name": "x"}),
        )
        .await;
    assert_eq!(status, 403);
}
