//! The working-day calendar API, page and CLI.

use serde_json::json;
use test_support::{Backend, TestApp, db_tests};

use crate::bizenv;

db_tests!(
    the_api_answers_the_spec_table,
    bad_calendar_input_is_a_400_with_a_chinese_message,
    answers_reaching_a_year_without_schedule_are_provisional,
    a_batch_is_computed_and_malformed_json_is_refused,
    a_schedule_loaded_through_the_cli_changes_the_answers_of_the_running_server,
    a_bad_schedule_file_is_refused_and_changes_nothing,
    the_loaded_years_and_working_hours_are_listed,
    the_calendar_page_computes_deadlines_and_warns_about_next_year,
    the_sysadmin_keeps_the_calendar_and_working_hours_through_the_api,
);

async fn the_api_answers_the_spec_table(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for (from, days, date) in [
        ("2026-09-30", 1, "2026-10-08"),
        ("2026-09-30", 3, "2026-10-10"),
        ("2026-09-25", 1, "2026-09-29"),
        ("2026-09-30", 0, "2026-09-30"),
        ("2025-01-24", 1, "2025-01-26"),
        ("2025-09-30", 1, "2025-10-09"),
    ] {
        let (status, body) = app
            .get_json(&format!(
                "/api/v1/calendar/add-working-days?from={from}&days={days}"
            ))
            .await;
        assert_eq!(status, 200, "{from} +{days}: {body}");
        assert_eq!(
            body,
            json!({"date": date, "provisional": false}),
            "{from} +{days}"
        );
    }
    let (status, body) = app
        .get_json("/api/v1/calendar/working-days-between?from=2026-04-30&to=2026-05-11")
        .await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({"days": 5, "provisional": false}));
    let (_, body) = app
        .get_json("/api/v1/calendar/working-days-between?from=2026-05-11&to=2026-05-11")
        .await;
    assert_eq!(body, json!({"days": 0, "provisional": false}));
}

async fn bad_calendar_input_is_a_400_with_a_chinese_message(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for (query, field) in [
        ("add-working-days?from=2026-09-30&days=-1", "days"),
        ("add-working-days?from=2026-09-30&days=367", "days"),
        ("add-working-days?from=2026-09-30&days=abc", "days"),
        ("add-working-days?from=2026-09-30", "days"),
        ("add-working-days?days=1", "from"),
        ("add-working-days?from=2026-13-01&days=1", "from"),
        ("add-working-days?from=2026-9-30&days=1", "from"),
        ("add-working-days?from=20260930&days=1", "from"),
        ("working-days-between?from=2026-05-11&to=2026-04-30", "to"),
        ("working-days-between?from=2026-05-11&to=tomorrow", "to"),
        ("working-days-between?from=2026-02-30&to=2026-03-01", "from"),
    ] {
        let (status, body) = app.get_json(&format!("/api/v1/calendar/{query}")).await;
        assert_eq!(status, 400, "{query}: {body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message
                .chars()
                .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "{query}: message not in Chinese: {message}"
        );
        assert_eq!(body["error"]["code"], "bad_request", "{query}");
        assert!(
            body["error"]["fields"][field].is_string(),
            "{query}: {body}"
        );
    }
    let (status, _) = app
        .get_json("/api/v1/calendar/add-working-days?from=2026-09-30&days=366")
        .await;
    assert_eq!(status, 200);
    let (status, _) = app.get_text("/healthz").await;
    assert_eq!(status, 200, "the server is still up");
}

async fn answers_reaching_a_year_without_schedule_are_provisional(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, body) = app
        .get_json("/api/v1/calendar/add-working-days?from=2026-12-30&days=5")
        .await;
    assert_eq!(body, json!({"date": "2027-01-06", "provisional": true}));
    let (_, body) = app
        .get_json("/api/v1/calendar/add-working-days?from=2026-12-01&days=3")
        .await;
    assert_eq!(body, json!({"date": "2026-12-04", "provisional": false}));
    let (_, body) = app
        .get_json("/api/v1/calendar/working-days-between?from=2026-12-28&to=2027-01-04")
        .await;
    assert_eq!(body, json!({"days": 5, "provisional": true}));
    let (_, body) = app
        .get_json("/api/v1/calendar/add-working-days?from=2024-12-31&days=1")
        .await;
    assert_eq!(
        body["provisional"], true,
        "2024 has no schedule loaded: {body}"
    );
}

async fn a_batch_is_computed_and_malformed_json_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let path = "/api/v1/calendar/add-working-days";
    let (status, body) = app
        .post_raw_json(
            path,
            r#"{"items":[{"from":"2026-09-30","days":1},{"from":"2026-12-30","days":5}]}"#,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"items": [
            {"date": "2026-10-08", "provisional": false},
            {"date": "2027-01-06", "provisional": true}
        ]})
    );

    let (status, body) = app
        .post_raw_json(path, r#"{"items":[{"from":"2026-09-30","#)
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "malformed_json");
    assert_eq!(body["error"]["message"], "请求体不是有效的 JSON");

    let (status, body) = app.post_raw_json(path, r#"{"itemz":[]}"#).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "validation_failed");

    let (status, body) = app
        .post_raw_json(
            path,
            r#"{"items":[{"from":"2026-09-30","days":1},{"from":"2026-02-30","days":400}]}"#,
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"]["fields"]["items[1].from"].is_string(),
        "{body}"
    );
    assert!(
        body["error"]["fields"]["items[1].days"].is_string(),
        "{body}"
    );
    assert!(
        body["error"]["fields"].get("items[0].from").is_none(),
        "{body}"
    );

    let response = app
        .client
        .post(app.url(path))
        .body(r#"{"items":[]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400, "a body without a JSON content type");
}

const YEAR_2027: &str = r#"
# 2027 年部分节假日安排（测试用）
[[year]]
year = 2027
holidays = [
  { name = "元旦", from = "2027-01-01", to = "2027-01-03" },
  { name = "春节", from = "2027-02-05", to = "2027-02-11" },
]
workdays = ["2027-02-14"]
"#;

async fn a_schedule_loaded_through_the_cli_changes_the_answers_of_the_running_server(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let ask = "/api/v1/calendar/add-working-days?from=2026-12-31&days=1";
    let (_, before) = app.get_json(ask).await;
    assert_eq!(before, json!({"date": "2027-01-01", "provisional": true}));

    let file = app.data_dir().join("2027.toml");
    std::fs::write(&file, YEAR_2027).unwrap();
    let out = bizenv(&app, &["calendar", "load", file.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("已导入 2027 年：放假 10 天，调休上班 1 天")
    );

    let (_, after) = app.get_json(ask).await;
    assert_eq!(after, json!({"date": "2027-01-04", "provisional": false}));
    let (_, sunday) = app
        .get_json("/api/v1/calendar/add-working-days?from=2027-02-12&days=1")
        .await;
    assert_eq!(sunday, json!({"date": "2027-02-14", "provisional": false}));

    let audit = app.store.audit_entries("*", 10).await.unwrap();
    let load = audit
        .iter()
        .find(|e| e.entity == "calendar_year" && e.entity_id == "2027")
        .expect("the load is audited");
    assert!(load.actor.starts_with("cli:"), "{}", load.actor);
    assert_eq!(load.action, "load");
}

async fn a_bad_schedule_file_is_refused_and_changes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let file = app.data_dir().join("bad.toml");
    std::fs::write(
        &file,
        "[[year]]\nyear = 2027\nholidays = [{ name = \"元旦\", from = \"2027-01-01\", to = \"2027-01-03\" }]\nworkdays = [\"2027-01-02\"]\n",
    )
    .unwrap();
    let out = bizenv(&app, &["calendar", "load", file.to_str().unwrap()]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("2027-01-02 既是假日又是调休上班日"),
        "{stderr}"
    );
    let years: Vec<i32> = app
        .store
        .calendar_years()
        .await
        .unwrap()
        .into_iter()
        .map(|y| y.year)
        .collect();
    assert_eq!(years, [2025, 2026]);
    let missing = bizenv(&app, &["calendar", "load", "/nonexistent/2027.toml"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("读取文件"));
}

async fn the_loaded_years_and_working_hours_are_listed(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let (status, body) = app.get_json("/api/v1/calendar/years").await;
    assert_eq!(status, 200);
    assert_eq!(body["total"], 2);
    assert_eq!(body["items"][0]["year"], 2025);
    assert_eq!(body["items"][0]["source"], "shipped");
    assert_eq!(body["items"][0]["holidays"].as_array().unwrap().len(), 28);
    assert_eq!(body["items"][1]["holidays"].as_array().unwrap().len(), 33);
    assert_eq!(
        body["items"][1]["workdays"],
        json!([
            "2026-01-04",
            "2026-02-14",
            "2026-02-28",
            "2026-05-09",
            "2026-09-20",
            "2026-10-10"
        ])
    );
    let (status, hours) = app.get_json("/api/v1/calendar/working-hours").await;
    assert_eq!(status, 200);
    assert_eq!(
        hours,
        json!({"tenant": "370104", "minutes_per_day": 420, "periods": [
            {"from": "09:00", "to": "12:00"}, {"from": "13:30", "to": "17:30"}]})
    );
    let tenant = app.store.tenant_by_code("370104").await.unwrap().unwrap();
    let hours = domain::calendar::WorkingHours::parse("08:30-12:00,14:00-18:00").unwrap();
    app.store
        .set_working_hours(&store::audit::AuditCtx::system(), &tenant.id, &hours)
        .await
        .unwrap();
    let (_, changed) = app
        .get_json("/api/v1/calendar/working-hours?tenant=370104")
        .await;
    assert_eq!(changed["minutes_per_day"], 450);
    assert_eq!(
        changed["periods"][0],
        json!({"from": "08:30", "to": "12:00"})
    );
}

async fn the_calendar_page_computes_deadlines_and_warns_about_next_year(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let (status, html) = app.get_text("/calendar?from=2026-09-30&days=3").await;
    assert_eq!(status, 200);
    assert!(
        html.contains(r#"<strong id="calendar-result">2026-10-10</strong>"#),
        "{html}"
    );
    assert!(
        html.contains("尚未导入"),
        "the 2027 reminder shows from 1 November"
    );
    assert!(html.contains("示例数据"));

    let (status, html) = app.get_text("/calendar?from=2026-13-01&days=3").await;
    assert_eq!(status, 400);
    assert!(html.contains("不是有效日期"), "{html}");
    assert!(!html.contains("calendar-result"));

    app.clock.set(
        chrono::DateTime::parse_from_rfc3339("2026-10-15T10:00:00+08:00")
            .unwrap()
            .into(),
    );
    let (_, html) = app.get_text("/calendar").await;
    assert!(!html.contains("尚未导入"), "no reminder before November");
}

async fn the_sysadmin_keeps_the_calendar_and_working_hours_through_the_api(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let admin = app.demo_user("admin").await;
    let leader = app.demo_user("leader").await;
    let put = |user: &test_support::TestUser, body: serde_json::Value| {
        let request = app
            .client
            .put(app.url("/api/v1/calendar/working-hours"))
            .header("cookie", format!("bizenv_session={}", user.token))
            .header("x-csrf-token", &user.csrf_token)
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
    let (status, body) = put(&admin, json!({"working_hours": "08:30-12:00,14:00-18:00"})).await;
    assert_eq!(
        (status, body["minutes_per_day"].as_i64()),
        (200, Some(450)),
        "{body}"
    );
    let (_, hours) = app.get_json("/api/v1/calendar/working-hours").await;
    assert_eq!(hours["periods"][1], json!({"from": "14:00", "to": "18:00"}));
    let (status, body) = put(&admin, json!({"working_hours": "18:00-09:00"})).await;
    assert_eq!(status, 422);
    assert!(
        body["error"]["fields"]["working_hours"].is_string(),
        "{body}"
    );
    assert_eq!(
        put(&leader, json!({"working_hours": "09:00-17:00"}))
            .await
            .0,
        403
    );
    let (_, unchanged) = app.get_json("/api/v1/calendar/working-hours").await;
    assert_eq!(
        unchanged["minutes_per_day"], 450,
        "refused changes change nothing"
    );

    let load = |user: &test_support::TestUser, text: &str| {
        let request = app
            .client
            .post(app.url("/api/v1/calendar/years"))
            .header("cookie", format!("bizenv_session={}", user.token))
            .header("x-csrf-token", &user.csrf_token)
            .header("content-type", "text/plain; charset=utf-8")
            .body(text.to_owned());
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
    assert_eq!(load(&leader, YEAR_2027).await.0, 403);
    let (status, body) = load(
        &admin,
        "[[year]]\nyear = 2027\nworkdays = [\"2026-01-01\"]\n",
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("2026-01-01"),
        "{body}"
    );
    let (_, still) = app
        .get_json("/api/v1/calendar/add-working-days?from=2026-12-31&days=1")
        .await;
    assert_eq!(still["provisional"], true);
    let (status, body) = load(&admin, YEAR_2027).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["years"][0],
        json!({"year": 2027, "holidays": 10, "workdays": 1})
    );
    let (_, after) = app
        .get_json("/api/v1/calendar/add-working-days?from=2026-12-31&days=1")
        .await;
    assert_eq!(after, json!({"date": "2027-01-04", "provisional": false}));
    let audit = app.store.audit_entries("*", 1).await.unwrap();
    assert!(audit[0].actor.starts_with("user:"), "{}", audit[0].actor);

    // the same through the calendar page's forms
    let (_, page) = admin.get_text("/calendar").await;
    assert!(
        page.contains("calendar-keeper"),
        "the sysadmin sees the forms"
    );
    assert!(
        !leader
            .get_text("/calendar")
            .await
            .1
            .contains("calendar-keeper")
    );
    let csrf = admin.csrf_token.clone();
    let saved = admin
        .post_form(
            "/calendar/working-hours",
            &[
                ("csrf_token", &csrf),
                ("working_hours", "09:00-12:00,13:00-17:00"),
            ],
        )
        .await;
    assert_eq!(saved.status(), 303);
    let (_, page) = admin
        .get_text(saved.headers()["location"].to_str().unwrap())
        .await;
    assert!(
        page.contains("工作时间已保存") && page.contains("09:00-12:00,13:00-17:00"),
        "{page}"
    );
    let refused = admin
        .post_form("/calendar/years", &[("csrf_token", &csrf), ("file", "[[year]]\nyear = 2028\nholidays = [{ name = \"元旦\", from = \"2028-01-03\", to = \"2028-01-01\" }]\n")])
        .await;
    assert_eq!(refused.status(), 422);
    assert!(refused.text().await.unwrap().contains("元旦"));
    assert!(!app.store.calendar().await.unwrap().has_year(2028));
    let forbidden = leader
        .post_form(
            "/calendar/working-hours",
            &[
                ("csrf_token", &leader.csrf_token.clone()),
                ("working_hours", "09:00-10:00"),
            ],
        )
        .await;
    assert_eq!(forbidden.status(), 403);
}
