//! The store on both databases: writes are validated, atomic and audited.

use domain::calendar::{Calendar, YearSchedule, parse_schedule_file};
use domain::clock::Clock;
use domain::org::{UnitCode, UnitKind};
use store::StoreError;
use store::audit::AuditCtx;
use store::page::PageRequest;
use store::unit::{NewUnit, UnitFilter};
use test_support::{Backend, TestApp, db_tests};

db_tests!(
    tenants_are_unique_by_a_valid_region_code,
    a_bad_unit_refuses_the_whole_batch_and_writes_nothing,
    every_write_is_in_the_audit_log_in_sequence,
    loading_a_year_again_replaces_it,
    the_shipped_years_are_loaded_once_and_never_overwritten,
);

fn unit(code: &str, name: &str, kind: UnitKind, parent: Option<&str>) -> NewUnit {
    NewUnit {
        code: UnitCode::parse(code).unwrap(),
        name: name.to_owned(),
        kind,
        parent: parent.map(|p| UnitCode::parse(p).unwrap()),
        staffed_by: None,
    }
}

async fn tenants_are_unique_by_a_valid_region_code(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ctx = AuditCtx::cli();
    let tenant = app
        .store
        .create_tenant(&ctx, "370104", "槐荫区")
        .await
        .unwrap();
    assert_eq!(tenant.created_at, app.clock.now());
    assert!(matches!(
        app.store.create_tenant(&ctx, "370104", "又一个").await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        app.store.create_tenant(&ctx, "37010", "短").await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        app.store.create_tenant(&ctx, "370105", "  ").await,
        Err(StoreError::Invalid(_))
    ));
    let tenants = app.store.tenants().await.unwrap();
    assert_eq!(tenants.len(), 1);
    assert_eq!(tenants[0], tenant);
}

async fn a_bad_unit_refuses_the_whole_batch_and_writes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ctx = AuditCtx::cli();
    let tenant = app
        .store
        .create_tenant(&ctx, "370104", "槐荫区")
        .await
        .unwrap();
    let good = vec![
        unit("ZFB", "区政府办公室", UnitKind::DistrictOffice, None),
        unit("SPJ", "行政审批服务局", UnitKind::Department, Some("ZFB")),
        unit("H1", "政务服务中心", UnitKind::Hall, Some("SPJ")),
    ];
    for (bad, expect) in [
        (
            unit("C1", "社区", UnitKind::Community, Some("SPJ")),
            "不能设在此上级之下",
        ),
        (
            unit("W1", "窗口", UnitKind::Window, Some("NOPE")),
            "上级单位 NOPE 不存在",
        ),
        (
            unit("SPJ", "重复", UnitKind::Department, Some("ZFB")),
            "单位代码已存在",
        ),
        (
            NewUnit {
                staffed_by: Some(UnitCode::parse("SPJ").unwrap()),
                ..unit("X1", "街道", UnitKind::Street, Some("ZFB"))
            },
            "只有窗口才有派驻单位",
        ),
        (
            NewUnit {
                staffed_by: Some(UnitCode::parse("H1").unwrap()),
                ..unit("W2", "窗口", UnitKind::Window, Some("H1"))
            },
            "应为部门或街道",
        ),
    ] {
        let mut batch = good.clone();
        batch.push(bad);
        let err = app
            .store
            .create_units(&ctx, &tenant.id, &batch)
            .await
            .unwrap_err();
        assert!(err.to_string().contains(expect), "{err}");
        assert!(
            app.store.units(&tenant.id).await.unwrap().is_empty(),
            "nothing half-written"
        );
    }
    let mut batch = good.clone();
    batch.push(NewUnit {
        staffed_by: Some(UnitCode::parse("SPJ").unwrap()),
        ..unit("H1-01", "综合受理窗口", UnitKind::Window, Some("H1"))
    });
    let ids = app
        .store
        .create_units(&ctx, &tenant.id, &batch)
        .await
        .unwrap();
    assert_eq!(ids.len(), 4);
    let window = app.store.unit(&tenant.id, &ids[3]).await.unwrap().unwrap();
    assert_eq!(window.parent_id.as_deref(), Some(ids[2].as_str()));
    assert_eq!(window.staffed_by_id.as_deref(), Some(ids[1].as_str()));
    let page = app
        .store
        .list_units(
            &tenant.id,
            &UnitFilter {
                name_contains: Some("受理".into()),
                ..UnitFilter::default()
            },
            PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(page.items[0].code, "H1-01");
    let other = app
        .store
        .create_tenant(&ctx, "370105", "天桥区")
        .await
        .unwrap();
    assert!(
        app.store.unit(&other.id, &ids[0]).await.unwrap().is_none(),
        "tenants are apart"
    );
}

async fn every_write_is_in_the_audit_log_in_sequence(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ctx = AuditCtx::cli();
    let tenant = app
        .store
        .create_tenant(&ctx, "370104", "槐荫区")
        .await
        .unwrap();
    app.store
        .create_units(
            &ctx,
            &tenant.id,
            &[unit("ZFB", "区政府办公室", UnitKind::DistrictOffice, None)],
        )
        .await
        .unwrap();
    app.store
        .set_tenant_setting(
            &AuditCtx::system(),
            &tenant.id,
            "working_hours",
            "09:00-17:00",
        )
        .await
        .unwrap();
    let entries = app.store.audit_entries(&tenant.id, 10).await.unwrap();
    let seen: Vec<(i64, &str, &str)> = entries
        .iter()
        .map(|e| (e.seq, e.entity.as_str(), e.action.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            (3, "tenant_setting", "update"),
            (2, "unit", "create"),
            (1, "tenant", "create")
        ]
    );
    let changes: serde_json::Value = serde_json::from_str(&entries[1].changes).unwrap();
    assert_eq!(
        changes["rows"].as_array().unwrap().len(),
        1,
        "one digest per row"
    );
    assert_eq!(changes["rows"][0]["digest"].as_str().unwrap().len(), 64);
    assert_eq!(entries[0].actor, "system");
    assert!(entries[2].actor.starts_with("cli:"));
    let installation = app.store.audit_entries("*", 10).await.unwrap();
    assert_eq!(installation.len(), 1, "the shipped calendar load");
    assert_eq!(installation[0].actor, "system");
}

async fn loading_a_year_again_replaces_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ctx = AuditCtx::cli();
    let first = parse_schedule_file(
        "[[year]]\nyear = 2027\nholidays = [{ name = \"元旦\", from = \"2027-01-01\", to = \"2027-01-03\" }]\nworkdays = []\n",
    )
    .unwrap();
    app.store
        .load_calendar_years(&ctx, "a.toml", &first)
        .await
        .unwrap();
    let cal = app.store.calendar().await.unwrap();
    assert!(!cal.is_working_day(chrono::NaiveDate::from_ymd_opt(2027, 1, 1).unwrap()));
    let second = parse_schedule_file(
        "[[year]]\nyear = 2027\nholidays = [{ name = \"元旦\", from = \"2027-01-01\" }]\nworkdays = [\"2027-01-02\"]\n",
    )
    .unwrap();
    app.store
        .load_calendar_years(&ctx, "b.toml", &second)
        .await
        .unwrap();
    let cal = app.store.calendar().await.unwrap();
    let year: &YearSchedule = cal.years().find(|y| y.year() == 2027).unwrap();
    assert_eq!(year.holidays().len(), 1);
    assert_eq!(year.workdays().len(), 1);
    assert!(cal.is_working_day(chrono::NaiveDate::from_ymd_opt(2027, 1, 2).unwrap()));
    let infos = app.store.calendar_years().await.unwrap();
    assert_eq!(infos.last().unwrap().source, "b.toml");
    assert!(matches!(
        app.store.load_calendar_years(&ctx, "empty", &[]).await,
        Err(StoreError::Invalid(_))
    ));
}

async fn the_shipped_years_are_loaded_once_and_never_overwritten(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shipped = Calendar::shipped();
    let stored = app.store.calendar().await.unwrap();
    let years: Vec<_> = stored.years().cloned().collect();
    assert_eq!(years, shipped.years().cloned().collect::<Vec<_>>());
    // an administrator's correction of 2026 survives a restart
    let corrected = parse_schedule_file(
        "[[year]]\nyear = 2026\nholidays = [{ name = \"元旦\", from = \"2026-01-01\" }]\nworkdays = []\n",
    )
    .unwrap();
    app.store
        .load_calendar_years(&AuditCtx::cli(), "fix.toml", &corrected)
        .await
        .unwrap();
    let reopened = store::Store::open(app.database_url(), &app.data_dir(), app.clock.clone())
        .await
        .unwrap();
    let cal = reopened.calendar().await.unwrap();
    assert_eq!(
        cal.years()
            .find(|y| y.year() == 2026)
            .unwrap()
            .holidays()
            .len(),
        1
    );
    reopened.close().await;
}
