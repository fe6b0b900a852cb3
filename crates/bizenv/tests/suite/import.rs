//! Import of units and staff from XLSX: bad rows are named by row, column and reason while
//! the good rows land; the same file twice changes nothing; phones stay sealed; a file that
//! is not XLSX changes nothing; the CLI, the API and the upload page (CSRF token in the
//! multipart form) all work, for the sysadmin only.

use serde_json::{Value, json};
use test_support::{Backend, TestApp, TestUser, db_tests};

db_tests!(
    a_units_file_lands_its_good_rows_and_names_each_bad_row,
    importing_the_same_units_file_twice_changes_nothing,
    a_staff_file_lands_its_good_rows_with_sealed_phones,
    a_file_that_is_not_xlsx_is_refused_and_changes_nothing,
    the_cli_import_prints_each_bad_row_and_exits_non_zero,
    the_sysadmin_uploads_through_the_page_and_others_get_403,
    the_templates_download_and_open_with_their_headers,
);

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const CANARY: &str = "13912345678";

/// A workbook whose first sheet holds `rows` (row 1 the header); empty strings stay empty.
fn xlsx(rows: &[&[&str]]) -> Vec<u8> {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    for (r, row) in rows.iter().enumerate() {
        for (c, value) in row.iter().enumerate() {
            if !value.is_empty() {
                sheet.write_string(r as u32, c as u16, *value).unwrap();
            }
        }
    }
    workbook.save_to_buffer().unwrap()
}

/// Units with good and bad rows: headers in a free order with an extra column; a child
/// before its parent; rows 4–10 are each wrong in one way.
fn units_file() -> Vec<u8> {
    xlsx(&[
        &["名称", "代码", "备注", "类型", "上级代码", "派驻单位代码"],
        &["试点社区", "T-C1", "", "社区", "T-S1", ""],
        &["试点街道", "T-S1", "新设", "街道", "ZFB", ""],
        &["某单位", "T-X", "", "局", "ZFB", ""],
        &["", "T-D1", "", "部门", "ZFB", ""],
        &["孤儿社区", "T-C2", "", "社区", "NOPE", ""],
        &["新窗口", "T-W1", "", "窗口", "ZWFW", ""],
        &["新窗口二", "T-W2", "", "窗口", "ZWFW", "ZWFW-01"],
        &["重复街道", "T-S1", "", "街道", "ZFB", ""],
        &["子社区", "T-X-C", "", "社区", "T-X", ""],
        &["好窗口", "T-W3", "", "window", "ZWFW", "SPJ"],
    ])
}

fn units_file_errors() -> Value {
    json!([
        {"row": 4, "column": "类型", "reason": "未知的单位类型“局”，应为区委区政府办公室、部门、街道、村居社区、服务大厅、窗口之一"},
        {"row": 5, "column": "名称", "reason": "不能为空"},
        {"row": 6, "column": "上级代码", "reason": "上级单位 NOPE 不存在"},
        {"row": 7, "column": "派驻单位代码", "reason": "窗口须填写派驻单位代码（部门或街道）"},
        {"row": 8, "column": "派驻单位代码", "reason": "派驻单位 ZWFW-01 是窗口，应为部门或街道"},
        {"row": 9, "column": "代码", "reason": "与第 3 行的代码重复"},
        {"row": 10, "column": "上级代码", "reason": "上级单位 T-X（第 4 行）未能导入，本行也未导入"},
    ])
}

async fn tenant_id(app: &TestApp) -> String {
    app.store
        .tenant_by_code("370104")
        .await
        .unwrap()
        .unwrap()
        .id
}

/// Code → (id, parent id, staffed-by id, name) of the demo tenant's units.
async fn units(app: &TestApp) -> std::collections::HashMap<String, store::unit::Unit> {
    let tenant = tenant_id(app).await;
    app.store
        .units(&tenant)
        .await
        .unwrap()
        .into_iter()
        .map(|u| (u.code.clone(), u))
        .collect()
}

async fn audit_seq(app: &TestApp) -> i64 {
    let tenant = tenant_id(app).await;
    app.store.audit_entries(&tenant, 1).await.unwrap()[0].seq
}

/// POSTs an XLSX body to the API as `user` (with the CSRF header).
async fn post_xlsx(user: &TestUser, path: &str, body: Vec<u8>) -> (u16, Value) {
    user.post_body(path, XLSX, body).await
}

/// POSTs an upload form (multipart, as a browser sends it) as `user`; no CSRF header.
async fn upload(
    app: &TestApp,
    user: &TestUser,
    path: &str,
    csrf: Option<&str>,
    file: &[u8],
) -> (u16, String) {
    let boundary = "----bizenvTestBoundary7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    if let Some(csrf) = csrf {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{csrf}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"导入.xlsx\"\r\nContent-Type: {XLSX}\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let response = app
        .client
        .post(app.url(path))
        .header("cookie", format!("bizenv_session={}", user.token))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

async fn a_units_file_lands_its_good_rows_and_names_each_bad_row(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let admin = app.demo_user("admin").await;
    let before = units(&app).await;

    let (status, report) = post_xlsx(&admin, "/api/v1/units/import", units_file()).await;

    assert_eq!(status, 200, "{report}");
    assert_eq!(report["errors"], units_file_errors());
    assert_eq!(
        (&report["created"], &report["updated"], &report["unchanged"]),
        (&json!(3), &json!(0), &json!(0))
    );
    let after = units(&app).await;
    assert_eq!(after.len(), before.len() + 3);
    let street = &after["T-S1"];
    assert_eq!(street.name, "试点街道");
    assert_eq!(street.parent_id.as_ref(), Some(&before["ZFB"].id));
    assert_eq!(after["T-C1"].parent_id.as_ref(), Some(&street.id));
    assert_eq!(after["T-W3"].parent_id.as_ref(), Some(&before["ZWFW"].id));
    assert_eq!(
        after["T-W3"].staffed_by_id.as_ref(),
        Some(&before["SPJ"].id)
    );
    for refused in ["T-X", "T-D1", "T-C2", "T-W1", "T-W2", "T-X-C"] {
        assert!(!after.contains_key(refused), "{refused}");
    }
    // one audit entry for the import, a digest per landed row
    let tenant = tenant_id(&app).await;
    let entry = &app.store.audit_entries(&tenant, 1).await.unwrap()[0];
    assert_eq!(
        (entry.action.as_str(), entry.entity.as_str()),
        ("import", "unit")
    );
    assert!(entry.actor.starts_with("user:"), "{}", entry.actor);
    let changes: Value = serde_json::from_str(&entry.changes).unwrap();
    let rows = changes["rows"].as_array().unwrap();
    assert_eq!(
        rows.iter()
            .map(|r| r["row"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        [3, 11, 2],
        "rows whose parents are settled first, then their children"
    );
    assert!(
        rows.iter()
            .all(|r| r["digest"].as_str().unwrap().len() == 64)
    );
    let report = app.store.verify_audit().await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}

async fn importing_the_same_units_file_twice_changes_nothing(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let admin = app.demo_user("admin").await;
    let file = units_file();
    let (status, first) = post_xlsx(&admin, "/api/v1/units/import", file.clone()).await;
    assert_eq!((status, &first["created"]), (200, &json!(3)), "{first}");
    let units_after_first = units(&app).await;
    let seq = audit_seq(&app).await;

    let (status, second) = post_xlsx(&admin, "/api/v1/units/import", file).await;

    assert_eq!(status, 200);
    assert_eq!(
        (&second["created"], &second["updated"], &second["unchanged"]),
        (&json!(0), &json!(0), &json!(3))
    );
    assert_eq!(
        second["errors"],
        units_file_errors(),
        "the same rows are still wrong"
    );
    assert_eq!(units(&app).await, units_after_first, "no unit changed");
    assert_eq!(
        audit_seq(&app).await,
        seq,
        "nothing written, nothing audited"
    );

    // a renamed unit is updated in place
    let renamed = xlsx(&[
        &["代码", "名称", "类型", "上级代码"],
        &["T-S1", "试点街道办事处", "街道", "ZFB"],
    ]);
    let (status, third) = post_xlsx(&admin, "/api/v1/units/import", renamed).await;
    assert_eq!(status, 200);
    assert_eq!(
        third,
        json!({"created": 0, "updated": 1, "unchanged": 0, "errors": []})
    );
    let after = units(&app).await;
    assert_eq!(after["T-S1"].name, "试点街道办事处");
    assert_eq!(after["T-S1"].id, units_after_first["T-S1"].id);
    assert_eq!(after.len(), units_after_first.len());
}

async fn a_staff_file_lands_its_good_rows_with_sealed_phones(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let admin = app.demo_user("admin").await;
    let file = xlsx(&[
        &["姓名", "所属单位代码", "职务", "手机号", "兼职单位代码"],
        &["测试甲", "FGJ", "科员", CANARY, "JYJ、GXJ"],
        &["测试乙", "FGJ", "科员", "12345", ""],
        &["测试丙", "NOPE", "科员", "", ""],
        &["测试丁", "FGJ", "", "", ""],
        &["测试戊", "ZFB", "主任", "0531-88886666", ""],
    ]);

    let (status, report) = post_xlsx(&admin, "/api/v1/staff/import", file.clone()).await;

    assert_eq!(status, 200, "{report}");
    assert_eq!(
        report,
        json!({"created": 2, "updated": 0, "unchanged": 0, "errors": [
            {"row": 3, "column": "手机号", "reason": "电话应为 11 位手机号码，或带区号的固定电话（如 0531-88886666）"},
            {"row": 4, "column": "所属单位代码", "reason": "单位 NOPE 不存在"},
            {"row": 5, "column": "职务", "reason": "不能为空"},
        ]})
    );
    let units = units(&app).await;
    let (_, found) = admin
        .get_json(&format!("/api/v1/staff?phone={CANARY}"))
        .await;
    assert_eq!(found["total"], 1, "found by the blind index of its phone");
    let jia = &found["items"][0];
    assert_eq!(jia["name"], "测试甲");
    assert_eq!(jia["unit_id"], units["FGJ"].id.as_str());
    assert_eq!(jia["phone_masked"], "139****5678");
    let mut part_time: Vec<&str> = jia["part_time_unit_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    part_time.sort();
    let mut expected = vec![units["JYJ"].id.as_str(), units["GXJ"].id.as_str()];
    expected.sort();
    assert_eq!(part_time, expected);
    let (_, wu) = admin
        .get_json("/api/v1/staff?q=%E6%B5%8B%E8%AF%95%E6%88%8A")
        .await;
    assert_eq!(wu["items"][0]["phone_masked"], "0531-****6666");
    let (_, refused) = admin
        .get_json("/api/v1/staff?q=%E6%B5%8B%E8%AF%95%E4%B9%99")
        .await;
    assert_eq!(refused["total"], 0, "a bad row does not land");

    // the phone is nowhere in the audit log: only digests of rows with its blind index
    let tenant = tenant_id(&app).await;
    let entries = app.store.audit_entries(&tenant, 100_000).await.unwrap();
    assert_eq!(
        (entries[0].action.as_str(), entries[0].entity.as_str()),
        ("import", "staff")
    );
    for entry in &entries {
        assert!(!entry.changes.contains(CANARY), "{}", entry.changes);
        assert!(!entry.changes.contains("88886666"), "{}", entry.changes);
    }

    // the same file again: matched by name and unit, nothing changes
    let seq = audit_seq(&app).await;
    let (status, again) = post_xlsx(&admin, "/api/v1/staff/import", file).await;
    assert_eq!(status, 200);
    assert_eq!(
        (&again["created"], &again["updated"], &again["unchanged"]),
        (&json!(0), &json!(0), &json!(2))
    );
    assert_eq!(audit_seq(&app).await, seq);

    // a new position for the same person updates that person; a blank phone keeps the phone
    let promoted = xlsx(&[
        &["姓名", "所属单位代码", "职务"],
        &["测试甲", "FGJ", "副科长"],
    ]);
    let (_, promoted) = post_xlsx(&admin, "/api/v1/staff/import", promoted).await;
    assert_eq!(
        promoted,
        json!({"created": 0, "updated": 1, "unchanged": 0, "errors": []})
    );
    let (_, jia) = admin
        .get_json(&format!("/api/v1/staff/{}", jia["id"].as_str().unwrap()))
        .await;
    assert_eq!(jia["position"], "副科长");
    assert_eq!(jia["phone_masked"], "139****5678");

    // a missing required column refuses the file, naming the column
    let missing = xlsx(&[&["姓名", "所属单位代码", "手机号"], &["测试己", "FGJ", ""]]);
    let seq = audit_seq(&app).await;
    let (status, body) = post_xlsx(&admin, "/api/v1/staff/import", missing).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["message"], "表格第 1 行缺少必需的列：“职务”");
    assert_eq!(audit_seq(&app).await, seq);
}

async fn a_file_that_is_not_xlsx_is_refused_and_changes_nothing(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let admin = app.demo_user("admin").await;
    let before = units(&app).await;
    let seq = audit_seq(&app).await;
    for path in ["/api/v1/units/import", "/api/v1/staff/import"] {
        let (status, body) =
            post_xlsx(&admin, path, "代码,名称\nX1,某单位\n".as_bytes().to_vec()).await;
        assert_eq!(status, 422, "{path}: {body}");
        assert_eq!(body["error"]["code"], "validation_failed");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.starts_with("文件不是有效的 XLSX 表格："),
            "{message}"
        );
    }
    assert_eq!(units(&app).await, before);
    assert_eq!(audit_seq(&app).await, seq);
}

async fn the_cli_import_prints_each_bad_row_and_exits_non_zero(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let path = app.data_dir().join("units.xlsx");
    std::fs::write(
        &path,
        xlsx(&[
            &["代码", "名称", "类型", "上级代码"],
            &["T-D9", "新设局", "部门", "ZFB"],
            &["T-X", "某单位", "局", "ZFB"],
        ]),
    )
    .unwrap();

    let output = crate::bizenv(
        &app,
        &[
            "import",
            "units",
            path.to_str().unwrap(),
            "--tenant",
            "370104",
        ],
    );

    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("新增 1 行，更新 0 行，未变化 0 行，有误 1 处"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "第 3 行 列“类型”：未知的单位类型“局”，应为区委区政府办公室、部门、街道、村居社区、服务大厅、窗口之一"
        ),
        "{stdout}"
    );
    assert!(stderr.contains("1 行有误未导入"), "{stderr}");
    let after = units(&app).await;
    assert_eq!(after["T-D9"].name, "新设局", "the good row landed");
    let tenant = tenant_id(&app).await;
    let entry = &app.store.audit_entries(&tenant, 1).await.unwrap()[0];
    assert_eq!(entry.action, "import");
    assert!(entry.actor.starts_with("cli:"), "{}", entry.actor);

    // a file that is not XLSX: an error, nothing imported
    std::fs::write(&path, "not a spreadsheet").unwrap();
    let output = crate::bizenv(&app, &["import", "staff", path.to_str().unwrap()]);
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("文件不是有效的 XLSX 表格"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

async fn the_sysadmin_uploads_through_the_page_and_others_get_403(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let admin = app.demo_user("admin").await;
    let leader = app.demo_user("leader").await;
    let (_, tree) = admin.get_text("/units").await;
    assert!(
        tree.contains("href=\"/units/import\""),
        "linked for the sysadmin"
    );
    let (_, staff) = admin.get_text("/staff").await;
    assert!(staff.contains("href=\"/staff/import\""));
    let (_, tree) = leader.get_text("/units").await;
    assert!(!tree.contains("/units/import"), "not for others");
    let (status, form) = admin.get_text("/units/import").await;
    assert_eq!(status, 200);
    assert!(form.contains("enctype=\"multipart/form-data\""), "{form}");
    assert!(form.contains(&admin.csrf_token));
    assert!(form.contains("/units/import/template.xlsx"));

    let before = units(&app).await;
    let seq = audit_seq(&app).await;
    let (status, _) = upload(&app, &admin, "/units/import", None, &units_file()).await;
    assert_eq!(status, 403, "no CSRF token, no import");
    let (status, _) = upload(&app, &admin, "/units/import", Some("wrong"), &units_file()).await;
    assert_eq!(status, 403);
    let (status, _) = upload(
        &app,
        &leader,
        "/units/import",
        Some(&leader.csrf_token),
        &units_file(),
    )
    .await;
    assert_eq!(status, 403, "a leader sees the units but may not import");
    let (status, _) = leader.get_text("/units/import").await;
    assert_eq!(status, 403);
    assert_eq!(units(&app).await, before);
    assert_eq!(audit_seq(&app).await, seq);

    let (status, page) = upload(
        &app,
        &admin,
        "/units/import",
        Some(&admin.csrf_token),
        &units_file(),
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("<strong id=\"import-created\">3</strong>"),
        "{page}"
    );
    assert!(
        page.contains("<strong id=\"import-errors\">7</strong>"),
        "{page}"
    );
    assert!(
        page.contains("<tr><td>9</td><td>代码</td><td>与第 3 行的代码重复</td></tr>"),
        "{page}"
    );
    assert_eq!(units(&app).await.len(), before.len() + 3);

    // the staff page too; a file-level error shows on the form
    let staff_file = xlsx(&[
        &["姓名", "所属单位代码", "职务", "手机号"],
        &["上传甲", "T-S1", "科员", CANARY],
    ]);
    let (status, page) = upload(
        &app,
        &admin,
        "/staff/import",
        Some(&admin.csrf_token),
        &staff_file,
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("<strong id=\"import-created\">1</strong>"),
        "{page}"
    );
    assert!(!page.contains(CANARY));
    let (status, page) = upload(
        &app,
        &admin,
        "/staff/import",
        Some(&admin.csrf_token),
        b"not a spreadsheet",
    )
    .await;
    assert_eq!(status, 422);
    assert!(page.contains("文件不是有效的 XLSX 表格"), "{page}");
}

async fn the_templates_download_and_open_with_their_headers(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let admin = app.demo_user("admin").await;
    for (path, headers) in [
        (
            "/units/import/template.xlsx",
            ["代码", "名称", "类型", "上级代码", "派驻单位代码"],
        ),
        (
            "/staff/import/template.xlsx",
            ["姓名", "所属单位代码", "职务", "手机号", "兼职单位代码"],
        ),
    ] {
        let response = admin.get(path).await;
        assert_eq!(response.status().as_u16(), 200, "{path}");
        assert_eq!(response.headers()["content-type"], XLSX);
        let rows = crate::xlsx_rows(&response.bytes().await.unwrap());
        assert_eq!(rows[0], headers, "{path}");
        assert_eq!(rows.len(), 2, "{path}: one example row");
    }
    let leader = app.demo_user("leader").await;
    let (status, _) = leader.get_text("/staff/import/template.xlsx").await;
    assert_eq!(status, 403);
    let auditor = app.demo_user("auditor").await;
    let (status, _) = auditor.get_text("/units/import/template.xlsx").await;
    assert_eq!(status, 404);
}
