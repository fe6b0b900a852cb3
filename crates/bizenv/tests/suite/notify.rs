//! Notifications beyond the inbox: each user's preferences, the tenant's channel settings,
//! mail over SMTP to a real server on loopback and SMS to an HTTP receiver, sent by the job
//! table — once each, though a sweep and a sender die midway and a relay refuses for a while.

use chrono::Duration;
use domain::clock::Clock;
use serde_json::{Value, json};
use store::delivery::MailRelay;
use test_support::sinks::{HttpSink, MailSink};
use test_support::{Backend, TestApp, TestUser, at_local as at, db_tests};

db_tests!(
    mail_and_sms_reach_whoever_asked_once_each,
    bad_preferences_and_settings_are_refused_and_change_nothing,
);

async fn put(user: &TestUser, path: &str, body: Value) -> (u16, Value) {
    user.send_json("PUT", path, body).await
}

/// `(channel, event, state, attempts)` of every mail and SMS row, in a stable order.
async fn outbox(app: &TestApp) -> Vec<Vec<String>> {
    app.sql_rows(
        "SELECT channel, event, state, CAST(attempts AS TEXT) FROM notification \
         WHERE channel <> 'inbox' ORDER BY channel, created_at, event, account_id",
    )
    .await
}

fn rows(list: &[[&str; 4]]) -> Vec<Vec<String>> {
    list.iter()
        .map(|r| r.iter().map(|s| s.to_string()).collect())
        .collect()
}

async fn mail_and_sms_reach_whoever_asked_once_each(backend: Backend) {
    let mail = MailSink::start().await;
    let sms = HttpSink::start().await;
    let app = TestApp::builder(backend)
        .with_demo()
        .with_mail_relay(MailRelay {
            host: "127.0.0.1".into(),
            port: mail.address.port(),
            from: "营商环境优化平台 <noreply@bizenv.test>".into(),
            public_url: Some("https://yshj.example.gov.cn".into()),
        })
        .spawn()
        .await;
    app.clock.set(at("2026-11-30 09:00"));
    // the demo's own tasks and findings are set aside, so only this test's task gives cards
    app.sql("UPDATE deadline SET open = FALSE").await;

    // the sysadmin points SMS at the gateway, with the district's template
    let admin = app.demo_user("admin").await;
    let (status, settings) = put(
        &admin,
        "/api/v1/settings/notifications",
        json!({"notice_pattern": "槐营商督〔{year}〕{seq}号", "sms_gateway": sms.url("/sms/send"),
               "sms_template": "【{tenant}】{title}"}),
    )
    .await;
    assert_eq!(status, 200, "{settings}");
    assert_eq!(settings["sms_gateway"], sms.url("/sms/send"));

    // the lead unit's contact wants everything by mail and the urgent things by SMS; the
    // supervisor wants notices by mail; the cooperating street's contact sets nothing
    let lead = app.demo_user("unitadmin").await;
    let (status, preferences) = put(
        &lead,
        "/api/v1/notifications/preferences",
        json!({"email": "Chenjing@SPJ.Example.gov.cn", "mobile": "138 0013 8000",
               "email_events": ["assigned", "due_soon", "overdue", "notice"],
               "sms_events": ["overdue", "notice"]}),
    )
    .await;
    assert_eq!(status, 200, "{preferences}");
    assert_eq!(preferences["email"], "Chenjing@spj.example.gov.cn");
    assert_eq!(preferences["mobile"], "13800138000");
    let (_, read_back) = lead.get_json("/api/v1/notifications/preferences").await;
    assert_eq!(read_back, preferences);
    let supervisor = app.demo_user("supervisor").await;
    let (status, _) = put(
        &supervisor,
        "/api/v1/notifications/preferences",
        json!({"email": "liming@yshj.example.gov.cn", "email_events": ["notice"]}),
    )
    .await;
    assert_eq!(status, 200);
    // the addresses are sealed in the database
    let stored = app
        .sql_rows(
            "SELECT COALESCE(email_enc, ''), COALESCE(mobile_enc, '') FROM notification_preference",
        )
        .await;
    assert!(!format!("{stored:?}").contains("example"), "{stored:?}");
    assert!(!format!("{stored:?}").contains("13800138000"), "{stored:?}");

    // a task for the lead unit with a street cooperating: due Friday 12-04 at the close
    let spj = supervisor.unit_id("SPJ").await;
    let street = supervisor.unit_id("370104001").await;
    let (status, task) = supervisor
        .post_json(
            "/api/v1/tasks",
            &json!({"number": "N-1", "measure": "措施三", "title": "窗口无差别受理",
                    "lead_unit_id": spj, "cooperating_unit_ids": [street], "due_on": "2026-12-04"}),
            true,
        )
        .await;
    assert_eq!(status, 201, "{task}");
    let id = task["id"].as_str().unwrap().to_owned();
    // queued in the task's transaction; sent by the job table
    assert_eq!(
        outbox(&app).await,
        rows(&[["email", "assigned", "queued", "0"]])
    );
    app.store.tick("live").await.unwrap();
    let why = app
        .sql_rows("SELECT COALESCE(last_error, '') FROM notification WHERE channel = 'email'")
        .await;
    assert_eq!(
        outbox(&app).await,
        rows(&[["email", "assigned", "sent", "1"]]),
        "{why:?}"
    );
    let sent = mail.messages();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].from, "noreply@bizenv.test");
    assert_eq!(sent[0].to, ["Chenjing@spj.example.gov.cn"]);
    let message_id = sent[0].header("Message-ID").unwrap();
    assert!(message_id.ends_with("@bizenv>"), "{message_id}");
    let body = sent[0].body();
    assert!(body.contains("窗口无差别受理"), "{body}");
    assert!(
        body.contains(&format!("https://yshj.example.gov.cn/tasks/{id}")),
        "{body}"
    );
    assert!(sms.requests().is_empty());

    // Friday morning: due within a working day; the relay refuses once, the row waits out
    // its backoff and goes on the next run
    mail.refuse_next(1);
    app.clock.set(at("2026-12-04 09:00"));
    app.store.tick("live").await.unwrap();
    app.store.deliver_notifications().await.unwrap();
    assert_eq!(mail.messages().len(), 1, "refused by the relay");
    let waiting = app
        .sql_rows("SELECT state, CAST(attempts AS TEXT), COALESCE(last_error, '') FROM notification WHERE event = 'due_soon' AND channel = 'email'")
        .await;
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0][..2], ["queued", "1"]);
    assert!(waiting[0][2].contains("邮件未送出"), "{waiting:?}");
    app.store.deliver_notifications().await.unwrap();
    assert_eq!(mail.messages().len(), 1, "not before its backoff");
    app.clock.advance(Duration::minutes(1));
    app.store.deliver_notifications().await.unwrap();
    assert_eq!(mail.messages().len(), 2);
    assert!(mail.messages()[1].body().contains("12月04日 17:30 到期"));

    // Monday: overdue. The sweep job's runner dies holding it; when its lease ends another
    // runner takes it up and the card, the notice and their messages come once
    app.clock.set(at("2026-12-07 09:00"));
    let now = app.clock.now();
    app.store
        .enqueue_job(None, "card_sweep", "sweep-monday", &json!({}), now)
        .await
        .unwrap();
    let dead = app
        .store
        .claim_job("dead-runner", Duration::minutes(5))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(dead.kind, "card_sweep");
    assert_eq!(
        app.store
            .run_jobs("live", Duration::minutes(5))
            .await
            .unwrap(),
        0
    );
    app.clock.advance(Duration::minutes(6));
    assert_eq!(
        app.store
            .run_jobs("live", Duration::minutes(5))
            .await
            .unwrap(),
        1
    );
    // now a sender dies holding the new rows
    let held = app
        .store
        .claim_deliveries(Duration::minutes(5), 100)
        .await
        .unwrap();
    assert_eq!(held.len(), 5, "{held:?}");
    sms.refuse_next(1);
    app.store.tick("live").await.unwrap();
    assert_eq!(mail.messages().len(), 2, "held by the dead sender");
    assert!(sms.requests().is_empty());
    app.clock.advance(Duration::minutes(6));
    app.store.tick("live").await.unwrap();
    app.clock.advance(Duration::minutes(1));
    app.store.tick("live").await.unwrap();
    app.clock.advance(Duration::minutes(1));
    app.store.tick("live").await.unwrap();

    let notices = app.sql_rows("SELECT number FROM notice").await;
    assert_eq!(notices.len(), 1, "one notice: {notices:?}");
    let sent = outbox(&app).await;
    assert_eq!(
        sent[..5],
        rows(&[
            ["email", "assigned", "sent", "1"],
            ["email", "due_soon", "sent", "2"],
            ["email", "notice", "sent", "2"],
            ["email", "notice", "sent", "2"],
            ["email", "overdue", "sent", "2"],
        ]),
        "each mail row sent once: {sent:?}"
    );
    // both SMS sent; one was refused once by the gateway first
    assert_eq!(sent.len(), 7, "{sent:?}");
    assert!(
        sent[5..].iter().all(|r| r[0] == "sms" && r[2] == "sent"),
        "{sent:?}"
    );
    let attempts: i64 = sent[5..].iter().map(|r| r[3].parse::<i64>().unwrap()).sum();
    assert_eq!(attempts, 5, "{sent:?}");

    let mails = mail.messages();
    let to_lead = mails
        .iter()
        .filter(|m| m.to == ["Chenjing@spj.example.gov.cn"])
        .count();
    let to_supervisor: Vec<_> = mails
        .iter()
        .filter(|m| m.to == ["liming@yshj.example.gov.cn"])
        .collect();
    assert_eq!((mails.len(), to_lead, to_supervisor.len()), (5, 4, 1));
    assert!(
        to_supervisor[0].body().contains(&notices[0][0]),
        "the notice number"
    );
    let mut ids: Vec<_> = mails
        .iter()
        .filter_map(|m| m.header("Message-ID"))
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 5, "one message per row");

    let texts: Vec<Value> = sms
        .requests()
        .iter()
        .map(|r| {
            assert_eq!(r.line, "POST /sms/send");
            serde_json::from_str(&r.body).unwrap()
        })
        .collect();
    assert_eq!(texts.len(), 2, "{texts:?}");
    for text in &texts {
        assert_eq!(text["phone"], "13800138000");
        assert!(
            text["text"]
                .as_str()
                .unwrap()
                .starts_with("【槐荫区（示例）】"),
            "{text}"
        );
        assert!(text["id"].as_str().unwrap().ends_with("-sms"));
    }
    // the street's contact, with no preferences, was told in the inbox only
    let street_contact = app.demo_user("street").await;
    let (_, inbox) = street_contact.get_json("/api/v1/notifications").await;
    assert!(inbox["total"].as_i64().unwrap() >= 1, "{inbox}");
    assert!(app.store.verify_audit().await.unwrap().problems.is_empty());
}

async fn bad_preferences_and_settings_are_refused_and_change_nothing(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let lead = app.demo_user("unitadmin").await;
    let audit_count = || async {
        app.sql_rows("SELECT CAST(COUNT(*) AS TEXT) FROM audit_log")
            .await
    };
    let before = audit_count().await;
    // the demo's contact gets overdue items and notices by SMS (the log-only gateway)
    let (_, demo) = lead.get_json("/api/v1/notifications/preferences").await;
    assert_eq!(
        demo,
        json!({"email": "", "mobile": "13905310101", "email_events": [], "sms_events": ["overdue", "notice"]})
    );
    for (body, field) in [
        (json!({"email": "chenjing@"}), "email"),
        (json!({"mobile": "0531-88886666"}), "mobile"),
        (json!({"email_events": ["notice"]}), "email"),
        (json!({"sms_events": ["overdue"]}), "mobile"),
        (
            json!({"email": "a@b.cn", "email_events": ["lunch"]}),
            "email_events",
        ),
    ] {
        let (status, refused) = put(&lead, "/api/v1/notifications/preferences", body).await;
        assert_eq!(status, 422, "{refused}");
        assert!(
            refused["error"]["fields"][field].is_string(),
            "{field}: {refused}"
        );
    }
    let (status, _) = put(
        &lead,
        "/api/v1/notifications/preferences",
        json!({"email": "a@b.cn", "fax": "1"}),
    )
    .await;
    assert_eq!(status, 422, "an unknown field");
    let (_, unchanged) = lead.get_json("/api/v1/notifications/preferences").await;
    assert_eq!(unchanged, demo);

    // the page says it in Chinese and keeps what was typed
    let page = lead
        .post_form(
            "/inbox/preferences",
            &[
                ("csrf_token", &lead.csrf_token),
                ("email", "陈静@spj"),
                ("email_events", "notice"),
            ],
        )
        .await;
    assert_eq!(page.status().as_u16(), 422);
    let html = page.text().await.unwrap();
    assert!(html.contains("邮箱地址格式不正确"), "{html}");
    assert!(html.contains("陈静@spj"));
    let page = lead
        .post_form(
            "/inbox/preferences",
            &[
                ("csrf_token", &lead.csrf_token),
                ("email", "chenjing@spj.example.gov.cn"),
                ("email_events", "notice"),
                ("email_events", "overdue"),
            ],
        )
        .await;
    assert_eq!(page.status().as_u16(), 303);
    let (_, saved) = lead.get_json("/api/v1/notifications/preferences").await;
    assert_eq!(saved["email_events"], json!(["overdue", "notice"]));

    let admin = app.demo_user("admin").await;
    let (_, original) = admin.get_json("/api/v1/settings/notifications").await;
    assert_eq!(original["sms_gateway"], "log");
    assert_eq!(original["notice_pattern"], "槐营商督〔{year}〕{seq}号");
    let good = |key: &str, value: &str| {
        let mut body = original.clone();
        body[key] = json!(value);
        body
    };
    for (body, field) in [
        (
            good("sms_gateway", "https://sms.example.cn/send"),
            "sms_gateway",
        ),
        (good("sms_gateway", "短信"), "sms_gateway"),
        (good("sms_template", "请处理"), "sms_template"),
        (good("sms_template", "{title}{phone}"), "sms_template"),
        (good("notice_pattern", "督〔{year}〕号"), "notice_pattern"),
    ] {
        let (status, refused) = put(&admin, "/api/v1/settings/notifications", body).await;
        assert_eq!(status, 422, "{refused}");
        assert!(refused["error"]["fields"][field].is_string(), "{refused}");
    }
    let (_, still) = admin.get_json("/api/v1/settings/notifications").await;
    assert_eq!(still, original);
    let page = admin
        .post_form(
            "/settings/notifications",
            &[
                ("csrf_token", &admin.csrf_token),
                ("notice_pattern", "槐营商督〔{year}〕{seq}号"),
                ("sms_gateway", "log"),
                ("sms_template", "没有占位符"),
            ],
        )
        .await;
    assert_eq!(page.status().as_u16(), 422);
    assert!(page.text().await.unwrap().contains("短信模板须包含"));
    let (_, still) = admin.get_json("/api/v1/settings/notifications").await;
    assert_eq!(still, original);
    // one audited change: the lead's saved preferences
    let after = audit_count().await;
    assert_eq!(
        after[0][0].parse::<i64>().unwrap(),
        before[0][0].parse::<i64>().unwrap() + 1
    );
    // only the sysadmin keeps the channels
    let (status, _) = lead.get_json("/api/v1/settings/notifications").await;
    assert_eq!(status, 404);
}
