//! The audit chain: every write is recorded, and any tampering with database access alone
//! is found and named by `audit verify`.

use store::audit::{AuditCtx, entry_hash};
use test_support::{Backend, TestApp, db_tests};

use crate::bizenv;

db_tests!(
    an_untouched_log_verifies,
    an_altered_entry_is_named,
    an_inserted_entry_is_named,
    a_deleted_middle_entry_is_named,
    deleting_the_newest_entries_is_found_from_the_head_kept_outside,
    re_chaining_without_the_key_is_found,
    the_cli_verifies_and_fails_on_a_break,
    only_the_auditor_reads_the_logs,
);

/// A tenant with a few writes (tenant, units, accounts, two settings); answers the app, the
/// tenant's chain and its last sequence number.
async fn scenario(backend: Backend) -> (TestApp, String, i64) {
    let app = TestApp::spawn_demo(backend).await;
    let tenant = app.store.tenant_by_code("370104").await.unwrap().unwrap();
    for hours in ["08:30-12:00,13:30-17:30", "09:00-12:00,13:00-17:00"] {
        app.store
            .set_tenant_setting(&AuditCtx::cli(), &tenant.id, "working_hours", hours)
            .await
            .unwrap();
    }
    let last = app.store.audit_entries(&tenant.id, 1).await.unwrap()[0].seq;
    (app, tenant.id, last)
}

async fn problems(app: &TestApp) -> Vec<String> {
    app.store.verify_audit().await.unwrap().problems
}

async fn an_untouched_log_verifies(backend: Backend) {
    let (app, tenant, last) = scenario(backend).await;
    let report = app.store.verify_audit().await.unwrap();
    assert_eq!(report.problems, Vec::<String>::new());
    assert_eq!(
        report.chains, 2,
        "the tenant's chain and the installation's"
    );
    let entries = app.store.audit_entries(&tenant, 1000).await.unwrap();
    // tenant, units (one batch entry), demo part, 11 accounts, demo part, staff (one batch
    // entry), units' heads and leaders (one batch entry), demo part, 8 groups each created and
    // given members, demo part, 10 tasks with 9 reports, 2 completion requests and 1
    // acceptance, demo part, the SMS gateway and two accounts' preferences, demo part, two
    // settings, the 5,000 enterprises (one bulk entry), demo part (66); 12 inspections, their
    // 24 findings and 84 steps (19 verified × 4, one submitted 3, two rectifying 2 each, one
    // assigned 1), 6 self-check problems with 3 × 3 steps, a published media report (2), two
    // accountability decisions, demo part (140); 9 appeal categories and 16 street routes, 36
    // past appeals (29 closed in 6 steps, 6 reopened in 9, one unreached in 8), this month's 6
    // (1 + 2 × 2 + 2 × 3 + 4 steps), the 书记直通车 appeal and its dispatch, demo part (279);
    // 12 service items, the year's cases (3 bulk entries) and ratings (2 bulk entries), this
    // month's 4 bad ratings of which 2 verified, demo part (24); the leader's account linked
    // to 王建国, his 6 visits and the 3 appeals they raised, demo part (11)
    assert_eq!(entries.len(), 520);
    assert_eq!(last, 520);
    assert!(entries.iter().all(|e| e.hash.len() == 64));
    assert_eq!(entries.last().unwrap().prev_hash, "");
    assert_eq!(entries[0].prev_hash, entries[1].hash);
    let units = entries
        .iter()
        .find(|e| e.entity == "unit" && e.action == "create")
        .unwrap();
    let rows: serde_json::Value = serde_json::from_str(&units.changes).unwrap();
    let stored_units = app.store.units(&tenant).await.unwrap().len();
    assert_eq!(
        rows["rows"].as_array().unwrap().len(),
        stored_units,
        "a digest per seeded unit"
    );
}

async fn an_altered_entry_is_named(backend: Backend) {
    let (app, tenant, last) = scenario(backend).await;
    let seq = last - 1;
    app.sql(&format!(
        "UPDATE audit_log SET changes = '{{\"value\":\"tampered\"}}' WHERE chain = '{tenant}' AND seq = {seq}"
    ))
    .await;
    let found = problems(&app).await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains(&format!("第 {seq} 条记录的内容被改动或伪造")),
        "{found:?}"
    );
}

async fn an_inserted_entry_is_named(backend: Backend) {
    let (app, tenant, last) = scenario(backend).await;
    let newest = &app.store.audit_entries(&tenant, 1).await.unwrap()[0];
    let seq = last + 1;
    app.sql(&format!(
        "INSERT INTO audit_log (chain, seq, tenant_id, at, actor, client_ip, action, entity, entity_id, changes, prev_hash, hash) \
         SELECT chain, {seq}, tenant_id, at, 'someone', NULL, 'update', 'unit', 'x', '{{}}', '{}', '{}' FROM audit_log WHERE chain = '{tenant}' AND seq = {last}",
        newest.hash,
        "0".repeat(64)
    ))
    .await;
    let found = problems(&app).await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains(&format!("第 {seq} 条记录的内容被改动或伪造")),
        "{found:?}"
    );
}

async fn a_deleted_middle_entry_is_named(backend: Backend) {
    let (app, tenant, _) = scenario(backend).await;
    app.sql(&format!(
        "DELETE FROM audit_log WHERE chain = '{tenant}' AND seq = 2"
    ))
    .await;
    let found = problems(&app).await;
    assert!(!found.is_empty());
    assert!(found[0].contains("第 2 至 2 条记录缺失"), "{found:?}");
}

async fn deleting_the_newest_entries_is_found_from_the_head_kept_outside(backend: Backend) {
    let (app, tenant, last) = scenario(backend).await;
    let from = last - 1;
    app.sql(&format!(
        "DELETE FROM audit_log WHERE chain = '{tenant}' AND seq >= {from}"
    ))
    .await;
    let found = problems(&app).await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains(&format!("最新的第 {from} 至 {last} 条记录缺失")),
        "{found:?}"
    );
}

async fn re_chaining_without_the_key_is_found(backend: Backend) {
    let (app, tenant, last) = scenario(backend).await;
    // the attacker alters the next-to-last entry, then recomputes every hash from there
    // with a key of their own
    let mut entries = app.store.audit_entries(&tenant, 1000).await.unwrap();
    entries.reverse();
    let altered = last - 1;
    let forged_key = [7u8; 32];
    let mut prev = entries[(altered - 2) as usize].hash.clone();
    let mut statements = Vec::new();
    for e in entries.iter().filter(|e| e.seq >= altered) {
        let actor = if e.seq == altered {
            "cli:nobody"
        } else {
            e.actor.as_str()
        };
        let hash = entry_hash(
            &forged_key,
            &e.chain,
            e.seq,
            e.tenant_id.as_deref(),
            e.at,
            actor,
            e.client_ip.as_deref(),
            &e.action,
            &e.entity,
            &e.entity_id,
            &e.changes,
            &prev,
        );
        statements.push(format!(
            "UPDATE audit_log SET actor = '{actor}', prev_hash = '{prev}', hash = '{hash}' WHERE chain = '{tenant}' AND seq = {};",
            e.seq
        ));
        prev = hash;
    }
    statements.push(format!(
        "UPDATE audit_chain SET hash = '{prev}' WHERE chain = '{tenant}';"
    ));
    app.sql(&statements.join("\n")).await;
    let found = problems(&app).await;
    assert!(
        found
            .iter()
            .any(|p| p.contains(&format!("第 {altered} 条记录的内容被改动或伪造"))),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|p| p.contains(&format!("第 {last} 条记录与库外链头不符"))),
        "{found:?}"
    );
}

async fn the_cli_verifies_and_fails_on_a_break(backend: Backend) {
    let (app, tenant, _) = scenario(backend).await;
    let ok = bizenv(&app, &["audit", "verify"]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("审计日志完整"));
    app.sql(&format!(
        "DELETE FROM audit_log WHERE chain = '{tenant}' AND seq = 3"
    ))
    .await;
    let broken = bizenv(&app, &["audit", "verify"]);
    assert!(!broken.status.success());
    let out = String::from_utf8_lossy(&broken.stdout);
    assert!(out.contains("第 3 至 3 条记录缺失"), "{out}");
}

async fn only_the_auditor_reads_the_logs(backend: Backend) {
    let (app, _, last) = scenario(backend).await;
    app.try_login("leader", "Wrong@2026").await;
    let auditor = app.demo_user("auditor").await;
    let (status, page) = auditor.get_json("/api/v1/audit/entries?per_page=5").await;
    assert_eq!(status, 200);
    assert_eq!(page["total"], last);
    assert_eq!(page["items"][0]["seq"], last);
    assert_eq!(page["items"][0]["entity"], "tenant_setting");
    assert!(page["items"][0]["at"].as_str().unwrap().ends_with("+08:00"));
    let (_, install) = auditor
        .get_json("/api/v1/audit/entries?chain=installation")
        .await;
    assert_eq!(install["items"][0]["entity"], "calendar_year");
    let (status, _) = auditor.get_json("/api/v1/audit/entries?chain=other").await;
    assert_eq!(status, 400);
    let (_, logins) = auditor.get_json("/api/v1/audit/logins").await;
    let outcomes: Vec<&str> = logins["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["success", "failure"]);
    assert_eq!(logins["items"][1]["username"], "leader");
    let (_, verify) = auditor.get_json("/api/v1/audit/verify").await;
    assert_eq!(verify["intact"], true);
    let (status, html) = auditor.get_text("/audit").await;
    assert_eq!(status, 200);
    assert!(html.contains("audit-intact"), "{html}");
    assert!(html.contains("审计日志"));

    for username in [
        "admin",
        "secadmin",
        "leader",
        "supervisor",
        "unitadmin",
        "window",
        "observer",
        "enterprise",
    ] {
        let user = app.demo_user(username).await;
        for path in [
            "/api/v1/audit/entries",
            "/api/v1/audit/logins",
            "/api/v1/audit/verify",
        ] {
            assert_eq!(user.get_json(path).await.0, 404, "{username} {path}");
        }
        assert_eq!(user.get("/audit").await.status(), 404, "{username}");
    }
}
