//! Appeals: a citizen's appeal from the public form through dispatch, acceptance, reply,
//! an unsatisfied callback, reopening, a second reply and a satisfied callback to closing,
//! followed by tracking code; deadlines across the National Day holiday and a make-up
//! workday; who sees what (and the submitter's identity never reaching the unit); the three
//! rates on a hand-computed fixture; bad input changing nothing.

use serde_json::{Value, json};
use test_support::sinks::HttpSink;
use test_support::{Backend, TestApp, TestUser, at_local as at, db_tests};

db_tests!(
    a_public_appeal_is_dispatched_answered_called_back_reopened_and_closed,
    appeal_deadlines_skip_holidays_and_count_make_up_workdays,
    who_sees_what_of_appeals_and_the_submitter_stays_hidden,
    the_three_rates_on_a_hand_computed_fixture,
    bad_appeal_input_changes_nothing,
    the_demo_manifest_names_what_the_queues_show,
    the_submitter_hears_of_each_reply_by_sms,
    an_appeal_left_unaccepted_gets_its_cards_and_a_supervision_notice,
    the_supervisor_sets_categories_routes_and_limits_on_a_page,
    the_public_form_takes_files_with_the_appeal,
);

const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 13, 10, 26, 10, 0, 0];

/// The canary submitter: their name and phone must never reach a unit.
const CANARY_NAME: &str = "金丝雀测试人";
const CANARY_PHONE: &str = "13912345678";

/// Moves the clock to a Beijing time and signs the supervisor and SPJ's contact in again
/// (sessions expire when idle).
async fn desk(app: &TestApp, when: &str) -> (TestUser, TestUser) {
    app.clock.set(at(when));
    (
        app.demo_user("supervisor").await,
        app.demo_user("unitadmin").await,
    )
}

async fn act(user: &TestUser, id: &str, body: Value) -> (u16, Value) {
    user.post_json(&format!("/api/v1/appeals/{id}/actions"), &body, true)
        .await
}

async fn ok(user: &TestUser, id: &str, body: Value) -> Value {
    let (status, answer) = act(user, id, body.clone()).await;
    assert_eq!(status, 200, "{body} → {answer}");
    answer
}

/// Adds a category whose default lead unit is the unit with `unit_code`.
async fn category(supervisor: &TestUser, code: &str, unit_code: &str) {
    let unit_id = supervisor.unit_id(unit_code).await;
    let (status, body) = supervisor
        .post_json(
            "/api/v1/appeal-categories",
            &json!({"code": code, "name": format!("类别{code}"), "unit_id": unit_id}),
            true,
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

/// Submits on the public form; answers (number, tracking code).
async fn public_appeal(app: &TestApp, kind: &str, code: &str, title: &str) -> (String, String) {
    let body = json!({"kind": kind, "category_code": code, "title": title,
        "content": format!("{title}，请尽快处理。"), "submitter_name": CANARY_NAME,
        "submitter_phone": CANARY_PHONE, "publish": true});
    let (status, receipt) = app
        .post_raw_json("/api/v1/public/appeals", body.to_string())
        .await;
    assert_eq!(status, 201, "{receipt}");
    (
        receipt["number"].as_str().unwrap().to_owned(),
        receipt["tracking_code"].as_str().unwrap().to_owned(),
    )
}

/// The id of the appeal numbered `number`, as the supervisor finds it.
async fn id_of(supervisor: &TestUser, number: &str) -> String {
    let (status, list) = supervisor
        .get_json(&format!("/api/v1/appeals?q={number}"))
        .await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["total"], 1, "{list}");
    list["items"][0]["id"].as_str().unwrap().to_owned()
}

/// PUTs the step limits as the supervisor; answers the status.
async fn supervisor_put(app: &TestApp, supervisor: &TestUser, body: &Value) -> u16 {
    app.client
        .put(app.url("/api/v1/appeal-limits"))
        .header("cookie", format!("bizenv_session={}", supervisor.token))
        .header("x-csrf-token", &supervisor.csrf_token)
        .json(body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn count(app: &TestApp, table: &str) -> String {
    app.sql_rows(&format!("SELECT CAST(COUNT(*) AS TEXT) FROM {table}"))
        .await[0][0]
        .clone()
}

async fn a_public_appeal_is_dispatched_answered_called_back_reopened_and_closed(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let supervisor = app.demo_user("supervisor").await;
    category(&supervisor, "SPJ-01", "SPJ").await;
    let spj = supervisor.unit_id("SPJ").await;

    // Monday 2026-11-30 10:00: a citizen submits on the public form, with no account
    let (number, code) = public_appeal(&app, "complaint", "SPJ-01", "营业执照变更多次跑腿").await;
    assert!(number.starts_with("SQ20261130"), "{number}");
    let (status, tracked) = app
        .get_json(&format!("/api/v1/public/appeals/{code}"))
        .await;
    assert_eq!(status, 200, "{tracked}");
    assert_eq!(tracked["state"], "submitted");
    let id = id_of(&supervisor, &number).await;
    let (_, appeal) = supervisor.get_json(&format!("/api/v1/appeals/{id}")).await;
    assert_eq!(
        appeal["proposed_unit"]["id"],
        spj.as_str(),
        "routing proposes the default"
    );
    // dispatch within 2 working hours: 12:00 the same day
    assert_eq!(appeal["due_at"], "2026-11-30T12:00:00+08:00", "{appeal}");
    assert_eq!(appeal["has_submitter"], true);

    // dispatched at 11:00 → accept by the close of the next working day
    let (supervisor, _) = desk(&app, "2026-11-30 11:00").await;
    let dispatched = ok(
        &supervisor,
        &id,
        json!({"action": "dispatch", "note": "内部意见：请核实后答复"}),
    )
    .await;
    assert_eq!(dispatched["state"], "dispatched");
    assert_eq!(dispatched["lead_unit"]["id"], spj.as_str());
    assert_eq!(dispatched["due_at"], "2026-12-01T17:30:00+08:00");
    let dispatch = &dispatched["deadlines"][0];
    assert_eq!(dispatch["step"], "dispatch");
    assert_eq!(dispatch["open"], false);
    assert_eq!(dispatch["worked_minutes"], 60);

    // the unit accepts on Tuesday at 09:30 (in time): the reply is due in 5 working days
    let (_, unit) = desk(&app, "2026-12-01 09:30").await;
    let accepted = ok(&unit, &id, json!({"action": "accept"})).await;
    assert_eq!(accepted["state"], "accepted");
    assert_eq!(accepted["accept_on_time"], true);
    assert_eq!(
        accepted["accept_minutes"],
        60 + 240 + 30,
        "11:00–12:00, 13:30–17:30, 09:00–09:30"
    );
    assert_eq!(accepted["due_at"], "2026-12-08T17:30:00+08:00");
    // a unit cannot return what it accepted
    let (status, refused) = act(
        &unit,
        &id,
        json!({"action": "return", "reason": "不归我单位"}),
    )
    .await;
    assert_eq!(status, 409, "{refused}");

    // the unit waits a working day for the citizen's materials: the clock stops, then the
    // supervisor grants the one extension (at most 10 working days)
    let (status, paused) = unit
        .post_json(
            &format!("/api/v1/appeals/{id}/deadline"),
            &json!({"change": "pause", "reason": "等待诉求人补充材料"}),
            true,
        )
        .await;
    assert_eq!(status, 200, "{paused}");
    assert_eq!(paused["deadlines"][2]["paused"], true, "{paused}");
    let (supervisor, unit) = desk(&app, "2026-12-02 09:30").await;
    let deadline = |who: &TestUser, body: Value| {
        let who = who.clone();
        let id = id.clone();
        async move {
            who.post_json(&format!("/api/v1/appeals/{id}/deadline"), &body, true)
                .await
        }
    };
    let (status, resumed) = deadline(&unit, json!({"change": "resume"})).await;
    assert_eq!(status, 200, "{resumed}");
    assert_eq!(
        resumed["due_at"], "2026-12-09T17:30:00+08:00",
        "one working day later"
    );
    let (status, _) = deadline(
        &unit,
        json!({"change": "extend", "days": 3, "reason": "需现场核查"}),
    )
    .await;
    assert_eq!(status, 403, "only the supervisor extends");
    let (status, _) = deadline(
        &supervisor,
        json!({"change": "extend", "days": 11, "reason": "过长"}),
    )
    .await;
    assert_eq!(status, 422, "at most 10 working days");
    let (status, extended) = deadline(
        &supervisor,
        json!({"change": "extend", "days": 3, "reason": "需现场核查"}),
    )
    .await;
    assert_eq!(status, 200, "{extended}");
    assert_eq!(
        extended["due_at"], "2026-12-14T17:30:00+08:00",
        "{extended}"
    );
    let (status, _) = deadline(
        &supervisor,
        json!({"change": "extend", "days": 1, "reason": "再延"}),
    )
    .await;
    assert_eq!(status, 409, "one extension only");

    let (supervisor, unit) = desk(&app, "2026-12-02 10:00").await;
    let replied = ok(
        &unit,
        &id,
        json!({"action": "reply", "reply": "已安排专人一次性办结变更登记。", "status_notes": "已答复，正在回访"}),
    )
    .await;
    assert_eq!(replied["state"], "replied");
    assert_eq!(replied["reply_on_time"], true);
    assert_eq!(
        replied["due_at"], "2026-12-04T17:30:00+08:00",
        "callback in 2 working days"
    );

    // the callback reaches the citizen, who is not satisfied: reopened to the unit
    let called = ok(
        &supervisor,
        &id,
        json!({"action": "callback", "contacted": true, "resolved": false, "process": "fair", "result": "dissatisfied",
               "note": "群众表示仍需再跑一次"}),
    )
    .await;
    assert_eq!(called["state"], "called_back");
    let reopened = ok(
        &supervisor,
        &id,
        json!({"action": "reopen", "note": "回访不满意，请重办"}),
    )
    .await;
    assert_eq!(reopened["state"], "accepted");
    assert_eq!(reopened["reopens"], 1);
    assert_eq!(reopened["due_at"], "2026-12-09T17:30:00+08:00");
    assert!(
        reopened["deadlines"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["step"] == "reply.2" && d["open"] == true),
        "{reopened}"
    );

    // second reply; a first callback attempt fails; the second reaches a satisfied citizen
    ok(
        &unit,
        &id,
        json!({"action": "reply", "reply": "已上门办理完毕。"}),
    )
    .await;
    let missed = ok(
        &supervisor,
        &id,
        json!({"action": "callback", "contacted": false, "note": "无人接听"}),
    )
    .await;
    assert_eq!(missed["state"], "replied");
    assert_eq!(missed["missed_callbacks"], 1);
    ok(
        &supervisor,
        &id,
        json!({"action": "callback", "contacted": true, "resolved": true, "process": "satisfied", "result": "fair"}),
    )
    .await;
    let (status, refused) = act(
        &supervisor,
        &id,
        json!({"action": "reopen", "note": "再办"}),
    )
    .await;
    assert_eq!(status, 409, "a satisfied callback cannot reopen: {refused}");
    let closed = ok(&supervisor, &id, json!({"action": "close"})).await;
    assert_eq!(closed["state"], "closed");

    // the citizen follows it by code: closed, the reply, no staff names, no identity
    let (status, tracked) = app
        .get_json(&format!("/api/v1/public/appeals/{}", code.to_lowercase()))
        .await;
    assert_eq!(status, 200, "{tracked}");
    assert_eq!(tracked["state"], "closed");
    assert_eq!(tracked["reply"], "已上门办理完毕。");
    let text = tracked.to_string();
    for hidden in [
        "李明",
        "陈静",
        CANARY_NAME,
        CANARY_PHONE,
        "user:",
        "内部意见",
    ] {
        assert!(!text.contains(hidden), "{hidden} in {text}");
    }
    let events: Vec<&str> = tracked["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["event"].as_str().unwrap_or_default())
        .collect();
    assert!(events.len() >= 9, "{events:?}");

    // staff read the dispatch note on the timeline
    let (_, history) = unit
        .get_json(&format!("/api/v1/appeals/{id}/history"))
        .await;
    assert!(
        history.to_string().contains("意见：内部意见：请核实后答复"),
        "{history}"
    );

    // every step is in the audit chain
    let rows = app
        .sql_rows(&format!(
            "SELECT action FROM audit_log WHERE entity = 'appeal' AND entity_id = '{id}' ORDER BY seq"
        ))
        .await;
    let actions: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        actions,
        [
            "create", "dispatch", "accept", "reply", "callback", "reopen", "reply", "callback",
            "callback", "close"
        ]
    );
}

async fn appeal_deadlines_skip_holidays_and_count_make_up_workdays(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let supervisor = app.demo_user("supervisor").await;
    category(&supervisor, "SPJ-02", "SPJ").await;

    // Wednesday 2026-09-30 16:30, the eve of National Day: dispatch is due in 2 working
    // hours, one today and one on Thursday 10-08
    let (supervisor, _) = desk(&app, "2026-09-30 16:30").await;
    let (number, _) = public_appeal(&app, "consultation", "SPJ-02", "节前咨询").await;
    let id = id_of(&supervisor, &number).await;
    let (_, appeal) = supervisor.get_json(&format!("/api/v1/appeals/{id}")).await;
    assert_eq!(appeal["due_at"], "2026-10-08T10:00:00+08:00", "{appeal}");
    // dispatched at 17:00: accept by the close of 10-08 (10-01…10-07 off)
    let (supervisor, _) = desk(&app, "2026-09-30 17:00").await;
    let dispatched = ok(&supervisor, &id, json!({"action": "dispatch"})).await;
    assert_eq!(dispatched["due_at"], "2026-10-08T17:30:00+08:00");
    // accepted on 10-08: a consultation is answered in 1 working day → Friday 10-09
    let (supervisor, unit) = desk(&app, "2026-10-08 09:00").await;
    let accepted = ok(&unit, &id, json!({"action": "accept"})).await;
    assert_eq!(
        accepted["accept_minutes"], 30,
        "17:00–17:30, then nothing before 09:00"
    );
    assert_eq!(accepted["due_at"], "2026-10-09T17:30:00+08:00");

    // a complaint dispatched on 10-08 is accepted on Friday 10-09 in time and has 5 working
    // days, Saturday 10-10 among them
    let (number, _) = public_appeal(&app, "complaint", "SPJ-02", "节后投诉").await;
    let id = id_of(&supervisor, &number).await;
    ok(&supervisor, &id, json!({"action": "dispatch"})).await;
    let (_, unit) = desk(&app, "2026-10-09 10:00").await;
    let accepted = ok(&unit, &id, json!({"action": "accept"})).await;
    // 10-10 (make-up), 10-12, 10-13, 10-14, 10-15
    assert_eq!(accepted["due_at"], "2026-10-15T17:30:00+08:00");
    assert_eq!(accepted["accept_on_time"], true, "due 10-09 17:30");
}

async fn who_sees_what_of_appeals_and_the_submitter_stays_hidden(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let supervisor = app.demo_user("supervisor").await;
    let unit = app.demo_user("unitadmin").await;
    let street = app.demo_user("street").await;
    let leader = app.demo_user("leader").await;
    let observer = app.demo_user("observer").await;
    let enterprise = app.demo_user("enterprise").await;
    let window = app.demo_user("window").await;
    category(&supervisor, "SPJ-03", "SPJ").await;
    let street_id = supervisor.unit_id("370104001").await;

    let (number, _) = public_appeal(&app, "demand", "SPJ-03", "金丝雀诉求").await;
    let id = id_of(&supervisor, &number).await;

    // before dispatch the unit does not know it exists; neither does the street
    for user in [&unit, &street] {
        let (status, _) = user.get_json(&format!("/api/v1/appeals/{id}")).await;
        assert_eq!(status, 404);
        let (_, list) = user.get_json("/api/v1/appeals?q=金丝雀").await;
        assert_eq!(list["total"], 0, "{list}");
    }
    // observers, window staff: no appeals at all (404, as for a record that does not exist)
    for user in [&observer, &window] {
        let (status, _) = user.get_json("/api/v1/appeals").await;
        assert_eq!(status, 404);
        let (status, _) = user.get_json(&format!("/api/v1/appeals/{id}")).await;
        assert_eq!(status, 404);
    }

    // dispatched to SPJ with the street co-handling: both see it now
    ok(
        &supervisor,
        &id,
        json!({"action": "dispatch", "cohandler_ids": [street_id]}),
    )
    .await;
    for user in [&unit, &street, &leader] {
        let (status, seen) = user.get_json(&format!("/api/v1/appeals/{id}")).await;
        assert_eq!(status, 200, "{seen}");
        let (_, list) = user.get_json("/api/v1/appeals?q=金丝雀").await;
        assert_eq!(list["total"], 1, "{list}");
    }
    // the street co-handles but may not accept; it adds its part
    let (status, refused) = act(&street, &id, json!({"action": "accept"})).await;
    assert_eq!(status, 422, "{refused}");
    let (status, part) = street
        .post_json(
            &format!("/api/v1/appeals/{id}/cohandle"),
            &json!({"part": "街道已配合上门核实"}),
            true,
        )
        .await;
    assert_eq!(status, 200, "{part}");
    assert_eq!(part["cohandlers"][0]["part"], "街道已配合上门核实");
    // the co-handling street adds a photo; the lead unit reads it, an observer does not
    let (status, file) = street
        .post_multipart(
            &format!("/api/v1/appeals/{id}/attachments"),
            &[],
            "现场照片.png",
            PNG,
        )
        .await;
    assert_eq!(status, 201, "{file}");
    let file: Value = serde_json::from_str(&file).unwrap();
    let (_, files) = unit
        .get_json(&format!("/api/v1/appeals/{id}/attachments"))
        .await;
    assert_eq!(files["items"][0]["file_name"], "现场照片.png", "{files}");
    let url = file["url"].as_str().unwrap().to_owned();
    assert_eq!(unit.get(&url).await.status(), 200);
    assert_eq!(observer.get(&url).await.status(), 404);
    let (status, _) = leader
        .post_multipart(
            &format!("/api/v1/appeals/{id}/attachments"),
            &[],
            "x.png",
            PNG,
        )
        .await;
    assert_eq!(status, 403, "leaders read only");
    let (status, _) = street
        .post_multipart(
            &format!("/api/v1/appeals/{id}/attachments"),
            &[],
            "病毒.exe",
            b"MZ\x90",
        )
        .await;
    assert_eq!(status, 422, "a bad attachment is refused");
    // the supervisor's steps are not the unit's, and the other way round
    let (status, _) = act(&unit, &id, json!({"action": "close"})).await;
    assert_eq!(status, 403);
    let (status, _) = act(&supervisor, &id, json!({"action": "accept"})).await;
    assert_eq!(status, 403);

    // only the supervisor reads the submitter, and the read is audited
    for user in [&unit, &street, &leader, &enterprise] {
        let (status, _) = user
            .get_json(&format!("/api/v1/appeals/{id}/submitter"))
            .await;
        assert_eq!(status, 404);
    }
    let (status, who) = supervisor
        .get_json(&format!("/api/v1/appeals/{id}/submitter"))
        .await;
    assert_eq!(status, 200, "{who}");
    assert_eq!(who["name"], CANARY_NAME);
    assert_eq!(who["phone"], CANARY_PHONE);
    let reads = app
        .sql_rows(&format!(
            "SELECT changes FROM audit_log WHERE action = 'read_submitter' AND entity_id = '{id}'"
        ))
        .await;
    assert_eq!(reads.len(), 1);
    assert!(
        !reads[0][0].contains(CANARY_PHONE),
        "the audit keeps the blind index only"
    );

    // the canary never reaches the unit: appeal, list, history, inbox; nor the database in clear
    ok(&unit, &id, json!({"action": "accept"})).await;
    for path in [
        format!("/api/v1/appeals/{id}"),
        "/api/v1/appeals".to_owned(),
        format!("/api/v1/appeals/{id}/history"),
        "/api/v1/notifications".to_owned(),
    ] {
        for user in [&unit, &street, &leader] {
            let (_, text) = user.get_text(&path).await;
            assert!(!text.contains(CANARY_NAME), "{path}: {text}");
            assert!(!text.contains(CANARY_PHONE), "{path}: {text}");
        }
    }
    let stored = app
        .sql_rows(&format!(
            "SELECT COALESCE(submitter_name_enc, ''), COALESCE(submitter_phone_enc, '') FROM appeal WHERE id = '{id}'"
        ))
        .await;
    assert!(!stored[0][0].contains(CANARY_NAME) && !stored[0][1].contains(CANARY_PHONE));

    // an enterprise reads its own appeals only, with its tracking code
    let (status, own) = enterprise
        .post_json(
            "/api/v1/appeals",
            &json!({"kind": "suggestion", "category_code": "SPJ-03", "title": "企业建议", "content": "建议延长午间服务"}),
            true,
        )
        .await;
    assert_eq!(status, 201, "{own}");
    let (_, list) = enterprise.get_json("/api/v1/appeals").await;
    assert_eq!(list["total"], 1, "{list}");
    assert_eq!(list["items"][0]["tracking_code"], own["tracking_code"]);
    let (status, _) = enterprise.get_json(&format!("/api/v1/appeals/{id}")).await;
    assert_eq!(status, 404);
    // window staff enter an appeal at the hall, but do not read the queue
    let (status, entered) = window
        .post_json(
            "/api/v1/appeals",
            &json!({"kind": "demand", "category_code": "SPJ-03", "title": "窗口登记", "content": "群众现场反映",
                    "submitter_phone": "0531-88886666"}),
            true,
        )
        .await;
    assert_eq!(status, 201, "{entered}");
    let (_, all) = supervisor
        .get_json("/api/v1/appeals?source=hall&category_code=SPJ-03")
        .await;
    assert_eq!(all["total"], 1, "{all}");
}

async fn the_three_rates_on_a_hand_computed_fixture(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let supervisor = app.demo_user("supervisor").await;
    category(&supervisor, "SPJ-04", "SPJ").await;
    let spj = supervisor.unit_id("SPJ").await;

    // four appeals dispatched on Monday 11-30, accept due Tuesday 12-01 17:30
    let mut ids = Vec::new();
    for n in 0..4 {
        let (number, _) = public_appeal(&app, "demand", "SPJ-04", &format!("三率样本{n}")).await;
        let id = id_of(&supervisor, &number).await;
        ok(&supervisor, &id, json!({"action": "dispatch"})).await;
        ids.push(id);
    }
    // three accepted in time, one late (Wednesday)
    let (_, unit) = desk(&app, "2026-12-01 10:00").await;
    for id in &ids[..3] {
        ok(&unit, id, json!({"action": "accept"})).await;
    }
    let (supervisor, unit) = desk(&app, "2026-12-02 10:00").await;
    ok(&unit, &ids[3], json!({"action": "accept"})).await;
    for id in &ids {
        ok(&unit, id, json!({"action": "reply", "reply": "已办理"})).await;
    }
    // callbacks: resolved+satisfied, resolved+fair, unresolved+dissatisfied, unreached ×3
    let reached = [
        (true, "satisfied", "satisfied"),
        (true, "fair", "fair"),
        (false, "dissatisfied", "dissatisfied"),
    ];
    for (id, (resolved, process, result)) in ids.iter().zip(reached) {
        ok(
            &supervisor,
            id,
            json!({"action": "callback", "contacted": true, "resolved": resolved, "process": process, "result": result}),
        )
        .await;
    }
    for _ in 0..3 {
        ok(
            &supervisor,
            &ids[3],
            json!({"action": "callback", "contacted": false}),
        )
        .await;
    }
    let (_, a) = supervisor
        .get_json(&format!("/api/v1/appeals/{}", ids[3]))
        .await;
    assert_eq!(
        a["state"], "called_back",
        "not reached after three attempts: {a}"
    );

    let (status, figures) = supervisor
        .get_json(
            "/api/v1/appeals/figures?by=unit&category_code=SPJ-04&from=2026-11-01&to=2026-12-31",
        )
        .await;
    assert_eq!(status, 200, "{figures}");
    let row = figures["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == spj.as_str())
        .unwrap_or_else(|| panic!("no SPJ row: {figures}"))
        .clone();
    assert_eq!(row["accept_due"], 4);
    assert_eq!(row["accepted_in_time"], 3);
    assert_eq!(row["reached"], 3);
    assert_eq!(row["resolved"], 2);
    assert_eq!(row["satisfied"], 2);
    assert_eq!(row["unreached"], 1);
    assert_eq!(row["response_rate"], 0.75);
    // 0.75×30 + (2/3)×35 + (2/3)×35 = 22.5 + 46.666… = 69.1666…
    let score = row["score"].as_f64().unwrap();
    assert!((score - (22.5 + 70.0 * 2.0 / 3.0)).abs() < 1e-9, "{score}");
    // by month: all in 2026-12 except the accept deadline month (12-01) — one row
    let (_, by_month) = supervisor
        .get_json(
            "/api/v1/appeals/figures?by=month&category_code=SPJ-04&from=2026-11-01&to=2026-12-31",
        )
        .await;
    assert_eq!(by_month["items"][0]["key"], "2026-12", "{by_month}");
    assert_eq!(by_month["total"]["reached"], 3);
    // the unit reads its own figures; an enterprise none
    let (status, _) = unit.get_json("/api/v1/appeals/figures").await;
    assert_eq!(status, 200);
    let enterprise = app.demo_user("enterprise").await;
    let (status, _) = enterprise.get_json("/api/v1/appeals/figures").await;
    assert_eq!(status, 404);
    let (status, bad) = supervisor.get_json("/api/v1/appeals/figures?by=week").await;
    assert_eq!(status, 400, "{bad}");
}

async fn bad_appeal_input_changes_nothing(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let supervisor = app.demo_user("supervisor").await;
    let unit = app.demo_user("unitadmin").await;
    let street = app.demo_user("street").await;
    category(&supervisor, "SPJ-05", "SPJ").await;
    let (number, code) = public_appeal(&app, "demand", "SPJ-05", "样本").await;
    let id = id_of(&supervisor, &number).await;
    let before = (
        count(&app, "appeal").await,
        count(&app, "audit_log").await,
        count(&app, "deadline").await,
    );

    // the public form: unknown category, missing phone, bad phone, level of detail
    let cases = [
        (
            json!({"kind": "demand", "category_code": "NOPE", "title": "t", "content": "c", "submitter_phone": CANARY_PHONE}),
            "category_code",
        ),
        (
            json!({"kind": "demand", "category_code": "SPJ-05", "title": "t", "content": "c"}),
            "submitter_phone",
        ),
        (
            json!({"kind": "demand", "category_code": "SPJ-05", "title": "t", "content": "c", "submitter_phone": "12345"}),
            "submitter_phone",
        ),
        (
            json!({"kind": "praise", "category_code": "SPJ-05", "title": "t", "content": "c", "submitter_phone": CANARY_PHONE}),
            "kind",
        ),
        (
            json!({"kind": "demand", "category_code": "SPJ-05", "title": "", "content": "c", "submitter_phone": CANARY_PHONE}),
            "title",
        ),
        (
            json!({"kind": "demand", "category_code": "SPJ-05", "title": "t", "content": "长".repeat(5001), "submitter_phone": CANARY_PHONE}),
            "content",
        ),
        (
            json!({"kind": "demand", "category_code": "SPJ-05", "title": "t", "content": "c", "submitter_phone": CANARY_PHONE, "source": "hall"}),
            "source",
        ),
    ];
    for (body, field) in cases {
        let (status, answer) = app
            .post_raw_json("/api/v1/public/appeals", body.to_string())
            .await;
        assert_eq!(status, 422, "{body} → {answer}");
        assert!(
            answer["error"]["fields"][field].is_string(),
            "{field}: {answer}"
        );
    }
    let (status, _) = app
        .post_raw_json("/api/v1/public/appeals", "{not json")
        .await;
    assert_eq!(status, 400);

    // steps out of order or by the wrong hand
    let (status, answer) = act(&unit, &id, json!({"action": "accept"})).await;
    assert_eq!(
        status, 404,
        "not dispatched to the unit: it does not see it: {answer}"
    );
    let (status, answer) = act(
        &supervisor,
        &id,
        json!({"action": "callback", "contacted": true}),
    )
    .await;
    assert_eq!(status, 409, "callback before the reply: {answer}");
    let (status, answer) = act(
        &supervisor,
        &id,
        json!({"action": "dispatch", "unit_id": "nope"}),
    )
    .await;
    assert_eq!(status, 422, "{answer}");
    let (status, answer) = act(&supervisor, &id, json!({"action": "fly"})).await;
    assert_eq!(status, 422, "{answer}");
    let (status, _) = app.get_json("/api/v1/public/appeals/AAAAAAAAAAAA").await;
    assert_eq!(status, 404);
    let (status, _) = app.get_json("/api/v1/public/appeals/x").await;
    assert_eq!(status, 404);
    assert_ne!(code, "AAAAAAAAAAAA");
    let after = (
        count(&app, "appeal").await,
        count(&app, "audit_log").await,
        count(&app, "deadline").await,
    );
    assert_eq!(before, after, "nothing stored by bad input");

    // the step limits are the tenant's: a bad value changes nothing, a good one applies to
    // the next appeal's dispatch deadline
    let (status, _) = unit.get_json("/api/v1/appeal-limits").await;
    assert_eq!(status, 404, "the supervisor's setting");
    for bad in [
        json!({"reply_days": 0}),
        json!({"dispatch_minutes": -5}),
        json!({"reply_dayz": 3}),
    ] {
        let response = supervisor_put(&app, &supervisor, &bad).await;
        assert!(response == 422 || response == 400, "{bad} → {response}");
    }
    let (_, limits) = supervisor.get_json("/api/v1/appeal-limits").await;
    assert_eq!(limits["dispatch_minutes"], 120, "{limits}");
    assert_eq!(
        supervisor_put(&app, &supervisor, &json!({"dispatch_minutes": 60})).await,
        200
    );
    let (_, limits) = supervisor.get_json("/api/v1/appeal-limits").await;
    assert_eq!(limits["dispatch_minutes"], 60);
    assert_eq!(limits["reply_days"], 5, "fields left out keep the defaults");
    let (number, _) = public_appeal(&app, "demand", "SPJ-05", "新时限").await;
    let fresh = id_of(&supervisor, &number).await;
    let (_, fresh) = supervisor
        .get_json(&format!("/api/v1/appeals/{fresh}"))
        .await;
    assert_eq!(fresh["due_at"], "2026-11-30T11:00:00+08:00", "{fresh}");

    // two returns, then no third; returning needs a reason; a street cannot accept SPJ's
    let spj = supervisor.unit_id("SPJ").await;
    for round in 1..=2 {
        ok(
            &supervisor,
            &id,
            json!({"action": "dispatch", "unit_id": spj}),
        )
        .await;
        let (status, answer) = act(&unit, &id, json!({"action": "return"})).await;
        assert_eq!(status, 422, "a return needs its reason: {answer}");
        let returned = ok(
            &unit,
            &id,
            json!({"action": "return", "reason": format!("第{round}次退回")}),
        )
        .await;
        assert_eq!(returned["state"], "returned");
        assert_eq!(returned["returns"], round);
    }
    ok(
        &supervisor,
        &id,
        json!({"action": "dispatch", "unit_id": spj}),
    )
    .await;
    let (status, answer) = act(&unit, &id, json!({"action": "return", "reason": "第三次"})).await;
    assert_eq!(status, 409, "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("两次"),
        "{answer}"
    );
    let (status, _) = act(&street, &id, json!({"action": "accept"})).await;
    assert_eq!(status, 404, "not the street's appeal");
    // a return after the window (2 working days after dispatch) is refused
    let (number, _) = public_appeal(&app, "demand", "SPJ-05", "超时退回").await;
    let late = id_of(&supervisor, &number).await;
    ok(&supervisor, &late, json!({"action": "dispatch"})).await;
    let (_, unit) = desk(&app, "2026-12-03 09:00").await;
    let (status, answer) = act(&unit, &late, json!({"action": "return", "reason": "晚了"})).await;
    assert_eq!(status, 422, "{answer}");
}

/// The demo's manifest (what it planted, for tests) agrees with what the supervisor's queues
/// show: appeals per state, the overdue open appeals, the open and overdue bad ratings.
async fn the_demo_manifest_names_what_the_queues_show(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    // what `serve` does within its first minute: the card sweep raises the planted red cards
    app.store
        .sweep_cards(&store::audit::AuditCtx::cli())
        .await
        .unwrap();
    let summary = app.store.seed_demo().await.unwrap();
    let supervisor = app.demo_user("supervisor").await;
    let total = |body: &Value| body["total"].as_i64().unwrap();
    assert!(
        summary.appeals_overdue > 0,
        "the demo plants overdue appeals"
    );
    let (status, overdue) = supervisor
        .get_json("/api/v1/appeals?open=true&overdue=true")
        .await;
    assert_eq!(status, 200, "{overdue}");
    assert_eq!(total(&overdue), summary.appeals_overdue);
    for (state, n) in &summary.appeals {
        let (status, list) = supervisor
            .get_json(&format!("/api/v1/appeals?state={state}"))
            .await;
        assert_eq!(status, 200, "{list}");
        assert_eq!(total(&list), *n, "{state}");
    }
    assert!(summary.appeals["closed"] > 0 && summary.appeals.values().sum::<i64>() > 0);
    let (_, open) = supervisor.get_json("/api/v1/bad-ratings?open=true").await;
    let (_, late) = supervisor
        .get_json("/api/v1/bad-ratings?open=true&overdue=true")
        .await;
    assert_eq!((total(&open), total(&late)), summary.bad_ratings);
    assert!(
        summary.bad_ratings.0 > 0,
        "the demo plants open bad ratings"
    );
}

async fn the_submitter_hears_of_each_reply_by_sms(backend: Backend) {
    let sms = HttpSink::start().await;
    let app = TestApp::spawn_demo(backend).await;
    // the demo's past replies queued nothing for their (synthetic) submitters
    let submitter_rows = "SELECT CAST(COUNT(*) AS TEXT) FROM notification WHERE account_id = ''";
    assert_eq!(app.sql_rows(submitter_rows).await, [["0"]]);
    let admin = app.demo_user("admin").await;
    let (_, mut settings) = admin.get_json("/api/v1/settings/notifications").await;
    settings["sms_gateway"] = json!(sms.url("/sms/send"));
    let (status, settings) = admin
        .send_json("PUT", "/api/v1/settings/notifications", settings)
        .await;
    assert_eq!(status, 200, "{settings}");
    let (supervisor, unit) = desk(&app, "2026-11-30 10:00").await;
    category(&supervisor, "SPJ-01", "SPJ").await;
    let (number, code) = public_appeal(&app, "consultation", "SPJ-01", "个体户变更咨询").await;
    let id = id_of(&supervisor, &number).await;
    // a hall entry without a phone: replied, nobody to tell
    let (status, quiet) = supervisor
        .post_json(
            "/api/v1/appeals",
            &json!({"kind": "suggestion", "source": "hall", "category_code": "SPJ-01",
                    "title": "窗口登记建议", "content": "建议增加自助机。"}),
            true,
        )
        .await;
    assert_eq!(status, 201, "{quiet}");
    let quiet = quiet["id"].as_str().unwrap().to_owned();
    for appeal in [&id, &quiet] {
        ok(&supervisor, appeal, json!({"action": "dispatch"})).await;
        ok(&unit, appeal, json!({"action": "accept"})).await;
    }
    assert_eq!(
        app.sql_rows(submitter_rows).await,
        [["0"]],
        "nothing before the reply"
    );
    for appeal in [&id, &quiet] {
        ok(
            &unit,
            appeal,
            json!({"action": "reply", "reply": "已答复。"}),
        )
        .await;
    }

    // one SMS queued, in the reply's transaction, the phone sealed in the row
    let queued = app
        .sql_rows(
            "SELECT record_id, channel, state, title, COALESCE(to_enc, '') FROM notification WHERE account_id = ''",
        )
        .await;
    assert_eq!(queued.len(), 1, "{queued:?}");
    assert_eq!(queued[0][..3], [id.as_str(), "sms", "queued"]);
    assert!(
        queued[0][3].contains(&number) && queued[0][3].contains(&code),
        "{queued:?}"
    );
    assert!(
        !queued[0][4].is_empty() && !queued[0][4].contains(CANARY_PHONE),
        "{queued:?}"
    );

    // the sender delivers it to the submitter's phone with the district's name
    app.store.tick("live").await.unwrap();
    // (the demo's contacts get their own SMS about the demo's overdue items)
    let sent: Vec<_> = sms
        .requests()
        .into_iter()
        .filter(|r| r.body.contains(&code))
        .collect();
    assert_eq!(sent.len(), 1, "{sent:?}");
    let body: Value = serde_json::from_str(&sent[0].body).unwrap();
    assert_eq!(body["phone"], CANARY_PHONE);
    let text = body["text"].as_str().unwrap();
    assert!(
        text.starts_with('【') && text.contains(&number) && text.contains(&code),
        "{text}"
    );
    assert_eq!(
        app.sql_rows("SELECT state FROM notification WHERE account_id = ''")
            .await,
        [["sent"]]
    );
    // the unit's inbox never carries the submitter's SMS or phone
    let (_, inbox) = unit.get_json("/api/v1/notifications").await;
    assert!(!inbox.to_string().contains(CANARY_PHONE), "{inbox}");
    assert!(!inbox.to_string().contains(&code), "{inbox}");
}

async fn an_appeal_left_unaccepted_gets_its_cards_and_a_supervision_notice(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let (supervisor, _) = desk(&app, "2026-11-30 10:00").await;
    category(&supervisor, "SPJ-01", "SPJ").await;
    let spj = supervisor.unit_id("SPJ").await;
    let (number, code) = public_appeal(&app, "complaint", "SPJ-01", "办证窗口排队过长").await;
    let id = id_of(&supervisor, &number).await;
    // dispatched Monday 11:00: to be accepted by Tuesday's close
    let (supervisor, _) = desk(&app, "2026-11-30 11:00").await;
    let dispatched = ok(&supervisor, &id, json!({"action": "dispatch"})).await;
    assert_eq!(dispatched["due_at"], "2026-12-01T17:30:00+08:00");
    assert_eq!(dispatched["card"], "none");
    let card_of = |who: TestUser| {
        let id = id.clone();
        async move {
            let (status, appeal) = who.get_json(&format!("/api/v1/appeals/{id}")).await;
            assert_eq!(status, 200, "{appeal}");
            appeal["card"].as_str().unwrap().to_owned()
        }
    };

    // Tuesday 16:00, in the last half of its working day: the sweep shows yellow and tells
    // the unit
    app.clock.set(at("2026-12-01 16:00"));
    app.store.tick("test").await.unwrap();
    let (supervisor, unit) = desk(&app, "2026-12-01 16:00").await;
    assert_eq!(card_of(supervisor.clone()).await, "yellow");
    let (_, inbox) = unit.get_json("/api/v1/notifications").await;
    let told = |inbox: &Value, event: &str| {
        inbox["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["url"] == format!("/appeals/{id}") && n["event"] == event)
    };
    assert!(told(&inbox, "due_soon"), "{inbox}");
    let (_, notices) = supervisor.get_json("/api/v1/notices?state=open").await;
    assert!(
        !notices.to_string().contains(&id),
        "no notice before the due time"
    );

    // Wednesday 09:00, not accepted: red, on the overdue list, and a supervision notice to
    // the unit, which it reads; a street does not
    app.clock.set(at("2026-12-02 09:00"));
    app.store.tick("test").await.unwrap();
    let (supervisor, unit) = desk(&app, "2026-12-02 09:00").await;
    assert_eq!(card_of(unit.clone()).await, "red");
    let (_, overdue) = unit.get_json("/api/v1/appeals?overdue=true").await;
    assert!(overdue.to_string().contains(&id), "{overdue}");
    let (_, inbox) = unit.get_json("/api/v1/notifications").await;
    assert!(told(&inbox, "overdue") && told(&inbox, "notice"), "{inbox}");
    let (_, notices) = supervisor.get_json("/api/v1/notices?state=open").await;
    let notice = notices["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["record_id"] == id.as_str())
        .unwrap_or_else(|| panic!("a notice for the appeal: {notices}"))
        .clone();
    assert_eq!(notice["record_type"], "appeal");
    assert_eq!(notice["step"], "accept");
    assert_eq!(notice["unit_id"], spj.as_str());
    assert_eq!(notice["level"], 1);
    assert_eq!(notice["due_at"], "2026-12-01T17:30:00+08:00");
    let number_text = notice["number"].as_str().unwrap().to_owned();
    assert!(number_text.contains("〔2026〕"), "{notice}");
    let notice_id = notice["id"].as_str().unwrap().to_owned();
    let (status, sheet) = unit.get_text(&format!("/notices/{notice_id}")).await;
    assert_eq!(status, 200);
    assert!(
        sheet.contains(&number_text) && sheet.contains("办证窗口排队过长"),
        "{sheet}"
    );
    let street = app.demo_user("street").await;
    let (status, _) = street
        .get_json(&format!("/api/v1/notices/{notice_id}"))
        .await;
    assert_eq!(status, 404);

    // the submitter's timeline shows neither the cards nor the notice
    let (_, tracked) = app
        .get_json(&format!("/api/v1/public/appeals/{code}"))
        .await;
    let text = tracked.to_string();
    for internal in [
        "card_yellow",
        "card_red",
        "notice_issued",
        number_text.as_str(),
    ] {
        assert!(!text.contains(internal), "{internal} in {text}");
    }

    // accepted late: measured as late, the notice closed, the reply step starts clean
    let accepted = ok(&unit, &id, json!({"action": "accept"})).await;
    assert_eq!(accepted["accept_on_time"], false);
    assert_eq!(accepted["card"], "none");
    let (_, open) = supervisor.get_json("/api/v1/notices?state=open").await;
    assert!(!open.to_string().contains(&notice_id), "{open}");
}

async fn the_supervisor_sets_categories_routes_and_limits_on_a_page(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let (supervisor, unit) = desk(&app, "2026-11-30 10:00").await;
    let spj = supervisor.unit_id("SPJ").await;
    let street = supervisor.unit_id("370104001").await;
    let (status, page) = supervisor.get_text("/appeals/settings").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("category-form")
            && page.contains("route-form")
            && page.contains("limits-form")
    );
    let (_, queue) = supervisor.get_text("/appeals").await;
    assert!(queue.contains("/appeals/settings"), "linked from the queue");
    let csrf = supervisor.csrf_token.clone();
    let form = |path: &'static str, fields: Vec<(&'static str, String)>| {
        let supervisor = supervisor.clone();
        let csrf = csrf.clone();
        async move {
            let mut all: Vec<(&str, &str)> = vec![("csrf_token", csrf.as_str())];
            all.extend(fields.iter().map(|(k, v)| (*k, v.as_str())));
            let response = supervisor.post_form(path, &all).await;
            let status = response.status().as_u16();
            let location = response
                .headers()
                .get("location")
                .map(|l| l.to_str().unwrap().to_owned())
                .unwrap_or_default();
            (status, location, response.text().await.unwrap())
        }
    };
    let categories = "SELECT CAST(COUNT(*) AS TEXT) FROM appeal_category";
    let before = app.sql_rows(categories).await;

    // a bad code: the page again with the message, nothing saved
    let (status, _, body) = form(
        "/appeals/settings/category",
        vec![
            ("code", "坏 代码".into()),
            ("name", "测试类别".into()),
            ("active", "on".into()),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        body.contains("类别代码应为") && body.contains("测试类别"),
        "{body}"
    );
    assert_eq!(app.sql_rows(categories).await, before);

    // a new category led by SPJ by default
    let (status, location, _) = form(
        "/appeals/settings/category",
        vec![
            ("code", "PAGE-1".into()),
            ("name", "页面类别".into()),
            ("unit_id", spj.clone()),
            ("sort_order", "5".into()),
            ("active", "on".into()),
        ],
    )
    .await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/appeals/settings?saved=category")
    );
    let (_, listed) = supervisor
        .get_json("/api/v1/appeal-categories?all=true")
        .await;
    let saved = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "PAGE-1")
        .unwrap_or_else(|| panic!("{listed}"))
        .clone();
    assert_eq!(saved["name"], "页面类别");
    assert_eq!(saved["unit_id"], spj.as_str());
    assert_eq!(saved["active"], true);

    // in the street the category goes to the street itself
    let (status, _, body) = form(
        "/appeals/settings/route",
        vec![
            ("category_code", "PAGE-1".into()),
            ("street_id", "".into()),
            ("unit_id", street.clone()),
        ],
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("请选择街道"), "{body}");
    let (status, location, _) = form(
        "/appeals/settings/route",
        vec![
            ("category_code", "PAGE-1".into()),
            ("street_id", street.clone()),
            ("unit_id", street.clone()),
        ],
    )
    .await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/appeals/settings?saved=route")
    );
    let (_, page) = supervisor.get_text("/appeals/settings?saved=route").await;
    assert!(
        page.contains("route-list") && page.contains("页面类别") && page.contains("settings-saved"),
        "{page}"
    );
    let body = json!({"kind": "demand", "category_code": "PAGE-1", "street_id": street, "title": "路面破损",
        "content": "路面破损请修复。", "submitter_phone": CANARY_PHONE});
    let (status, receipt) = app
        .post_raw_json("/api/v1/public/appeals", body.to_string())
        .await;
    assert_eq!(status, 201, "{receipt}");
    let id = id_of(&supervisor, receipt["number"].as_str().unwrap()).await;
    let (_, appeal) = supervisor.get_json(&format!("/api/v1/appeals/{id}")).await;
    assert_eq!(
        appeal["proposed_unit"]["id"],
        street.as_str(),
        "the route wins over the default"
    );

    // limits: a zero is refused with its field's message and changes nothing; then two days
    let limits = |accept: &str| {
        vec![
            ("dispatch_minutes", "120".to_owned()),
            ("accept_days", accept.to_owned()),
            ("return_days", "2".into()),
            ("reply_days", "5".into()),
            ("consultation_reply_days", "1".into()),
            ("extension_max_days", "10".into()),
            ("callback_days", "2".into()),
        ]
    };
    let (status, _, body) = form("/appeals/settings/limits", limits("0")).await;
    assert_eq!(status, 422);
    assert!(body.contains("时限应为 1 至 366 个工作日"), "{body}");
    let (_, stored) = supervisor.get_json("/api/v1/appeal-limits").await;
    assert_eq!(stored["accept_days"], 1);
    let (status, _, body) = form("/appeals/settings/limits", limits("两天")).await;
    assert_eq!(status, 422);
    assert!(body.contains("请输入正整数"), "{body}");
    let (status, location, _) = form("/appeals/settings/limits", limits("2")).await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/appeals/settings?saved=limits")
    );
    let (_, stored) = supervisor.get_json("/api/v1/appeal-limits").await;
    assert_eq!(stored["accept_days"], 2);

    // nobody else has the page
    let (status, _) = unit.get_text("/appeals/settings").await;
    assert_eq!(status, 404);
    let (_, queue) = unit.get_text("/appeals").await;
    assert!(!queue.contains("/appeals/settings"));
}

/// A multipart body of text fields and `file` parts `(name, bytes)`.
fn multipart(fields: &[(&str, &str)], files: &[(&str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "appeal-test-boundary-91c2";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    for (file_name, content) in files {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
                 Content-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn the_public_form_takes_files_with_the_appeal(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let (supervisor, _) = desk(&app, "2026-11-30 10:00").await;
    category(&supervisor, "SPJ-01", "SPJ").await;
    let (_, form) = app.get_text("/appeal").await;
    assert!(
        form.contains("multipart/form-data") && form.contains("type=\"file\""),
        "{form}"
    );
    let fields = [
        ("kind", "complaint"),
        ("category_code", "SPJ-01"),
        ("title", "窗口照片反映"),
        ("content", "附照片为证，请核实。"),
        ("submitter_phone", CANARY_PHONE),
    ];
    let post = |fields: Vec<(&'static str, &'static str)>,
                files: Vec<(&'static str, &'static [u8])>| {
        let app = &app;
        async move {
            let (content_type, body) = multipart(&fields, &files);
            let response = app
                .client
                .post(app.url("/appeal"))
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    let counts = || async { (count(&app, "appeal").await, count(&app, "attachment").await) };
    let before = counts().await;

    // a file that is not one of the allowed kinds: the form again with the message, nothing kept
    let (status, page) = post(fields.to_vec(), vec![("说明.exe", b"MZ not a document")]).await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("field-error"), "{page}");
    assert_eq!(counts().await, before);
    // a good file with a bad field: nothing kept either
    let mut no_content = fields.to_vec();
    no_content[3] = ("content", "");
    let (status, _) = post(no_content, vec![("现场.png", PNG)]).await;
    assert_eq!(status, 422);
    assert_eq!(counts().await, before);

    // the appeal and its photo land together
    let (status, receipt) = post(fields.to_vec(), vec![("现场.png", PNG)]).await;
    assert_eq!(status, 200, "{receipt}");
    let number = receipt
        .split("SQ")
        .nth(1)
        .map(|rest| format!("SQ{}", &rest[..12]))
        .unwrap_or_else(|| panic!("{receipt}"));
    let id = id_of(&supervisor, &number).await;
    let (status, files) = supervisor
        .get_json(&format!("/api/v1/appeals/{id}/attachments"))
        .await;
    assert_eq!(status, 200, "{files}");
    assert_eq!(files["items"].as_array().unwrap().len(), 1, "{files}");
    assert_eq!(files["items"][0]["file_name"], "现场.png");
    let audited = app
        .sql_rows(&format!(
            "SELECT CAST(COUNT(*) AS TEXT) FROM audit_log WHERE entity = 'attachment' AND CAST(changes AS TEXT) LIKE '%{id}%'"
        ))
        .await;
    assert_eq!(audited, [["1"]]);
    // a plain (URL-encoded) submission still works without files
    let response = app
        .client
        .post(app.url("/appeal"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "kind=consultation&category_code=SPJ-01&title=%E5%92%A8%E8%AF%A2&content=%E5%92%A8%E8%AF%A2&submitter_phone={CANARY_PHONE}"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
}
