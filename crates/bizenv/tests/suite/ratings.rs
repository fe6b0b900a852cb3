//! Ratings (好差评): a window's QR rating from the public page to a bad rating verified,
//! rectified, called back unsatisfied, rectified again and closed, with the deadlines on the
//! working-day calendar, the rater's identity reaching the supervisor alone; cases in batches
//! (idempotent, bad rows refused alone) rated through their receipt's token within the rating
//! window and changed to a good rating (the workflow withdrawn); bad input changing nothing;
//! the running totals equal to a recount after random ratings, changes and invalidations.

use serde_json::{Value, json};
use test_support::{Backend, TestApp, TestUser, at_local as at, db_tests, encode};

db_tests!(
    a_qr_bad_rating_is_verified_rectified_called_back_and_closed,
    cases_arrive_in_batches_and_are_rated_through_their_receipt,
    bad_rating_input_changes_nothing,
    running_totals_equal_a_recount_after_random_changes,
    the_demo_plants_a_double_fall_in_the_last_full_month,
    the_window_records_a_case_and_the_limits_are_the_supervisors,
    a_case_file_lands_its_good_rows_and_names_every_bad_one,
    an_objection_pauses_rectification_and_an_upheld_one_leaves_the_figures,
    kill_9_during_a_rating_load_loses_no_acknowledged_rating,
    one_batch_answers_each_rating_on_its_own,
    the_due_and_overdue_list_follows_the_cards,
    a_staff_members_page_shows_their_ratings_never_their_raters,
    the_supervisor_uploads_a_case_file_on_a_page,
    a_case_waiting_for_materials_counts_its_working_days_without_the_wait,
    a_stream_of_ratings_keeps_the_kept_reads_and_other_changes_drop_them,
);

/// The canary rater: their name and phone must never reach the rated unit.
const CANARY_NAME: &str = "金丝雀评价人";
const CANARY_PHONE: &str = "13987654321";

async fn desk(app: &TestApp, when: &str) -> (TestUser, TestUser) {
    app.clock.set(at(when));
    (
        app.demo_user("supervisor").await,
        app.demo_user("unitadmin").await,
    )
}

/// Posts the public rating form with a device cookie; answers status and body.
async fn rate(app: &TestApp, token: &str, device: &str, fields: &[(&str, &str)]) -> (u16, String) {
    let body = fields
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let response = app
        .client
        .post(app.url(&format!("/rate/{token}")))
        .header(
            "cookie",
            format!("bz_device={}", app.store.device_cookie(device)),
        )
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

async fn count(app: &TestApp, table: &str) -> i64 {
    app.sql_rows(&format!("SELECT CAST(COUNT(*) AS TEXT) FROM {table}"))
        .await[0][0]
        .parse()
        .unwrap()
}

async fn step(user: &TestUser, id: &str, action: &str, note: &str) -> (u16, Value) {
    user.post_json(
        &format!("/api/v1/bad-ratings/{id}/actions"),
        &json!({"action": action, "note": note}),
        true,
    )
    .await
}

async fn ok_step(user: &TestUser, id: &str, action: &str, note: &str) -> Value {
    let (status, body) = step(user, id, action, note).await;
    assert_eq!(status, 200, "{action}: {body}");
    body
}

async fn window_token(app: &TestApp, code: &str) -> (String, String) {
    let tenant = app.store.tenant_by_code("370104").await.unwrap().unwrap();
    let units = app.store.units(&tenant.id).await.unwrap();
    let window = units.iter().find(|u| u.code == code).unwrap().id.clone();
    let token = app
        .store
        .window_rating_token(&store::audit::AuditCtx::cli(), &tenant.id, &window)
        .await
        .unwrap();
    (tenant.id, token)
}

async fn a_qr_bad_rating_is_verified_rectified_called_back_and_closed(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    // Friday 2026-09-25 16:00 is the Mid-Autumn holiday: the rating counts as received on
    // Monday 09-28, and its verification (1 working day) is due Tuesday 09-29 17:30
    let (supervisor, spj) = desk(&app, "2026-09-25 16:00").await;
    let (tenant_id, token) = window_token(&app, "ZWFW-01").await;
    // the supervisor's QR card holds the link
    let (status, card) = supervisor
        .get_text(&format!("/windows/{}/card", spj.unit_id("ZWFW-01").await))
        .await;
    assert_eq!(status, 200);
    assert!(
        card.contains(&format!("/rate/{token}")) && card.contains("<svg"),
        "{card}"
    );
    let (status, page) = app.get_text(&format!("/rate/{token}")).await;
    assert_eq!(status, 200);
    assert!(page.contains("综合受理1号窗口"), "{page}");

    let september = "/api/v1/ratings/figures?by=unit&from=2026-09-01&to=2026-09-30";
    let (_, before) = supervisor.get_json(september).await;
    let device = "0123456789abcdef0123456789abcdef";
    let (status, page) = rate(
        &app,
        &token,
        device,
        &[
            ("process", "2"),
            ("result", "2"),
            ("reasons", "attitude"),
            ("reasons", "visits"),
            ("comment", "跑了三次才办成"),
            ("rater_name", CANARY_NAME),
            ("rater_phone", CANARY_PHONE),
        ],
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("感谢您的评价"), "{page}");
    // one QR rating per device and day, and per phone and day
    let (status, _) = rate(&app, &token, device, &[("process", "5"), ("result", "5")]).await;
    assert_eq!(status, 409);
    // the device cookie is signed: the page sets a signed one, and a cookie naming the same
    // device without its signature, or with another's, is a new device — checked with a
    // bad form, which stores nothing either way
    assert_eq!(
        app.store
            .device_of_cookie(&app.store.device_cookie(device))
            .as_deref(),
        Some(device)
    );
    let other = app.store.device_cookie("fedcba9876543210fedcba9876543210");
    for forged in [
        device.to_owned(),
        format!("{device}.{}", other.split_once('.').unwrap().1),
        format!("{device}.{}", "0".repeat(64)),
    ] {
        assert_eq!(app.store.device_of_cookie(&forged), None, "{forged}");
        let response = app
            .client
            .post(app.url(&format!("/rate/{token}")))
            .header("cookie", format!("bz_device={forged}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("process=9&result=5")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 422);
        let set = response.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            set.starts_with("bz_device=") && !set.starts_with(&format!("bz_device={device}")),
            "{set}"
        );
        let issued = set["bz_device=".len()..].split(';').next().unwrap();
        assert!(app.store.device_of_cookie(issued).is_some(), "{set}");
    }
    let (status, page) = rate(
        &app,
        &token,
        "fedcba9876543210fedcba9876543210",
        &[
            ("process", "5"),
            ("result", "5"),
            ("rater_phone", CANARY_PHONE),
        ],
    )
    .await;
    assert_eq!(status, 409, "{page}");
    assert!(page.contains("今天已经评价过"), "{page}");

    let (status, list) = supervisor.get_json("/api/v1/bad-ratings?open=true").await;
    assert_eq!(status, 200);
    let item = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["comment"] == "跑了三次才办成")
        .cloned()
        .expect("the new bad rating is in the queue");
    let id = item["id"].as_str().unwrap().to_owned();
    assert_eq!(item["bad"]["state"], "verifying");
    assert_eq!(item["bad"]["anonymous"], false);
    let due = item["bad"]["due_at"].as_str().unwrap();
    assert_eq!(
        due.parse::<chrono::DateTime<chrono::Utc>>().unwrap(),
        at("2026-09-29 17:30")
    );

    // the responsible unit (SPJ staffs the window) sees the rating but never its rater
    for path in [
        format!("/api/v1/bad-ratings/{id}"),
        format!("/bad-ratings/{id}"),
        "/api/v1/bad-ratings".to_owned(),
        "/bad-ratings".to_owned(),
        "/ratings".to_owned(),
        "/inbox".to_owned(),
    ] {
        let (status, text) = spj.get_text(&path).await;
        assert_eq!(status, 200, "{path}");
        assert!(
            !text.contains(CANARY_NAME) && !text.contains(CANARY_PHONE),
            "{path} shows the rater"
        );
    }
    let (status, _) = spj
        .get_json(&format!("/api/v1/bad-ratings/{id}/rater"))
        .await;
    assert_eq!(status, 404);
    // a street does not see another unit's bad rating at all
    let street = app.demo_user("street").await;
    let (status, _) = street.get_json(&format!("/api/v1/bad-ratings/{id}")).await;
    assert_eq!(status, 404);
    // the supervisor reads the rater, audited
    let (status, rater) = supervisor
        .get_json(&format!("/api/v1/bad-ratings/{id}/rater"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(rater, json!({"name": CANARY_NAME, "phone": CANARY_PHONE}));
    let audited = app
        .sql_rows(&format!(
            "SELECT actor FROM audit_log WHERE action = 'read_rater' AND entity_id = '{id}'"
        ))
        .await;
    assert_eq!(audited.len(), 1);
    // in the database the rater is sealed
    let clear = app
        .sql_rows(&format!(
            "SELECT id FROM rating WHERE rater_phone_enc LIKE '%{CANARY_PHONE}%' OR rater_name_enc LIKE '%{CANARY_NAME}%'"
        ))
        .await;
    assert!(clear.is_empty());

    // the unit cannot decide validity; the supervisor does
    let (status, _) = step(&spj, &id, "valid", "").await;
    assert_eq!(status, 422);
    let (supervisor, spj) = desk(&app, "2026-09-28 10:00").await;
    let body = ok_step(&supervisor, &id, "valid", "已电话核实").await;
    assert_eq!(body["bad"]["state"], "rectifying");
    // rectification: 5 working days from Mon 09-28 — 09-29, 09-30, then the National Day
    // holiday, and the make-up Saturday 10-10 — due Sat 10-10 17:30... counted by the calendar
    let due = body["bad"]["due_at"].as_str().unwrap().to_owned();
    let calendar = app.store.calendar().await.unwrap();
    let hours = app.store.working_hours(&tenant_id).await.unwrap();
    let expected = calendar
        .due_after_working_days(&hours, at("2026-09-28 10:00"), 5)
        .unwrap()
        .value;
    assert_eq!(
        due.parse::<chrono::DateTime<chrono::Utc>>().unwrap(),
        expected
    );
    assert!(expected > at("2026-10-08 00:00"), "the holiday is skipped");
    // the supervisor cannot rectify for the unit; an empty rectification is refused
    let (status, _) = step(&supervisor, &id, "rectify", "x").await;
    assert_eq!(status, 422);
    let (status, _) = step(&spj, &id, "rectify", "  ").await;
    assert_eq!(status, 422);
    let body = ok_step(&spj, &id, "rectify", "已对窗口人员批评教育，推行一次告知").await;
    assert_eq!(body["bad"]["state"], "callback");
    let body = ok_step(&supervisor, &id, "unsatisfied", "仍不满意").await;
    assert_eq!(body["bad"]["state"], "rectifying");
    assert_eq!(body["bad"]["reworks"], 1);
    ok_step(&spj, &id, "rectify", "已上门致歉并办结").await;
    // after the one rework an unsatisfied callback closes it
    let body = ok_step(&supervisor, &id, "unsatisfied", "仍不满意，督查办结").await;
    assert_eq!(body["bad"]["state"], "closed");
    let (status, _) = step(&supervisor, &id, "satisfied", "").await;
    assert_eq!(status, 409);
    // every step is on the timeline and in the audit log
    let history = app
        .sql_rows(&format!(
            "SELECT event FROM record_history WHERE record_type = 'bad_rating' AND record_id = '{id}' ORDER BY seq"
        ))
        .await;
    let events: Vec<&str> = history.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        events,
        [
            "opened",
            "valid",
            "rectify",
            "unsatisfied",
            "rectify",
            "unsatisfied"
        ]
    );
    let open = app
        .sql_rows(&format!(
            "SELECT step FROM deadline WHERE record_type = 'bad_rating' AND record_id = '{id}' AND open"
        ))
        .await;
    assert!(open.is_empty(), "no deadline left open: {open:?}");
    // a valid bad rating stays in the figures
    let (status, figures) = supervisor.get_json(september).await;
    assert_eq!(status, 200);
    let int = |v: &Value| v.as_i64().unwrap();
    assert_eq!(
        int(&figures["total"]["n"]),
        int(&before["total"]["n"]) + 1,
        "{figures}"
    );
    assert_eq!(
        int(&figures["total"]["bad"]),
        int(&before["total"]["bad"]) + 1
    );
    let spj_line = |f: &Value| {
        f["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["name"] == "槐荫区行政审批服务局")
            .map(|i| int(&i["n"]))
            .unwrap_or(0)
    };
    assert_eq!(spj_line(&figures), spj_line(&before) + 1);
    // the same device rating three windows within 10 minutes: the third is a burst
    for code in ["ZWFW-02", "ZWFW-03", "ZWFW-14"] {
        let (_, other) = window_token(&app, code).await;
        let (status, _) = rate(&app, &other, device, &[("process", "5"), ("result", "5")]).await;
        assert_eq!(status, 200);
    }
    let flagged = app
        .sql_rows("SELECT flags FROM rating WHERE flags <> '' ORDER BY rated_at, id")
        .await;
    assert_eq!(flagged, [["burst"]]);
}

async fn cases_arrive_in_batches_and_are_rated_through_their_receipt(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let (supervisor, _) = desk(&app, "2026-11-06 12:00").await;
    let spj = supervisor.unit_id("SPJ").await;
    let window = supervisor.unit_id("ZWFW-03").await;
    let (status, item) = supervisor
        .post_json(
            "/api/v1/service-items",
            &json!({"code": "QYKB-001", "name": "企业设立登记", "unit_id": spj, "category": "行政许可",
                "levels": ["district", "street"], "promised_days": 1, "legal_days": 15, "max_visits": 1}),
            true,
        )
        .await;
    assert_eq!(status, 200, "{item}");
    let batch = json!({"cases": [
        {"number": "BJ-1", "item_code": "QYKB-001", "unit_id": spj, "window_id": window, "status": "completed",
         "visits": 1, "received_at": "2026-11-02T01:00:00Z", "completed_at": "2026-11-03T03:00:00Z"},
        {"number": "BJ-2", "item_code": "QYKB-001", "unit_id": spj, "status": "completed", "visits": 3,
         "received_at": "2026-11-02T01:00:00Z", "completed_at": "2026-11-06T03:00:00Z"},
        {"number": "BJ-3", "item_code": "NOPE", "unit_id": spj, "status": "received", "received_at": "2026-11-02T01:00:00Z"},
        {"number": "BJ-4", "item_code": "QYKB-001", "unit_id": spj, "status": "completed", "level": "community",
         "received_at": "2026-11-02T01:00:00Z", "completed_at": "2026-11-02T03:00:00Z"}
    ]});
    let cases_before = count(&app, "service_case").await;
    let (status, answer) = supervisor.post_json("/api/v1/cases", &batch, true).await;
    assert_eq!(status, 200, "{answer}");
    let outcomes: Vec<&str> = answer["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["created", "created", "refused", "refused"]);
    assert_eq!(answer["results"][2]["field"], "item_code");
    assert_eq!(answer["results"][3]["field"], "level");
    // the same batch again changes nothing
    let (_, again) = supervisor.post_json("/api/v1/cases", &batch, true).await;
    assert_eq!(again["results"][0]["outcome"], "unchanged");
    assert_eq!(count(&app, "service_case").await, cases_before + 2);
    // figures: BJ-1 in 1 working day with one visit; BJ-2 in 4 with three
    let (status, figures) = supervisor
        .get_json("/api/v1/cases/figures?by=item&from=2026-11-01&to=2026-11-30")
        .await;
    assert_eq!(status, 200);
    let line = figures["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["key"] == "QYKB-001")
        .cloned()
        .expect("the new item's line");
    assert_eq!(line["completed"], 2, "{figures}");
    assert_eq!(line["one_visit_rate"], 0.5);
    assert_eq!(line["on_time_rate"], 0.5);
    assert_eq!(line["average_days"], 2.5);

    // the receipt's token rates the case: once, within 5 working days of completion
    let (supervisor, _) = desk(&app, "2026-11-06 12:30").await;
    let case_id = answer["results"][0]["id"].as_str().unwrap();
    let token = app
        .sql_rows(&format!(
            "SELECT rating_token FROM service_case WHERE id = '{case_id}'"
        ))
        .await[0][0]
        .clone();
    let (status, page) = rate(
        &app,
        &token,
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        &[("process", "1"), ("result", "3"), ("reasons", "overtime")],
    )
    .await;
    assert_eq!(status, 200, "{page}");
    let (status, _) = supervisor
        .post_json(
            "/api/v1/ratings",
            &json!({"target": "case", "target_id": case_id, "process": 5, "result": 5}),
            true,
        )
        .await;
    assert_eq!(status, 409, "one rating per case");
    let bad = app
        .sql_rows(&format!("SELECT state FROM bad_rating b JOIN rating r ON r.id = b.rating_id WHERE r.case_id = '{case_id}'"))
        .await;
    assert_eq!(bad, [["verifying"]]);
    // the applicant changes it to a good rating: the workflow is withdrawn, totals follow
    let (status, page) = rate(
        &app,
        &token,
        "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
        &[("process", "4"), ("result", "5")],
    )
    .await;
    assert_eq!(status, 200, "{page}");
    let bad = app
        .sql_rows(&format!("SELECT state FROM bad_rating b JOIN rating r ON r.id = b.rating_id WHERE r.case_id = '{case_id}'"))
        .await;
    assert_eq!(bad, [["withdrawn"]]);
    let tenant = app.store.tenant_by_code("370104").await.unwrap().unwrap();
    assert_totals_recount(&app, &tenant.id).await;
    // after the rating window (completed Tue 11-03; 5 working days → Tue 11-10) no change
    app.clock.set(at("2026-11-11 09:00"));
    let (status, page) = rate(
        &app,
        &token,
        "cccccccccccccccccccccccccccccccc",
        &[("process", "1"), ("result", "1")],
    )
    .await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("已超过评价期限"));
}

async fn bad_rating_input_changes_nothing(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let (supervisor, _) = desk(&app, "2026-11-02 09:00").await;
    let (_, token) = window_token(&app, "ZWFW-02").await;
    let before = (
        count(&app, "rating").await,
        count(&app, "rating_total").await,
        count(&app, "audit_log").await,
    );
    let device = "dddddddddddddddddddddddddddddddd";
    for (fields, field) in [
        (vec![("process", "6"), ("result", "5")], "process"),
        (vec![("process", "0"), ("result", "5")], "process"),
        (vec![("process", "5")], "result"),
        (
            vec![("process", "5"), ("result", "5"), ("reasons", "attitude")],
            "reasons",
        ),
        (
            vec![("process", "2"), ("result", "5"), ("reasons", "nonsense")],
            "reasons",
        ),
        (
            vec![("process", "5"), ("result", "5"), ("rater_phone", "12345")],
            "rater_phone",
        ),
    ] {
        let (status, page) = rate(&app, &token, device, &fields).await;
        assert_eq!(status, 422, "{fields:?}: {page}");
        assert!(page.contains("field-error"), "{field}: {page}");
    }
    let long = "长".repeat(501);
    let (status, _) = rate(
        &app,
        &token,
        device,
        &[("process", "5"), ("result", "5"), ("comment", &long)],
    )
    .await;
    assert_eq!(status, 422);
    // an altered or unknown token names nothing
    let mut altered = token.clone();
    altered.replace_range(0..1, if token.starts_with('a') { "b" } else { "a" });
    for t in [altered.as_str(), "0000", &"g".repeat(32)] {
        let (status, _) = rate(&app, t, device, &[("process", "5"), ("result", "5")]).await;
        assert_eq!(status, 404, "{t}");
    }
    // the API: unknown and foreign targets, bad levels, a rating of an unfinished case
    for body in [
        json!({"target": "window", "target_id": "nope", "process": 5, "result": 5}),
        json!({"target": "planet", "target_id": "x", "process": 5, "result": 5}),
        json!({"target": "department", "target_id": supervisor.unit_id("SPJ").await, "process": 9, "result": 5}),
        json!({"target": "department", "target_id": supervisor.unit_id("SPJ").await, "process": 5}),
        json!({"target": "department", "target_id": supervisor.unit_id("SPJ").await, "process": 5, "result": 5, "extra": 1}),
    ] {
        let (status, answer) = supervisor.post_json("/api/v1/ratings", &body, true).await;
        assert!((400..500).contains(&status), "{body} → {status} {answer}");
    }
    let after = (
        count(&app, "rating").await,
        count(&app, "rating_total").await,
        count(&app, "audit_log").await,
    );
    assert_eq!(before, after);
}

/// A small deterministic generator (no dependency for a test's dice).
struct Dice(u64);

impl Dice {
    fn next(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

async fn running_totals_equal_a_recount_after_random_changes(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let (supervisor, _) = desk(&app, "2026-11-02 09:00").await;
    let tenant = app.store.tenant_by_code("370104").await.unwrap().unwrap();
    let ctx = store::audit::AuditCtx::cli();
    let units = [
        supervisor.unit_id("SPJ").await,
        supervisor.unit_id("370104001").await,
        supervisor.unit_id("ZWFW-04").await,
    ];
    let n_of =
        |totals: &[store::rating::RatingTotal]| totals.iter().map(|t| t.process.n).sum::<u64>();
    let n_before = n_of(
        &app.store
            .rating_totals(&tenant.id, None, "2000-01", "2999-12")
            .await
            .unwrap(),
    );
    let mut dice = Dice(0x9E37_79B9_7F4A_7C15);
    let mut bad = Vec::new();
    for i in 0..60 {
        app.clock
            .set(at("2026-10-30 09:00") + chrono::Duration::hours(i * 7));
        let unit = units[dice.next(3) as usize].clone();
        let target = if unit == units[2] {
            store::rating::RatingTarget::Window(unit)
        } else {
            store::rating::RatingTarget::Department(unit)
        };
        let process = dice.next(5) as i64 + 1;
        let result = dice.next(5) as i64 + 1;
        let reasons = if process <= 2 || result <= 2 {
            vec![domain::rating::Reason::Materials]
        } else {
            vec![]
        };
        let channel = domain::rating::Channel::ALL[dice.next(6) as usize];
        let r = app
            .store
            .create_rating(
                &ctx,
                &tenant.id,
                &store::rating::NewRating {
                    target,
                    channel,
                    process,
                    result,
                    reasons,
                    comment: String::new(),
                    rater_name: None,
                    rater_phone: None,
                    device: None,
                    public: false,
                },
            )
            .await
            .unwrap();
        if r.bad.is_some() {
            bad.push(r.id);
        }
    }
    // invalidate some bad ratings (they leave the totals), uphold an objection on another
    let supervisor_actor = domain::rating::BadActor {
        supervisor: true,
        ..Default::default()
    };
    for id in bad.iter().step_by(2) {
        app.store
            .act_on_bad_rating(
                &ctx,
                &tenant.id,
                id,
                &store::rating::BadStepInput {
                    action: domain::rating::BadAction::Invalid,
                    note: "恶意差评".into(),
                    actor: supervisor_actor,
                },
            )
            .await
            .unwrap();
    }
    let totals = app
        .store
        .rating_totals(&tenant.id, None, "2000-01", "2999-12")
        .await
        .unwrap();
    assert_totals_recount(&app, &tenant.id).await;
    assert!(
        totals.iter().any(|t| t.month == "2026-10") && totals.iter().any(|t| t.month == "2026-11")
    );
    assert_eq!(
        (n_of(&totals) - n_before) as usize,
        60 - bad.iter().step_by(2).count()
    );
}

/// The two-proportion z statistic of a fall from `a` to `b` (satisfied, n).
fn z_of_fall(a: (u64, u64), b: (u64, u64)) -> f64 {
    let (pa, pb) = (a.0 as f64 / a.1 as f64, b.0 as f64 / b.1 as f64);
    let pooled = (a.0 + b.0) as f64 / (a.1 + b.1) as f64;
    let se = (pooled * (1.0 - pooled) * (1.0 / a.1 as f64 + 1.0 / b.1 as f64)).sqrt();
    (pa - pb) / se
}

async fn the_demo_plants_a_double_fall_in_the_last_full_month(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let summary = app.store.seed_demo().await.unwrap();
    assert_eq!(
        summary.rating_fall_month, "2026-10",
        "the demo's today is 2026-11-30"
    );
    let tenant = app.store.tenant_by_code("370104").await.unwrap().unwrap();
    let units = app.store.units(&tenant.id).await.unwrap();
    let totals = app
        .store
        .rating_totals(&tenant.id, None, "2026-09", "2026-10")
        .await
        .unwrap();
    // (process satisfied, result satisfied, n) of a unit in a month
    let of = |unit: &str, month: &str| {
        totals
            .iter()
            .filter(|t| t.unit_id == unit && t.month == month)
            .fold((0, 0, 0), |(p, r, n), t| {
                (
                    p + t.process.satisfied,
                    r + t.result.satisfied,
                    n + t.process.n,
                )
            })
    };
    for code in &summary.rating_falls {
        let unit = &units.iter().find(|u| &u.code == code).unwrap().id;
        let (before, after) = (of(unit, "2026-09"), of(unit, "2026-10"));
        assert!(
            before.2 >= 20 && after.2 >= 20,
            "{code}: too few ratings {before:?} {after:?}"
        );
        let zp = z_of_fall((before.0, before.2), (after.0, after.2));
        let zr = z_of_fall((before.1, before.2), (after.1, after.2));
        assert!(
            zp > 3.0 && zr > 3.0,
            "{code}: process z {zp:.2}, result z {zr:.2}"
        );
    }
    // the rest of the district holds steady
    let others: Vec<&String> = units
        .iter()
        .filter(|u| !summary.rating_falls.contains(&u.code))
        .map(|u| &u.id)
        .collect();
    let sum = |month: &str| {
        others.iter().fold((0, 0, 0), |acc, u| {
            let x = of(u, month);
            (acc.0 + x.0, acc.1 + x.1, acc.2 + x.2)
        })
    };
    let (before, after) = (sum("2026-09"), sum("2026-10"));
    assert!(z_of_fall((before.0, before.2), (after.0, after.2)).abs() < 3.0);
}

/// A real-name bad rating of a department sent by the supervisor's system; answers its id.
async fn bad(supervisor: &TestUser, unit_id: &str, comment: &str) -> String {
    let (status, r) = supervisor
        .post_json(
            "/api/v1/ratings",
            &json!({"target": "department", "target_id": unit_id, "channel": "sms", "process": 1,
                "result": 2, "reasons": ["unresolved"], "comment": comment, "rater_phone": "13811112222"}),
            true,
        )
        .await;
    assert_eq!(status, 200, "{r}");
    r["id"].as_str().unwrap().to_owned()
}

async fn an_objection_pauses_rectification_and_an_upheld_one_leaves_the_figures(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let (supervisor, _) = desk(&app, "2026-11-02 09:00").await;
    let spj_id = supervisor.unit_id("SPJ").await;
    let paused = |id: String| {
        let app = &app;
        async move {
            app.sql_rows(&format!(
                "SELECT CASE WHEN paused THEN 'yes' ELSE 'no' END FROM deadline \
                 WHERE record_type = 'bad_rating' AND record_id = '{id}' AND step = 'rectify'"
            ))
            .await[0][0]
                .clone()
        }
    };
    let first = bad(&supervisor, &spj_id, "第一条").await;
    let second = bad(&supervisor, &spj_id, "第二条").await;
    for id in [&first, &second] {
        ok_step(&supervisor, id, "valid", "").await;
    }
    // the unit objects within 2 working days; the rectification's clock stops meanwhile
    let (supervisor, spj) = desk(&app, "2026-11-03 10:00").await;
    let (status, _) = step(&spj, &first, "object", "").await;
    assert_eq!(status, 422, "an objection needs its reasons");
    let body = ok_step(&spj, &first, "object", "评价人反映的问题属于其他部门职责").await;
    assert_eq!(body["bad"]["state"], "objected");
    assert_eq!(paused(first.clone()).await, "yes");
    let (status, _) = step(&supervisor, &first, "object", "x").await;
    assert_eq!(status, 422, "only the unit objects");
    let (supervisor, spj) = desk(&app, "2026-11-03 14:00").await;
    let body = ok_step(&supervisor, &first, "overrule", "属本单位职责").await;
    assert_eq!(body["bad"]["state"], "rectifying");
    assert_eq!(paused(first.clone()).await, "no");
    let (status, _) = step(&spj, &first, "object", "再次申诉").await;
    assert_eq!(status, 409, "one objection only");
    // an upheld objection makes the rating invalid: it leaves the figures
    let month = "/api/v1/ratings/figures?from=2026-11-01&to=2026-11-30";
    let (_, before) = supervisor.get_json(month).await;
    ok_step(&spj, &second, "object", "该评价与本单位服务无关").await;
    let body = ok_step(&supervisor, &second, "uphold", "申诉成立").await;
    assert_eq!(body["bad"]["state"], "invalid");
    assert_eq!(body["counted"], false);
    let (_, after) = supervisor.get_json(month).await;
    assert_eq!(
        after["total"]["n"].as_i64().unwrap(),
        before["total"]["n"].as_i64().unwrap() - 1
    );
    // after the objection window (2 working days from the valid decision) no objection
    let third = bad(&supervisor, &spj_id, "第三条").await;
    ok_step(&supervisor, &third, "valid", "").await;
    let offered = |page: &str| page.contains("value=\"object\"");
    let (_, page) = spj.get_text(&format!("/bad-ratings/{third}")).await;
    assert!(offered(&page), "the unit may object now");
    let (_, spj) = desk(&app, "2026-11-06 09:00").await;
    let (_, page) = spj.get_text(&format!("/bad-ratings/{third}")).await;
    assert!(!offered(&page), "no objection offered after its window");
    let (status, body) = step(&spj, &third, "object", "晚了").await;
    assert_eq!(status, 409, "{body}");
    let open = app
        .sql_rows(&format!(
            "SELECT step FROM deadline WHERE record_type = 'bad_rating' AND record_id = '{second}' AND open"
        ))
        .await;
    assert!(open.is_empty(), "{open:?}");
}

async fn the_window_records_a_case_and_the_limits_are_the_supervisors(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let (supervisor, spj) = desk(&app, "2026-11-02 09:00").await;
    // the window (综合受理1号窗口, staffed by 行政审批服务局) records a case on its page
    let window = app.demo_user("window").await;
    let (status, form) = window.get_text("/cases/new").await;
    assert_eq!(status, 200);
    assert!(
        form.contains("企业设立登记"),
        "the demo's items are offered"
    );
    let response = window
        .post_form(
            "/cases/new",
            &[
                ("csrf_token", &window.csrf_token),
                ("item_code", "SB-001"),
                ("status", "completed"),
                ("visits", "1"),
            ],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    let receipt = response.headers()["location"].to_str().unwrap().to_owned();
    let (status, page) = window.get_text(&receipt).await;
    assert_eq!(status, 200);
    assert!(page.contains("/rate/") && page.contains("<svg"), "{page}");
    let case_id = receipt
        .trim_start_matches("/cases/")
        .trim_end_matches("/receipt");
    let row = app
        .sql_rows(&format!(
            "SELECT c.level, u.code, w.code, c.status FROM service_case c JOIN unit u ON u.id = c.unit_id \
             JOIN unit w ON w.id = c.window_id WHERE c.id = '{case_id}'"
        ))
        .await;
    assert_eq!(row, [["district", "SPJ", "ZWFW-01", "completed"]]);
    // the window's rating device rates its own window and cases only, as a device
    let own = window.unit_id("ZWFW-01").await;
    let other = window.unit_id("ZWFW-02").await;
    for (target, channel, expected) in [
        (&other, "device", 422),
        (&own, "qr", 422),
        (&own, "device", 200),
    ] {
        let (status, body) = window
            .post_json(
                "/api/v1/ratings",
                &json!({"target": "window", "target_id": target, "channel": channel, "process": 5, "result": 5}),
                true,
            )
            .await;
        assert_eq!(status, expected, "{channel}: {body}");
    }
    let (status, answer) = window
        .post_json(
            "/api/v1/cases",
            &json!({"cases": [{"number": "W-9", "item_code": "SB-001", "unit_id": supervisor.unit_id("SPJ").await,
                "window_id": other, "status": "received", "received_at": "2026-11-02T01:00:00Z"}]}),
            true,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(answer["results"][0]["field"], "window_id", "{answer}");
    // bad input: no item, visits not a number — a message and nothing stored
    let before = count(&app, "service_case").await;
    for fields in [
        vec![("item_code", ""), ("status", "completed"), ("visits", "1")],
        vec![
            ("item_code", "SB-001"),
            ("status", "completed"),
            ("visits", "很多"),
        ],
        vec![("item_code", "SB-001"), ("status", "done"), ("visits", "1")],
    ] {
        let mut fields = fields;
        fields.push(("csrf_token", &window.csrf_token));
        let response = window.post_form("/cases/new", &fields).await;
        assert_eq!(response.status().as_u16(), 422, "{fields:?}");
        assert!(response.text().await.unwrap().contains("field-error"));
    }
    assert_eq!(count(&app, "service_case").await, before);

    // the limits: the supervisor's; a new valid decision's rectification follows them
    let (status, _) = spj.get_json("/api/v1/rating-limits").await;
    assert_eq!(status, 404);
    let (status, _) = supervisor
        .send_json("PUT", "/api/v1/rating-limits", json!({"rectify_days": 0}))
        .await;
    assert_eq!(status, 422);
    let (status, _) = supervisor
        .send_json(
            "PUT",
            "/api/v1/rating-limits",
            json!({"rectify_days": 15, "nonsense": 1}),
        )
        .await;
    assert!((400..500).contains(&status));
    let (status, limits) = supervisor
        .send_json("PUT", "/api/v1/rating-limits", json!({"rectify_days": 15}))
        .await;
    assert_eq!(status, 200, "{limits}");
    assert_eq!(limits["verify_days"], 1, "the others keep their defaults");
    let id = bad(&supervisor, &supervisor.unit_id("SPJ").await, "十五天").await;
    let body = ok_step(&supervisor, &id, "valid", "").await;
    let tenant = app.store.tenant_by_code("370104").await.unwrap().unwrap();
    let calendar = app.store.calendar().await.unwrap();
    let hours = app.store.working_hours(&tenant.id).await.unwrap();
    let expected = calendar
        .due_after_working_days(&hours, at("2026-11-02 09:00"), 15)
        .unwrap()
        .value;
    assert_eq!(
        body["bad"]["due_at"]
            .as_str()
            .unwrap()
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap(),
        expected
    );
}

/// The running totals — per item and the units' roll-ups — equal a recount of the ratings.
async fn assert_totals_recount(app: &TestApp, tenant_id: &str) {
    for rollup in [false, true] {
        let kept = if rollup {
            app.store
                .rating_totals(tenant_id, None, "2000-01", "2999-12")
                .await
        } else {
            app.store
                .rating_item_totals(tenant_id, None, "2000-01", "2999-12")
                .await
        };
        assert_eq!(
            kept.unwrap(),
            app.store
                .recount_rating_totals(tenant_id, rollup)
                .await
                .unwrap(),
            "roll-up: {rollup}"
        );
    }
}

async fn a_case_file_lands_its_good_rows_and_names_every_bad_one(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let (supervisor, spj) = desk(&app, "2026-11-06 12:00").await;
    let csv = "办件编号,事项编码,办理单位编码,办件状态,受理时间,办结时间,窗口编码,跑动次数\n\
               IMP-1,SB-001,RSJ,办结,2026-11-02 09:30,2026-11-03 10:00,ZWFW-08,1\n\
               IMP-2,SB-001,RSJ,完成,2026-11-02 09:30,,,1\n\
               IMP-3,NOPE,RSJ,受理,2026-11-02 09:30,,,1\n\
               IMP-4,SB-001,RSJ,受理,2026-11-31 09:30,,,1\n\
               IMP-5,SB-001,XX,受理,2026-11-02 09:30,,,1\n\
               IMP-6,SB-001,RSJ,受理,2026-11-02 09:30,,,两次\n";
    let post = |user: &TestUser, body: &'static str| {
        let user = user.clone();
        async move {
            user.post_body("/api/v1/cases/import", "text/csv", body.as_bytes().to_vec())
                .await
        }
    };
    let (status, _) = post(&spj, csv).await;
    assert_eq!(status, 404, "the unit does not import cases");
    let before = count(&app, "service_case").await;
    let (status, report) = post(&supervisor, csv).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["created"], 1, "{report}");
    let errors: Vec<(i64, String)> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["row"].as_i64().unwrap(),
                e["column"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        errors,
        [
            (3, "办件状态".to_owned()),
            (4, "事项编码".to_owned()),
            (5, "受理时间".to_owned()),
            (6, "办理单位编码".to_owned()),
            (7, "跑动次数".to_owned()),
        ]
    );
    assert_eq!(count(&app, "service_case").await, before + 1);
    // the refused rows as an XLSX to fix and send again, for the importer alone
    let url = report["report_url"]
        .as_str()
        .expect("a report_url")
        .to_owned();
    assert!(url.starts_with("/cases/import/reports/"), "{url}");
    let response = supervisor.get(&url).await;
    assert_eq!(response.status().as_u16(), 200);
    let xlsx = response.bytes().await.unwrap();
    assert!(xlsx.starts_with(b"PK"), "an XLSX (a zip)");
    assert_eq!(spj.get(&url).await.status().as_u16(), 404);
    // a system's token imports the same way, and its report is its own
    let tenant = app.store.tenant_by_code("370104").await.unwrap().unwrap();
    let (_, key) = app
        .store
        .create_token(
            &store::audit::AuditCtx::cli(),
            &tenant.id,
            "省平台办件",
            &[domain::account::Role::Supervisor],
            None,
        )
        .await
        .unwrap();
    let response = app
        .client
        .post(app.url("/api/v1/cases/import"))
        .bearer_auth(&key)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let by_token: Value = response.json().await.unwrap();
    assert_eq!(
        by_token["errors"].as_array().unwrap().len(),
        5,
        "{by_token}"
    );
    let token_url = by_token["report_url"].as_str().expect("a report_url");
    let response = app
        .client
        .get(app.url(token_url))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(response.bytes().await.unwrap().starts_with(b"PK"));
    assert_eq!(supervisor.get(token_url).await.status().as_u16(), 404);
    // the same file again: unchanged
    let (_, again) = post(&supervisor, csv).await;
    assert_eq!(again["unchanged"], 1, "{again}");
    assert_eq!(again["created"], 0);
    // a file without refused rows has no report
    let (_, clean) = post(
        &supervisor,
        "办件编号,事项编码,办理单位编码,办件状态,受理时间,办结时间,窗口编码,跑动次数\n\
         IMP-1,SB-001,RSJ,办结,2026-11-02 09:30,2026-11-03 10:00,ZWFW-08,1\n",
    )
    .await;
    assert_eq!(clean["unchanged"], 1, "{clean}");
    assert!(clean.get("report_url").is_none(), "{clean}");
    // a file without a required column changes nothing
    let (status, _) = post(&supervisor, "办件编号,事项编码\nIMP-9,SB-001\n").await;
    assert_eq!(status, 422);
    assert_eq!(count(&app, "service_case").await, before + 1);
}

/// The served binary takes ratings from 24 clients at once (so they land many to a
/// transaction) and is killed with SIGKILL mid-load: every rating it acknowledged is in the
/// database afterwards, the running totals still equal a recount and the audit chain verifies.
async fn kill_9_during_a_rating_load_loses_no_acknowledged_rating(backend: Backend) {
    use std::io::BufRead;
    use std::sync::{Arc, Mutex};

    let app = TestApp::spawn_demo(backend).await;
    let tenant = app.store.tenant_by_code("370104").await.unwrap().unwrap();
    let units = app.store.units(&tenant.id).await.unwrap();
    let targets: Vec<String> = ["SPJ", "SCJ", "370104001", "370104003"]
        .iter()
        .map(|code| units.iter().find(|u| u.code == *code).unwrap().id.clone())
        .collect();
    let key = app
        .store
        .create_token(
            &store::audit::AuditCtx::cli(),
            &tenant.id,
            "rating-load",
            &[domain::account::Role::Supervisor],
            None,
        )
        .await
        .unwrap()
        .1;
    let before = count(&app, "rating").await;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_bizenv"))
        .arg("--data-dir")
        .arg(app.data_dir())
        .arg("--database-url")
        .arg(app.database_url().expose())
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env_remove("BIZENV_CONFIG")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map(crate::cli::Served)
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let url = line
        .trim()
        .split_once("http://")
        .map(|(_, rest)| format!("http://{rest}api/v1/ratings"))
        .unwrap_or_else(|| panic!("no address in {line:?}"));

    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let client = reqwest::Client::new();
    let mut clients = Vec::new();
    for c in 0..24usize {
        let (client, url, key, targets, acknowledged) = (
            client.clone(),
            url.clone(),
            key.clone(),
            targets.clone(),
            acknowledged.clone(),
        );
        clients.push(tokio::spawn(async move {
            for i in 0usize.. {
                let bad = (c + i) % 10 == 0;
                let body = json!({"target": "department", "target_id": targets[(c + i) % targets.len()],
                    "channel": "device", "process": if bad { 2 } else { 5 }, "result": if bad { 1 } else { 4 },
                    "reasons": if bad { vec!["attitude"] } else { vec![] }});
                let Ok(response) = client.post(&url).bearer_auth(&key).json(&body).send().await else {
                    return;
                };
                if response.status() != 200 {
                    return;
                }
                let Ok(rating) = response.json::<Value>().await else {
                    return;
                };
                acknowledged
                    .lock()
                    .unwrap()
                    .push(rating["id"].as_str().unwrap().to_owned());
            }
        }));
    }
    // kill once the load is well under way, at no particular moment of a batch
    for _ in 0..600 {
        if acknowledged.lock().unwrap().len() >= 400 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(37)).await;
    child.kill().unwrap();
    child.wait().unwrap();
    for c in clients {
        c.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() >= 400,
        "the load was under way: {}",
        acknowledged.len()
    );
    for id in &acknowledged {
        assert!(
            app.store.rating(&tenant.id, id).await.unwrap().is_some(),
            "acknowledged rating {id} lost"
        );
    }
    let stored = count(&app, "rating").await - before;
    assert!(stored >= acknowledged.len() as i64);
    let totals = app
        .store
        .rating_item_totals(&tenant.id, None, "0000-01", "9999-12")
        .await
        .unwrap();
    assert_eq!(
        app.store
            .recount_rating_totals(&tenant.id, false)
            .await
            .unwrap(),
        totals
    );
    // the batches' audit entries chain as one-by-one entries would
    let report = app.store.verify_audit().await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    let audited = app
        .sql_rows("SELECT CAST(COUNT(*) AS TEXT) FROM audit_log WHERE entity = 'rating' AND action = 'create'")
        .await[0][0]
        .parse::<i64>()
        .unwrap();
    assert!(
        audited >= stored,
        "each stored rating audited: {audited} < {stored}"
    );
}

/// One group-commit batch: a system's good and bad ratings land together (the bad one with its
/// workflow), two QR ratings from one device of one window in the same batch — the second is
/// refused by the per-device rule decided inside the write lock — and each answer stands in
/// its rating's place; the totals and the audit chain agree with what landed.
async fn one_batch_answers_each_rating_on_its_own(backend: Backend) {
    use store::rating::{NewRating, RatingTarget};
    let app = TestApp::spawn_demo(backend).await;
    let (supervisor, _) = desk(&app, "2026-11-02 09:00").await;
    let tenant = app.store.tenant_by_code("370104").await.unwrap().unwrap();
    let ctx = store::audit::AuditCtx::cli();
    let department = supervisor.unit_id("SPJ").await;
    let window = supervisor.unit_id("ZWFW-04").await;
    let rating = |target: RatingTarget, process: i64, public: bool| NewRating {
        target,
        channel: if public {
            domain::rating::Channel::Qr
        } else {
            domain::rating::Channel::Device
        },
        process,
        result: process,
        reasons: if process <= 2 {
            vec![domain::rating::Reason::Attitude]
        } else {
            vec![]
        },
        comment: String::new(),
        rater_name: None,
        rater_phone: None,
        device: public.then(|| "batch-device".to_owned()),
        public,
    };
    let (ratings_before, bad_before) =
        (count(&app, "rating").await, count(&app, "bad_rating").await);
    let mut batch = Vec::new();
    for new in [
        rating(RatingTarget::Department(department.clone()), 5, false),
        rating(RatingTarget::Window(window.clone()), 4, true),
        rating(RatingTarget::Department(department.clone()), 1, false),
        rating(RatingTarget::Window(window.clone()), 5, true),
        rating(RatingTarget::Department(department.clone()), 2, false),
    ] {
        batch.push(
            app.store
                .prepare_rating(&ctx, &tenant.id, &new)
                .await
                .unwrap(),
        );
    }
    let outcomes = app.store.write_ratings(&batch).await.unwrap();
    assert_eq!(outcomes.len(), 5);
    assert!(outcomes[0].is_ok() && outcomes[1].is_ok() && outcomes[2].is_ok());
    assert!(outcomes[4].is_ok());
    assert!(
        matches!(&outcomes[3], Err(store::StoreError::Conflict(m)) if m.contains("今天已经评价过")),
        "{:?}",
        outcomes[3]
    );
    assert!(
        app.store
            .rating(&tenant.id, batch[3].id())
            .await
            .unwrap()
            .is_none()
    );
    let bad = app
        .store
        .rating(&tenant.id, batch[2].id())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(bad.bad.unwrap().state.as_str(), "verifying");
    assert_eq!(count(&app, "rating").await, ratings_before + 4);
    assert_eq!(count(&app, "bad_rating").await, bad_before + 2);
    // each bad rating of the batch opens its own workflow: the verification deadline, the
    // timeline's first entry and a message to every enabled supervisor
    let supervisors = app
        .sql_rows(&format!(
            "SELECT id FROM account WHERE tenant_id = '{}' AND roles LIKE '%supervisor%' AND disabled = FALSE ORDER BY id",
            tenant.id
        ))
        .await;
    assert!(!supervisors.is_empty());
    for (r, title) in [
        (&batch[2], "新差评待核实：过程非常不满意、结果非常不满意"),
        (&batch[4], "新差评待核实：过程不满意、结果不满意"),
    ] {
        let id = r.id();
        let deadline = app
            .sql_rows(&format!(
                "SELECT step, CAST(open AS TEXT) FROM deadline WHERE record_type = 'bad_rating' AND record_id = '{id}'"
            ))
            .await;
        assert_eq!(deadline.len(), 1, "{deadline:?}");
        assert!(deadline[0][0].starts_with("verify"), "{deadline:?}");
        let history = app
            .sql_rows(&format!(
                "SELECT CAST(seq AS TEXT), event FROM record_history WHERE record_type = 'bad_rating' AND record_id = '{id}'"
            ))
            .await;
        assert_eq!(history, [["1".to_owned(), "opened".to_owned()]]);
        let inbox = app
            .sql_rows(&format!(
                "SELECT account_id, title, url FROM notification WHERE record_type = 'bad_rating' AND record_id = '{id}' \
                 AND channel = 'inbox' AND state = 'sent' ORDER BY account_id"
            ))
            .await;
        let expected: Vec<Vec<String>> = supervisors
            .iter()
            .map(|s| vec![s[0].clone(), title.to_owned(), format!("/bad-ratings/{id}")])
            .collect();
        assert_eq!(inbox, expected);
    }
    let totals = app
        .store
        .rating_item_totals(&tenant.id, None, "0000-01", "9999-12")
        .await
        .unwrap();
    assert_eq!(
        app.store
            .recount_rating_totals(&tenant.id, false)
            .await
            .unwrap(),
        totals
    );
    let report = app.store.verify_audit().await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}

/// The "due and overdue" list (临期与超期): a bad rating joins it when its running step's
/// yellow card is up and stays when it is overdue; the overdue list takes it only then.
async fn the_due_and_overdue_list_follows_the_cards(backend: Backend) {
    use store::rating::{NewRating, RatingTarget};
    let app = TestApp::spawn_demo(backend).await;
    let (supervisor, _) = desk(&app, "2026-11-02 09:00").await;
    let tenant = app.store.tenant_by_code("370104").await.unwrap().unwrap();
    let ctx = store::audit::AuditCtx::cli();
    let department = supervisor.unit_id("SPJ").await;
    let rating = app
        .store
        .create_rating(
            &ctx,
            &tenant.id,
            &NewRating {
                target: RatingTarget::Department(department),
                channel: domain::rating::Channel::Device,
                process: 1,
                result: 2,
                reasons: vec![domain::rating::Reason::Attitude],
                comment: "临期测试".into(),
                rater_name: None,
                rater_phone: None,
                device: None,
                public: false,
            },
        )
        .await
        .unwrap();
    let due = rating.bad.unwrap().deadline().unwrap().due_at;
    let listed = |body: &Value| {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["id"] == rating.id.as_str())
    };
    let lists = |supervisor: TestUser| async move {
        let (status, due) = supervisor.get_json("/api/v1/bad-ratings?due=true").await;
        assert_eq!(status, 200, "{due}");
        let (status, overdue) = supervisor
            .get_json("/api/v1/bad-ratings?overdue=true")
            .await;
        assert_eq!(status, 200, "{overdue}");
        let (status, page) = supervisor.get_text("/bad-ratings?due=true").await;
        assert_eq!(status, 200);
        (due, overdue, page)
    };
    let (due_list, overdue_list, page) = lists(supervisor).await;
    assert!(!listed(&due_list) && !listed(&overdue_list));
    assert!(page.contains("临期与超期"), "{page}");

    // a minute before the due time the sweep has raised the yellow card
    app.clock.set(due - chrono::Duration::minutes(1));
    app.store.sweep_cards(&ctx).await.unwrap();
    let supervisor = app.demo_user("supervisor").await;
    let (due_list, overdue_list, page) = lists(supervisor).await;
    assert!(listed(&due_list), "{due_list}");
    assert!(!listed(&overdue_list), "{overdue_list}");
    assert!(page.contains(&rating.id), "{page}");

    // overdue: on both lists
    app.clock.set(due + chrono::Duration::minutes(1));
    app.store.sweep_cards(&ctx).await.unwrap();
    let supervisor = app.demo_user("supervisor").await;
    let (due_list, overdue_list, _) = lists(supervisor).await;
    assert!(listed(&due_list) && listed(&overdue_list));
}

/// A window clerk's 好差评 page: the supervisor and the department staffing the window read the
/// clerk's ratings (month by month, the newest with scores, reasons and comment) but never who
/// gave them; a street that neither employs the clerk nor staffs the window gets a 404.
async fn a_staff_members_page_shows_their_ratings_never_their_raters(backend: Backend) {
    use store::rating::{NewRating, RatingTarget};
    let app = TestApp::spawn_demo(backend).await;
    let (supervisor, spj) = desk(&app, "2026-11-02 09:00").await;
    let tenant = app.store.tenant_by_code("370104").await.unwrap().unwrap();
    let clerk = app
        .sql_rows(
            "SELECT s.id FROM staff s JOIN unit u ON u.id = s.unit_id WHERE u.code = 'ZWFW-01' AND s.name = '孙丽'",
        )
        .await[0][0]
        .clone();
    for (process, result, comment) in [(5, 5, ""), (4, 3, ""), (1, 2, "窗口态度冷淡")] {
        app.store
            .create_rating(
                &store::audit::AuditCtx::cli(),
                &tenant.id,
                &NewRating {
                    target: RatingTarget::Staff(clerk.clone()),
                    channel: domain::rating::Channel::Device,
                    process,
                    result,
                    reasons: if process <= 2 {
                        vec![domain::rating::Reason::Attitude]
                    } else {
                        vec![]
                    },
                    comment: comment.into(),
                    rater_name: Some(CANARY_NAME.into()),
                    rater_phone: Some(CANARY_PHONE.into()),
                    device: None,
                    public: false,
                },
            )
            .await
            .unwrap();
    }
    let n = app
        .sql_rows(&format!(
            "SELECT CAST(COUNT(*) AS TEXT) FROM rating WHERE staff_id = '{clerk}' AND counted AND month >= '2025-12'"
        ))
        .await[0][0]
        .clone();
    assert!(n.parse::<i64>().unwrap() >= 3);
    let path = format!("/ratings/staff/{clerk}");
    for user in [&supervisor, &spj] {
        let (status, page) = user.get_text(&path).await;
        assert_eq!(status, 200, "{page}");
        assert!(page.contains("孙丽"), "{page}");
        assert!(
            page.contains(&format!("<dd id=\"staff-n\">{n}</dd>")),
            "{page}"
        );
        assert!(
            page.contains("窗口态度冷淡") && page.contains("态度"),
            "{page}"
        );
        assert!(page.contains("2026-11"), "{page}");
        assert!(
            !page.contains(CANARY_NAME) && !page.contains(CANARY_PHONE),
            "the page shows the rater"
        );
    }
    let (status, record) = supervisor.get_text(&format!("/staff/{clerk}")).await;
    assert_eq!(status, 200);
    assert!(record.contains(&path), "{record}");
    let street = app.demo_user("street").await;
    assert_eq!(street.get(&path).await.status(), 404);
    assert_eq!(supervisor.get("/ratings/staff/nope").await.status(), 404);
}

/// The case upload page: the supervisor downloads the template, fills it (its example row is
/// a valid case of the demo) and uploads it — one case created; a CSV with a bad row shows the
/// row, column and reason and lands its good row; an empty form is a clear 422; the unit
/// gets a 404 as from the import API.
async fn the_supervisor_uploads_a_case_file_on_a_page(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let (supervisor, spj) = desk(&app, "2026-11-06 12:00").await;
    let (_, dashboard) = supervisor.get_text("/ratings").await;
    assert!(dashboard.contains("href=\"/cases/import\""), "{dashboard}");
    let (status, page) = supervisor.get_text("/cases/import").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("导入办件") && page.contains("办件编号"),
        "{page}"
    );
    let response = supervisor.get("/cases/import/template.xlsx").await;
    assert_eq!(response.status(), 200);
    let template = response.bytes().await.unwrap().to_vec();
    assert!(template.starts_with(b"PK"), "an XLSX file");

    let before = count(&app, "service_case").await;
    let (status, page) = supervisor
        .post_multipart("/cases/import", &[], "办件模板.xlsx", &template)
        .await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("<strong id=\"import-created\">1</strong>"),
        "{page}"
    );
    assert_eq!(count(&app, "service_case").await, before + 1);

    let csv = "办件编号,事项编码,办理单位编码,办件状态,受理时间\n\
               PAGE-1,SB-001,RSJ,受理,2026-11-05 09:30\n\
               PAGE-2,SB-001,RSJ,受理,2026-13-05 09:30\n";
    let (status, page) = supervisor
        .post_multipart("/cases/import", &[], "cases.csv", csv.as_bytes())
        .await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("<strong id=\"import-created\">1</strong>"),
        "{page}"
    );
    assert!(
        page.contains("<td>3</td><td>受理时间</td>") && page.contains("YYYY-MM-DD HH:MM"),
        "{page}"
    );
    assert_eq!(count(&app, "service_case").await, before + 2);
    // the row errors also as a spreadsheet, to the importer alone
    let start = page
        .find("href=\"/cases/import/reports/")
        .unwrap_or_else(|| panic!("a report link: {page}"))
        + "href=\"".len();
    let url = &page[start..start + page[start..].find('"').unwrap()];
    let response = supervisor.get(url).await;
    assert_eq!(response.status(), 200, "{url}");
    let rows = crate::xlsx_rows(&response.bytes().await.unwrap());
    assert_eq!(rows[0], ["行号", "列", "原因"]);
    assert_eq!(rows[1][..2], ["3", "受理时间"], "{rows:?}");
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(spj.get(url).await.status(), 404, "not the unit's");

    let (status, page) = supervisor
        .post_multipart("/cases/import", &[], "empty.csv", b"")
        .await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("请选择要导入的 CSV 或 XLSX 文件"), "{page}");
    assert_eq!(count(&app, "service_case").await, before + 2);

    assert_eq!(spj.get("/cases/import").await.status(), 404);
    let (status, _) = spj
        .post_multipart("/cases/import", &[], "cases.csv", csv.as_bytes())
        .await;
    assert_eq!(status, 404);
}

/// Working days of a stored case, by number.
async fn working_days(app: &TestApp, number: &str) -> String {
    app.sql_rows(&format!(
        "SELECT CAST(working_days AS TEXT) FROM service_case WHERE number = '{number}'"
    ))
    .await[0][0]
        .clone()
}

async fn a_case_waiting_for_materials_counts_its_working_days_without_the_wait(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let (supervisor, _) = desk(&app, "2026-11-06 12:00").await;
    let spj = supervisor.unit_id("SPJ").await;
    let (status, item) = supervisor
        .post_json(
            "/api/v1/service-items",
            &json!({"code": "BZ-001", "name": "食品经营许可", "unit_id": spj, "category": "行政许可",
                "levels": ["district"], "promised_days": 10, "legal_days": 20, "max_visits": 1}),
            true,
        )
        .await;
    assert_eq!(status, 200, "{item}");
    // received Mon 9-21, completed Fri 10-16: 14 working days over 中秋, 国庆 and the
    // make-up Saturday 10-10; P-1 waited for materials from Wed 9-23 to Fri 10-09 (6 of them)
    let case = |number: &str, pauses: Value| {
        json!({"number": number, "item_code": "BZ-001", "unit_id": spj, "status": "completed", "visits": 1,
            "received_at": "2026-09-21T01:00:00Z", "completed_at": "2026-10-16T08:00:00Z", "pauses": pauses})
    };
    let waited = json!([{"from": "2026-09-23T02:00:00Z", "to": "2026-10-09T07:00:00Z"}]);
    let batch = json!({"cases": [
        case("BZ-1", waited.clone()),
        case("BZ-2", json!([])),
        case("BZ-3", json!([{"from": "2026-10-15T02:00:00Z", "to": "2026-10-19T02:00:00Z"}])),
        case("BZ-4", json!([{"from": "2026-10-15T02:00:00Z"}])),
        case("BZ-5", json!([{"from": "2026-10-12T02:00:00Z", "to": "2026-10-13T02:00:00Z"},
                             {"from": "2026-09-22T02:00:00Z", "to": "2026-09-24T02:00:00Z"}])),
    ]});
    let before = count(&app, "service_case").await;
    let (status, answer) = supervisor.post_json("/api/v1/cases", &batch, true).await;
    assert_eq!(status, 200, "{answer}");
    let results = answer["results"].as_array().unwrap();
    let outcomes: Vec<&str> = results
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(
        outcomes,
        ["created", "created", "refused", "refused", "refused"]
    );
    let messages: Vec<(&str, &str)> = results[2..]
        .iter()
        .map(|r| (r["field"].as_str().unwrap(), r["message"].as_str().unwrap()))
        .collect();
    assert_eq!(
        messages,
        [
            ("pauses", "补正时段不能晚于办结时间"),
            ("pauses", "已办结、不予受理或退件的办件，补正须填写结束时间"),
            ("pauses", "补正时段须按时间先后排列，且不能重叠"),
        ]
    );
    assert_eq!(count(&app, "service_case").await, before + 2);
    assert_eq!(
        working_days(&app, "BZ-1").await,
        "8",
        "14 less the 6 waited"
    );
    assert_eq!(working_days(&app, "BZ-2").await, "14");
    // BZ-1 within the promised 10 days, BZ-2 not; on average 11
    let (_, figures) = supervisor
        .get_json("/api/v1/cases/figures?by=item&from=2026-09-01&to=2026-10-31")
        .await;
    let line = figures["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["key"] == "BZ-001")
        .cloned()
        .unwrap_or_else(|| panic!("{figures}"));
    assert_eq!(
        (
            &line["completed"],
            &line["on_time_rate"],
            &line["average_days"]
        ),
        (&json!(2), &json!(0.5), &json!(11.0)),
        "{line}"
    );
    // the same again: unchanged; without its pause: updated, and the full 14 days
    let (_, again) = supervisor
        .post_json(
            "/api/v1/cases",
            &json!({"cases": [case("BZ-1", waited)]}),
            true,
        )
        .await;
    assert_eq!(again["results"][0]["outcome"], "unchanged", "{again}");
    let (_, changed) = supervisor
        .post_json(
            "/api/v1/cases",
            &json!({"cases": [case("BZ-1", json!([]))]}),
            true,
        )
        .await;
    assert_eq!(changed["results"][0]["outcome"], "updated", "{changed}");
    assert_eq!(working_days(&app, "BZ-1").await, "14");

    // a case file's 补正时段 column: the same pause, and a cell that is no time range
    let csv = "办件编号,事项编码,办理单位编码,办件状态,受理时间,办结时间,补正时段\n\
               BZ-6,BZ-001,SPJ,办结,2026-09-21 09:00,2026-10-16 16:00,2026-09-23 10:00~2026-10-09 15:00\n\
               BZ-7,BZ-001,SPJ,办结,2026-09-21 09:00,2026-10-16 16:00,上周三到本周五\n";
    let (status, report) = supervisor
        .post_body("/api/v1/cases/import", "text/csv", csv.as_bytes().to_vec())
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["created"], 1, "{report}");
    assert_eq!(report["errors"][0]["row"], 3, "{report}");
    assert_eq!(report["errors"][0]["column"], "补正时段", "{report}");
    assert_eq!(working_days(&app, "BZ-6").await, "8");
}

/// The rating writer's batches are quiet writes: ratings, from this process or another, leave
/// the reads kept between requests (units, settings) in memory, while any other audited change
/// drops them — at once in this process, at the next look at the database from another.
async fn a_stream_of_ratings_keeps_the_kept_reads_and_other_changes_drop_them(backend: Backend) {
    use store::audit::AuditCtx;
    use store::rating::{NewRating, RatingTarget};
    let app = TestApp::spawn_demo(backend).await;
    let store = &app.store;
    let tenant = store.tenant_by_code("370104").await.unwrap().unwrap();
    let department = store
        .units(&tenant.id)
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.kind == domain::org::UnitKind::Department && u.active)
        .unwrap();
    let bad = |phone: &str| NewRating {
        target: RatingTarget::Department(department.id.clone()),
        channel: domain::rating::Channel::Device,
        process: 1,
        result: 2,
        reasons: vec![domain::rating::Reason::Attitude],
        comment: String::new(),
        rater_name: None,
        rater_phone: Some(phone.into()),
        device: None,
        public: false,
    };
    // what a rating reads: its unit, the limits, the calendar, the rater's phone among staff
    let reads = || async {
        let unit = store
            .unit(&tenant.id, &department.id)
            .await
            .unwrap()
            .unwrap();
        let limits = store.rating_limits(&tenant.id).await.unwrap();
        (unit.name, limits.verify_days)
    };
    store
        .create_rating(&AuditCtx::cli(), &tenant.id, &bad("13800000001"))
        .await
        .unwrap();
    let before = reads().await;
    let loads = store.kept_read_loads();

    // ratings written by this process: nothing is read again
    for phone in ["13800000002", "13800000003"] {
        store
            .create_rating(&AuditCtx::cli(), &tenant.id, &bad(phone))
            .await
            .unwrap();
        assert_eq!(reads().await, before);
    }
    assert_eq!(
        store.kept_read_loads(),
        loads,
        "a rating dropped the kept reads"
    );

    // a rating written by another process (a second server, the CLI): still nothing
    let other = store::Store::open(app.database_url(), &app.data_dir(), app.clock.clone())
        .await
        .unwrap();
    other
        .create_rating(&AuditCtx::cli(), &tenant.id, &bad("13800000004"))
        .await
        .unwrap();
    store.recheck_other_processes();
    assert_eq!(reads().await, before);
    assert_eq!(
        store.kept_read_loads(),
        loads,
        "another process's rating dropped the kept reads"
    );
    let counted = app
        .sql_rows(&format!(
            "SELECT CAST(COUNT(*) AS TEXT) FROM rating WHERE tenant_id = '{}' AND unit_id = '{}' \
             AND rater_phone_index IS NOT NULL AND process = 1",
            tenant.id, department.id
        ))
        .await;
    assert!(counted[0][0].parse::<u32>().unwrap() >= 4, "{counted:?}");

    // another process changes the limits: seen at the next look at the database
    let mut limits = other.rating_limits(&tenant.id).await.unwrap();
    limits.verify_days = before.1 + 2;
    other
        .set_rating_limits(&AuditCtx::cli(), &tenant.id, &limits)
        .await
        .unwrap();
    store.recheck_other_processes();
    assert_eq!(reads().await, (before.0.clone(), before.1 + 2));
    assert!(store.kept_read_loads() > loads);

    // this process changes them back: seen at once
    limits.verify_days = before.1;
    store
        .set_rating_limits(&AuditCtx::cli(), &tenant.id, &limits)
        .await
        .unwrap();
    assert_eq!(reads().await, before);
}
