//! The workflow kernel's stored parts: deadlines with their cards as the injected clock moves,
//! pauses and the one extension, recomputation when a year's schedule arrives, and the job
//! table (lease, retry, backoff, idempotent enqueue).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use domain::calendar::YearSchedule;
use domain::clock::Clock;
use domain::deadline::{Card, Limit};
use store::audit::AuditCtx;
use store::deadline::{DeadlineChange, NewDeadline};
use test_support::{Backend, TestApp, at_local as at, db_tests};

db_tests!(
    cards_follow_the_clock_and_each_is_given_once,
    pauses_and_extensions_go_through_the_rules_and_bad_ones_change_nothing,
    a_year_schedule_arriving_recomputes_provisional_deadlines,
    a_job_whose_runner_died_is_taken_up_again_and_acts_once,
    a_failing_job_backs_off_then_gives_up,
);

/// A tenant of its own, so nothing but the test's deadlines is swept.
async fn tenant(app: &TestApp) -> String {
    app.store
        .create_tenant(&AuditCtx::cli(), "370199", "测试区")
        .await
        .unwrap()
        .id
}

fn new(record_id: &str, limit: Limit, received_at: DateTime<Utc>) -> NewDeadline<'_> {
    NewDeadline {
        record_type: "task",
        record_id,
        step: "report",
        unit_id: None,
        limit,
        received_at,
    }
}

async fn events(app: &TestApp, tenant: &str, record_id: &str) -> Vec<String> {
    app.store
        .history(tenant, "task", record_id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event)
        .collect()
}

async fn cards_follow_the_clock_and_each_is_given_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let tenant = tenant(&app).await;
    let ctx = AuditCtx::system();
    // Monday 2026-11-30 10:00; two working days: due Wed 17:30, yellow from Tue's close
    let d = app
        .store
        .open_deadline(
            &ctx,
            &tenant,
            &new("t1", Limit::WorkingDays(2), at("2026-11-30 10:00")),
        )
        .await
        .unwrap();
    assert_eq!(d.due_at, at("2026-12-02 17:30"));
    assert_eq!(d.yellow_at, at("2026-12-01 17:30"));
    assert_eq!(d.card, Card::None);
    // one open deadline per record and step
    let again = app
        .store
        .open_deadline(
            &ctx,
            &tenant,
            &new("t1", Limit::WorkingDays(5), at("2026-11-30 10:00")),
        )
        .await;
    assert!(matches!(again, Err(store::StoreError::Conflict(_))));

    let sweep_at = |when: &str| {
        app.clock.set(at(when));
        let store = app.store.clone();
        async move { store.sweep_cards(&AuditCtx::system()).await.unwrap() }
    };
    let counts = |s: store::deadline::Sweep| (s.yellow, s.red);
    assert_eq!(counts(sweep_at("2026-11-30 10:00").await), (0, 0));
    assert_eq!(counts(sweep_at("2026-12-01 17:29").await), (0, 0));
    assert_eq!(counts(sweep_at("2026-12-01 17:30").await), (1, 0));
    assert_eq!(
        counts(sweep_at("2026-12-01 20:00").await),
        (0, 0),
        "given once"
    );
    let d1 = app.store.deadline(&tenant, &d.id).await.unwrap().unwrap();
    assert_eq!(d1.card, Card::Yellow);
    assert_eq!(counts(sweep_at("2026-12-02 17:30").await), (0, 1));
    assert_eq!(counts(sweep_at("2026-12-03 09:00").await), (0, 0));
    assert_eq!(
        events(&app, &tenant, "t1").await,
        [
            "deadline_opened",
            "card_yellow",
            "card_red",
            "notice_issued"
        ]
    );

    // a deadline found past both thresholds goes straight to red
    app.store
        .open_deadline(
            &ctx,
            &tenant,
            &new("t2", Limit::WorkingMinutes(120), at("2026-12-03 09:00")),
        )
        .await
        .unwrap();
    assert_eq!(counts(sweep_at("2026-12-04 09:00").await), (0, 1));
    assert_eq!(
        events(&app, &tenant, "t2").await,
        ["deadline_opened", "card_red", "notice_issued"]
    );
    // a met deadline is never carded
    let t3 = app
        .store
        .open_deadline(
            &ctx,
            &tenant,
            &new("t3", Limit::WorkingDays(1), at("2026-12-04 09:00")),
        )
        .await
        .unwrap();
    let met = app
        .store
        .change_deadline(&ctx, &tenant, &t3.id, &DeadlineChange::Meet)
        .await
        .unwrap();
    assert!(!met.open);
    assert_eq!(met.worked_minutes, Some(0));
    assert_eq!(counts(sweep_at("2026-12-20 09:00").await), (0, 0));
    assert!(app.store.verify_audit().await.unwrap().problems.is_empty());
}

async fn pauses_and_extensions_go_through_the_rules_and_bad_ones_change_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let tenant = tenant(&app).await;
    let ctx = AuditCtx::system();
    let d = app
        .store
        .open_deadline(
            &ctx,
            &tenant,
            &new("t1", Limit::WorkingDays(5), at("2026-11-30 10:00")),
        )
        .await
        .unwrap();
    assert_eq!(d.due_at, at("2026-12-07 17:30"));
    let change = |c: DeadlineChange| {
        let store = app.store.clone();
        let tenant = tenant.clone();
        let id = d.id.clone();
        async move {
            store
                .change_deadline(&AuditCtx::system(), &tenant, &id, &c)
                .await
        }
    };
    // refusals leave the row as it was
    let before = app.store.deadline(&tenant, &d.id).await.unwrap().unwrap();
    assert!(matches!(
        change(DeadlineChange::Resume).await,
        Err(store::StoreError::Conflict(m)) if m == "计时未暂停，无需恢复"
    ));
    assert!(matches!(
        change(DeadlineChange::Extend {
            days: 11,
            reason: "核查".into(),
            max_days: 10
        })
        .await,
        Err(store::StoreError::InvalidField { field: "days", .. })
    ));
    assert!(matches!(
        change(DeadlineChange::Pause { reason: " ".into() }).await,
        Err(store::StoreError::InvalidField {
            field: "reason",
            ..
        })
    ));
    assert_eq!(
        app.store.deadline(&tenant, &d.id).await.unwrap().unwrap(),
        before
    );

    // waiting for materials Tue 09:00 → Wed 09:00 moves the due one working day
    app.clock.set(at("2026-12-01 09:00"));
    let paused = change(DeadlineChange::Pause {
        reason: "等待申请人补正材料".into(),
    })
    .await
    .unwrap();
    assert!(paused.paused);
    app.clock.set(at("2026-12-02 09:00"));
    let resumed = change(DeadlineChange::Resume).await.unwrap();
    assert!(!resumed.paused);
    assert_eq!(resumed.due_at, at("2026-12-08 17:30"));
    // one extension of at most 10 working days
    let extended = change(DeadlineChange::Extend {
        days: 3,
        reason: "需现场核查".into(),
        max_days: 10,
    })
    .await
    .unwrap();
    assert_eq!(extended.due_at, at("2026-12-11 17:30"));
    let second = change(DeadlineChange::Extend {
        days: 1,
        reason: "再延".into(),
        max_days: 10,
    })
    .await;
    assert!(matches!(second, Err(store::StoreError::Conflict(m)) if m.contains("只能延期一次")));
    // met: worked minutes without the paused day (Mon 10:00–17:30 = 360, Wed 09:00–10:00 = 60)
    app.clock.set(at("2026-12-02 10:00"));
    let met = change(DeadlineChange::Meet).await.unwrap();
    assert_eq!(met.worked_minutes, Some(420));
    assert!(matches!(
        change(DeadlineChange::Resume).await,
        Err(store::StoreError::Conflict(m)) if m.contains("已办结")
    ));
    assert_eq!(
        events(&app, &tenant, "t1").await,
        [
            "deadline_opened",
            "deadline_paused",
            "deadline_resumed",
            "deadline_extended",
            "deadline_met"
        ]
    );
    let history = app.store.history(&tenant, "task", "t1").await.unwrap();
    assert_eq!(history[4].detail["on_time"], true);
    assert!(app.store.verify_audit().await.unwrap().problems.is_empty());
}

async fn a_year_schedule_arriving_recomputes_provisional_deadlines(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let tenant = tenant(&app).await;
    let ctx = AuditCtx::system();
    app.clock.set(at("2026-12-28 10:00"));
    let d = app
        .store
        .open_deadline(
            &ctx,
            &tenant,
            &new("t1", Limit::WorkingDays(10), at("2026-12-28 10:00")),
        )
        .await
        .unwrap();
    assert!(d.provisional, "2027 has no schedule yet");
    assert_eq!(d.due_at, at("2027-01-11 17:30"), "weekdays alone");
    let day = |s: &str| s.parse().unwrap();
    let y2027 = YearSchedule::new(
        2027,
        BTreeMap::from([(day("2027-01-01"), "元旦".to_owned())]),
        BTreeSet::new(),
    )
    .unwrap();
    app.store
        .load_calendar_years(&AuditCtx::cli(), "test", &[y2027])
        .await
        .unwrap();
    let d = app.store.deadline(&tenant, &d.id).await.unwrap().unwrap();
    assert!(!d.provisional);
    assert_eq!(
        d.due_at,
        at("2027-01-12 17:30"),
        "元旦 is not a working day"
    );
    let history = app.store.history(&tenant, "task", "t1").await.unwrap();
    assert_eq!(history.last().unwrap().event, "deadline_recomputed");
    assert!(app.store.verify_audit().await.unwrap().problems.is_empty());
}

async fn a_job_whose_runner_died_is_taken_up_again_and_acts_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let tenant = tenant(&app).await;
    let ctx = AuditCtx::system();
    app.store
        .open_deadline(
            &ctx,
            &tenant,
            &new("t1", Limit::WorkingDays(1), at("2026-11-20 10:00")),
        )
        .await
        .unwrap();
    let now = app.clock.now();
    let payload = serde_json::json!({});
    assert!(
        app.store
            .enqueue_job(None, "card_sweep", "sweep-1", &payload, now)
            .await
            .unwrap()
    );
    assert!(
        !app.store
            .enqueue_job(None, "card_sweep", "sweep-1", &payload, now)
            .await
            .unwrap(),
        "enqueued once per key"
    );
    // a runner claims it and dies before running it
    let claimed = app
        .store
        .claim_job("dead-runner", Duration::minutes(5))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.kind, "card_sweep");
    assert_eq!(
        app.store
            .run_jobs("live", Duration::minutes(5))
            .await
            .unwrap(),
        0,
        "leased"
    );
    assert_eq!(events(&app, &tenant, "t1").await, ["deadline_opened"]);
    // its lease runs out: another runner takes it up
    app.clock.advance(Duration::minutes(6));
    assert_eq!(
        app.store
            .run_jobs("live", Duration::minutes(5))
            .await
            .unwrap(),
        1
    );
    // found five working days overdue: the notice goes straight up to the supervisor
    assert_eq!(
        events(&app, &tenant, "t1").await,
        [
            "deadline_opened",
            "card_red",
            "notice_issued",
            "notice_escalated"
        ]
    );
    // the dead runner coming back cannot finish it, and a second sweep gives no second card
    app.store
        .complete_job(&claimed, "dead-runner")
        .await
        .unwrap();
    let state = app
        .sql_rows("SELECT state, CASE WHEN lease_owner IS NULL THEN '1' ELSE '0' END, CAST(attempts AS TEXT) FROM job WHERE dedupe_key = 'sweep-1'")
        .await;
    assert_eq!(
        state,
        [vec!["done".to_owned(), "1".to_owned(), "2".to_owned()]]
    );
    app.store.tick("live").await.unwrap();
    app.store.tick("live").await.unwrap();
    // found five working days overdue: the notice goes straight up to the supervisor
    assert_eq!(
        events(&app, &tenant, "t1").await,
        [
            "deadline_opened",
            "card_red",
            "notice_issued",
            "notice_escalated"
        ]
    );
    let per_minute = app
        .sql_rows("SELECT COUNT(*) FROM job WHERE kind = 'card_sweep' AND dedupe_key <> 'sweep-1'")
        .await;
    assert_eq!(
        per_minute,
        [vec!["1".to_owned()]],
        "one sweep per minute however often asked"
    );
}

async fn a_failing_job_backs_off_then_gives_up(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let now = app.clock.now();
    app.store
        .enqueue_job(None, "no_such_kind", "bad-1", &serde_json::json!({}), now)
        .await
        .unwrap();
    let row = || async {
        app.sql_rows("SELECT state, CAST(attempts AS TEXT) FROM job WHERE dedupe_key = 'bad-1'")
            .await
            .remove(0)
    };
    let lease = Duration::minutes(5);
    assert_eq!(app.store.run_jobs("r", lease).await.unwrap(), 1);
    assert_eq!(row().await, ["queued", "1"]);
    // not before its backoff (30 s, then 1, 2, 4 minutes)
    app.clock.advance(Duration::seconds(29));
    assert_eq!(app.store.run_jobs("r", lease).await.unwrap(), 0);
    for (wait, attempts) in [(1, "2"), (60, "3"), (120, "4")] {
        app.clock.advance(Duration::seconds(wait));
        assert_eq!(app.store.run_jobs("r", lease).await.unwrap(), 1);
        assert_eq!(row().await, ["queued", attempts]);
    }
    app.clock.advance(Duration::seconds(240));
    assert_eq!(app.store.run_jobs("r", lease).await.unwrap(), 1);
    assert_eq!(row().await, ["failed", "5"], "given up after five attempts");
    app.clock.advance(Duration::days(1));
    assert_eq!(app.store.run_jobs("r", lease).await.unwrap(), 0);
}
