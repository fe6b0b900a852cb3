//! Liaison visits (包联走访): the enterprise's liaison leader (the supervisor for any
//! enterprise) records a visit; each issue raised becomes an appeal with source `visit`, on the
//! kernel and in the supervisor's queue, all in one transaction; the visits are read by the
//! supervisor, leaders and the liaison unit's contact; bad input changes nothing.

use serde_json::{Value, json};
use test_support::{Backend, TestApp, TestUser, db_tests};

db_tests!(
    a_liaison_leader_records_a_visit_whose_issues_become_appeals,
    only_the_liaison_leader_and_the_supervisor_record_visits,
    bad_visit_input_changes_nothing,
    the_visit_form_records_a_visit,
);

/// The test clock's day in Shanghai, shifted by `days`.
fn day(days: i64) -> String {
    (test_support::default_now().with_timezone(&domain::calendar::shanghai())
        + chrono::Duration::days(days))
    .date_naive()
    .to_string()
}

/// The staff record the demo's `leader` account is linked to (王建国), and another leader's.
async fn leaders(app: &TestApp) -> (String, String) {
    let own = app
        .sql_rows("SELECT staff_id FROM account WHERE username = 'leader'")
        .await[0][0]
        .clone();
    let other = app
        .sql_rows(&format!(
            "SELECT s.id FROM staff s JOIN staff o ON o.tenant_id = s.tenant_id AND o.id = '{own}' \
             WHERE s.name = '张立新' AND s.unit_id = o.unit_id"
        ))
        .await[0][0]
        .clone();
    (own, other)
}

/// A key enterprise of 振兴街街道 with this liaison leader and 行政审批服务局 as liaison unit.
async fn enterprise(supervisor: &TestUser, uscc: &str, name: &str, leader: &str) -> String {
    let street = supervisor.unit_id("370104001").await;
    let spj = supervisor.unit_id("SPJ").await;
    let (status, created) = supervisor
        .post_json(
            "/api/v1/enterprises",
            &json!({"uscc": uscc, "name": name, "legal_rep": "张伟", "address": "济南市槐荫区经十路 1 号",
                "street_id": street, "status": "存续", "contact_name": "王芳", "contact_phone": "13805310001",
                "key_enterprise": true, "liaison_leader_id": leader, "liaison_unit_id": spj}),
            true,
        )
        .await;
    assert_eq!(status, 201, "{created}");
    created["id"].as_str().unwrap().to_owned()
}

/// A new enterprise (code 91370104MA3C5T8R15) whose liaison leader is the demo `leader`,
/// and that leader signed in.
async fn liaised_enterprise(app: &TestApp, name: &str) -> (String, TestUser) {
    let supervisor = app.demo_user("supervisor").await;
    let (own, _) = leaders(app).await;
    let id = enterprise(&supervisor, "91370104MA3C5T8R15", name, &own).await;
    (id, app.demo_user("leader").await)
}

fn two_issues() -> Value {
    json!([
        {"kind": "demand", "category_code": "HQZC", "title": "研发补贴未拨付",
         "content": "企业去年申报的研发费用补贴尚未拨付，希望了解审核进度。"},
        {"kind": "consultation", "category_code": "RSJY",
         "content": "企业计划引进高级技工，咨询人才公寓政策。"},
    ])
}

/// Rows that a visit writes, counted: visits, their links, appeals, deadlines, timelines,
/// notifications, audit entries.
async fn written(app: &TestApp) -> Vec<String> {
    let mut counts = Vec::new();
    for table in [
        "visit",
        "visit_appeal",
        "appeal",
        "deadline",
        "record_history",
        "notification",
        "audit_log",
    ] {
        counts.push(
            app.sql_rows(&format!("SELECT CAST(COUNT(*) AS TEXT) FROM {table}"))
                .await[0][0]
                .clone(),
        );
    }
    counts
}

async fn a_liaison_leader_records_a_visit_whose_issues_become_appeals(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let supervisor = app.demo_user("supervisor").await;
    let (own, _) = leaders(&app).await;
    let id = enterprise(
        &supervisor,
        "91370104MA3C5T8R15",
        "济南槐荫走访测试有限公司",
        &own,
    )
    .await;
    let unvisited = enterprise(
        &supervisor,
        "91370105MA3C5T8R1K",
        "济南槐荫未走访有限公司",
        &own,
    )
    .await;
    let leader = app.demo_user("leader").await;

    let (status, visit) = leader
        .post_json(
            &format!("/api/v1/enterprises/{id}/visits"),
            &json!({"visited_on": day(-2), "form": "座谈", "people": "王建国；企业负责人张伟",
                    "summary": "了解企业生产经营情况，听取意见建议。", "issues": two_issues()}),
            true,
        )
        .await;
    assert_eq!(status, 201, "{visit}");
    assert_eq!(visit["visited_on"], day(-2));
    assert_eq!(visit["form"], "forum");
    assert_eq!(visit["leader"]["name"], "王建国");
    let appeals = visit["appeals"].as_array().unwrap();
    assert_eq!(appeals.len(), 2, "{visit}");
    assert_eq!(appeals[0]["title"], "研发补贴未拨付");
    assert!(
        appeals[1]["title"]
            .as_str()
            .unwrap()
            .starts_with("企业计划引进高级技工"),
        "an issue without a title is titled by its content: {visit}"
    );
    let ids: Vec<String> = appeals
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect();
    let visit_id = visit["id"].as_str().unwrap().to_owned();

    // each appeal came in through the appeal intake: source visit, the enterprise and its
    // street, submitted with its dispatch deadline open, in the supervisor's queue
    let (_, queue) = supervisor
        .get_json("/api/v1/appeals?source=visit&state=submitted&per_page=200")
        .await;
    for appeal_id in &ids {
        let a = queue["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == appeal_id.as_str())
            .unwrap_or_else(|| panic!("{appeal_id} in the supervisor's queue: {queue}"));
        assert_eq!(a["source"], "visit");
        assert_eq!(a["enterprise_id"], id.as_str());
        assert_eq!(a["street"]["name"], "振兴街街道");
        assert_eq!(a["state"], "submitted");
        assert!(
            a["has_submitter"].as_bool().unwrap(),
            "the contact, for the callback"
        );
        let dispatch: Vec<&Value> = a["deadlines"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["open"] == true)
            .collect();
        assert_eq!(dispatch.len(), 1, "{a}");
        assert!(
            dispatch[0]["step"]
                .as_str()
                .unwrap()
                .starts_with("dispatch")
        );
        assert!(a["due_at"].is_string(), "{a}");
    }
    let list = ids
        .iter()
        .map(|i| format!("'{i}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let told = app
        .sql_rows(&format!(
            "SELECT CAST(COUNT(DISTINCT record_id) AS TEXT) FROM notification \
             WHERE event = 'appeal_received' AND record_id IN ({list})"
        ))
        .await;
    assert_eq!(told[0][0], "2", "the supervisors are told of both");
    let timeline = app
        .sql_rows(&format!(
            "SELECT CAST(COUNT(*) AS TEXT) FROM record_history WHERE record_type = 'appeal' \
             AND event = 'received' AND record_id IN ({list})"
        ))
        .await;
    assert_eq!(timeline[0][0], "2");
    let audited = app
        .sql_rows(&format!(
            "SELECT entity, action FROM audit_log WHERE (entity = 'visit' AND entity_id = '{visit_id}') \
             OR (entity = 'appeal' AND entity_id IN ({list})) ORDER BY seq"
        ))
        .await;
    assert_eq!(
        audited,
        vec![
            vec!["appeal".to_owned(), "create".to_owned()],
            vec!["appeal".to_owned(), "create".to_owned()],
            vec!["visit".to_owned(), "create".to_owned()],
        ]
    );

    // the visit lists its appeals; visits come newest first
    let (status, older) = supervisor
        .post_json(
            &format!("/api/v1/enterprises/{id}/visits"),
            &json!({"visited_on": day(-30), "form": "phone", "summary": "电话回访政策落实情况。"}),
            true,
        )
        .await;
    assert_eq!(
        status, 201,
        "the supervisor records for any enterprise: {older}"
    );
    assert_eq!(older["appeals"], json!([]));
    for reader in [&leader, &supervisor, &app.demo_user("unitadmin").await] {
        let (status, listed) = reader
            .get_json(&format!("/api/v1/enterprises/{id}/visits"))
            .await;
        assert_eq!(status, 200, "{listed}");
        assert_eq!(listed["total"], 2);
        assert_eq!(listed["items"][0]["id"], visit_id.as_str());
        assert_eq!(listed["items"][1]["id"], older["id"]);
        let numbers: Vec<&Value> = listed["items"][0]["appeals"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| &a["id"])
            .collect();
        // the liaison unit's contact reads the visit, and only the appeals it sees (none is
        // dispatched to it yet)
        if reader.login["user"]["username"] == "unitadmin" {
            assert!(numbers.is_empty(), "{listed}");
        } else {
            assert_eq!(numbers, vec![&json!(ids[0]), &json!(ids[1])]);
        }
    }
    // neither another street's contact nor an inspector reads them
    for name in ["street", "inspector", "window", "observer"] {
        let (status, _) = app
            .demo_user(name)
            .await
            .get_json(&format!("/api/v1/enterprises/{id}/visits"))
            .await;
        assert_eq!(status, 404, "{name}");
    }

    // the enterprise's page lists them with links to the appeals; the liaison page shows
    // the leader's last visit
    let (status, page) = leader.get_text(&format!("/enterprises/{id}")).await;
    assert_eq!(status, 200);
    assert!(page.contains("包联走访") && page.contains(&format!("/appeals/{}", ids[0])));
    assert!(page.contains(&format!("/enterprises/{id}/visits/new")));
    let (_, page) = supervisor.get_text(&format!("/enterprises/{id}")).await;
    assert!(page.contains("座谈") && page.contains("电话回访政策落实情况"));
    let (_, page) = app
        .demo_user("inspector")
        .await
        .get_text(&format!("/enterprises/{id}"))
        .await;
    assert!(!page.contains("visit-list") && !page.contains("座谈"));
    let (status, page) = leader.get_text("/enterprises/liaison").await;
    assert_eq!(status, 200);
    let row = page
        .split("<tr>")
        .find(|r| r.contains("济南槐荫走访测试有限公司"))
        .expect("the leader's own enterprise on the liaison page");
    assert!(
        row.contains(&day(-2)) && !row.contains("超过 90 天未走访"),
        "{row}"
    );
    let row = page
        .split("<tr>")
        .find(|r| r.contains(&format!("/enterprises/{unvisited}\"")))
        .expect("the unvisited one on the liaison page");
    assert!(
        row.contains("尚未走访") && row.contains("超过 90 天未走访"),
        "{row}"
    );
}

async fn only_the_liaison_leader_and_the_supervisor_record_visits(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let supervisor = app.demo_user("supervisor").await;
    let (_, other) = leaders(&app).await;
    let theirs = enterprise(
        &supervisor,
        "91370104MA3C5T8R15",
        "济南槐荫他人包联有限公司",
        &other,
    )
    .await;
    let body = json!({"visited_on": day(0), "summary": "走访。", "issues": two_issues()});
    let before = written(&app).await;
    for name in [
        "leader",
        "unitadmin",
        "street",
        "inspector",
        "window",
        "observer",
    ] {
        let user = app.demo_user(name).await;
        let (status, answer) = user
            .post_json(&format!("/api/v1/enterprises/{theirs}/visits"), &body, true)
            .await;
        assert_eq!(status, 404, "{name}: {answer}");
        let (status, _) = user
            .get_text(&format!("/enterprises/{theirs}/visits/new"))
            .await;
        assert_eq!(status, 404, "{name}");
    }
    let leader = app.demo_user("leader").await;
    let (_, page) = leader.get_text(&format!("/enterprises/{theirs}")).await;
    assert!(
        !page.contains("/visits/new"),
        "no visit link on another leader's enterprise"
    );
    // the leader reads that enterprise's visits, as leaders read everything
    let (status, _) = leader
        .get_json(&format!("/api/v1/enterprises/{theirs}/visits"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(written(&app).await, before, "nothing written");
    let (status, _) = supervisor
        .post_json(&format!("/api/v1/enterprises/{theirs}/visits"), &body, true)
        .await;
    assert_eq!(status, 201);

    // the leader's account is linked to its staff record by the system administrator (三员:
    // not the security administrator); linked to the other leader, the account records there
    let account = leader.login["user"]["id"].as_str().unwrap().to_owned();
    let link = format!("/api/v1/accounts/{account}/staff");
    let secadmin = app.demo_user("secadmin").await;
    let (status, _) = secadmin
        .send_json("PUT", &link, json!({"staff_id": other}))
        .await;
    assert_eq!(status, 403);
    let admin = app.demo_user("admin").await;
    let (status, answer) = admin
        .send_json("PUT", &link, json!({"staff_id": "nobody"}))
        .await;
    assert_eq!(status, 422, "{answer}");
    let (status, answer) = admin
        .send_json("PUT", &link, json!({"staff_id": other}))
        .await;
    assert_eq!(status, 200, "{answer}");
    let (status, answer) = leader
        .post_json(&format!("/api/v1/enterprises/{theirs}/visits"), &body, true)
        .await;
    assert_eq!(status, 201, "{answer}");
    let audited = app
        .sql_rows(&format!(
            "SELECT changes FROM audit_log WHERE entity = 'account' AND action = 'link_staff' AND entity_id = '{account}' ORDER BY seq DESC"
        ))
        .await;
    assert!(audited[0][0].contains(&other), "{audited:?}");
}

async fn bad_visit_input_changes_nothing(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let (id, leader) = liaised_enterprise(&app, "济南槐荫坏输入有限公司").await;
    let good = json!({"visited_on": day(0), "form": "onsite", "summary": "了解情况。",
                      "issues": two_issues()});
    let with = |key: &str, value: Value| {
        let mut body = good.clone();
        body[key] = value;
        body
    };
    let mut unknown_category = two_issues();
    unknown_category[1]["category_code"] = json!("NOPE");
    let mut no_content = two_issues();
    no_content[1]["content"] = json!("  ");
    let mut bad_kind = two_issues();
    bad_kind[0]["kind"] = json!("抱怨");
    let many: Vec<Value> = (0..21)
        .map(|_| json!({"category_code": "HQZC", "content": "问题"}))
        .collect();
    let before = written(&app).await;
    for (body, field, message) in [
        (
            with("visited_on", json!(day(1))),
            "visited_on",
            "不能晚于今天",
        ),
        (with("visited_on", json!("昨天")), "visited_on", "日期"),
        (
            with("visited_on", json!(null)),
            "visited_on",
            "请填写走访日期",
        ),
        (with("summary", json!("   ")), "summary", "走访情况"),
        (with("form", json!("上门")), "form", "走访形式"),
        (with("issues", unknown_category), "issues", "第 2 条问题"),
        (
            with("issues", no_content),
            "issues",
            "第 2 条问题：请填写问题内容",
        ),
        (with("issues", bad_kind), "issues", "第 1 条问题"),
        (with("issues", json!(many)), "issues", "最多"),
    ] {
        let (status, answer) = leader
            .post_json(&format!("/api/v1/enterprises/{id}/visits"), &body, true)
            .await;
        assert_eq!(status, 422, "{body}: {answer}");
        let said = answer["error"]["fields"][field]
            .as_str()
            .unwrap_or_default();
        assert!(said.contains(message), "{field}: {answer}");
    }
    let (status, _) = leader
        .post_json("/api/v1/enterprises/nosuchenterprise/visits", &good, true)
        .await;
    assert_eq!(status, 404, "an unknown enterprise");
    let (status, _) = leader
        .post_json(&format!("/api/v1/enterprises/{id}/visits"), &good, false)
        .await;
    assert_eq!(status, 403, "no CSRF token");
    assert_eq!(written(&app).await, before, "nothing written");
    // the store refuses the same without the web layer
    let tenant = app
        .sql_rows("SELECT tenant_id FROM enterprise WHERE name = '济南槐荫坏输入有限公司'")
        .await[0][0]
        .clone();
    let account = app
        .sql_rows("SELECT id FROM account WHERE username = 'leader'")
        .await[0][0]
        .clone();
    let refused = app
        .store
        .record_visit(
            &store::audit::AuditCtx::demo(),
            &tenant,
            &account,
            &store::visit::NewVisit {
                enterprise_id: "nosuchenterprise".into(),
                visited_on: day(0).parse().unwrap(),
                form: domain::visit::VisitForm::Onsite,
                people: String::new(),
                summary: "了解情况。".into(),
                issues: Vec::new(),
            },
        )
        .await;
    assert!(
        matches!(
            refused,
            Err(store::StoreError::InvalidField {
                field: "enterprise_id",
                ..
            })
        ),
        "{refused:?}"
    );
    assert_eq!(written(&app).await, before, "nothing written");
    let (status, _) = leader
        .post_json(&format!("/api/v1/enterprises/{id}/visits"), &good, true)
        .await;
    assert_eq!(status, 201, "the good one lands");
}

async fn the_visit_form_records_a_visit(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let (id, leader) = liaised_enterprise(&app, "济南槐荫表单走访有限公司").await;
    let path = format!("/enterprises/{id}/visits/new");
    let (status, page) = leader.get_text(&path).await;
    assert_eq!(status, 200);
    assert!(page.contains("visit-form") && page.contains(&leader.csrf_token));
    assert!(page.contains("惠企政策"), "the categories are offered");
    let today = day(0);
    let mut fields = vec![
        ("visited_on", today.as_str()),
        ("form", "forum"),
        ("people", "王建国；企业负责人张伟"),
        ("summary", "座谈了解企业用工情况。"),
        ("issue1_kind", "demand"),
        ("issue1_category_code", "RSJY"),
        ("issue1_title", ""),
        ("issue1_content", "企业希望协调技工学校定向培养。"),
        ("issue2_kind", "demand"),
        ("issue2_category_code", ""),
        ("issue2_title", ""),
        ("issue2_content", ""),
    ];
    let before = written(&app).await;
    let response = leader.post_form(&path, &fields).await;
    assert_eq!(
        response.status().as_u16(),
        403,
        "a form needs its CSRF token"
    );
    let csrf = leader.csrf_token.clone();
    fields.push(("csrf_token", csrf.as_str()));
    let mut empty = fields.clone();
    empty[3] = ("summary", "");
    let response = leader.post_form(&path, &empty).await;
    assert_eq!(response.status().as_u16(), 422);
    let page = response.text().await.unwrap();
    assert!(page.contains("走访情况应为") && page.contains("企业希望协调技工学校定向培养"));
    assert_eq!(written(&app).await, before, "nothing written");

    let response = leader.post_form(&path, &fields).await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(
        response.headers()["location"].to_str().unwrap(),
        format!("/enterprises/{id}#visits")
    );
    let (_, listed) = leader
        .get_json(&format!("/api/v1/enterprises/{id}/visits"))
        .await;
    assert_eq!(listed["total"], 1, "{listed}");
    let visit = &listed["items"][0];
    assert_eq!(visit["form_label"], "座谈");
    assert_eq!(visit["visited_on"], today.as_str());
    assert_eq!(
        visit["appeals"].as_array().unwrap().len(),
        1,
        "the blank row is no issue"
    );
    let appeal_id = visit["appeals"][0]["id"].as_str().unwrap();
    let stored = app
        .sql_rows(&format!(
            "SELECT source, category_code, enterprise_id, state FROM appeal WHERE id = '{appeal_id}'"
        ))
        .await;
    assert_eq!(stored[0], vec!["visit", "RSJY", id.as_str(), "submitted"]);
    let supervisor = app.demo_user("supervisor").await;
    let (_, page) = supervisor.get_text(&format!("/appeals/{appeal_id}")).await;
    assert!(page.contains("包联走访"), "the appeal shows its source");
}
