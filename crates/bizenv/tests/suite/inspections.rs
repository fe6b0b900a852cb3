//! Inspections, findings, self-check lists, the ledger and accountability: a covert finding
//! goes from the inspector to the unit and back to the supervisor on the kernel's deadlines;
//! who sees what is checked role by role through lists, counts, search and records; the
//! ledger is read back cell by cell; bad input changes nothing.

use domain::account::Role;
use serde_json::{Value, json};
use store::audit::AuditCtx;
use test_support::{Backend, TestApp, TestUser, at_local as at, db_tests};

db_tests!(
    the_demo_has_a_year_of_findings_in_every_state,
    a_covert_finding_is_assigned_rectified_with_evidence_and_verified,
    who_sees_what_of_inspections_and_findings,
    the_ledger_exports_every_column_and_reads_back,
    units_list_self_checks_and_claim_published_findings,
    bad_inspection_input_changes_nothing,
);

const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 13, 10, 26, 10, 0, 0];

async fn act(user: &TestUser, id: &str, body: Value) -> (u16, Value) {
    user.post_json(&format!("/api/v1/findings/{id}/actions"), &body, true)
        .await
}

/// Records an inspection as `user`; answers its id.
async fn inspection(user: &TestUser, kind: &str, targets: &[&str], members: &[&str]) -> String {
    let (status, body) = user
        .post_json(
            "/api/v1/inspections",
            &json!({"kind": kind, "title": format!("{kind} 检查"), "held_on": "2026-11-27",
                    "notes": "窗口人员脱岗", "target_unit_ids": targets, "member_ids": members}),
            true,
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

/// Records a finding as `user`; answers the ids of the findings it was split into.
async fn finding(user: &TestUser, body: Value) -> Vec<String> {
    let (status, created) = user.post_json("/api/v1/findings", &body, true).await;
    assert_eq!(status, 201, "{created}");
    created["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_owned())
        .collect()
}

fn ids(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn a_covert_finding_is_assigned_rectified_with_evidence_and_verified(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let inspector = app.demo_user("inspector").await;
    let supervisor = app.demo_user("supervisor").await;
    let street = app.demo_user("street").await;
    let leader = app.demo_user("leader").await;
    let street_id = supervisor.unit_id("370104001").await;

    // the inspector records a covert inspection (on its team by recording it) with a photo
    let inspection_id = inspection(&inspector, "covert", &[&street_id], &[]).await;
    let (status, photo) = inspector
        .post_multipart(
            &format!("/api/v1/inspections/{inspection_id}/attachments"),
            &[],
            "窗口空岗.png",
            PNG,
        )
        .await;
    assert_eq!(status, 201, "{photo}");
    let ids = finding(
        &inspector,
        json!({"inspection_id": inspection_id, "source": "inspection", "category": "纪律",
               "severity": "serious", "description": "振兴街便民服务中心 3 号窗口上班时间空岗 40 分钟",
               "found_on": "2026-11-27", "unit_ids": [street_id], "persons": "张某"}),
    )
    .await;
    assert_eq!(ids.len(), 1);
    let id = ids[0].clone();

    // open: the street and the leader do not know it exists; the inspector and supervisor do
    for user in [&street, &leader] {
        let (status, _) = user.get_json(&format!("/api/v1/findings/{id}")).await;
        assert_eq!(status, 404);
        let (_, list) = user.get_json("/api/v1/findings?q=空岗").await;
        assert_eq!(list["total"], 0, "{list}");
        let (status, _) = user
            .get_json(&format!("/api/v1/inspections/{inspection_id}"))
            .await;
        assert_eq!(status, 404);
    }
    let (_, theirs) = inspector.get_json("/api/v1/findings?q=空岗").await;
    assert_eq!(theirs["total"], 1, "{theirs}");

    // the supervisor assigns it: a plan is due in 3 working days (Monday 10:00 → Thursday)
    let (status, assigned) = act(
        &supervisor,
        &id,
        json!({"action": "assign", "text": "请立即整改"}),
    )
    .await;
    assert_eq!(status, 200, "{assigned}");
    assert_eq!(assigned["state"], "assigned");
    assert_eq!(assigned["due_at"], "2026-12-03T17:30:00+08:00");
    assert_eq!(assigned["unit"]["id"], street_id.as_str());

    // now the street and the leader see the finding, never the covert inspection
    let (status, seen) = street.get_json(&format!("/api/v1/findings/{id}")).await;
    assert_eq!(status, 200, "{seen}");
    assert_eq!(seen["inspection_id"], Value::Null, "{seen}");
    let (status, _) = street
        .get_json(&format!("/api/v1/inspections/{inspection_id}"))
        .await;
    assert_eq!(status, 404);
    let (status, _) = street
        .get_json(&format!("/attachments/{}", photo_id(&photo)))
        .await;
    assert_eq!(status, 404, "the inspection's own evidence stays hidden");
    let (status, page) = street.get_text(&format!("/findings/{id}")).await;
    assert_eq!(status, 200);
    assert!(
        !page.contains("赵强") && !page.contains("covert 检查"),
        "no inspector, no inspection: {page}"
    );
    let (_, history) = street
        .get_json(&format!("/api/v1/findings/{id}/history"))
        .await;
    assert!(!history.to_string().contains("赵强"), "{history}");
    let (status, _) = leader.get_json(&format!("/api/v1/findings/{id}")).await;
    assert_eq!(status, 200);
    // the street's contact was told
    let (_, inbox) = street.get_json("/api/v1/notifications?unread=true").await;
    assert!(
        inbox["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["url"] == format!("/findings/{id}")),
        "{inbox}"
    );

    // a submission before the plan, a plan before today: refused, nothing changed
    let (status, body) = act(&street, &id, json!({"action": "submit", "text": "已整改"})).await;
    assert_eq!(status, 409, "{body}");
    let (status, body) = act(
        &street,
        &id,
        json!({"action": "plan", "measures": "调整排班", "planned_on": "2026-11-27"}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"]["fields"]["planned_on"].is_string(), "{body}");
    let (status, _) = act(&leader, &id, json!({"action": "plan"})).await;
    assert_eq!(status, 403, "a leader only reads");

    // the plan meets the plan deadline and sets the rectification deadline (Friday 12-11)
    let (status, planned) = act(
        &street,
        &id,
        json!({"action": "plan", "measures": "调整窗口排班，设 AB 岗", "planned_on": "2026-12-11"}),
    )
    .await;
    assert_eq!(status, 200, "{planned}");
    assert_eq!(planned["state"], "rectifying");
    assert_eq!(planned["due_at"], "2026-12-11T17:30:00+08:00");

    // overdue on Monday 12-14: red card, and the sweep's notice names the finding
    app.clock.set(at("2026-12-14 10:00"));
    app.store.tick("test").await.unwrap();
    let supervisor = app.demo_user("supervisor").await;
    let street = app.demo_user("street").await;
    let (_, now) = supervisor.get_json(&format!("/api/v1/findings/{id}")).await;
    assert_eq!(now["card"], "red", "{now}");
    let (_, notices) = supervisor.get_json("/api/v1/notices?state=open").await;
    let notice = notices["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["record_id"] == id.as_str())
        .unwrap_or_else(|| panic!("a notice for the finding: {notices}"))
        .clone();
    assert_eq!(notice["record_type"], "finding");
    assert!(
        notice["record_title"].as_str().unwrap().contains("空岗"),
        "{notice}"
    );

    // a submission needs evidence: refused without, nothing changed
    let (status, body) = act(
        &street,
        &id,
        json!({"action": "submit", "text": "已调整排班"}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        body["error"]["fields"]["attachment_ids"],
        "提交整改结果须附整改佐证材料"
    );
    let (_, still) = street.get_json(&format!("/api/v1/findings/{id}")).await;
    assert_eq!(still["state"], "rectifying");
    let (status, file) = street
        .post_multipart(
            &format!("/api/v1/findings/{id}/attachments"),
            &[],
            "排班表.png",
            PNG,
        )
        .await;
    assert_eq!(status, 201, "{file}");
    let file_id = photo_id(&file);
    let (status, submitted) = act(
        &street,
        &id,
        json!({"action": "submit", "text": "已调整排班，设 AB 岗", "attachment_ids": [file_id]}),
    )
    .await;
    assert_eq!(status, 200, "{submitted}");
    assert_eq!(submitted["state"], "submitted");

    // sent back once, then verified: the deadline is met (late) and the notice closed
    let (status, _) = act(&street, &id, json!({"action": "verify", "text": "好"})).await;
    assert_eq!(status, 403, "a unit does not verify");
    let (status, back) = act(
        &supervisor,
        &id,
        json!({"action": "reject", "text": "缺少 AB 岗登记表"}),
    )
    .await;
    assert_eq!((status, back["state"].as_str()), (200, Some("rectifying")));
    let (status, file) = street
        .post_multipart(
            &format!("/api/v1/findings/{id}/attachments"),
            &[],
            "AB岗登记表.pdf",
            b"%PDF-1.4 test",
        )
        .await;
    assert_eq!(status, 201, "{file}");
    let (status, _) = act(
        &street,
        &id,
        json!({"action": "submit", "text": "补充 AB 岗登记表", "attachment_ids": [photo_id(&file)]}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, verified) = act(
        &supervisor,
        &id,
        json!({"action": "verify", "text": "整改到位，同意销号"}),
    )
    .await;
    assert_eq!(status, 200, "{verified}");
    assert_eq!(verified["state"], "verified");
    assert_eq!(verified["card"], "none");
    assert_eq!(verified["verify_note"], "整改到位，同意销号");
    let (_, open) = supervisor.get_json("/api/v1/notices?state=open").await;
    assert!(!open.to_string().contains(&id), "{open}");
    let (status, body) = act(&street, &id, json!({"action": "plan"})).await;
    assert_eq!(status, 409, "{body}");
    let (_, history) = supervisor
        .get_json(&format!("/api/v1/findings/{id}/history"))
        .await;
    let events: Vec<&str> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        [
            "recorded",
            "assigned",
            "planned",
            "card_red",
            "notice_issued",
            "attached",
            "submitted",
            "rejected",
            "attached",
            "submitted",
            "verified"
        ]
    );
    for item in history["items"].as_array().unwrap() {
        assert_ne!(
            item["text"], item["event"],
            "every event is told in words: {item}"
        );
    }
    let audited = app
        .sql_rows(&format!(
            "SELECT action FROM audit_log WHERE entity = 'finding' AND entity_id = '{id}' ORDER BY seq"
        ))
        .await;
    assert_eq!(
        audited.concat(),
        [
            "create", "assign", "plan", "submit", "reject", "submit", "verify"
        ]
    );
}

fn photo_id(attachment: &str) -> String {
    let v: Value = serde_json::from_str(attachment).unwrap();
    v["id"].as_str().unwrap().to_owned()
}

async fn who_sees_what_of_inspections_and_findings(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let tenant = app.store.tenant_by_code("370104").await.unwrap().unwrap();
    // a second inspector, on a team the demo inspector is not on
    app.store
        .create_account(
            &AuditCtx::cli(),
            &store::account::NewAccount {
                tenant_id: tenant.id.clone(),
                username: "inspector2".into(),
                display_name: "孙丽（明察暗访组）".into(),
                password: store::demo::DEMO_PASSWORD.into(),
                must_change_password: false,
                roles: vec![Role::Inspector],
                unit_code: None,
                uscc: None,
            },
        )
        .await
        .unwrap();
    let supervisor = app.demo_user("supervisor").await;
    let other_inspector = app.login("inspector2", store::demo::DEMO_PASSWORD).await;
    let street_id = supervisor.unit_id("370104001").await;
    let sibling_id = supervisor.unit_id("370104002").await;
    let inspector_id = app
        .store
        .account_by_username("inspector")
        .await
        .unwrap()
        .unwrap()
        .id;

    // open and covert inspections; covert ones with and without the demo inspector
    let open = inspection(&supervisor, "open", &[&street_id], &[&inspector_id]).await;
    let covert_team = inspection(&supervisor, "covert", &[&street_id], &[&inspector_id]).await;
    let covert_other = inspection(&other_inspector, "covert", &[&street_id], &[]).await;
    let mut findings = Vec::new();
    for (inspection_id, tag) in [
        (&open, "明察"),
        (&covert_team, "暗访甲"),
        (&covert_other, "暗访乙"),
    ] {
        for state in ["open", "assigned"] {
            let id = finding(
                &supervisor,
                json!({"inspection_id": inspection_id, "source": "inspection", "category": "作风",
                       "severity": "general", "description": format!("可见性测试{tag}{state}"),
                       "found_on": "2026-11-27", "unit_ids": [street_id]}),
            )
            .await
            .remove(0);
            if state == "assigned" {
                let (status, _) = act(&supervisor, &id, json!({"action": "assign"})).await;
                assert_eq!(status, 200);
            }
            findings.push((inspection_id.clone(), tag, state, id));
        }
    }
    // one published open finding of the covert inspection without the demo inspector
    let published = finding(
        &supervisor,
        json!({"inspection_id": covert_other, "source": "inspection", "category": "环境",
               "severity": "general", "description": "可见性测试暗访乙公开",
               "found_on": "2026-11-27", "unit_ids": [sibling_id]}),
    )
    .await
    .remove(0);
    let (status, _) = act(&supervisor, &published, json!({"action": "publish"})).await;
    assert_eq!(status, 200);

    // expected: (user, inspections seen, findings seen by (tag, state))
    let sees_inspection = |user: &str, id: &str| match user {
        "supervisor" => true,
        "inspector" => *id == open || *id == covert_team,
        "inspector2" => *id == open || *id == covert_other,
        "leader" => *id == open,
        _ => false,
    };
    let sees_finding = |user: &str, tag: &str, state: &str| match user {
        "supervisor" => true,
        "inspector" => tag != "暗访乙",
        "inspector2" => tag != "暗访甲",
        "leader" => tag == "明察" || state == "assigned",
        // the street: its findings once assigned
        "street" => state == "assigned",
        _ => false,
    };
    let sees_published = |user: &str| {
        matches!(
            user,
            "supervisor" | "inspector2" | "leader" | "street" | "unitadmin" | "observer"
        )
    };
    for name in [
        "supervisor",
        "inspector",
        "inspector2",
        "leader",
        "street",
        "unitadmin",
        "observer",
        "window",
        "admin",
        "auditor",
        "enterprise",
    ] {
        let user = if name == "inspector2" {
            app.login("inspector2", store::demo::DEMO_PASSWORD).await
        } else {
            app.demo_user(name).await
        };
        // inspections: each record, the list and its count
        let (status, list) = user.get_json("/api/v1/inspections?per_page=200").await;
        let listed = if status == 200 {
            ids(&list)
        } else {
            Vec::new()
        };
        for id in [&open, &covert_team, &covert_other] {
            let want = sees_inspection(name, id);
            let (status, _) = user.get_json(&format!("/api/v1/inspections/{id}")).await;
            assert_eq!(status == 200, want, "{name} GET inspection {id}: {status}");
            assert_eq!(status == 404, !want, "{name} GET inspection {id}: {status}");
            assert_eq!(listed.contains(id), want, "{name} lists inspection {id}");
            let (status, _) = user.get_text(&format!("/inspections/{id}")).await;
            assert_eq!(
                status == 200,
                want,
                "{name} page of inspection {id}: {status}"
            );
        }
        // findings: each record, the list, the count of a search, the page
        let (status, list) = user
            .get_json("/api/v1/findings?q=可见性测试&per_page=200")
            .await;
        let reads = status == 200;
        let listed = if reads { ids(&list) } else { Vec::new() };
        let mut expected_total = 0;
        for (_, tag, state, id) in &findings {
            let want = sees_finding(name, tag, state);
            expected_total += usize::from(want);
            let (status, _) = user.get_json(&format!("/api/v1/findings/{id}")).await;
            assert_eq!(status == 200, want, "{name} GET {tag} {state}: {status}");
            assert_eq!(status == 404, !want, "{name} GET {tag} {state}: {status}");
            assert_eq!(listed.contains(id), want, "{name} lists {tag} {state}");
            let (status, _) = user.get_text(&format!("/findings/{id}")).await;
            assert_eq!(status == 200, want, "{name} page {tag} {state}: {status}");
        }
        let want = sees_published(name);
        expected_total += usize::from(want);
        assert_eq!(
            listed.contains(&published),
            want,
            "{name} lists the published one"
        );
        if reads {
            assert_eq!(list["total"], expected_total, "{name}: {list}");
        } else {
            assert_eq!(status, 404, "{name} reads no findings");
        }
    }
}

async fn the_ledger_exports_every_column_and_reads_back(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let supervisor = app.demo_user("supervisor").await;
    let street = app.demo_user("street").await;
    let street_id = supervisor.unit_id("370104001").await;
    let spj = supervisor.unit_id("SPJ").await;
    // a media report naming two units: split into one finding per unit
    let ids = finding(
        &supervisor,
        json!({"source": "media", "category": "效率", "severity": "severe",
               "description": "台账测试：媒体曝光企业开办材料反复退回", "found_on": "2026-11-23",
               "unit_ids": [street_id, spj], "persons": "王某"}),
    )
    .await;
    assert_eq!(ids.len(), 2, "split per unit");
    let mine = ids[0].clone();
    for id in &ids {
        let (status, _) = act(&supervisor, id, json!({"action": "assign"})).await;
        assert_eq!(status, 200);
    }
    let (status, _) = act(
        &street,
        &mine,
        json!({"action": "plan", "measures": "一次性告知材料清单", "planned_on": "2026-12-04"}),
    )
    .await;
    assert_eq!(status, 200);
    let (_, file) = street
        .post_multipart(
            &format!("/api/v1/findings/{mine}/attachments"),
            &[],
            "清单.pdf",
            b"%PDF-1.4",
        )
        .await;
    let (status, _) = act(
        &street,
        &mine,
        json!({"action": "submit", "text": "已印发告知清单", "attachment_ids": [photo_id(&file)]}),
    )
    .await;
    assert_eq!(status, 200);
    app.clock.set(at("2026-12-02 15:00"));
    let supervisor = app.demo_user("supervisor").await;
    let street = app.demo_user("street").await;
    let (status, _) = act(
        &supervisor,
        &mine,
        json!({"action": "verify", "text": "同意销号"}),
    )
    .await;
    assert_eq!(status, 200);
    // an accountability decision on the street's person, 7 working days after the finding
    let (status, decision) = supervisor
        .post_json(
            "/api/v1/accountability",
            &json!({"measure": "admonish", "unit_id": street_id, "person": "王某",
                    "basis": "材料反复退回，群众多次跑动", "decided_by": "区纪委监委",
                    "decided_on": "2026-12-02", "finding_ids": [mine]}),
            true,
        )
        .await;
    assert_eq!(status, 201, "{decision}");
    assert_eq!(decision["working_days"], 7, "11-23 (Mon) → 12-02 (Wed)");
    // the person's record and the unit's, on the page; a street reads its own only
    let (status, page) = supervisor.get_text("/accountability").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("个人问责记录") && page.contains("2026-12-02 诫勉"),
        "{page}"
    );
    let (_, theirs) = street.get_json("/api/v1/accountability").await;
    assert_eq!(
        theirs["total"], 1,
        "the demo's decisions are on other units: {theirs}"
    );
    let (_, all) = supervisor.get_json("/api/v1/accountability").await;
    assert_eq!(all["total"], 3, "the demo's two and this one: {all}");

    let response = supervisor.get("/api/v1/findings/export?q=台账测试").await;
    assert_eq!(response.status().as_u16(), 200);
    let rows = crate::xlsx_rows(&response.bytes().await.unwrap());
    assert_eq!(
        rows[0],
        [
            "序号",
            "问题来源",
            "发现时间",
            "问题描述",
            "责任单位",
            "责任人",
            "整改措施",
            "整改时限",
            "整改进展",
            "完成时间",
            "验收人",
            "验收意见",
            "销号状态",
            "问责情况"
        ]
    );
    assert_eq!(rows.len(), 3, "{rows:?}");
    let street_row = rows
        .iter()
        .find(|r| r[4] == "振兴街街道")
        .unwrap_or_else(|| panic!("{rows:?}"));
    let spj_row = rows
        .iter()
        .find(|r| r[4] != "振兴街街道" && r[0] != "序号")
        .unwrap();
    assert_eq!(
        street_row[1..],
        [
            "媒体曝光",
            "2026-11-23",
            "台账测试：媒体曝光企业开办材料反复退回",
            "振兴街街道",
            "王某",
            "一次性告知材料清单",
            "2026-12-04",
            "已印发告知清单",
            "2026-12-02",
            "李明（营商办）",
            "同意销号",
            "已销号",
            "王某诫勉（区纪委监委，2026-12-02）",
        ]
    );
    assert_eq!(spj_row[6..], ["", "", "已交办", "", "", "", "未销号", "无"]);
    // the street's contact exports its own ledger only
    let response = street.get("/api/v1/findings/export?q=台账测试").await;
    let rows = crate::xlsx_rows(&response.bytes().await.unwrap());
    assert_eq!(rows.len(), 2, "header and its one finding");
}

async fn units_list_self_checks_and_claim_published_findings(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let supervisor = app.demo_user("supervisor").await;
    let street = app.demo_user("street").await;
    let unitadmin = app.demo_user("unitadmin").await;
    let street_id = supervisor.unit_id("370104001").await;

    let street_line = |counts: &Value| {
        counts["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["unit"]["id"] == street_id.as_str())
            .map(|l| (l["listed"].as_i64().unwrap(), l["open"].as_i64().unwrap()))
            .unwrap_or((0, 0))
    };
    let (_, counts) = supervisor.get_json("/api/v1/findings/self-checks").await;
    let (listed_before, open_before) = street_line(&counts);

    // the street lists its own problem: assigned to itself at once, its plan due
    let (status, listed) = street
        .post_json(
            "/api/v1/findings",
            &json!({"source": "self_check", "category": "流程", "severity": "general",
                    "description": "自查：办事指南未及时更新", "found_on": "2026-11-30"}),
            true,
        )
        .await;
    assert_eq!(status, 201, "{listed}");
    let own = &listed["items"][0];
    assert_eq!(own["state"], "assigned");
    assert_eq!(own["unit"]["id"], street_id.as_str());
    assert_eq!(own["due_at"], "2026-12-03T17:30:00+08:00");
    // not for another unit, nor another source
    let spj = supervisor.unit_id("SPJ").await;
    let (status, body) = street
        .post_json(
            "/api/v1/findings",
            &json!({"source": "self_check", "category": "流程", "severity": "general",
                    "description": "x", "found_on": "2026-11-30", "unit_ids": [spj]}),
            true,
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let (status, _) = street
        .post_json(
            "/api/v1/findings",
            &json!({"source": "media", "category": "流程", "severity": "general",
                    "description": "x", "found_on": "2026-11-30"}),
            true,
        )
        .await;
    assert_eq!(status, 403);
    let (_, counts) = supervisor.get_json("/api/v1/findings/self-checks").await;
    assert_eq!(
        street_line(&counts),
        (listed_before + 1, open_before + 1),
        "{counts}"
    );
    let (_, theirs) = unitadmin.get_json("/api/v1/findings/self-checks").await;
    assert!(!theirs.to_string().contains(&street_id), "{theirs}");

    // a problem with no unit: a claim needs it published; refused, then confirmed
    let id = finding(
        &supervisor,
        json!({"source": "duty", "category": "环境", "severity": "general",
               "description": "大厅自助终端长期故障", "found_on": "2026-11-30"}),
    )
    .await
    .remove(0);
    let (status, _) = street.get_json(&format!("/api/v1/findings/{id}")).await;
    assert_eq!(status, 404, "unpublished and unassigned: not the street's");
    let (status, _) = act(&street, &id, json!({"action": "claim", "text": "我的"})).await;
    assert_eq!(status, 404, "an unpublished finding cannot be claimed");
    let (_, still) = supervisor.get_json(&format!("/api/v1/findings/{id}")).await;
    assert_eq!(still["claim_unit"], Value::Null);
    let (status, _) = act(&supervisor, &id, json!({"action": "publish"})).await;
    assert_eq!(status, 200);
    let (status, _) = act(&supervisor, &id, json!({"action": "publish"})).await;
    assert_eq!(status, 409, "published once");
    let (status, body) = act(
        &street,
        &id,
        json!({"action": "claim", "text": "终端属我街道"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["claim_unit"]["id"], street_id.as_str());
    let (status, body) = act(&unitadmin, &id, json!({"action": "claim", "text": "我的"})).await;
    assert_eq!(status, 422, "one claim at a time: {body}");
    let (status, _) = act(
        &supervisor,
        &id,
        json!({"action": "refuse_claim", "text": "终端归审批局"}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = act(
        &unitadmin,
        &id,
        json!({"action": "claim", "text": "终端由我局维护"}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, confirmed) = act(&supervisor, &id, json!({"action": "confirm_claim"})).await;
    assert_eq!(status, 200, "{confirmed}");
    assert_eq!(confirmed["state"], "assigned");
    assert_eq!(confirmed["unit"]["id"], spj.as_str());
    let (status, body) = act(&street, &id, json!({"action": "claim", "text": "x"})).await;
    assert_eq!(status, 409, "assigned: no more claims: {body}");
}

async fn bad_inspection_input_changes_nothing(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let tenant = app.store.tenant_by_code("370104").await.unwrap().unwrap();
    let supervisor = app.demo_user("supervisor").await;
    let inspector = app.demo_user("inspector").await;
    let street = app.demo_user("street").await;
    let street_id = supervisor.unit_id("370104001").await;
    let count = |table: &'static str| {
        let app = &app;
        async move {
            app.sql_rows(&format!("SELECT CAST(COUNT(*) AS TEXT) FROM {table}"))
                .await[0][0]
                .clone()
        }
    };
    let before = (
        count("inspection").await,
        count("finding").await,
        count("attachment").await,
        count("accountability").await,
    );
    for (body, field) in [
        (
            json!({"kind": "secret", "title": "x", "held_on": "2026-11-27", "target_unit_ids": [street_id]}),
            "kind",
        ),
        (
            json!({"kind": "open", "title": "x", "held_on": "2026-12-25", "target_unit_ids": [street_id]}),
            "held_on",
        ),
        (
            json!({"kind": "open", "title": "", "held_on": "2026-11-27", "target_unit_ids": [street_id]}),
            "title",
        ),
        (
            json!({"kind": "open", "title": "x", "held_on": "2026-11-27", "target_unit_ids": []}),
            "target_unit_ids",
        ),
        (
            json!({"kind": "open", "title": "x", "held_on": "2026/11/27", "target_unit_ids": [street_id]}),
            "held_on",
        ),
    ] {
        let (status, refused) = inspector
            .post_json("/api/v1/inspections", &body, true)
            .await;
        assert_eq!(status, 422, "{body}: {refused}");
        assert!(refused["error"]["fields"][field].is_string(), "{refused}");
    }
    let (status, _) = app
        .demo_user("leader")
        .await
        .post_json("/api/v1/inspections", &json!({}), true)
        .await;
    assert_eq!(status, 403);
    for (body, field) in [
        (
            json!({"source": "rumour", "category": "x", "severity": "general", "description": "x", "found_on": "2026-11-27"}),
            "source",
        ),
        (
            json!({"source": "media", "category": "x", "severity": "grave", "description": "x", "found_on": "2026-11-27"}),
            "severity",
        ),
        (
            json!({"source": "inspection", "category": "x", "severity": "general", "description": "x", "found_on": "2026-11-27"}),
            "inspection_id",
        ),
        (
            json!({"source": "media", "category": "x", "severity": "general", "description": "", "found_on": "2026-11-27"}),
            "description",
        ),
        (
            json!({"source": "media", "category": "x", "severity": "general", "description": "x", "found_on": "2027-01-01"}),
            "found_on",
        ),
        (
            json!({"source": "media", "category": "x", "severity": "general", "description": "x", "found_on": "2026-11-27", "unit_ids": ["nope"]}),
            "unit_ids",
        ),
    ] {
        let (status, refused) = supervisor.post_json("/api/v1/findings", &body, true).await;
        assert_eq!(status, 422, "{body}: {refused}");
        assert!(refused["error"]["fields"][field].is_string(), "{refused}");
    }
    assert_eq!(
        before,
        (
            count("inspection").await,
            count("finding").await,
            count("attachment").await,
            count("accountability").await
        )
    );

    // evidence of a forbidden type, or cut off midway: refused, nothing kept
    let inspection_id = inspection(&inspector, "open", &[&street_id], &[]).await;
    let url = format!("/api/v1/inspections/{inspection_id}/attachments");
    let (status, body) = inspector
        .post_multipart(&url, &[], "setup.exe", b"MZ\x90\x00")
        .await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = inspector
        .post_multipart(&url, &[], "大.pdf", &vec![b'%'; 20 * 1024 * 1024 + 1])
        .await;
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("超过 20 MB"), "{body}");
    let cut = inspector
        .post_body(
            &url,
            "multipart/form-data; boundary=cut",
            b"--cut\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n\r\n\x89PNG".to_vec(),
        )
        .await;
    assert_eq!(cut.0, 400, "{:?}", cut.1);
    assert_eq!(count("attachment").await, before.2);
    let (status, _) = street.post_multipart(&url, &[], "a.png", PNG).await;
    assert_eq!(status, 404, "an inspection is not the street's to see");

    // nobody verifies their own unit's finding: a supervisor who is also the street's contact
    app.store
        .create_account(
            &AuditCtx::cli(),
            &store::account::NewAccount {
                tenant_id: tenant.id.clone(),
                username: "streetchief".into(),
                display_name: "街道督查".into(),
                password: store::demo::DEMO_PASSWORD.into(),
                must_change_password: false,
                roles: vec![Role::Supervisor, Role::UnitAdmin],
                unit_code: Some("370104001".into()),
                uscc: None,
            },
        )
        .await
        .unwrap();
    let chief = app.login("streetchief", store::demo::DEMO_PASSWORD).await;
    let id = finding(
        &supervisor,
        json!({"source": "media", "category": "作风", "severity": "general",
               "description": "自验测试", "found_on": "2026-11-27", "unit_ids": [street_id]}),
    )
    .await
    .remove(0);
    act(&supervisor, &id, json!({"action": "assign"})).await;
    act(
        &street,
        &id,
        json!({"action": "plan", "measures": "整改", "planned_on": "2026-12-04"}),
    )
    .await;
    let (_, file) = street
        .post_multipart(
            &format!("/api/v1/findings/{id}/attachments"),
            &[],
            "a.png",
            PNG,
        )
        .await;
    let (status, _) = act(
        &street,
        &id,
        json!({"action": "submit", "text": "已整改", "attachment_ids": [photo_id(&file)]}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = act(&chief, &id, json!({"action": "verify", "text": "好"})).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["message"], "不能验收本单位的问题");
    let (_, still) = supervisor.get_json(&format!("/api/v1/findings/{id}")).await;
    assert_eq!(still["state"], "submitted");
    // another user's upload cannot be tied to a submission
    let (status, body) = act(
        &supervisor,
        &id,
        json!({"action": "reject", "text": "补充", "attachment_ids": [photo_id(&file)]}),
    )
    .await;
    assert_eq!(status, 422, "{body}");

    // accountability: a unit's measure names no person, a person's names one, not before
    // the finding, only by the supervisor
    for (body, field) in [
        (
            json!({"measure": "unit_circular", "unit_id": street_id, "person": "王某", "basis": "x", "decided_by": "区纪委", "decided_on": "2026-11-30", "finding_ids": [id]}),
            "person",
        ),
        (
            json!({"measure": "dismiss", "unit_id": street_id, "basis": "x", "decided_by": "区纪委", "decided_on": "2026-11-30", "finding_ids": [id]}),
            "person",
        ),
        (
            json!({"measure": "admonish", "unit_id": street_id, "person": "王某", "basis": "x", "decided_by": "区纪委", "decided_on": "2026-11-26", "finding_ids": [id]}),
            "decided_on",
        ),
        (
            json!({"measure": "admonish", "unit_id": street_id, "person": "王某", "basis": "x", "decided_by": "区纪委", "decided_on": "2026-11-30", "finding_ids": []}),
            "finding_ids",
        ),
        (
            json!({"measure": "fire", "unit_id": street_id, "basis": "x", "decided_by": "区纪委", "decided_on": "2026-11-30", "finding_ids": [id]}),
            "measure",
        ),
    ] {
        let (status, refused) = supervisor
            .post_json("/api/v1/accountability", &body, true)
            .await;
        assert_eq!(status, 422, "{body}: {refused}");
        assert!(refused["error"]["fields"][field].is_string(), "{refused}");
    }
    let (status, _) = street
        .post_json("/api/v1/accountability", &json!({}), true)
        .await;
    assert_eq!(status, 403);
    assert_eq!(count("accountability").await, before.3);
}

async fn the_demo_has_a_year_of_findings_in_every_state(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    app.store.tick("test").await.unwrap();
    let supervisor = app.demo_user("supervisor").await;
    for state in ["open", "assigned", "rectifying", "submitted", "verified"] {
        let (_, list) = supervisor
            .get_json(&format!("/api/v1/findings?state={state}"))
            .await;
        assert!(list["total"].as_i64().unwrap() > 0, "{state}: {list}");
    }
    let (_, inspections) = supervisor.get_json("/api/v1/inspections").await;
    assert_eq!(inspections["total"], 12, "one a month for a year");
    let covert = inspections["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == "covert")
        .count();
    assert_eq!(covert, 6);
    // overdue ones were carded red by the first sweep
    let (_, all) = supervisor.get_json("/api/v1/findings?per_page=200").await;
    let red = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["card"] == "red")
        .count();
    assert!(red >= 2, "{all}");
    // a leader sees no covert inspection, an observer the published problem only
    let (_, theirs) = app
        .demo_user("leader")
        .await
        .get_json("/api/v1/inspections")
        .await;
    assert_eq!(theirs["total"], 6, "{theirs}");
    let (_, published) = app
        .demo_user("observer")
        .await
        .get_json("/api/v1/findings")
        .await;
    assert_eq!(published["total"], 1, "{published}");
    let (_, decisions) = supervisor.get_json("/api/v1/accountability").await;
    assert_eq!(decisions["total"], 2, "{decisions}");
    assert!(
        decisions["items"][0]["working_days"].as_i64().unwrap() > 0,
        "{decisions}"
    );
}
