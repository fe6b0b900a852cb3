//! The enterprise registry: saved by USCC with every value checked, searched by a name
//! fragment of two or more characters (across word boundaries) or by code, filtered; the
//! contact's phone masked except for whoever keeps the enterprise; bad input changes nothing.

use serde_json::{Value, json};
use test_support::{Backend, TestApp, TestUser, db_tests};

db_tests!(
    many_enterprises_land_in_bulk_with_their_grams_and_audit,
    the_forms_add_and_change_enterprises_in_chinese,
    an_enterprise_is_saved_found_and_kept_by_whom_it_belongs_to,
    bad_enterprise_input_changes_nothing,
);

const CODE: &str = "91370104MA3C5T8R15";

async fn leader_id(user: &TestUser) -> String {
    let (_, staff) = user.get_json("/api/v1/staff?per_page=200").await;
    staff["items"].as_array().unwrap()[0]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Enterprises on file besides the demo's own.
async fn count(app: &TestApp) -> String {
    app.sql_rows(
        "SELECT CAST(COUNT(*) AS TEXT) FROM enterprise e WHERE NOT EXISTS (SELECT 1 FROM record_history h \
         WHERE h.tenant_id = e.tenant_id AND h.record_type = 'enterprise' AND h.record_id = e.id AND h.actor = 'demo')",
    )
    .await[0][0]
    .clone()
}

async fn logistics(supervisor: &TestUser) -> Value {
    let street = supervisor.unit_id("370104001").await;
    let spj = supervisor.unit_id("SPJ").await;
    json!({"uscc": CODE, "name": "济南槐荫智慧物流有限公司", "legal_rep": "张伟",
           "address": "济南市槐荫区经十路 1 号", "street_id": street, "industry_code": "g5941",
           "leading_industry": "现代物流", "scale": "小", "established_on": "2015/3/1",
           "capital": "500", "status": "存续", "contact_name": "王芳", "contact_phone": "138 0531 0001",
           "key_enterprise": true, "liaison_leader_id": leader_id(supervisor).await, "liaison_unit_id": spj})
}

async fn an_enterprise_is_saved_found_and_kept_by_whom_it_belongs_to(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let supervisor = app.demo_user("supervisor").await;
    let body = logistics(&supervisor).await;
    let (status, created) = supervisor
        .post_json("/api/v1/enterprises", &body, true)
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["uscc"], CODE);
    assert_eq!(created["industry_code"], "G5941");
    assert_eq!(created["scale"], "小型");
    assert_eq!(created["established_on"], "2015-03-01");
    assert_eq!(created["capital"], "500");
    assert_eq!(created["status"], "存续");
    assert_eq!(
        created["contact_phone"], "13805310001",
        "the supervisor keeps it"
    );
    assert_eq!(created["street"]["name"], "振兴街街道");
    assert!(created["liaison_leader"]["name"].is_string());
    let id = created["id"].as_str().unwrap().to_owned();
    let (status, again) = supervisor
        .post_json("/api/v1/enterprises", &body, true)
        .await;
    assert_eq!(status, 409, "{again}");
    // the phone is sealed in the database
    let stored = app
        .sql_rows("SELECT COALESCE(contact_phone_enc, '') FROM enterprise")
        .await;
    assert!(!format!("{stored:?}").contains("13805310001"));

    // found by any fragment of two or more characters, across word boundaries, or by code
    let leader = app.demo_user("leader").await;
    for q in [
        // no demo enterprise holds 智 or 慧
        "智慧",
        "荫智",
        "槐荫智慧",
        "智慧物流有限",
        CODE,
        "91370104ma3c5t8r15",
    ] {
        let (status, found) = leader
            .get_json(&format!(
                "/api/v1/enterprises?q={}",
                test_support::encode(q)
            ))
            .await;
        assert_eq!(status, 200, "{q}: {found}");
        assert_eq!(found["total"], 1, "{q}: {found}");
        assert_eq!(found["items"][0]["id"], id.as_str());
        assert_eq!(
            found["items"][0]["contact_phone"], "138****0001",
            "a leader sees it masked"
        );
    }
    for q in ["快递", "物流快", "91370104MA3C5T8R16"] {
        let (status, found) = leader
            .get_json(&format!(
                "/api/v1/enterprises?q={}",
                test_support::encode(q)
            ))
            .await;
        if status == 200 {
            assert_eq!(found["total"], 0, "{q}: {found}");
        } else {
            assert_eq!(status, 400, "{q}: {found}");
        }
    }
    let (status, short) = leader
        .get_json(&format!(
            "/api/v1/enterprises?q={}",
            test_support::encode("物")
        ))
        .await;
    assert_eq!(status, 400, "{short}");
    assert!(
        short["error"]["message"]
            .as_str()
            .unwrap()
            .contains("至少输入 2 个字")
    );
    let street = supervisor.unit_id("370104001").await;
    let sibling = supervisor.unit_id("370104002").await;
    for (filter, total) in [
        (format!("street_id={street}"), 1),
        (format!("street_id={sibling}"), 0),
        ("key_enterprise=true".to_owned(), 1),
        ("key_enterprise=false".to_owned(), 0),
        ("industry=G".to_owned(), 1),
        ("industry=C".to_owned(), 0),
        (
            format!("leading_industry={}", test_support::encode("现代物流")),
            1,
        ),
        (format!("scale={}", test_support::encode("小型")), 1),
        (format!("status={}", test_support::encode("注销")), 0),
    ] {
        // within the name, apart from the demo's enterprises
        let (status, found) = leader
            .get_json(&format!(
                "/api/v1/enterprises?q={}&{filter}",
                test_support::encode("智慧")
            ))
            .await;
        assert_eq!(
            (status, found["total"].as_i64()),
            (200, Some(total)),
            "{filter}: {found}"
        );
    }
    let (status, _) = leader
        .get_json("/api/v1/enterprises?key_enterprise=maybe")
        .await;
    assert_eq!(status, 400);

    // the street's contact keeps its street's enterprises and reads the phone; a department's
    // contact reads it masked and may not change it
    let street_contact = app.demo_user("street").await;
    let (_, shown) = street_contact
        .get_json(&format!("/api/v1/enterprises/{id}"))
        .await;
    assert_eq!(shown["contact_phone"], "13805310001");
    let department = app.demo_user("unitadmin").await;
    let (_, shown) = department
        .get_json(&format!("/api/v1/enterprises/{id}"))
        .await;
    assert_eq!(shown["contact_phone"], "138****0001");
    let (status, _) = department
        .send_json(
            "PATCH",
            &format!("/api/v1/enterprises/{id}"),
            json!({"address": "x"}),
        )
        .await;
    assert_eq!(status, 403);
    let (status, changed) = street_contact
        .send_json(
            "PATCH",
            &format!("/api/v1/enterprises/{id}"),
            json!({"address": "济南市槐荫区经十路 2 号", "status": "在业"}),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["address"], "济南市槐荫区经十路 2 号");
    assert_eq!(changed["status"], "在业");
    assert_eq!(
        changed["name"], "济南槐荫智慧物流有限公司",
        "the rest stays"
    );
    let (status, refused) = street_contact
        .send_json(
            "PATCH",
            &format!("/api/v1/enterprises/{id}"),
            json!({"street_id": sibling}),
        )
        .await;
    assert_eq!(status, 422, "{refused}");
    assert!(refused["error"]["fields"]["street_id"].is_string());
    // the same values again change nothing, not even the audit log
    let audit = app
        .sql_rows("SELECT CAST(COUNT(*) AS TEXT) FROM audit_log")
        .await;
    let (status, _) = street_contact
        .send_json(
            "PATCH",
            &format!("/api/v1/enterprises/{id}"),
            json!({"address": "济南市槐荫区经十路 2 号"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        app.sql_rows("SELECT CAST(COUNT(*) AS TEXT) FROM audit_log")
            .await,
        audit
    );

    // liaison coverage: a second key enterprise without a leader
    let mut second = logistics(&supervisor).await;
    second["uscc"] = json!(
        domain::uscc::Uscc::complete("91370104MA3C5T8T")
            .unwrap()
            .as_str()
    );
    second["name"] = json!("槐荫医养健康服务中心");
    second["liaison_leader_id"] = json!("");
    let (_, before) = leader.get_json("/api/v1/enterprises/liaison").await;
    let (status, other) = supervisor
        .post_json("/api/v1/enterprises", &second, true)
        .await;
    assert_eq!(status, 201, "{other}");
    let (_, coverage) = leader.get_json("/api/v1/enterprises/liaison").await;
    let grew = |field: &str| coverage[field].as_i64().unwrap() - before[field].as_i64().unwrap();
    assert_eq!(grew("key_enterprises"), 1, "{coverage}");
    assert_eq!(grew("without_liaison"), 1, "{coverage}");
    let leader_id = leader_id(&supervisor).await;
    let line = coverage["leaders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == leader_id.as_str())
        .unwrap();
    assert!(line["enterprises"].as_i64().unwrap() >= 1, "{coverage}");
    let (_, uncovered) = leader
        .get_json(&format!(
            "/api/v1/enterprises?key_enterprise=true&liaison=none&q={}",
            test_support::encode("医养")
        ))
        .await;
    assert_eq!(uncovered["total"], 1);
    assert_eq!(uncovered["items"][0]["name"], "槐荫医养健康服务中心");
    let (_, theirs) = leader
        .get_json(&format!(
            "/api/v1/enterprises?liaison_leader_id={leader_id}&q={}",
            test_support::encode("智慧")
        ))
        .await;
    assert_eq!(theirs["total"], 1);
    assert_eq!(theirs["items"][0]["id"], id.as_str());
    let (_, page) = leader.get_text("/enterprises/liaison").await;
    assert!(page.contains("未落实包联领导"), "{page}");
    let (status, _) = leader.get_json("/api/v1/enterprises?liaison=maybe").await;
    assert_eq!(status, 400);

    // exported with the import template's columns, phones as the reader may see them
    let response = leader
        .get("/api/v1/enterprises/export?format=xlsx&key_enterprise=true&liaison=set&q=%E6%99%BA%E6%85%A7")
        .await;
    assert_eq!(response.status(), 200);
    let table = store::import::read_table(&response.bytes().await.unwrap()).unwrap();
    assert_eq!(table.headers(), domain::enterprise::FILE_COLUMNS);
    assert_eq!(table.rows().len(), 1);
    let (row_number, row) = &table.rows()[0];
    assert_eq!(*row_number, 2);
    assert_eq!(row[0], CODE);
    assert_eq!(row[4], "振兴街街道");
    assert_eq!(row[5], "G5941");
    assert_eq!(row[8], "2015-03-01");
    assert_eq!(row[10], "在业");
    assert_eq!(row[12], "138****0001");
    assert_eq!(row[13], "是");
    let (status, csv) = street_contact
        .get_text("/api/v1/enterprises/export?format=csv")
        .await;
    assert_eq!(status, 200);
    assert!(csv.starts_with('\u{FEFF}'), "a byte order mark for Excel");
    assert!(csv.contains("\"济南市槐荫区经十路 2 号\"") || csv.contains("济南市槐荫区经十路 2 号"));
    assert!(
        csv.contains(",13805310001,"),
        "the street's contact keeps it: {csv}"
    );
    let (status, _) = leader
        .get_text("/api/v1/enterprises/export?format=pdf")
        .await;
    assert_eq!(status, 400);
    let (status, _) = leader.get_json("/api/v1/enterprises?format=csv").await;
    assert_eq!(status, 400);
    let (_, none) = leader
        .get_text(&format!(
            "/api/v1/enterprises/export?format=csv&street_id={sibling}&q=%E6%99%BA%E6%85%A7"
        ))
        .await;
    assert_eq!(none.lines().count(), 1, "the header only: {none}");

    // pages: the search, its refusal in Chinese, the record with its timeline
    let (status, page) = leader
        .get_text(&format!("/enterprises?q={}", test_support::encode("智慧")))
        .await;
    assert_eq!(status, 200);
    assert!(page.contains("济南槐荫智慧物流有限公司"), "{page}");
    let (_, page) = leader
        .get_text(&format!("/enterprises?q={}", test_support::encode("物")))
        .await;
    assert!(page.contains("请至少输入 2 个字"), "{page}");
    let (_, page) = leader.get_text(&format!("/enterprises/{id}")).await;
    assert!(
        page.contains(CODE) && page.contains("138****0001"),
        "{page}"
    );
    assert!(
        page.contains("录入企业“济南槐荫智慧物流有限公司”") && page.contains("修改企业信息"),
        "{page}"
    );
    assert!(app.store.verify_audit().await.unwrap().problems.is_empty());
}

async fn bad_enterprise_input_changes_nothing(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let supervisor = app.demo_user("supervisor").await;
    let good = logistics(&supervisor).await;
    let spj = supervisor.unit_id("SPJ").await;
    let before = count(&app).await;
    let with = |key: &str, value: Value| {
        let mut body = good.clone();
        body[key] = value;
        body
    };
    for (body, field, words) in [
        (
            with("uscc", json!("91370104MA3C5T8R16")),
            "uscc",
            "校验位错误",
        ),
        (
            with("uscc", json!("91370104MA3C5T8RXU")),
            "uscc",
            "组织机构代码校验位",
        ),
        (with("name", json!(" ")), "name", "请填写企业名称"),
        (
            with("industry_code", json!("A13")),
            "industry_code",
            "不属于门类 A",
        ),
        (
            with("established_on", json!("2015-02-30")),
            "established_on",
            "不存在",
        ),
        (with("capital", json!("五百")), "capital", "万元"),
        (with("scale", json!("特大")), "scale", "大型"),
        (with("status", json!("歇业")), "status", "存续"),
        (
            with("leading_industry", json!("航空航天")),
            "leading_industry",
            "主导产业",
        ),
        (with("street_id", json!(spj)), "street_id", "街道"),
        (
            with("liaison_leader_id", json!("nobody")),
            "liaison_leader_id",
            "包联领导",
        ),
        (
            with("contact_phone", json!("12345")),
            "contact_phone",
            "电话",
        ),
    ] {
        let (status, refused) = supervisor
            .post_json("/api/v1/enterprises", &body, true)
            .await;
        assert_eq!(status, 422, "{field}: {refused}");
        let message = refused["error"]["fields"][field]
            .as_str()
            .unwrap_or_default();
        assert!(message.contains(words), "{field}: {refused}");
    }
    let (status, _) = supervisor
        .post_json("/api/v1/enterprises", &with("fax", json!("1")), true)
        .await;
    assert_eq!(status, 422, "an unknown field");
    assert_eq!(count(&app).await, before, "nothing saved");
    // a street's contact adds in its own street only
    let street_contact = app.demo_user("street").await;
    let sibling = supervisor.unit_id("370104002").await;
    let (status, refused) = street_contact
        .post_json(
            "/api/v1/enterprises",
            &with("street_id", json!(sibling)),
            true,
        )
        .await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(count(&app).await, before);
    let (status, _) = street_contact
        .post_json("/api/v1/enterprises", &good, true)
        .await;
    assert_eq!(status, 201);
    let (_, found) = supervisor
        .get_json("/api/v1/enterprises?q=91370104MA3C5T8R15")
        .await;
    let id = found["items"][0]["id"].as_str().unwrap().to_owned();
    let (status, refused) = supervisor
        .send_json(
            "PATCH",
            &format!("/api/v1/enterprises/{id}"),
            json!({"uscc": "91110000600037341L"}),
        )
        .await;
    assert_eq!(status, 422, "{refused}");
    assert!(
        refused["error"]["fields"]["uscc"]
            .as_str()
            .unwrap()
            .contains("不能修改")
    );
}

async fn the_forms_add_and_change_enterprises_in_chinese(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let street_contact = app.demo_user("street").await;
    let (status, page) = street_contact.get_text("/enterprises/new").await;
    assert_eq!(status, 200);
    let streets = page
        .split("name=\"street_id\"")
        .nth(1)
        .and_then(|rest| rest.split("</select>").next())
        .unwrap_or_default();
    assert!(
        streets.contains("振兴街街道") && !streets.contains("中大槐树街道"),
        "its own street only: {streets}"
    );
    let street = street_contact.unit_id("370104001").await;
    let csrf = street_contact.csrf_token.clone();
    let fields = |code: &'static str| {
        vec![
            ("csrf_token", csrf.clone()),
            ("uscc", code.to_owned()),
            ("name", "槐荫区振兴街便民超市".to_owned()),
            ("street_id", street.clone()),
            ("established_on", "2019年5月20日".to_owned()),
            ("status", "在业".to_owned()),
            ("key_enterprise", "true".to_owned()),
        ]
    };
    let send = |fields: Vec<(&'static str, String)>, path: String| {
        let user = &street_contact;
        async move {
            let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            user.post_form(&path, &pairs).await
        }
    };
    let refused = send(fields("91370104MA3C5T8R16"), "/enterprises/new".into()).await;
    assert_eq!(refused.status().as_u16(), 422);
    let html = refused.text().await.unwrap();
    assert!(html.contains("校验位错误：第 18 位应为 5"), "{html}");
    assert!(
        html.contains("槐荫区振兴街便民超市"),
        "what was typed stays"
    );
    assert_eq!(count(&app).await, "0");
    let created = send(fields(CODE), "/enterprises/new".into()).await;
    assert_eq!(created.status().as_u16(), 303);
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let (_, page) = street_contact.get_text(&location).await;
    assert!(
        page.contains("2019-05-20") && page.contains("在业"),
        "{page}"
    );
    assert!(page.contains("/edit"), "its keeper may edit");
    // changed through the edit form; a department's contact may not open it
    let mut changed = fields(CODE);
    changed.retain(|(k, _)| *k != "key_enterprise");
    changed.push(("legal_rep", "李娜".to_owned()));
    let saved = send(changed, format!("{location}/edit")).await;
    assert_eq!(saved.status().as_u16(), 303);
    let id = location.trim_start_matches("/enterprises/");
    let (_, shown) = street_contact
        .get_json(&format!("/api/v1/enterprises/{id}"))
        .await;
    assert_eq!(shown["legal_rep"], "李娜");
    assert_eq!(shown["key_enterprise"], false, "an unchecked box is 否");
    let department = app.demo_user("unitadmin").await;
    let (status, _) = department.get_text(&format!("{location}/edit")).await;
    assert_eq!(status, 403);
}

async fn many_enterprises_land_in_bulk_with_their_grams_and_audit(backend: Backend) {
    use store::enterprise::{EnterpriseFilter, EnterpriseValues};
    let app = TestApp::spawn(backend).await;
    let tenant = app
        .store
        .create_tenant(&store::audit::AuditCtx::cli(), "370199", "测试区")
        .await
        .unwrap()
        .id;
    let values = |body: &str, name: &str| EnterpriseValues {
        uscc: domain::uscc::Uscc::complete(body).unwrap(),
        name: name.to_owned(),
        legal_rep: String::new(),
        address: String::new(),
        street_id: None,
        industry_code: None,
        leading_industry: None,
        scale: None,
        established_on: None,
        capital: None,
        status: domain::enterprise::Status::Existing,
        contact_name: String::new(),
        contact_phone: domain::staff::Phone::parse("13905310009").ok(),
        key_enterprise: false,
        liaison_leader_id: None,
        liaison_unit_id: None,
    };
    let ctx = store::audit::AuditCtx::cli();
    let batch = [
        values("91370104MA000001", "泉城物流有限公司"),
        values("91370104MA000002", "槐荫医药连锁有限公司"),
        values("91370104MA000003", "齐鲁物流股份有限公司"),
    ];
    let seen = std::sync::atomic::AtomicUsize::new(0);
    let done = app
        .store
        .insert_enterprises(&ctx, &tenant, &batch, &|n| {
            seen.store(n, std::sync::atomic::Ordering::SeqCst)
        })
        .await
        .unwrap();
    assert_eq!((done, seen.into_inner()), (3, 3));
    let found = app
        .store
        .list_enterprises(
            &tenant,
            &EnterpriseFilter {
                q: Some("物流".into()),
                ..EnterpriseFilter::default()
            },
            store::page::PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(found.total, 2);
    assert_eq!(
        found.items[0].contact_phone_masked.as_deref(),
        Some("139****0009")
    );
    assert_eq!(
        app.store
            .scan_enterprise_names(&tenant, "物流")
            .await
            .unwrap(),
        2,
        "the reference scan agrees"
    );
    // one audit entry for the batch, with a digest per row
    let entries = app.store.audit_entries(&tenant, 1).await.unwrap();
    assert_eq!(entries[0].entity, "enterprise");
    let changes: Value = serde_json::from_str(&entries[0].changes).unwrap();
    assert_eq!(changes["rows"].as_array().unwrap().len(), 3);
    // a code already on file fails its whole chunk
    let again = [
        values("91370104MA000004", "新的企业有限公司"),
        values("91370104MA000001", "泉城物流有限公司"),
    ];
    assert!(
        app.store
            .insert_enterprises(&ctx, &tenant, &again, &|_| {})
            .await
            .is_err()
    );
    assert_eq!(count(&app).await, "3", "nothing of the failed chunk stays");
    assert!(app.store.verify_audit().await.unwrap().problems.is_empty());
}
