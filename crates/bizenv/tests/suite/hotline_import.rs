//! The 12345 hotline import: the supervisor downloads the template and imports it (page and
//! API), each work order becoming an appeal of source hotline with its dispatch deadline and
//! proposed lead unit; a second import creates nothing and says so; bad rows are each named
//! by row, column and reason while the good rows land; an empty file is refused whole; no one
//! else finds the import; the caller's phone never reaches the unit.

use serde_json::{Value, json};
use test_support::{Backend, TestApp, TestUser, at_local as at, db_tests};

db_tests!(
    the_supervisor_imports_the_hotline_template_once_however_often_it_is_sent,
    bad_hotline_rows_are_named_and_the_good_rows_land,
    an_empty_hotline_file_is_refused_and_no_one_else_finds_the_import,
    the_hotline_caller_never_reaches_the_unit,
    the_cli_imports_a_hotline_file_once_and_names_its_bad_rows,
);

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The canary caller: their name and phone must never reach a unit.
const CANARY_NAME: &str = "金丝雀来电人";
const CANARY_PHONE: &str = "13987654321";

const HEADER: &str =
    "工单编号,诉求类型,诉求分类,所属街道,标题,诉求内容,诉求地址,来电人,来电号码,受理时间";

async fn count(app: &TestApp, table: &str) -> i64 {
    app.sql_rows(&format!("SELECT CAST(COUNT(*) AS TEXT) FROM {table}"))
        .await[0][0]
        .parse()
        .unwrap()
}

/// The id of the hotline appeal with work-order number `number`.
async fn appeal_of(app: &TestApp, number: &str) -> String {
    let rows = app
        .sql_rows(&format!(
            "SELECT id FROM appeal WHERE source = 'hotline' AND external_id = '{number}'"
        ))
        .await;
    assert_eq!(rows.len(), 1, "one appeal for work order {number}");
    rows[0][0].clone()
}

async fn import(user: &TestUser, content_type: &str, body: &[u8]) -> (u16, Value) {
    user.post_body("/api/v1/appeals/import", content_type, body.to_vec())
        .await
}

/// (row, column) of each refused row of a report.
fn refused(report: &Value) -> Vec<(i64, String)> {
    report["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("{report}"))
        .iter()
        .map(|e| {
            (
                e["row"].as_i64().unwrap(),
                e["column"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn the_supervisor_imports_the_hotline_template_once_however_often_it_is_sent(
    backend: Backend,
) {
    let app = TestApp::spawn_demo(backend).await;
    app.clock.set(at("2026-11-30 10:00"));
    let supervisor = app.demo_user("supervisor").await;
    let street = supervisor.unit_id("370104001").await;

    // the queue links to the import page, which offers the template
    let (_, queue) = supervisor.get_text("/appeals").await;
    assert!(queue.contains("href=\"/appeals/import\""), "{queue}");
    let (status, page) = supervisor.get_text("/appeals/import").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("导入12345热线工单") && page.contains("工单编号"),
        "{page}"
    );
    let response = supervisor.get("/appeals/import/template.xlsx").await;
    assert_eq!(response.status(), 200);
    let template = response.bytes().await.unwrap().to_vec();
    assert!(template.starts_with(b"PK"), "an XLSX file");

    // the template as it is: one appeal of source hotline, received now, due for dispatch in
    // 2 working hours, proposed to the street (城市管理 is routed to the street it happens in)
    let before = count(&app, "appeal").await;
    let (status, report) = import(&supervisor, XLSX, &template).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        (&report["created"], &report["unchanged"]),
        (&json!(1), &json!(0)),
        "{report}"
    );
    assert_eq!(refused(&report), []);
    assert!(report.get("report_url").is_none(), "{report}");
    assert_eq!(count(&app, "appeal").await, before + 1);
    let id = appeal_of(&app, "GD202611300001").await;
    let (status, appeal) = supervisor.get_json(&format!("/api/v1/appeals/{id}")).await;
    assert_eq!(status, 200, "{appeal}");
    assert_eq!(appeal["source"], "hotline");
    assert_eq!(appeal["kind"], "complaint");
    assert_eq!(appeal["category_code"], "CSGL");
    assert_eq!(appeal["state"], "submitted");
    assert_eq!(appeal["title"], "店外占道经营");
    assert_eq!(appeal["has_submitter"], true);
    assert_eq!(appeal["proposed_unit"]["id"], street.as_str(), "{appeal}");
    assert_eq!(appeal["received_at"], "2026-11-30T10:00:00+08:00");
    assert_eq!(appeal["due_at"], "2026-11-30T12:00:00+08:00", "{appeal}");
    assert_eq!(appeal["deadlines"][0]["step"], "dispatch", "{appeal}");
    assert_eq!(appeal["deadlines"][0]["open"], true, "{appeal}");
    // the hotline's own time is kept with the receipt, not used for the deadline
    let audit = app
        .sql_rows(&format!(
            "SELECT changes FROM audit_log WHERE action = 'create' AND entity = 'appeal' AND entity_id = '{id}'"
        ))
        .await;
    assert_eq!(audit.len(), 1);
    assert!(
        audit[0][0].contains("hotline_received_at") && audit[0][0].contains("2026-11-30T01:15:00"),
        "{audit:?}"
    );
    // the supervisors are told, as of any new appeal
    let (_, inbox) = supervisor.get_text("/api/v1/notifications").await;
    assert!(inbox.contains("店外占道经营"), "{inbox}");

    // the same file again, by the API and on the page: nothing created, and it says so
    let (appeals, audits, notices) = (
        count(&app, "appeal").await,
        count(&app, "audit_log").await,
        count(&app, "notification").await,
    );
    let (status, again) = import(&supervisor, XLSX, &template).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(
        (&again["created"], &again["unchanged"]),
        (&json!(0), &json!(1)),
        "{again}"
    );
    let (status, page) = supervisor
        .post_multipart("/appeals/import", &[], "12345工单.xlsx", &template)
        .await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("<strong id=\"import-created\">0</strong>")
            && page.contains("<strong id=\"import-unchanged\">1</strong>")
            && page.contains("此前已导入、本次未重复创建的工单： <strong>1</strong>")
            && !page.contains("import-updated"),
        "{page} (a work order is never updated: no such count)"
    );
    assert_eq!(count(&app, "appeal").await, appeals);
    assert_eq!(count(&app, "audit_log").await, audits);
    assert_eq!(count(&app, "notification").await, notices);

    // a CSV on the page: a new work order lands and the report shows it
    let csv = format!("{HEADER}\nGD-PAGE-1,咨询,企业开办,中大槐树,,营业执照变更需要哪些材料,,,,\n");
    let (status, page) = supervisor
        .post_multipart("/appeals/import", &[], "工单.csv", csv.as_bytes())
        .await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("<strong id=\"import-created\">1</strong>"),
        "{page}"
    );
    let id = appeal_of(&app, "GD-PAGE-1").await;
    let (_, appeal) = supervisor.get_json(&format!("/api/v1/appeals/{id}")).await;
    assert_eq!(appeal["kind"], "consultation");
    assert_eq!(
        appeal["title"], "营业执照变更需要哪些材料",
        "the content's beginning"
    );
    assert_eq!(
        appeal["proposed_unit"]["id"],
        supervisor.unit_id("SPJ").await.as_str(),
        "企业开办's default lead unit"
    );
    assert_eq!(appeal["has_submitter"], false);
}

async fn bad_hotline_rows_are_named_and_the_good_rows_land(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    app.clock.set(at("2026-11-30 10:00"));
    let supervisor = app.demo_user("supervisor").await;
    let csv = format!(
        "{HEADER}\n\
         GD-1,投诉,城市管理,振兴街,占道经营,店外占道经营,经十路 1 号,王先生,13800138001,2026-11-30 08:00\n\
         GD-2,投诉,城市管理,火星街道,占道,占道经营,,,,\n\
         GD-3,表扬,城市管理,振兴街,表扬,表扬工作人员,,,,\n\
         GD-4,咨询,城市管理,振兴街,无内容,,,,,\n\
         GD-1,投诉,城市管理,振兴街,重复,重复的工单,,,,\n\
         GD-6,求助,QYKB,,,企业开办如何办理营业执照变更,,李女士,0531-88886666,2026/11/30 09:00\n\
         GD-7,投诉,环境保护,振兴街,分类不对,噪音扰民,,,,\n\
         GD-8,投诉,城市管理,振兴街,号码隐去,噪音扰民,,,138****0000,\n\
         GD-9,投诉,城市管理,振兴街,时间不对,噪音扰民,,,,昨天下午\n\
         ,投诉,城市管理,振兴街,没有编号,噪音扰民,,,,\n"
    );
    // as Excel on Chinese Windows saves it
    let (gb, _, _) = encoding_rs::GB18030.encode(&csv);
    let before = count(&app, "appeal").await;
    let (status, report) = import(&supervisor, "text/csv", &gb).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["created"], 2, "{report}");
    let expected: Vec<(i64, String)> = [
        (3, "所属街道"),
        (4, "诉求类型"),
        (5, "诉求内容"),
        (6, "工单编号"),
        (8, "诉求分类"),
        (9, "来电号码"),
        (10, "受理时间"),
        (11, "工单编号"),
    ]
    .into_iter()
    .map(|(row, column)| (row, column.to_owned()))
    .collect();
    assert_eq!(refused(&report), expected, "{report}");
    // the API also offers the refused rows as an XLSX
    let url = report["report_url"].as_str().expect("a report_url");
    assert!(url.starts_with("/appeals/import/reports/"), "{url}");
    let reasons: Vec<&str> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["reason"].as_str().unwrap())
        .collect();
    for (reason, says) in reasons.iter().zip([
        "“火星街道”不是本区的街道",
        "未知的诉求类型“表扬”",
        "诉求内容不能为空",
        "与第 2 行的工单编号重复",
        "“环境保护”不是本区的诉求分类",
        "隐去中间位",
        "YYYY-MM-DD HH:MM",
        "工单编号不能为空",
    ]) {
        assert!(reason.contains(says), "{reason} should say {says}");
    }
    assert_eq!(count(&app, "appeal").await, before + 2);
    let id = appeal_of(&app, "GD-6").await;
    let (_, appeal) = supervisor.get_json(&format!("/api/v1/appeals/{id}")).await;
    assert_eq!(appeal["kind"], "demand", "求助 is a demand");
    assert_eq!(appeal["category_code"], "QYKB", "a category by its code");
    assert_eq!(appeal["street"], Value::Null);
    appeal_of(&app, "GD-1").await;

    // corrected rows sent again with the good ones: only the corrected land
    let fixed = format!(
        "{HEADER}\n\
         GD-1,投诉,城市管理,振兴街,占道经营,店外占道经营,经十路 1 号,王先生,13800138001,2026-11-30 08:00\n\
         GD-2,投诉,城市管理,中大槐树街道,占道,占道经营,,,,\n\
         GD-6,求助,QYKB,,,企业开办如何办理营业执照变更,,李女士,0531-88886666,2026/11/30 09:00\n"
    );
    let (status, report) = import(&supervisor, "text/csv", fixed.as_bytes()).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        (&report["created"], &report["unchanged"]),
        (&json!(1), &json!(2)),
        "{report}"
    );
    assert_eq!(refused(&report), []);
    assert_eq!(count(&app, "appeal").await, before + 3);

    // on the page, a refused row is also offered as a spreadsheet, to the importer alone
    let bad = format!("{HEADER}\nGD-9,表扬,城市管理,振兴街,占道,占道经营,,,,\n");
    let (status, page) = supervisor
        .post_multipart("/appeals/import", &[], "工单.csv", bad.as_bytes())
        .await;
    assert_eq!(status, 200, "{page}");
    let start = page
        .find("href=\"/appeals/import/reports/")
        .unwrap_or_else(|| panic!("a report link: {page}"))
        + "href=\"".len();
    let url = &page[start..start + page[start..].find('"').unwrap()];
    let response = supervisor.get(url).await;
    assert_eq!(response.status(), 200, "{url}");
    assert!(
        response.bytes().await.unwrap().starts_with(b"PK"),
        "an XLSX file"
    );
    let unit = app.demo_user("unitadmin").await;
    assert_eq!(unit.get(url).await.status(), 404, "not the unit's");
    assert_eq!(count(&app, "appeal").await, before + 3);
}

async fn an_empty_hotline_file_is_refused_and_no_one_else_finds_the_import(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let supervisor = app.demo_user("supervisor").await;
    let before = count(&app, "appeal").await;
    for (body, says) in [
        (&b""[..], "文件是空的"),
        (HEADER.as_bytes(), "文件中没有工单"),
        ("工单编号,诉求内容\nGD-1,路灯不亮\n".as_bytes(), "诉求类型"),
    ] {
        let (status, answer) = import(&supervisor, "text/csv", body).await;
        assert_eq!(status, 422, "{answer}");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{message} should say {says}");
    }
    let (status, page) = supervisor
        .post_multipart("/appeals/import", &[], "empty.csv", b"")
        .await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("请选择要导入的 CSV 或 XLSX 文件"), "{page}");
    let (status, page) = supervisor
        .post_multipart("/appeals/import", &[], "header.csv", HEADER.as_bytes())
        .await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("文件中没有工单"), "{page}");
    assert_eq!(count(&app, "appeal").await, before);

    // no one but the supervisor finds the import: not the page, the template, nor the API
    let csv = format!("{HEADER}\nGD-X,投诉,城市管理,振兴街,占道,占道经营,,,,\n");
    for name in [
        "leader",
        "unitadmin",
        "street",
        "window",
        "observer",
        "enterprise",
        "admin",
    ] {
        let user = app.demo_user(name).await;
        assert_eq!(user.get("/appeals/import").await.status(), 404, "{name}");
        assert_eq!(
            user.get("/appeals/import/template.xlsx").await.status(),
            404,
            "{name}"
        );
        let (status, _) = import(&user, "text/csv", csv.as_bytes()).await;
        assert_eq!(status, 404, "{name}");
        let (status, _) = user
            .post_multipart("/appeals/import", &[], "工单.csv", csv.as_bytes())
            .await;
        assert_eq!(status, 404, "{name}");
        if name == "leader" || name == "street" {
            let (_, queue) = user.get_text("/appeals").await;
            assert!(!queue.contains("/appeals/import"), "{name}: {queue}");
        }
    }
    assert_eq!(count(&app, "appeal").await, before);
}

async fn the_hotline_caller_never_reaches_the_unit(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    app.clock.set(at("2026-11-30 10:00"));
    let supervisor = app.demo_user("supervisor").await;
    let street_id = supervisor.unit_id("370104001").await;
    let csv = format!(
        "{HEADER}\nGD-CANARY,投诉,城市管理,振兴街街道,金丝雀工单,夜间施工噪音扰民,经十路 9 号,{CANARY_NAME},{CANARY_PHONE},2026-11-30 09:00\n"
    );
    let (status, report) = import(&supervisor, "text/csv", csv.as_bytes()).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["created"], 1, "{report}");
    let id = appeal_of(&app, "GD-CANARY").await;

    // dispatched to the proposed lead unit, the street, which accepts it
    let (status, dispatched) = supervisor
        .post_json(
            &format!("/api/v1/appeals/{id}/actions"),
            &json!({"action": "dispatch"}),
            true,
        )
        .await;
    assert_eq!(status, 200, "{dispatched}");
    assert_eq!(dispatched["lead_unit"]["id"], street_id.as_str());
    let street = app.demo_user("street").await;
    let (status, accepted) = street
        .post_json(
            &format!("/api/v1/appeals/{id}/actions"),
            &json!({"action": "accept"}),
            true,
        )
        .await;
    assert_eq!(status, 200, "{accepted}");

    // the unit and leaders see the appeal, never the caller
    let leader = app.demo_user("leader").await;
    for path in [
        format!("/api/v1/appeals/{id}"),
        "/api/v1/appeals?source=hotline".to_owned(),
        format!("/api/v1/appeals/{id}/history"),
        "/api/v1/notifications".to_owned(),
        format!("/appeals/{id}"),
        "/appeals".to_owned(),
    ] {
        for user in [&street, &leader] {
            let (status, text) = user.get_text(&path).await;
            assert_eq!(status, 200, "{path}");
            assert!(!text.contains(CANARY_NAME), "{path}: {text}");
            assert!(!text.contains(CANARY_PHONE), "{path}: {text}");
        }
    }
    let (status, _) = street
        .get_json(&format!("/api/v1/appeals/{id}/submitter"))
        .await;
    assert_eq!(status, 404);
    // the supervisor reads the caller for the callback (audited)
    let (status, who) = supervisor
        .get_json(&format!("/api/v1/appeals/{id}/submitter"))
        .await;
    assert_eq!(status, 200, "{who}");
    assert_eq!(who["name"], CANARY_NAME);
    assert_eq!(who["phone"], CANARY_PHONE);
    // nor is it anywhere in clear in the database: the appeal, the audit, the timeline
    for sql in [
        format!(
            "SELECT COALESCE(submitter_name_enc, '') || COALESCE(submitter_phone_enc, '') FROM appeal WHERE id = '{id}'"
        ),
        "SELECT changes FROM audit_log".to_owned(),
        "SELECT detail FROM record_history".to_owned(),
    ] {
        for row in app.sql_rows(&sql).await {
            assert!(
                !row[0].contains(CANARY_NAME) && !row[0].contains(CANARY_PHONE),
                "{sql}: {row:?}"
            );
        }
    }
}

async fn the_cli_imports_a_hotline_file_once_and_names_its_bad_rows(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("12345工单.csv");
    let csv = format!(
        "{HEADER}\nGD-CLI-1,投诉,城市管理,振兴街,占道经营,门口占道经营,,,,\nGD-CLI-2,咨询,企业开办,,,开办需要哪些材料,,,,\nGD-CLI-3,表扬,企业开办,,,,,,,\n"
    );
    let (gb, _, _) = encoding_rs::GB18030.encode(&csv);
    std::fs::write(&file, &gb).unwrap();
    let path = file.to_str().unwrap();
    let appeals = count(&app, "appeal").await;

    let out = crate::bizenv(&app, &["import", "appeals", path, "--tenant", "370104"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !out.status.success(),
        "a bad row fails the command: {stdout}"
    );
    assert!(
        stdout.contains("新增诉求 2 件，此前已导入 0 件，有误"),
        "{stdout}"
    );
    assert!(stdout.contains("第 4 行 列“诉求类型”"), "{stdout}");
    assert!(stdout.contains("第 4 行 列“诉求内容”"), "{stdout}");
    assert_eq!(
        count(&app, "appeal").await,
        appeals + 2,
        "the good rows land"
    );
    let id = appeal_of(&app, "GD-CLI-1").await;
    let rows = app
        .sql_rows(&format!(
            "SELECT source, actor FROM appeal a JOIN audit_log l ON l.entity_id = a.id \
             WHERE a.id = '{id}' AND l.entity = 'appeal'"
        ))
        .await;
    assert_eq!(rows[0][0], "hotline");
    assert!(
        rows[0][1].starts_with("cli:"),
        "audited as the CLI: {rows:?}"
    );

    // the same file again: nothing new, and it says so
    let again = crate::bizenv(&app, &["import", "appeals", path, "--tenant", "370104"]);
    let stdout = String::from_utf8_lossy(&again.stdout);
    assert!(
        stdout.contains("新增诉求 0 件，此前已导入 2 件"),
        "{stdout}"
    );
    assert_eq!(count(&app, "appeal").await, appeals + 2);

    // a file that is no table: an error, nothing imported
    std::fs::write(&file, b"PK\x03\x04 not a spreadsheet").unwrap();
    let broken = crate::bizenv(&app, &["import", "appeals", path, "--tenant", "370104"]);
    assert!(!broken.status.success());
    assert!(!String::from_utf8_lossy(&broken.stderr).is_empty());
    assert_eq!(count(&app, "appeal").await, appeals + 2);
}
