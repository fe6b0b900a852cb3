//! Supervision tasks on the workflow kernel: assigned by the supervisor, reported on by the
//! units, carded by the sweep as the clock moves, accepted with the deadline met; bad input
//! and actions by the wrong people change nothing.

use serde_json::{Value, json};
use test_support::{Backend, TestApp, TestUser, at_local as at, db_tests};

db_tests!(
    the_demo_has_the_ten_measures_as_tasks_some_overdue,
    attachments_are_checked_kept_whole_and_read_by_whom_the_task_allows,
    a_task_is_assigned_reported_carded_and_accepted,
    bad_task_input_and_the_wrong_people_change_nothing,
    milestones_are_reached_in_turn_carded_and_hold_back_completion,
    the_lead_unit_asks_for_the_extension_refused_once_then_granted,
);

async fn act(user: &TestUser, id: &str, body: Value) -> (u16, Value) {
    user.post_json(&format!("/api/v1/tasks/{id}/actions"), &body, true)
        .await
}

async fn a_task_is_assigned_reported_carded_and_accepted(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let supervisor = app.demo_user("supervisor").await;
    let spj = supervisor.unit_id("SPJ").await;
    let street = supervisor.unit_id("370104001").await;
    // Monday 2026-11-30: due Friday 12-04, i.e. its close
    let (status, task) = supervisor
        .post_json(
            "/api/v1/tasks",
            &json!({"number": "X-1", "measure": "措施二：实施意见", "title": "推行企业开办一日办结",
                    "description": "企业开办全流程压缩至 1 个工作日", "lead_unit_id": spj,
                    "cooperating_unit_ids": [street], "due_on": "2026-12-04"}),
            true,
        )
        .await;
    assert_eq!(status, 201, "{task}");
    assert_eq!(task["state"], "assigned");
    assert_eq!(task["due_at"], "2026-12-04T17:30:00+08:00");
    assert_eq!(task["card"], "none");
    let id = task["id"].as_str().unwrap().to_owned();

    // both units report; only the lead asks for completion
    let lead = app.demo_user("unitadmin").await;
    let cooperating = app.demo_user("street").await;
    // the contacts of both units were told in their inbox; nobody else was
    for contact in [&lead, &cooperating] {
        let (_, inbox) = contact.get_json("/api/v1/notifications?unread=true").await;
        assert!(
            inbox["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|n| n["event"] == "assigned"
                    && n["url"] == format!("/tasks/{id}")
                    && n["title"]
                        .as_str()
                        .unwrap()
                        .contains("推行企业开办一日办结")),
            "{inbox}"
        );
    }
    let (_, theirs) = app
        .demo_user("window")
        .await
        .get_json("/api/v1/notifications")
        .await;
    assert!(!theirs.to_string().contains(&id), "{theirs}");
    let (status, reported) = act(
        &lead,
        &id,
        json!({"action": "report", "progress": 40, "text": "已梳理流程"}),
    )
    .await;
    assert_eq!(
        (status, reported["state"].as_str()),
        (200, Some("in_progress")),
        "{reported}"
    );
    let (status, _) = act(
        &cooperating,
        &id,
        json!({"action": "report", "progress": 50, "text": "街道窗口已培训"}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, refused) = act(
        &cooperating,
        &id,
        json!({"action": "submit", "text": "完成"}),
    )
    .await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(
        refused["error"]["fields"]["unit_id"],
        "只有牵头单位可以申请销号"
    );

    // the deadline is extended once, by the supervisor only, at most 10 working days
    let (status, _) = act(
        &lead,
        &id,
        json!({"action": "extend", "days": 2, "text": "等待数据"}),
    )
    .await;
    assert_eq!(status, 403);
    let (status, body) = act(
        &supervisor,
        &id,
        json!({"action": "extend", "days": 11, "text": "x"}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = act(
        &supervisor,
        &id,
        json!({"action": "extend", "days": 3, "text": ""}),
    )
    .await;
    assert_eq!(
        (status, body["error"]["fields"]["text"].as_str()),
        (422, Some("请填写原因"))
    );
    let (_, unchanged) = supervisor.get_json(&format!("/api/v1/tasks/{id}")).await;
    assert_eq!(unchanged["due_at"], "2026-12-04T17:30:00+08:00");
    let (status, extended) = act(
        &supervisor,
        &id,
        json!({"action": "extend", "days": 1, "text": "等待市级数据"}),
    )
    .await;
    assert_eq!(
        (status, extended["due_at"].as_str()),
        (200, Some("2026-12-07T17:30:00+08:00"))
    );
    let (status, body) = act(
        &supervisor,
        &id,
        json!({"action": "extend", "days": 1, "text": "再延"}),
    )
    .await;
    assert_eq!(status, 409, "{body}");

    // Friday's close: one working day left, yellow; Monday's close: red
    app.clock.set(at("2026-12-04 17:30"));
    app.store.tick("test").await.unwrap();
    // sessions idle for days have expired: sign in again
    let supervisor = app.demo_user("supervisor").await;
    let lead = app.demo_user("unitadmin").await;
    let (_, now) = supervisor.get_json(&format!("/api/v1/tasks/{id}")).await;
    assert_eq!(now["card"], "yellow");
    let (_, page) = lead.get_text(&format!("/tasks/{id}")).await;
    assert!(page.contains("黄牌"), "{page}");
    app.clock.set(at("2026-12-07 17:30"));
    app.store.tick("test").await.unwrap();
    let lead = app.demo_user("unitadmin").await;
    let supervisor = app.demo_user("supervisor").await;
    let (_, red) = supervisor.get_json("/api/v1/tasks?card=red").await;
    assert!(
        red["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["id"] == id.as_str()),
        "{red}"
    );

    // the red card issued a supervision notice, numbered in the year (the demo tasks overdue
    // by then, 2-1, 5-1 and 7-1, took 1–3, and the demo's six overdue findings 4–9: a plan
    // and a rectification of last month's inspection, a rectification awaiting verification,
    // the plans of three self-check problems listed the day before), addressed to the lead
    // unit's head
    let (_, notices) = supervisor.get_json("/api/v1/notices?state=open").await;
    let notice = notices["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["record_id"] == id.as_str())
        .unwrap()
        .clone();
    // numbers 1–24 go to the demo's overdue tasks and appeals (17), its four bad ratings
    // awaiting verification (due the next working day, overdue by then) and the three appeals
    // raised on the leader's visits (still to be dispatched)
    assert_eq!(notice["number"], "槐营商督〔2026〕25号");
    assert_eq!(notice["level"], 1);
    assert_eq!(notice["record_title"], "推行企业开办一日办结");
    let notice_id = notice["id"].as_str().unwrap().to_owned();
    let (status, sheet) = lead.get_text(&format!("/notices/{notice_id}")).await;
    assert_eq!(status, 200, "the lead unit's contact reads its notice");
    assert!(
        sheet.contains("槐营商督〔2026〕25号") && sheet.contains("超过办理时限"),
        "{sheet}"
    );
    let street = app.demo_user("street").await;
    let (status, _) = street
        .get_json(&format!("/api/v1/notices/{notice_id}"))
        .await;
    assert_eq!(
        status, 404,
        "a cooperating street is not the unit the notice is for"
    );
    // still overdue two working days later: to the 分管区领导; five: to the supervisor
    app.clock.set(at("2026-12-09 10:00"));
    app.store.tick("test").await.unwrap();
    let level = |app: &TestApp, id: String| {
        let store = app.store.clone();
        async move {
            let tenant = store.tenant_by_code("370104").await.unwrap().unwrap().id;
            store.notice(&tenant, &id).await.unwrap().unwrap().level
        }
    };
    assert_eq!(level(&app, notice_id.clone()).await, 2);
    app.clock.set(at("2026-12-14 10:00"));
    app.store.tick("test").await.unwrap();
    assert_eq!(level(&app, notice_id.clone()).await, 3);
    let supervisor = app.demo_user("supervisor").await;
    let lead = app.demo_user("unitadmin").await;
    let (_, notice) = supervisor
        .get_json(&format!("/api/v1/notices/{notice_id}"))
        .await;
    assert_eq!(notice["addressed_to"], "区优化营商环境工作领导小组办公室");
    // the inbox told the lead unit of the yellow and the red card and the notice; the
    // supervisor of the notice; read all, nothing unread is left
    let (_, inbox) = lead.get_json("/api/v1/notifications?per_page=200").await;
    let about: Vec<&str> = inbox["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["url"] == format!("/tasks/{id}"))
        .map(|n| n["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        about,
        ["notice", "overdue", "due_soon", "assigned"],
        "{inbox}"
    );
    let (_, theirs) = supervisor.get_json("/api/v1/notifications").await;
    assert!(theirs["items"].as_array().unwrap().iter().any(|n| {
        n["event"] == "notice"
            && n["title"]
                .as_str()
                .unwrap()
                .contains("槐营商督〔2026〕25号")
    }));
    let (status, marked) = lead
        .post_json("/api/v1/notifications/read", &json!({}), true)
        .await;
    assert_eq!(status, 200);
    assert!(marked["marked"].as_u64().unwrap() >= 4);
    let (_, unread) = lead.get_json("/api/v1/notifications?unread=true").await;
    assert_eq!(unread["total"], 0);
    let (_, page) = lead.get_text("/inbox").await;
    assert!(page.contains("督办单 槐营商督〔2026〕25号"), "{page}");

    // asked for completion, sent back, asked again, accepted: the deadline is met (late)
    let (status, _) = act(
        &lead,
        &id,
        json!({"action": "submit", "text": "已实现一日办结"}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = act(
        &lead,
        &id,
        json!({"action": "report", "progress": 100, "text": "补充"}),
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(body["error"]["message"], "该任务已申请销号，正等待督查验收");
    let (status, body) = act(&supervisor, &id, json!({"action": "reject", "text": ""})).await;
    assert_eq!(status, 422, "a reason is required: {body}");
    let (status, back) = act(
        &supervisor,
        &id,
        json!({"action": "reject", "text": "缺少办结数据"}),
    )
    .await;
    assert_eq!((status, back["state"].as_str()), (200, Some("in_progress")));
    act(
        &lead,
        &id,
        json!({"action": "submit", "text": "附 11 月办结数据"}),
    )
    .await;
    let (status, done) = act(
        &supervisor,
        &id,
        json!({"action": "accept", "text": "同意销号"}),
    )
    .await;
    assert_eq!(
        (status, done["state"].as_str(), done["card"].as_str()),
        (200, Some("completed"), Some("none"))
    );
    let tenant = app
        .store
        .tenant_by_code("370104")
        .await
        .unwrap()
        .unwrap()
        .id;
    let deadline = app
        .store
        .deadlines_of(&tenant, "task", &id)
        .await
        .unwrap()
        .remove(0);
    assert!(!deadline.open);
    assert!(deadline.worked_minutes.unwrap() > 0);
    let (status, body) = act(&supervisor, &id, json!({"action": "accept"})).await;
    assert_eq!(
        (status, body["error"]["message"].as_str()),
        (409, Some("该任务已销号"))
    );
    let (_, notice) = supervisor
        .get_json(&format!("/api/v1/notices/{notice_id}"))
        .await;
    assert_eq!(notice["state"], "closed", "closed with the task");

    // the timeline tells it all, in order
    let (_, history) = supervisor
        .get_json(&format!("/api/v1/tasks/{id}/history"))
        .await;
    let events: Vec<&str> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        [
            "assigned",
            "reported",
            "reported",
            "deadline_extended",
            "card_yellow",
            "card_red",
            "notice_issued",
            "notice_escalated",
            "notice_escalated",
            "submitted",
            "rejected",
            "submitted",
            "completed"
        ]
    );
    let texts = history["items"].to_string();
    assert!(texts.contains("退回：缺少办结数据"), "{texts}");
    let (_, page) = supervisor.get_text(&format!("/tasks/{id}")).await;
    assert!(
        page.contains("已销号") && page.contains("街道窗口已培训"),
        "{page}"
    );
    assert!(app.store.verify_audit().await.unwrap().problems.is_empty());
}

async fn bad_task_input_and_the_wrong_people_change_nothing(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let supervisor = app.demo_user("supervisor").await;
    let spj = supervisor.unit_id("SPJ").await;
    let tenant = app
        .store
        .tenant_by_code("370104")
        .await
        .unwrap()
        .unwrap()
        .id;
    let count = || async { app.sql_rows("SELECT COUNT(*) FROM task").await };
    let before = count().await;
    let good = json!({"number": "X-9", "measure": "措施九", "title": "分析满意度", "lead_unit_id": spj, "due_on": "2026-12-31"});
    let with = |k: &str, v: Value| {
        let mut b = good.clone();
        b[k] = v;
        b
    };
    for (body, field, words) in [
        (
            with("due_on", json!("2026-11-01")),
            "due_on",
            "不能早于今天",
        ),
        (with("due_on", json!("明天")), "due_on", "YYYY-MM-DD"),
        (with("title", json!(" ")), "title", "任务名称"),
        (
            with("lead_unit_id", json!("nosuch")),
            "lead_unit_id",
            "不存在",
        ),
        (
            with("cooperating_unit_ids", json!([spj])),
            "cooperating_unit_ids",
            "重复",
        ),
    ] {
        let (status, answer) = supervisor.post_json("/api/v1/tasks", &body, true).await;
        assert_eq!(status, 422, "{body}: {answer}");
        let message = answer["error"]["fields"][field]
            .as_str()
            .unwrap_or_default();
        assert!(message.contains(words), "{field}: {answer}");
    }
    assert_eq!(count().await, before);
    // the same number twice
    let (status, _) = supervisor.post_json("/api/v1/tasks", &good, true).await;
    assert_eq!(status, 201);
    let (status, answer) = supervisor.post_json("/api/v1/tasks", &good, true).await;
    assert_eq!(status, 422);
    assert_eq!(answer["error"]["fields"]["number"], "编号 X-9 已被使用");
    let (_, list) = supervisor.get_json("/api/v1/tasks").await;
    let id = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["number"] == "X-9")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // the wrong people: another street's contact does not see it; a leader only reads; a
    // unit cannot accept; a bad progress is refused
    let street = app.demo_user("street").await;
    let (status, _) = act(
        &street,
        &id,
        json!({"action": "report", "progress": 10, "text": "x"}),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = street.get_json(&format!("/api/v1/tasks/{id}")).await;
    assert_eq!(status, 404);
    let (_, theirs) = street.get_json("/api/v1/tasks").await;
    assert!(
        !theirs["items"].to_string().contains(&id),
        "absent from their list"
    );
    assert_eq!(
        theirs["total"], 1,
        "their count: the demo task their street cooperates on"
    );
    let leader = app.demo_user("leader").await;
    let (status, _) = act(
        &leader,
        &id,
        json!({"action": "report", "progress": 10, "text": "x"}),
    )
    .await;
    assert_eq!(status, 403);
    let lead = app.demo_user("unitadmin").await;
    let (status, _) = act(&lead, &id, json!({"action": "accept"})).await;
    assert_eq!(status, 403);
    let (status, answer) = act(
        &lead,
        &id,
        json!({"action": "report", "progress": 140, "text": "x"}),
    )
    .await;
    assert_eq!(
        (status, answer["error"]["fields"]["progress"].as_str()),
        (422, Some("进度应为 0 到 100"))
    );
    let (status, _) = act(
        &lead,
        &id,
        json!({"action": "report", "progress": 10, "text": ""}),
    )
    .await;
    assert_eq!(status, 422);
    let (status, _) = act(&lead, &id, json!({"action": "finish"})).await;
    assert_eq!(status, 422);
    let task = app.store.task(&tenant, &id).await.unwrap().unwrap();
    assert_eq!((task.state.as_str(), task.progress), ("assigned", 0));
    assert!(
        app.store
            .task_reports(&tenant, &id)
            .await
            .unwrap()
            .is_empty()
    );

    // the page form shows the refusal in Chinese and changes nothing
    let response = lead
        .post_form(
            &format!("/tasks/{id}/action"),
            &[
                ("csrf_token", &lead.csrf_token.clone()),
                ("action", "report"),
                ("progress", "abc"),
                ("text", "x"),
            ],
        )
        .await;
    assert_eq!(response.status(), 422);
    let response = lead
        .post_form(
            &format!("/tasks/{id}/action"),
            &[
                ("csrf_token", &lead.csrf_token.clone()),
                ("action", "report"),
                ("progress", "30"),
                ("text", ""),
            ],
        )
        .await;
    assert_eq!(response.status(), 422);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("进展情况应为 1 到 2000 个字符")
    );
    // and the form that works
    let response = lead
        .post_form(
            &format!("/tasks/{id}/action"),
            &[
                ("csrf_token", &lead.csrf_token.clone()),
                ("action", "report"),
                ("progress", "30"),
                ("text", "已启动"),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
    let task = app.store.task(&tenant, &id).await.unwrap().unwrap();
    assert_eq!((task.state.as_str(), task.progress), ("in_progress", 30));
}

async fn the_demo_has_the_ten_measures_as_tasks_some_overdue(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    app.store.tick("test").await.unwrap();
    let leader = app.demo_user("leader").await;
    let (status, all) = leader.get_json("/api/v1/tasks").await;
    assert_eq!(status, 200);
    assert_eq!(all["total"], 10);
    let by_number = |n: &str| {
        all["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["number"] == n)
            .unwrap()
            .clone()
    };
    assert_eq!(by_number("1-1")["state"], "completed");
    assert_eq!(by_number("9-1")["state"], "submitted");
    for overdue in ["2-1", "5-1"] {
        assert_eq!(by_number(overdue)["card"], "red", "{overdue}");
    }
    assert_eq!(by_number("8-1")["card"], "none");
    let (_, red) = leader.get_json("/api/v1/tasks?card=red").await;
    assert_eq!(red["total"], 2);
    // the contact of 行政审批服务局 sees the tasks its unit leads or cooperates on
    let unitadmin = app.demo_user("unitadmin").await;
    let (_, theirs) = unitadmin.get_json("/api/v1/tasks").await;
    assert_eq!(theirs["total"], 7, "{theirs}");
    let (_, page) = leader.get_text("/tasks").await;
    assert!(page.contains("红牌") && page.contains("制定优化营商环境实施意见的配套细则"));
}

/// Files in the attachment store, the incoming ones apart.
fn stored_files(app: &TestApp) -> (usize, usize) {
    let root = app.data_dir().join("attachments");
    let count = |dir: std::path::PathBuf| {
        std::fs::read_dir(dir)
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .filter(|e| e.path().is_file())
                    .count()
            })
            .unwrap_or(0)
    };
    let mut kept = 0;
    if let Ok(dirs) = std::fs::read_dir(&root) {
        for d in dirs.filter_map(|e| e.ok()) {
            if d.file_name() != "incoming" {
                kept += count(d.path());
            }
        }
    }
    (kept, count(root.join("incoming")))
}

async fn attachments_are_checked_kept_whole_and_read_by_whom_the_task_allows(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    // the demo's evidence files are there before the test's
    let demo = stored_files(&app).0;
    let supervisor = app.demo_user("supervisor").await;
    let spj = supervisor.unit_id("SPJ").await;
    let (_, task) = supervisor
        .post_json(
            "/api/v1/tasks",
            &json!({"number": "X-5", "measure": "措施五", "title": "整改台账", "lead_unit_id": spj, "due_on": "2026-12-31"}),
            true,
        )
        .await;
    let id = task["id"].as_str().unwrap().to_owned();
    let lead = app.demo_user("unitadmin").await;
    let url = format!("/api/v1/tasks/{id}/attachments");

    // a PDF from the lead unit: kept with its SM3 digest
    let pdf = b"%PDF-1.7\n1 0 obj << >> endobj\n%%EOF\n".repeat(100);
    let (status, body) = lead.post_multipart(&url, &[], "整改报告.pdf", &pdf).await;
    assert_eq!(status, 201, "{body}");
    let file: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(file["sm3"], store::crypto::sm3_hex(&pdf));
    assert_eq!(file["size"], pdf.len());
    assert_eq!(file["content_type"], "application/pdf");
    assert_eq!(stored_files(&app), (demo + 1, 0));

    // read back whole by the supervisor; not by a street that is not on the task
    let download = file["url"].as_str().unwrap();
    let response = supervisor.get(download).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/pdf");
    assert_eq!(response.bytes().await.unwrap().as_ref(), pdf.as_slice());
    let street = app.demo_user("street").await;
    assert_eq!(street.get(download).await.status(), 404);
    let (status, _) = street.post_multipart(&url, &[], "x.pdf", b"%PDF-1").await;
    assert_eq!(status, 404);
    let leader = app.demo_user("leader").await;
    let (status, _) = leader.post_multipart(&url, &[], "x.pdf", b"%PDF-1").await;
    assert_eq!(status, 403);

    // refused: a forbidden type, a file that is not what its name says, an empty one, one over
    // 20 MB — each a clear message, nothing kept
    for (name, content, status, words) in [
        ("程序.exe", b"MZ\x90\x00".to_vec(), 422, "只能上传"),
        (
            "假的.pdf",
            b"MZ\x90\x00".to_vec(),
            422,
            "文件内容与扩展名不符",
        ),
        ("空.pdf", Vec::new(), 422, "文件是空的"),
        (
            "大.pdf",
            vec![b'%'; 20 * 1024 * 1024 + 1],
            413,
            "超过 20 MB",
        ),
    ] {
        let (got, body) = lead.post_multipart(&url, &[], name, &content).await;
        assert_eq!(got, status, "{name}: {body}");
        assert!(body.contains(words), "{name}: {body}");
    }
    assert_eq!(stored_files(&app), (demo + 1, 0), "nothing half-stored");

    // an upload cut off midway: the connection closes before the body's end
    {
        use tokio::io::AsyncWriteExt;
        let mut stream = tokio::net::TcpStream::connect(app.address).await.unwrap();
        let head = format!(
            "POST {url} HTTP/1.1\r\nHost: localhost\r\nCookie: bizenv_session={}\r\nX-CSRF-Token: {}\r\n\
             Content-Type: multipart/form-data; boundary=cut\r\nContent-Length: 100000\r\n\r\n\
             --cut\r\nContent-Disposition: form-data; name=\"file\"; filename=\"中断.pdf\"\r\n\r\n%PDF-1.7 partial",
            lead.token, lead.csrf_token
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        stream.write_all(&[b'x'; 4096]).await.unwrap();
        stream.shutdown().await.unwrap();
        drop(stream);
    }
    // the server notices, drops the partial file, and stays up
    let mut tries = 0;
    while stored_files(&app).1 > 0 && tries < 50 {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        tries += 1;
    }
    assert_eq!(
        stored_files(&app),
        (demo + 1, 0),
        "the cut-off upload left nothing"
    );
    let (_, list) = lead.get_json(&url).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);

    // the page's upload form
    let (status, _) = lead
        .post_multipart(
            &format!("/tasks/{id}/attachments"),
            &[("csrf_token", &lead.csrf_token.clone())],
            "现场照片.png",
            &[0x89, b'P', b'N', b'G', 13, 10, 26, 10, 0, 0],
        )
        .await;
    assert_eq!(status, 303);
    let (_, page) = supervisor.get_text(&format!("/tasks/{id}")).await;
    assert!(
        page.contains("现场照片.png") && page.contains("整改报告.pdf"),
        "{page}"
    );
    assert_eq!(stored_files(&app), (demo + 2, 0));
    let (_, history) = supervisor
        .get_json(&format!("/api/v1/tasks/{id}/history"))
        .await;
    assert!(history.to_string().contains("上传附件“整改报告.pdf”"));

    // files that come with a report: an earlier upload tied to it through the API, once
    let reports = || async {
        app.sql_rows("SELECT CAST(COUNT(*) AS TEXT) FROM task_report")
            .await[0][0]
            .clone()
    };
    let reports_before = reports().await;
    let pdf_id = file["id"].as_str().unwrap().to_owned();
    let (status, refused) = act(
        &supervisor,
        &id,
        json!({"action": "reject", "text": "x", "attachment_ids": [pdf_id]}),
    )
    .await;
    assert_eq!(status, 409, "not submitted yet: {refused}");
    let (status, reported) = act(
        &lead,
        &id,
        json!({"action": "report", "progress": 20, "text": "台账初稿", "attachment_ids": [pdf_id]}),
    )
    .await;
    assert_eq!(status, 200, "{reported}");
    let (status, refused) = act(
        &lead,
        &id,
        json!({"action": "report", "progress": 25, "text": "再报", "attachment_ids": [pdf_id]}),
    )
    .await;
    assert_eq!(status, 422, "{refused}");
    assert!(refused["error"]["fields"]["attachment_ids"].is_string());
    let (status, refused) = act(
        &lead,
        &id,
        json!({"action": "report", "progress": 25, "text": "再报", "attachment_ids": ["nope"]}),
    )
    .await;
    assert_eq!(status, 422, "{refused}");
    let tied = app
        .sql_rows(&format!(
            "SELECT COALESCE(report_id, '') FROM attachment WHERE id = '{pdf_id}'"
        ))
        .await;
    assert!(!tied[0][0].is_empty(), "tied to the report");
    let after_first = reports().await;
    assert_ne!(after_first, reports_before);

    // the page sends a report and its file together; a refused file or a refused report
    // keeps neither
    let report_page = format!("/tasks/{id}/report");
    let csrf = lead.csrf_token.clone();
    const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 13, 10, 26, 10, 0, 0];
    let report = |progress: &'static str, file_name: &'static str, content: &'static [u8]| {
        let (lead, path, csrf) = (&lead, &report_page, &csrf);
        async move {
            lead.post_multipart(
                path,
                &[
                    ("csrf_token", csrf),
                    ("action", "report"),
                    ("progress", progress),
                    ("text", "整改过半"),
                ],
                file_name,
                content,
            )
            .await
        }
    };
    let (status, page) = report("40", "程序.exe", b"MZ\x90\x00").await;
    assert_eq!(status, 422);
    assert!(page.contains("只能上传"), "{page}");
    let (status, page) = report("一百", "整改照片.png", PNG).await;
    assert_eq!(status, 422);
    assert!(page.contains("进度应为 0 到 100 的整数"), "{page}");
    let (status, _) = report("110", "整改照片.png", PNG).await;
    assert_eq!(
        status, 422,
        "progress out of range: refused in the transaction"
    );
    assert_eq!(reports().await, after_first, "no report");
    assert_eq!(stored_files(&app), (demo + 2, 0), "no file");
    let (status, _) = report("40", "整改照片.png", PNG).await;
    assert_eq!(status, 303);
    assert_eq!(stored_files(&app), (demo + 3, 0));
    let (_, page) = supervisor.get_text(&format!("/tasks/{id}")).await;
    let report = page.split("整改过半").nth(1).unwrap_or_default();
    assert!(
        report.contains("整改照片.png"),
        "the file under its report: {page}"
    );
    assert!(app.store.verify_audit().await.unwrap().problems.is_empty());
}

async fn milestones_are_reached_in_turn_carded_and_hold_back_completion(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    app.clock.set(at("2026-11-30 09:00"));
    let supervisor = app.demo_user("supervisor").await;
    let spj = supervisor.unit_id("SPJ").await;
    let street = supervisor.unit_id("370104001").await;
    let task = |milestones: Value| {
        json!({"number": "M-1", "measure": "措施四", "title": "政务服务“一网通办”",
               "lead_unit_id": spj, "cooperating_unit_ids": [street], "due_on": "2026-12-11",
               "milestones": milestones})
    };
    let count = || async { app.sql_rows("SELECT COUNT(*) FROM task").await };
    let before = count().await;
    for (milestones, needle) in [
        (json!([{"title": "试点", "due_on": "2026-12-14"}]), "之间"),
        (json!([{"title": " ", "due_on": "2026-12-02"}]), "节点名称"),
        (json!([{"title": "试点", "due_on": "12/02"}]), "YYYY-MM-DD"),
        (
            json!(
                (0..11)
                    .map(|i| json!({"title": format!("第{i}步"), "due_on": "2026-12-04"}))
                    .collect::<Vec<_>>()
            ),
            "不能超过 10 个",
        ),
    ] {
        let (status, refused) = supervisor
            .post_json("/api/v1/tasks", &task(milestones), true)
            .await;
        assert_eq!(status, 422, "{refused}");
        let message = refused["error"]["fields"]["milestones"]
            .as_str()
            .unwrap_or("");
        assert!(message.contains(needle), "{needle}: {refused}");
    }
    assert_eq!(count().await, before, "nothing created");

    // given out of order, kept by date; each due at the close of its day
    let (status, created) = supervisor
        .post_json(
            "/api/v1/tasks",
            &task(json!([{"title": "试点运行", "due_on": "2026-12-08"},
                         {"title": "完成方案", "due_on": "2026-12-02"}])),
            true,
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let milestones = &created["milestones"];
    assert_eq!(milestones[0]["seq"], 1);
    assert_eq!(milestones[0]["title"], "完成方案");
    assert_eq!(milestones[0]["due_at"], "2026-12-02T17:30:00+08:00");
    assert_eq!(milestones[1]["title"], "试点运行");
    assert_eq!(milestones[1]["card"], "none");

    let lead = app.demo_user("unitadmin").await;
    let cooperating = app.demo_user("street").await;
    let (status, refused) = act(&lead, &id, json!({"action": "submit", "text": "完成"})).await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(
        refused["error"]["fields"]["milestones"],
        "还有 2 个节点未完成，不能申请销号"
    );
    let (status, refused) = act(
        &cooperating,
        &id,
        json!({"action": "milestone", "milestone": 1, "text": "方案已印发"}),
    )
    .await;
    assert_eq!(status, 422, "{refused}");
    assert!(refused["error"]["fields"]["unit_id"].is_string());
    let (status, refused) = act(
        &lead,
        &id,
        json!({"action": "milestone", "milestone": 9, "text": "x"}),
    )
    .await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(
        refused["error"]["fields"]["milestone"],
        "该任务没有这个节点"
    );

    // reached on time through the page
    let page = lead
        .post_form(
            &format!("/tasks/{id}/action"),
            &[
                ("csrf_token", &lead.csrf_token),
                ("action", "milestone"),
                ("milestone", "1"),
                ("text", "实施方案已印发"),
            ],
        )
        .await;
    assert_eq!(page.status().as_u16(), 303);
    let (status, again) = act(
        &lead,
        &id,
        json!({"action": "milestone", "milestone": 1, "text": "再报"}),
    )
    .await;
    assert_eq!(status, 409, "{again}");
    let (_, shown) = lead.get_json(&format!("/api/v1/tasks/{id}")).await;
    assert_eq!(shown["state"], "in_progress");
    assert!(shown["milestones"][0]["done_at"].is_string());
    assert_eq!(shown["milestones"][0]["done_note"], "实施方案已印发");

    // the second milestone passes its day: a red card and a notice of its own, while the
    // task itself is still on time
    app.clock.set(at("2026-12-09 09:00"));
    app.store.tick("test").await.unwrap();
    let lead = app.demo_user("unitadmin").await;
    let (_, shown) = lead.get_json(&format!("/api/v1/tasks/{id}")).await;
    assert_eq!(shown["milestones"][1]["card"], "red", "{shown}");
    assert_eq!(shown["card"], "none");
    let notices_sql = format!(
        "SELECT step, CASE WHEN closed_at IS NULL THEN 'open' ELSE 'closed' END FROM notice WHERE record_id = '{id}'"
    );
    assert_eq!(
        app.sql_rows(&notices_sql).await,
        [["milestone:2", "open"].map(str::to_owned).to_vec()]
    );
    let (_, inbox) = lead.get_json("/api/v1/notifications?unread=true").await;
    assert!(
        inbox.to_string().contains("督查任务节点已超过办理时限"),
        "{inbox}"
    );
    let (_, page) = lead.get_text(&format!("/tasks/{id}")).await;
    assert!(
        page.contains("完成方案") && page.contains("已完成"),
        "{page}"
    );
    assert!(
        page.contains("报告节点完成"),
        "the lead may report the second"
    );

    // reached late: the notice is closed with it; then the task goes to acceptance
    let (status, _) = act(
        &lead,
        &id,
        json!({"action": "milestone", "milestone": 2, "text": "试点运行一周"}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        app.sql_rows(&notices_sql).await,
        [["milestone:2", "closed"].map(str::to_owned).to_vec()]
    );
    let (status, submitted) =
        act(&lead, &id, json!({"action": "submit", "text": "全部完成"})).await;
    assert_eq!(
        (status, submitted["state"].as_str()),
        (200, Some("submitted"))
    );
    let (status, refused) = act(
        &lead,
        &id,
        json!({"action": "milestone", "milestone": 2, "text": "x"}),
    )
    .await;
    assert_eq!(status, 409, "{refused}");
    let supervisor = app.demo_user("supervisor").await;
    let (_, history) = supervisor
        .get_json(&format!("/api/v1/tasks/{id}/history"))
        .await;
    let texts = history.to_string();
    assert!(
        texts.contains("节点“完成方案”完成：实施方案已印发"),
        "{texts}"
    );
    assert!(
        texts.contains("节点“试点运行”完成：试点运行一周"),
        "{texts}"
    );
    assert!(app.store.verify_audit().await.unwrap().problems.is_empty());
}

async fn the_lead_unit_asks_for_the_extension_refused_once_then_granted(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    app.clock.set(at("2026-11-30 09:00"));
    let supervisor = app.demo_user("supervisor").await;
    let spj = supervisor.unit_id("SPJ").await;
    let street = supervisor.unit_id("370104001").await;
    let (status, task) = supervisor
        .post_json(
            "/api/v1/tasks",
            &json!({"number": "E-1", "measure": "措施五", "title": "涉企数据共享",
                    "lead_unit_id": spj, "cooperating_unit_ids": [street], "due_on": "2026-12-04"}),
            true,
        )
        .await;
    assert_eq!(status, 201, "{task}");
    let id = task["id"].as_str().unwrap().to_owned();
    assert!(task["extension_request"].is_null());
    let lead = app.demo_user("unitadmin").await;
    let cooperating = app.demo_user("street").await;
    let requests = || async {
        app.sql_rows(
            "SELECT state, CAST(days AS TEXT) FROM extension_request ORDER BY requested_at",
        )
        .await
    };

    // bad requests and the wrong people change nothing
    for (user, body, status, field) in [
        (
            &lead,
            json!({"action": "request_extension", "days": 0, "text": "等待数据"}),
            422,
            Some("days"),
        ),
        (
            &lead,
            json!({"action": "request_extension", "days": 11, "text": "等待数据"}),
            422,
            Some("days"),
        ),
        (
            &lead,
            json!({"action": "request_extension", "text": "等待数据"}),
            422,
            Some("days"),
        ),
        (
            &lead,
            json!({"action": "request_extension", "days": 3, "text": " "}),
            422,
            Some("text"),
        ),
        (
            &cooperating,
            json!({"action": "request_extension", "days": 3, "text": "等待数据"}),
            422,
            Some("unit_id"),
        ),
        (
            &supervisor,
            json!({"action": "request_extension", "days": 3, "text": "等待数据"}),
            403,
            None,
        ),
        (
            &supervisor,
            json!({"action": "refuse_extension", "text": "不行"}),
            409,
            None,
        ),
    ] {
        let (got, refused) = act(user, &id, body.clone()).await;
        assert_eq!(got, status, "{body}: {refused}");
        if let Some(field) = field {
            assert!(
                refused["error"]["fields"][field].is_string(),
                "{body}: {refused}"
            );
        }
    }
    assert!(requests().await.is_empty());

    // asked, told to the supervisor, waiting; a second request waits for the first
    let (status, asked) = act(
        &lead,
        &id,
        json!({"action": "request_extension", "days": 3, "text": "等待省级系统对接"}),
    )
    .await;
    assert_eq!(status, 200, "{asked}");
    assert_eq!(asked["extension_request"]["state"], "pending");
    assert_eq!(asked["extension_request"]["days"], 3);
    assert_eq!(
        asked["due_at"], "2026-12-04T17:30:00+08:00",
        "not yet extended"
    );
    let (_, inbox) = supervisor
        .get_json("/api/v1/notifications?unread=true")
        .await;
    assert!(
        inbox["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["event"] == "extension_requested" && n["url"] == format!("/tasks/{id}")),
        "{inbox}"
    );
    let (status, again) = act(
        &lead,
        &id,
        json!({"action": "request_extension", "days": 2, "text": "再申请"}),
    )
    .await;
    assert_eq!(status, 409, "{again}");

    // refused with a reason (required), through the page
    let (status, refused) = act(&supervisor, &id, json!({"action": "refuse_extension"})).await;
    assert_eq!(status, 422, "{refused}");
    let page = supervisor
        .post_form(
            &format!("/tasks/{id}/action"),
            &[
                ("csrf_token", &supervisor.csrf_token),
                ("action", "refuse_extension"),
                ("text", "理由不充分"),
            ],
        )
        .await;
    assert_eq!(page.status().as_u16(), 303);
    let (_, shown) = lead.get_json(&format!("/api/v1/tasks/{id}")).await;
    assert_eq!(shown["extension_request"]["state"], "refused");
    assert_eq!(shown["extension_request"]["decision_note"], "理由不充分");
    assert_eq!(shown["due_at"], "2026-12-04T17:30:00+08:00");
    let (_, inbox) = lead.get_json("/api/v1/notifications?unread=true").await;
    assert!(inbox.to_string().contains("延期申请未获批准"), "{inbox}");

    // asked again and granted with the days asked: Friday + 2 working days
    let (status, _) = act(
        &lead,
        &id,
        json!({"action": "request_extension", "days": 2, "text": "省级接口下周开放"}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, granted) = act(
        &supervisor,
        &id,
        json!({"action": "extend", "text": "同意"}),
    )
    .await;
    assert_eq!(status, 200, "{granted}");
    assert_eq!(granted["extension_request"]["state"], "approved");
    assert_eq!(granted["due_at"], "2026-12-08T17:30:00+08:00");
    assert_eq!(
        requests().await,
        [["refused", "3"], ["approved", "2"]].map(|r| r.map(str::to_owned).to_vec())
    );
    let (_, inbox) = lead.get_json("/api/v1/notifications?unread=true").await;
    assert!(
        inbox.to_string().contains("已批准，延期 2 个工作日"),
        "{inbox}"
    );
    // the one extension is spent
    let (status, spent) = act(
        &lead,
        &id,
        json!({"action": "request_extension", "days": 1, "text": "再延"}),
    )
    .await;
    assert_eq!(status, 409, "{spent}");
    let (_, page) = lead.get_text(&format!("/tasks/{id}")).await;
    assert!(page.contains("延期申请已批准"), "{page}");
    assert!(!page.contains("request-form"), "no second request offered");
    let (_, history) = supervisor
        .get_json(&format!("/api/v1/tasks/{id}/history"))
        .await;
    let texts = history.to_string();
    assert!(
        texts.contains("申请延期 3 个工作日：等待省级系统对接"),
        "{texts}"
    );
    assert!(texts.contains("延期申请未获批准：理由不充分"), "{texts}");
    assert!(
        texts.contains("延期 2 个工作日：省级接口下周开放"),
        "{texts}"
    );
    assert!(app.store.verify_audit().await.unwrap().problems.is_empty());
}
