//! Reorganisation (机构改革): renames, merges and splits take effect on their date, move what
//! they name, keep dissolved units and former names so history stays attributed to the unit as
//! it was, and tell it on each unit's timeline. Bad input changes nothing.

use chrono::{Duration, NaiveDate};
use serde_json::{Value, json};
use store::staff::StaffFilter;
use test_support::{Backend, TestApp, TestUser, db_tests};

db_tests!(
    a_rename_waits_for_its_day_and_keeps_the_former_name,
    a_merge_moves_staff_units_and_accounts_and_dissolves_the_sources,
    a_split_from_the_page_hands_named_items_over_and_the_rest_to_the_first_part,
    bad_reorganisations_are_refused_and_change_nothing,
);

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

async fn unit_by_code(user: &TestUser, code: &str) -> Value {
    let (status, body) = user.get_json("/api/v1/units?per_page=200").await;
    assert_eq!(status, 200);
    let mut page = 1;
    let mut body = body;
    loop {
        if let Some(u) = body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["code"] == code)
        {
            return u.clone();
        }
        page += 1;
        let (_, next) = user
            .get_json(&format!("/api/v1/units?per_page=200&page={page}"))
            .await;
        assert!(
            !next["items"].as_array().unwrap().is_empty(),
            "unit {code} not found"
        );
        body = next;
    }
}

async fn staff_ids_of(app: &TestApp, tenant_id: &str, unit_id: &str) -> Vec<String> {
    let mut ids: Vec<String> = app
        .store
        .list_staff(
            tenant_id,
            &StaffFilter {
                unit_id: Some(unit_id.to_owned()),
                ..StaffFilter::default()
            },
            store::page::PageRequest {
                page: 1,
                per_page: 200,
            },
        )
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|s| s.unit_id == unit_id && s.active)
        .map(|s| s.id)
        .collect();
    ids.sort();
    ids
}

async fn tenant_id(app: &TestApp) -> String {
    app.store
        .tenant_by_code("370104")
        .await
        .unwrap()
        .unwrap()
        .id
}

async fn a_rename_waits_for_its_day_and_keeps_the_former_name(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let tenant = tenant_id(&app).await;
    let admin = app.demo_user("admin").await;
    let unit = unit_by_code(&admin, "SPJ").await;
    let id = unit["id"].as_str().unwrap().to_owned();
    assert_eq!(unit["name"], "槐荫区行政审批服务局");

    let (status, planned) = admin
        .post_json(
            "/api/v1/reorganisations",
            &json!({"kind": "rename", "effective_on": "2026-12-07", "document": "槐编〔2026〕5号",
                    "unit_id": id, "name": "槐荫区数据和行政审批服务局"}),
            true,
        )
        .await;
    assert_eq!(status, 201, "{planned}");
    assert_eq!(planned["state"], "planned");
    assert_eq!(planned["units"][0]["id"], id.as_str());
    let reorg_id = planned["id"].as_str().unwrap().to_owned();

    // before its day nothing changes, and the unit takes no second plan meanwhile
    assert_eq!(app.store.apply_due_reorganisations().await.unwrap(), 0);
    let (_, now) = admin.get_json(&format!("/api/v1/units/{id}")).await;
    assert_eq!(now["name"], "槐荫区行政审批服务局");
    let (status, body) = admin
        .post_json(
            "/api/v1/reorganisations",
            &json!({"kind": "rename", "effective_on": "2026-12-08", "document": "槐编〔2026〕6号",
                    "unit_id": id, "name": "别的名称"}),
            true,
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"]["fields"]["unit_id"]
            .as_str()
            .unwrap()
            .contains("槐编〔2026〕5号"),
        "{body}"
    );

    // on its day (09:00 in Shanghai) the minute job carries it out, as the system
    app.clock.set("2026-12-07T01:00:00Z".parse().unwrap());
    assert_eq!(app.store.apply_due_reorganisations().await.unwrap(), 1);
    assert_eq!(app.store.apply_due_reorganisations().await.unwrap(), 0);
    let admin = app.demo_user("admin").await;
    let (_, now) = admin.get_json(&format!("/api/v1/units/{id}")).await;
    assert_eq!(now["name"], "槐荫区数据和行政审批服务局");
    assert_eq!(now["code"], "SPJ", "a rename keeps the code and id");

    // the name as it was on each day
    let before = app
        .store
        .unit_names_on(&tenant, day("2026-12-06"))
        .await
        .unwrap();
    let after = app
        .store
        .unit_names_on(&tenant, day("2026-12-07"))
        .await
        .unwrap();
    assert_eq!(before[&id], "槐荫区行政审批服务局");
    assert_eq!(after[&id], "槐荫区数据和行政审批服务局");

    let (status, history) = admin.get_json(&format!("/api/v1/units/{id}/history")).await;
    assert_eq!(status, 200);
    assert_eq!(
        history["former_names"],
        json!([{"name": "槐荫区行政审批服务局", "until": "2026-12-07"}])
    );
    let items = history["items"].as_array().unwrap();
    let events: Vec<&str> = items.iter().map(|i| i["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["created", "reorg_planned", "renamed"], "{history}");
    let renamed = items.last().unwrap();
    assert_eq!(
        renamed["text"],
        "依据槐编〔2026〕5号，自 2026-12-07 起由“槐荫区行政审批服务局”更名为“槐荫区数据和行政审批服务局”"
    );
    assert_eq!(renamed["actor"], "系统（到期自动执行）");
    assert_eq!(items[1]["actor"], "系统管理员（示例）");

    // the page tells the same
    let (status, page) = admin.get_text(&format!("/units/{id}")).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("曾用名：槐荫区行政审批服务局（使用至 2026-12-07）"),
        "{page}"
    );
    assert!(page.contains("更名为“槐荫区数据和行政审批服务局”"));
    let (_, detail) = admin
        .get_text(&format!("/reorganisations/{reorg_id}"))
        .await;
    assert!(detail.contains("已生效"), "{detail}");

    // an applied reorganisation cannot be withdrawn
    let (status, body) = admin
        .post_json(
            &format!("/api/v1/reorganisations/{reorg_id}/cancel"),
            &json!({}),
            true,
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("已生效")
    );

    // the chain holds and names the apply as the system's
    assert!(app.store.verify_audit().await.unwrap().problems.is_empty());
    let applies = app
        .sql_rows(&format!(
            "SELECT actor FROM audit_log WHERE entity = 'reorganisation' AND entity_id = '{reorg_id}' ORDER BY seq"
        ))
        .await;
    assert_eq!(
        applies,
        [
            vec![format!(
                "user:{}",
                admin.login["user"]["id"].as_str().unwrap()
            )],
            vec!["system".to_owned()]
        ]
    );
}

async fn a_merge_moves_staff_units_and_accounts_and_dissolves_the_sources(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let tenant = tenant_id(&app).await;
    let admin = app.demo_user("admin").await;
    let a = unit_by_code(&admin, "370104001").await;
    let b = unit_by_code(&admin, "370104002").await;
    let (a_id, b_id) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());
    let mut staff_before = staff_ids_of(&app, &tenant, a_id).await;
    staff_before.extend(staff_ids_of(&app, &tenant, b_id).await);
    staff_before.sort();
    assert!(staff_before.len() >= 4);
    let children = |parent: &str| {
        let store = app.store.clone();
        let tenant = tenant.clone();
        let parent = parent.to_owned();
        async move {
            let mut ids: Vec<String> = store
                .units(&tenant)
                .await
                .unwrap()
                .into_iter()
                .filter(|u| u.parent_id.as_deref() == Some(parent.as_str()) && u.active)
                .map(|u| u.id)
                .collect();
            ids.sort();
            ids
        }
    };
    let mut children_before = children(a_id).await;
    children_before.extend(children(b_id).await);
    children_before.sort();
    assert!(!children_before.is_empty());
    let street = app
        .store
        .account_by_username("street")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(street.unit_id.as_deref(), Some(a_id));

    // effective today: carried out at once
    let (status, merged) = admin
        .post_json(
            "/api/v1/reorganisations",
            &json!({"kind": "merge", "effective_on": "2026-11-30", "document": "槐编〔2026〕9号",
                    "source_ids": [a_id, b_id], "new_target": {"code": "370104099", "name": "振兴槐树街道"}}), true)
        .await;
    assert_eq!(status, 201, "{merged}");
    assert_eq!(merged["state"], "applied");
    let target = merged["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["role"] == "target")
        .unwrap()
        .clone();
    assert_eq!(target["code"], "370104099");
    let t_id = target["id"].as_str().unwrap();
    let t = app.store.unit(&tenant, t_id).await.unwrap().unwrap();
    assert_eq!(t.kind, domain::org::UnitKind::Street);
    assert_eq!(
        t.parent_id,
        app.store
            .unit(&tenant, a_id)
            .await
            .unwrap()
            .unwrap()
            .parent_id
    );

    assert_eq!(staff_ids_of(&app, &tenant, t_id).await, staff_before);
    assert_eq!(children(t_id).await, children_before);
    assert!(staff_ids_of(&app, &tenant, a_id).await.is_empty());
    for id in [a_id, b_id] {
        let source = app.store.unit(&tenant, id).await.unwrap().unwrap();
        assert!(!source.active);
        assert_eq!(source.dissolved_on, Some(day("2026-11-30")));
    }
    let street = app
        .store
        .account_by_username("street")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(street.unit_id.as_deref(), Some(t_id));

    // the street's contact now works for the merged street: its staff list is the new one
    let street_user = app.demo_user("street").await;
    let (status, staff) = street_user.get_json("/api/v1/staff?per_page=200").await;
    assert_eq!(status, 200);
    assert!(
        staff["total"].as_i64().unwrap() >= staff_before.len() as i64,
        "{staff}"
    );

    // a dissolved unit is kept, cannot be enabled, and tells where it went
    let (status, body) = admin
        .send_json(
            "PATCH",
            &format!("/api/v1/units/{a_id}"),
            json!({"active": true}),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("撤并"));
    let (_, history) = admin
        .get_json(&format!("/api/v1/units/{a_id}/history"))
        .await;
    let last = history["items"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["event"], "merged_into");
    assert_eq!(
        last["text"],
        "依据槐编〔2026〕9号，自 2026-11-30 起并入“振兴槐树街道”"
    );
    assert_eq!(history["dissolved_on"], "2026-11-30");
    let (_, history) = admin
        .get_json(&format!("/api/v1/units/{t_id}/history"))
        .await;
    let texts: Vec<&str> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        [format!(
            "依据槐编〔2026〕9号，自 2026-11-30 起由{}、{}合并而成",
            a["name"].as_str().unwrap(),
            b["name"].as_str().unwrap()
        )]
    );
    let (_, page) = admin.get_text(&format!("/units/{a_id}")).await;
    assert!(
        page.contains("该单位已撤并，撤并日期： 2026-11-30"),
        "{page}"
    );

    // a dissolved unit takes no further reorganisation
    let (status, body) = admin
        .post_json(
            "/api/v1/reorganisations",
            &json!({"kind": "rename", "effective_on": "2026-12-01", "document": "槐编〔2026〕10号",
                    "unit_id": a_id, "name": "再改名"}),
            true,
        )
        .await;
    assert_eq!(status, 422);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("已于 2026-11-30 撤并")
    );
    assert!(app.store.verify_audit().await.unwrap().problems.is_empty());
}

async fn a_split_from_the_page_hands_named_items_over_and_the_rest_to_the_first_part(
    backend: Backend,
) {
    let app = TestApp::spawn_demo(backend).await;
    let tenant = tenant_id(&app).await;
    let admin = app.demo_user("admin").await;
    let spj = unit_by_code(&admin, "SPJ").await;
    let spj_id = spj["id"].as_str().unwrap();
    let staff = app
        .store
        .list_staff(
            &tenant,
            &StaffFilter {
                unit_id: Some(spj_id.to_owned()),
                ..StaffFilter::default()
            },
            Default::default(),
        )
        .await
        .unwrap()
        .items;
    let staff: Vec<_> = staff.into_iter().filter(|s| s.unit_id == spj_id).collect();
    assert!(staff.len() >= 2);
    let moved = &staff[1];
    let windows: Vec<String> = app
        .store
        .units(&tenant)
        .await
        .unwrap()
        .into_iter()
        .filter(|u| u.staffed_by_id.as_deref() == Some(spj_id))
        .map(|u| u.id)
        .collect();
    assert!(!windows.is_empty());

    // a mistake on the form: shown in Chinese beside the field, nothing stored
    let form = |moves: String| {
        vec![
            ("csrf_token".to_owned(), admin.csrf_token.clone()),
            ("kind".to_owned(), "split".to_owned()),
            ("effective_on".to_owned(), "2026-11-30".to_owned()),
            ("document".to_owned(), "槐编〔2026〕12号".to_owned()),
            ("source".to_owned(), "SPJ".to_owned()),
            (
                "parts".to_owned(),
                "SPJ-A 槐荫区行政审批服务局\nSPJ-B 槐荫区数据局".to_owned(),
            ),
            ("moves".to_owned(), moves),
        ]
    };
    fn fields(f: &[(String, String)]) -> Vec<(&str, &str)> {
        f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
    }
    let bad = form("不存在的人 SPJ-B".to_owned());
    let response = admin.post_form("/reorganisations/new", &fields(&bad)).await;
    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("第 1 行：“不存在的人”不是原单位的下级单位、在职人员或账号"),
        "{page}"
    );
    let (_, list) = admin.get_json("/api/v1/reorganisations").await;
    assert_eq!(list["total"], 0);

    let good = form(format!("{}  SPJ-B\nunitadmin SPJ-B", moved.name));
    let response = admin
        .post_form("/reorganisations/new", &fields(&good))
        .await;
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("/reorganisations/"));

    let units = app.store.units(&tenant).await.unwrap();
    let by_code = |c: &str| units.iter().find(|u| u.code == c).unwrap().clone();
    let (a, b, source) = (by_code("SPJ-A"), by_code("SPJ-B"), by_code("SPJ"));
    assert_eq!((a.kind, b.kind), (source.kind, source.kind));
    assert_eq!(a.parent_id, source.parent_id);
    assert_eq!(source.dissolved_on, Some(day("2026-11-30")));
    assert_eq!(
        staff_ids_of(&app, &tenant, &b.id).await,
        vec![moved.id.clone()]
    );
    let mut rest: Vec<String> = staff
        .iter()
        .filter(|s| s.id != moved.id)
        .map(|s| s.id.clone())
        .collect();
    rest.sort();
    assert_eq!(staff_ids_of(&app, &tenant, &a.id).await, rest);
    for w in &windows {
        let w = units.iter().find(|u| &u.id == w).unwrap();
        assert_eq!(
            w.staffed_by_id.as_deref(),
            Some(a.id.as_str()),
            "{}",
            w.code
        );
    }
    let hall = by_code("ZWFW");
    assert_eq!(hall.parent_id.as_deref(), Some(a.id.as_str()));
    let unitadmin = app
        .store
        .account_by_username("unitadmin")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(unitadmin.unit_id.as_deref(), Some(b.id.as_str()));

    let (_, detail) = admin.get_text(&location).await;
    assert!(
        detail.contains("槐荫区数据局") && detail.contains("已生效"),
        "{detail}"
    );
    let (_, history) = admin
        .get_json(&format!("/api/v1/units/{}/history", b.id))
        .await;
    assert_eq!(
        history["items"][0]["text"],
        "依据槐编〔2026〕12号，自 2026-11-30 起由“槐荫区行政审批服务局”拆分设立"
    );
    let (_, history) = admin
        .get_json(&format!("/api/v1/units/{}/history", source.id))
        .await;
    assert_eq!(
        history["items"].as_array().unwrap().last().unwrap()["text"],
        "依据槐编〔2026〕12号，自 2026-11-30 起拆分出槐荫区行政审批服务局、槐荫区数据局，原单位撤销"
    );
}

async fn bad_reorganisations_are_refused_and_change_nothing(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let admin = app.demo_user("admin").await;
    let spj = unit_by_code(&admin, "SPJ").await["id"].clone();
    let street = unit_by_code(&admin, "370104001").await["id"].clone();
    let street2 = unit_by_code(&admin, "370104002").await["id"].clone();
    let audit_before = app.sql_rows("SELECT COUNT(*) FROM audit_log").await;
    let base = json!({"effective_on": "2026-12-01", "document": "槐编〔2026〕1号"});
    let with = |extra: Value| {
        let mut b = base.clone();
        b.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        b
    };
    // (body, status, field named, words of the message)
    let cases: Vec<(Value, u16, &str, &str)> = vec![
        (
            with(json!({"unit_id": spj, "name": "新名"})),
            422,
            "kind",
            "请选择调整类型",
        ),
        (
            with(json!({"kind": "abolish"})),
            422,
            "kind",
            "未知的调整类型",
        ),
        (
            json!({"kind": "rename", "effective_on": "2026-13-01", "document": "x", "unit_id": spj, "name": "新名"}),
            422,
            "effective_on",
            "YYYY-MM-DD",
        ),
        (
            json!({"kind": "rename", "effective_on": "2026-12-01", "unit_id": spj, "name": "新名"}),
            422,
            "document",
            "文号",
        ),
        (
            with(json!({"kind": "rename", "unit_id": spj, "name": "槐荫区行政审批服务局"})),
            422,
            "name",
            "相同",
        ),
        (
            with(json!({"kind": "rename", "unit_id": spj, "name": ""})),
            422,
            "name",
            "新名称",
        ),
        (
            with(json!({"kind": "rename", "unit_id": "nosuchunit", "name": "新名"})),
            422,
            "unit_id",
            "不存在",
        ),
        (
            with(
                json!({"kind": "merge", "source_ids": [street], "new_target": {"code": "X1", "name": "新街道"}}),
            ),
            422,
            "source_ids",
            "至少需要两个",
        ),
        (
            with(
                json!({"kind": "merge", "source_ids": [street, spj], "new_target": {"code": "X1", "name": "新"}}),
            ),
            422,
            "source_ids",
            "同一类型",
        ),
        (
            with(
                json!({"kind": "merge", "source_ids": [street, street2], "new_target": {"code": "SPJ", "name": "新"}}),
            ),
            422,
            "new_target",
            "已存在",
        ),
        (
            with(json!({"kind": "merge", "source_ids": [street, street2]})),
            422,
            "target_id",
            "二选一",
        ),
        (
            with(json!({"kind": "merge", "source_ids": [street], "target_id": street})),
            422,
            "target_id",
            "不能同时",
        ),
        (
            with(
                json!({"kind": "split", "source_id": spj, "parts": [{"code": "P1", "name": "甲"}]}),
            ),
            422,
            "parts",
            "至少需要两个",
        ),
        (
            with(
                json!({"kind": "split", "source_id": spj, "keep_source": true, "parts": [{"code": "P1", "name": "甲"}],
            "moves": [{"what": "staff", "id": "nobody", "to": "P1"}]}),
            ),
            422,
            "moves",
            "不是原单位的在职人员",
        ),
        (
            with(
                json!({"kind": "split", "source_id": spj, "keep_source": true, "parts": [{"code": "P1", "name": "甲"}],
            "moves": [{"what": "unit", "id": street, "to": "P9"}]}),
            ),
            422,
            "moves",
            "不是拆分出的新单位",
        ),
        (
            with(
                json!({"kind": "split", "source_id": spj, "keep_source": true, "parts": [{"code": "P 1", "name": "甲"}]}),
            ),
            422,
            "parts",
            "单位代码只能包含",
        ),
    ];
    for (body, status, field, words) in cases {
        let (got, answer) = admin
            .post_json("/api/v1/reorganisations", &body, true)
            .await;
        assert_eq!(got, status, "{body} → {answer}");
        let message = answer["error"]["fields"][field]
            .as_str()
            .unwrap_or_else(|| panic!("{body}: no message on {field}: {answer}"));
        assert!(message.contains(words), "{body}: {message}");
    }
    // an unknown field is refused too
    let (status, _) = admin
        .post_json(
            "/api/v1/reorganisations",
            &with(json!({"kind": "rename", "unit_id": spj, "name": "新名", "extra": 1})),
            true,
        )
        .await;
    assert!(status == 400 || status == 422, "{status}");

    let (_, list) = admin.get_json("/api/v1/reorganisations").await;
    assert_eq!(list["total"], 0);
    assert_eq!(
        app.sql_rows("SELECT COUNT(*) FROM audit_log").await,
        audit_before
    );
    assert_eq!(
        app.sql_rows("SELECT COUNT(*) FROM unit WHERE code IN ('X1', 'P1')")
            .await,
        [vec!["0".to_owned()]]
    );

    // withdrawing a planned one: only once
    let (status, planned) = admin
        .post_json(
            "/api/v1/reorganisations",
            &with(json!({"kind": "rename", "unit_id": spj, "name": "新名"})),
            true,
        )
        .await;
    assert_eq!(status, 201);
    let id = planned["id"].as_str().unwrap();
    let (status, cancelled) = admin
        .post_json(
            &format!("/api/v1/reorganisations/{id}/cancel"),
            &json!({}),
            true,
        )
        .await;
    assert_eq!(
        (status, cancelled["state"].as_str()),
        (200, Some("cancelled"))
    );
    let (status, body) = admin
        .post_json(
            &format!("/api/v1/reorganisations/{id}/cancel"),
            &json!({}),
            true,
        )
        .await;
    assert_eq!(status, 409);
    assert_eq!(body["error"]["message"], "该机构调整已撤销");
    app.clock.advance(Duration::days(3));
    assert_eq!(app.store.apply_due_reorganisations().await.unwrap(), 0);
    let unit = app
        .store
        .unit(&tenant_id(&app).await, spj.as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(unit.name, "槐荫区行政审批服务局");
}
