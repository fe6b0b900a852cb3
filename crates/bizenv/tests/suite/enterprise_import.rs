//! The enterprise import: CSV (UTF-8, GB18030) and XLSX through the API, the good rows land
//! and every bad one is reported with the row number a spreadsheet shows, its column and
//! reason, also as a downloadable XLSX; a second import of the same file changes nothing; an
//! export imported back changes nothing; bad files change nothing.

use domain::enterprise::FILE_COLUMNS;
use domain::uscc::Uscc;
use serde_json::{Value, json};
use test_support::{Backend, TestApp, TestUser, db_tests};

db_tests!(
    an_import_lands_the_good_rows_reports_each_bad_one_and_is_idempotent,
    an_export_imported_back_changes_nothing,
    bad_files_change_nothing_and_a_street_imports_its_own,
    the_cli_imports_a_file_and_writes_the_row_errors_beside_it,
    a_large_import_is_audited_in_parts_of_one_batch,
);

/// `bizenv bench import` runs the product's import and sqlite3's reference (SQLite only: the
/// figures compare the two on one file).
#[test]
fn the_import_benchmark_runs_through_the_product_code() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_bizenv"))
        .args(["bench", "import", "--rows", "300"])
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for line in [
        "首次导入",
        "新增 300，更新 0，未变化 0，有误 0",
        "新增 0，更新 0，未变化 300，有误 0",
        "参照：sqlite3 .import",
    ] {
        assert!(stdout.contains(line), "{line}: {stdout}");
    }
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

fn code(body: &str) -> String {
    Uscc::complete(body).unwrap().as_str().to_owned()
}

/// POSTs a file to the import API as `user`.
async fn post_file(user: &TestUser, content_type: &str, body: Vec<u8>) -> (u16, Value) {
    user.post_body("/api/v1/enterprises/import", content_type, body)
        .await
}

fn csv(rows: &[Vec<String>]) -> String {
    let mut text = FILE_COLUMNS.join(",");
    text.push_str("\r\n");
    for row in rows {
        text.push_str(&row.join(","));
        text.push_str("\r\n");
    }
    text
}

/// A row of the 15 file columns.
fn row(uscc: &str, name: &str, street: &str, established: &str, leader: &str) -> Vec<String> {
    [
        uscc,
        name,
        "张伟",
        "济南市槐荫区经十路 1 号",
        street,
        "G5430",
        "现代物流",
        "小型",
        established,
        "500",
        "存续",
        "王芳",
        "13805310001",
        "是",
        leader,
    ]
    .map(str::to_owned)
    .to_vec()
}

/// A staff member whose name no one else has.
async fn unique_leader(user: &TestUser) -> (String, String) {
    let (_, staff) = user.get_json("/api/v1/staff?per_page=200").await;
    let items = staff["items"].as_array().unwrap();
    let person = items
        .iter()
        .find(|s| items.iter().filter(|o| o["name"] == s["name"]).count() == 1)
        .unwrap();
    (
        person["id"].as_str().unwrap().to_owned(),
        person["name"].as_str().unwrap().to_owned(),
    )
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    app.sql_rows(&format!("SELECT CAST(COUNT(*) AS TEXT) FROM {sql}"))
        .await[0][0]
        .parse()
        .unwrap()
}

async fn search(user: &TestUser, q: &str) -> Value {
    let (status, found) = user
        .get_json(&format!(
            "/api/v1/enterprises?q={}",
            test_support::encode(q)
        ))
        .await;
    assert_eq!(status, 200, "{found}");
    found
}

async fn an_import_lands_the_good_rows_reports_each_bad_one_and_is_idempotent(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let supervisor = app.demo_user("supervisor").await;
    let (leader_id, leader) = unique_leader(&supervisor).await;
    let first = code("91370104MA3D0001");
    let second = code("91370104MA3D0002");
    let mut bad_check = code("91370104MA3D0003");
    let last = if bad_check.ends_with('1') { '2' } else { '1' };
    bad_check.replace_range(17.., &last.to_string());
    let twice = code("91370104MA3D0004");
    let rows = vec![
        row(
            &first,
            "槐荫智汇物流有限公司",
            "振兴街街道",
            "2015/3/1",
            &leader,
        ),
        row(
            &bad_check,
            "槐荫校验有限公司",
            "振兴街街道",
            "2015-03-01",
            "",
        ),
        row(
            &code("91370104MA3D0005"),
            "槐荫火星有限公司",
            "火星街道",
            "2015-03-01",
            "",
        ),
        row(
            &code("91370104MA3D0006"),
            "槐荫日期有限公司",
            "振兴街街道",
            "2015-02-30",
            "",
        ),
        row(&twice, "槐荫重复甲有限公司", "振兴街街道", "2015-03-01", ""),
        row(&twice, "槐荫重复乙有限公司", "振兴街街道", "2015-03-01", ""),
        row(&second, "槐荫智汇商贸有限公司", "", "", ""),
    ];
    let file = csv(&rows).into_bytes();
    let imports = "audit_log WHERE action = 'import'";
    let (status, report) = post_file(&supervisor, "text/csv", file.clone()).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        (&report["created"], &report["updated"], &report["unchanged"]),
        (&json!(2), &json!(0), &json!(0)),
        "{report}"
    );
    let errors: Vec<(i64, &str)> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["row"].as_i64().unwrap(), e["column"].as_str().unwrap()))
        .collect();
    assert_eq!(
        errors,
        [
            (3, "统一社会信用代码"),
            (4, "所属街道"),
            (5, "成立日期"),
            (6, "统一社会信用代码"),
            (7, "统一社会信用代码"),
        ],
        "{report}"
    );
    let reason = |row: i64| {
        report["errors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["row"] == row)
            .unwrap()["reason"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert!(reason(3).contains("校验位错误"), "{report}");
    assert!(reason(4).contains("火星街道"), "{report}");
    assert!(reason(5).contains("不存在"), "{report}");
    assert!(reason(6).contains("第 7 行"), "{report}");
    assert_eq!(count(&app, imports).await, 1, "one audit entry");

    // the landed rows, matched by name
    let found = search(&supervisor, "智汇物流").await;
    assert_eq!(found["total"], 1, "{found}");
    let landed = &found["items"][0];
    assert_eq!(landed["uscc"], first.as_str());
    assert_eq!(landed["street"]["name"], "振兴街街道");
    assert_eq!(landed["liaison_leader"]["id"], leader_id.as_str());
    assert_eq!(landed["established_on"], "2015-03-01");
    assert_eq!(landed["contact_phone"], "13805310001");
    assert_eq!(search(&supervisor, "智汇商贸").await["total"], 1);

    // the row errors as XLSX, for the importer only
    let url = report["report_url"].as_str().unwrap().to_owned();
    let response = supervisor.get(&url).await;
    assert_eq!(response.status(), 200);
    let sheet = store::import::read_table(&response.bytes().await.unwrap()).unwrap();
    assert_eq!(sheet.headers(), ["行号", "列", "原因"]);
    let listed: Vec<&str> = sheet.rows().iter().map(|(_, r)| r[0].as_str()).collect();
    assert_eq!(listed, ["3", "4", "5", "6", "7"]);
    let street_contact = app.demo_user("street").await;
    assert_eq!(street_contact.get(&url).await.status(), 404);

    // the same file again: nothing changes
    let (status, again) = post_file(&supervisor, "text/csv", file).await;
    assert_eq!(status, 200);
    assert_eq!(
        (&again["created"], &again["updated"], &again["unchanged"]),
        (&json!(0), &json!(0), &json!(2)),
        "{again}"
    );
    assert_eq!(again["errors"], report["errors"]);
    assert_eq!(count(&app, imports).await, 1, "no second audit entry");

    // a GB18030 file (Excel on Chinese Windows) renames one: its old name is no longer found
    let renamed = csv(&[row(
        &first,
        "槐荫智汇冷链有限公司",
        "振兴街",
        "2015年3月1日",
        &leader,
    )]);
    let (gb, _, lossy) = encoding_rs::GB18030.encode(&renamed);
    assert!(!lossy);
    assert!(std::str::from_utf8(&gb).is_err(), "the body is not UTF-8");
    let (status, changed) = post_file(&supervisor, "text/csv", gb.into_owned()).await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(
        (&changed["updated"], &changed["errors"]),
        (&json!(1), &json!([])),
        "{changed}"
    );
    assert_eq!(search(&supervisor, "智汇冷链").await["total"], 1);
    assert_eq!(search(&supervisor, "智汇物流").await["total"], 0);
    assert_eq!(count(&app, imports).await, 2);
}

async fn an_export_imported_back_changes_nothing(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let supervisor = app.demo_user("supervisor").await;
    let before = count(&app, "audit_log").await;
    for (format, content_type) in [("xlsx", XLSX), ("csv", "text/csv")] {
        let response = supervisor
            .get(&format!("/api/v1/enterprises/export?format={format}"))
            .await;
        assert_eq!(response.status(), 200);
        let file = response.bytes().await.unwrap().to_vec();
        let (status, report) = post_file(&supervisor, content_type, file).await;
        assert_eq!(status, 200, "{report}");
        assert_eq!(report["errors"], json!([]), "{format}: {report}");
        assert_eq!(
            (&report["created"], &report["updated"], &report["unchanged"]),
            (&json!(0), &json!(0), &json!(store::demo::DEMO_ENTERPRISES)),
            "{format}"
        );
    }
    assert_eq!(count(&app, "audit_log").await, before, "nothing written");
}

async fn bad_files_change_nothing_and_a_street_imports_its_own(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let supervisor = app.demo_user("supervisor").await;
    let enterprises = count(&app, "enterprise").await;
    let audit = count(&app, "audit_log").await;
    let good = csv(&[row(
        &code("91370104MA3D0007"),
        "槐荫智汇文化有限公司",
        "振兴街街道",
        "",
        "",
    )]);
    let without_name = good.replacen("企业名称", "公司名称", 1);
    for (content_type, body, says) in [
        ("text/csv", Vec::new(), "空"),
        (XLSX, good.clone().into_bytes(), "不是 XLSX"),
        (
            "application/octet-stream",
            b"\xD0\xCF\x11\xE0\x00\x00".to_vec(),
            ".xls",
        ),
        ("text/csv", without_name.into_bytes(), "企业名称"),
        ("text/csv", vec![0x81, 0x20, 0xFF, 0xFF, b'\n'], "编码"),
    ] {
        let (status, answer) = post_file(&supervisor, content_type, body).await;
        assert_eq!(status, 422, "{says}: {answer}");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{says}: {message}");
    }
    // the page says it in Chinese
    let (status, page) = supervisor
        .post_multipart(
            "/enterprises/import",
            &[("csrf_token", supervisor.csrf_token.as_str())],
            "企业.xlsx",
            good.as_bytes(),
        )
        .await;
    assert_eq!(status, 422);
    assert!(page.contains("内容不是 XLSX 表格"), "{page}");
    // over the limit (HTTP answers 413 before the store sees it; the CLI reaches the store)
    let tenant = app.store.tenant_by_code("370104").await.unwrap().unwrap();
    let oversized = vec![b'a'; store::enterprise_import::FILE_LIMIT + 1];
    let refused = app
        .store
        .import_enterprises(
            &store::audit::AuditCtx::cli(),
            &tenant.id,
            &oversized,
            store::enterprise_import::FileKind::Csv,
            None,
            &|_| {},
        )
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("文件过大"), "{refused}");
    assert_eq!(
        count(&app, "enterprise").await,
        enterprises,
        "nothing imported"
    );
    assert_eq!(count(&app, "audit_log").await, audit, "nothing written");

    // a street's contact imports its street's enterprises, not another's
    let street_contact = app.demo_user("street").await;
    let file = csv(&[
        row(
            &code("91370104MA3D0008"),
            "槐荫智汇电子有限公司",
            "振兴街街道",
            "",
            "",
        ),
        row(
            &code("91370104MA3D0009"),
            "槐荫智汇机械有限公司",
            "道德街街道",
            "",
            "",
        ),
    ]);
    let (status, report) = post_file(&street_contact, "text/csv", file.into_bytes()).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["created"], 1, "{report}");
    assert_eq!(report["errors"][0]["row"], 3, "{report}");
    assert!(
        report["errors"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("本街道"),
        "{report}"
    );
    let leader = app.demo_user("leader").await;
    let (status, _) = post_file(&leader, "text/csv", good.into_bytes()).await;
    assert_eq!(
        status, 403,
        "a leader reads the registry but does not import"
    );
}

async fn the_cli_imports_a_file_and_writes_the_row_errors_beside_it(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("企业名单.csv");
    let mut bad = code("91370104MA3F0002");
    let last = if bad.ends_with('1') { '2' } else { '1' };
    bad.replace_range(17.., &last.to_string());
    std::fs::write(
        &file,
        csv(&[
            row(
                &code("91370104MA3F0001"),
                "槐荫智汇环保有限公司",
                "振兴街街道",
                "",
                "",
            ),
            row(&bad, "槐荫校验有限公司", "振兴街街道", "", ""),
        ]),
    )
    .unwrap();
    let path = file.to_str().unwrap();
    let out = crate::bizenv(&app, &["import", "enterprises", path, "--tenant", "370104"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "a bad row fails the command: {stdout}"
    );
    assert!(
        stdout.contains("新增 1 行，更新 0 行，未变化 0 行，有误 1 处"),
        "{stdout}"
    );
    assert!(
        stdout.contains("第 3 行 列“统一社会信用代码”：校验位错误"),
        "{stdout}"
    );
    assert!(stderr.contains("1 行有误未导入"), "{stderr}");
    let report = dir.path().join("企业名单-错误.xlsx");
    let sheet = store::import::read_table(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(
        sheet.rows()[0].1[..2],
        ["3".to_owned(), "统一社会信用代码".to_owned()]
    );
    let supervisor = app.demo_user("supervisor").await;
    assert_eq!(search(&supervisor, "智汇环保").await["total"], 1);

    let again = crate::bizenv(&app, &["import", "enterprises", path, "--tenant", "370104"]);
    let stdout = String::from_utf8_lossy(&again.stdout);
    assert!(
        stdout.contains("新增 0 行，更新 0 行，未变化 1 行，有误 1 处"),
        "{stdout}"
    );
}

/// 25,000 rows: prepared on another thread while written, audited as three entries of
/// 10,000, 10,000 and 5,000 digests sharing the batch id; each row lands with its grams and
/// its timeline entry.
async fn a_large_import_is_audited_in_parts_of_one_batch(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let supervisor = app.demo_user("supervisor").await;
    let before = count(&app, "enterprise").await;
    let mut file = String::from("统一社会信用代码,企业名称\r\n");
    for i in 0..25_000 {
        file.push_str(&format!(
            "{},槐荫批次{i}号有限公司\r\n",
            code(&format!("9137010479{i:06}"))
        ));
    }
    let (status, report) = post_file(&supervisor, "text/csv", file.into_bytes()).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["created"], 25_000, "{report}");
    assert_eq!(count(&app, "enterprise").await, before + 25_000);
    let history = "record_history WHERE record_type = 'enterprise' AND event = 'imported'";
    assert_eq!(count(&app, history).await, 25_000);

    let entries = app
        .sql_rows("SELECT entity_id, changes FROM audit_log WHERE action = 'import' ORDER BY seq")
        .await;
    let parts: Vec<(i64, i64, usize, i64)> = entries
        .iter()
        .map(|e| {
            let changes: Value = serde_json::from_str(&e[1]).unwrap();
            assert_eq!(changes["batch"].as_str(), Some(e[0].as_str()));
            assert_eq!(e[0], entries[0][0], "one batch");
            assert_eq!(changes["created"], 25_000);
            (
                changes["part"].as_i64().unwrap(),
                changes["parts"].as_i64().unwrap(),
                changes["rows"].as_array().unwrap().len(),
                changes["rows"][0]["row"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        parts,
        [
            (1, 3, 10_000, 2),
            (2, 3, 10_000, 10_002),
            (3, 3, 5_000, 20_002)
        ]
    );

    // found by a fragment of the last row's name, and only that row
    let found = search(&supervisor, "批次24999号").await;
    assert_eq!(found["total"], 1, "{found}");
    assert_eq!(found["items"][0]["uscc"], code("9137010479024999"));
}
