//! Browser journeys in headless Chromium (Debian's chromium and chromium-driver) on a phone
//! viewport, driven through WebDriver by fantoccini.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use test_support::{Backend, TestApp};

/// chromedriver in its own process group, killed with its browsers when dropped.
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(
            std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into()),
        )
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("chromedriver is installed (apt-get install chromium chromium-driver; see README)");
        // from here on, Drop kills and waits for the process group
        let driver = Self { child, port };
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return driver;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("chromedriver did not listen on port {port}");
    }

    async fn phone(&self, profile: &std::path::Path) -> Client {
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--no-first-run", "--disable-component-update",
                    "--disable-sync", format!("--user-data-dir={}", profile.display()),
                ],
                "mobileEmulation": {"deviceMetrics": {"width": 390, "height": 844, "pixelRatio": 1.0, "mobile": true, "touch": true}}
            }
        });
        let serde_json::Value::Object(caps) = caps else {
            unreachable!()
        };
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .expect("a Chromium session")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.wait();
    }
}

async fn scroll_width(client: &Client) -> i64 {
    client
        .execute("return document.documentElement.scrollWidth;", vec![])
        .await
        .unwrap()
        .as_i64()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_phone_the_unit_tree_opens_without_horizontal_scrolling() {
    let app = TestApp::spawn_demo(Backend::Sqlite).await;
    let driver = Driver::start();
    let profile = tempfile::tempdir().unwrap();
    let client = driver.phone(profile.path()).await;

    // the unit tree needs a signed-in user: the page sends us to the login form and back
    client.goto(&app.url("/")).await.unwrap();
    let nav = client.find(Locator::LinkText("组织机构")).await.unwrap();
    nav.click().await.unwrap();
    let form = client.form(Locator::Id("login-form")).await.unwrap();
    form.set_by_name("username", "supervisor").await.unwrap();
    form.set_by_name("password", store::demo::DEMO_PASSWORD)
        .await
        .unwrap();
    form.submit().await.unwrap();
    client
        .wait()
        .for_element(Locator::Id("unit-tree"))
        .await
        .expect("back on the unit tree after signing in");
    let heading = client.find(Locator::Css("main h1")).await.unwrap();
    assert_eq!(heading.text().await.unwrap(), "组织机构树");
    let width: i64 = client
        .execute("return window.innerWidth;", vec![])
        .await
        .unwrap()
        .as_i64()
        .unwrap();
    assert_eq!(width, 390, "phone viewport");
    assert!(
        scroll_width(&client).await <= 390,
        "no horizontal scroll on /units"
    );

    // open a street (collapsed) and follow one of its communities
    let street = client
        .find(Locator::XPath("//summary[a[text()='振兴街街道']]"))
        .await
        .unwrap();
    street.click().await.unwrap();
    let community = client
        .find(Locator::XPath(
            "//summary[a[text()='振兴街街道']]/following-sibling::ul//a",
        ))
        .await
        .unwrap();
    assert!(
        community.is_displayed().await.unwrap(),
        "the street's communities show once opened"
    );
    let name = community.text().await.unwrap();
    community.click().await.unwrap();
    let heading = client.find(Locator::Css("main h1")).await.unwrap();
    assert_eq!(heading.text().await.unwrap(), name);
    let crumbs = client.find(Locator::Css("nav.crumbs")).await.unwrap();
    assert!(crumbs.text().await.unwrap().contains("振兴街街道"));
    assert!(
        scroll_width(&client).await <= 390,
        "no horizontal scroll on a unit page"
    );

    for page in ["/units/list", "/calendar?from=2026-09-30&days=3"] {
        client.goto(&app.url(page)).await.unwrap();
        assert!(
            scroll_width(&client).await <= 390,
            "no horizontal scroll on {page}"
        );
    }
    let result = client.find(Locator::Id("calendar-result")).await.unwrap();
    assert_eq!(result.text().await.unwrap(), "2026-10-10");
    client.close().await.unwrap();
}

async fn sign_in(client: &Client, app: &TestApp, username: &str) {
    client.goto(&app.url("/login")).await.unwrap();
    let form = client.form(Locator::Id("login-form")).await.unwrap();
    form.set_by_name("username", username).await.unwrap();
    form.set_by_name("password", store::demo::DEMO_PASSWORD)
        .await
        .unwrap();
    form.submit().await.unwrap();
    client
        .wait()
        .for_element(Locator::Css("header .account .user"))
        .await
        .expect("signed in");
}

async fn nav_links(client: &Client) -> Vec<String> {
    let mut links = Vec::new();
    for a in client.find_all(Locator::Css("nav.main a")).await.unwrap() {
        links.push(a.text().await.unwrap());
    }
    links
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_roles_sign_in_and_see_exactly_their_part() {
    let app = TestApp::spawn_demo(Backend::Sqlite).await;
    let driver = Driver::start();

    // the auditor: the audit log, no organisation
    let profile = tempfile::tempdir().unwrap();
    let client = driver.phone(profile.path()).await;
    sign_in(&client, &app, "auditor").await;
    assert_eq!(nav_links(&client).await, ["首页", "工作日历", "审计"]);
    client
        .find(Locator::LinkText("审计"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client
        .wait()
        .for_element(Locator::Id("audit-intact"))
        .await
        .unwrap();
    assert!(
        scroll_width(&client).await <= 390,
        "no horizontal scroll on /audit"
    );
    client.goto(&app.url("/units")).await.unwrap();
    let h1 = client.find(Locator::Css("main h1")).await.unwrap();
    assert_eq!(h1.text().await.unwrap(), "页面不存在");
    client.close().await.unwrap();

    // the supervisor: the organisation, no audit log
    let profile = tempfile::tempdir().unwrap();
    let client = driver.phone(profile.path()).await;
    sign_in(&client, &app, "supervisor").await;
    assert_eq!(
        nav_links(&client).await,
        [
            "首页",
            "组织机构",
            "督查督办",
            "问题整改",
            "诉求办理",
            "好差评",
            "企业库",
            "工作日历"
        ]
    );
    client.goto(&app.url("/audit")).await.unwrap();
    let h1 = client.find(Locator::Css("main h1")).await.unwrap();
    assert_eq!(h1.text().await.unwrap(), "页面不存在");
    // and signs out again
    client.goto(&app.url("/")).await.unwrap();
    client
        .find(Locator::Css("form[action='/logout'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client
        .wait()
        .for_element(Locator::Id("login-form"))
        .await
        .unwrap();
    client.close().await.unwrap();

    // the enterprise: neither
    let profile = tempfile::tempdir().unwrap();
    let client = driver.phone(profile.path()).await;
    sign_in(&client, &app, "enterprise").await;
    assert_eq!(nav_links(&client).await, ["首页", "诉求办理", "工作日历"]);
    let user = client
        .find(Locator::Css("header .account .user"))
        .await
        .unwrap();
    assert_eq!(user.text().await.unwrap(), "济南示例科技有限公司");
    client.goto(&app.url("/units")).await.unwrap();
    let h1 = client.find(Locator::Css("main h1")).await.unwrap();
    assert_eq!(h1.text().await.unwrap(), "页面不存在");
    client.close().await.unwrap();
}

/// The kernel's journey (issue 4): a unit sees the yellow card on its task, reports progress and
/// attaches a photo; after the clock moves the supervisor sees the red card and the notice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unit_reports_on_a_yellow_task_and_the_supervisor_sees_red_and_the_notice() {
    let app = TestApp::spawn_demo(Backend::Sqlite).await;
    let driver = Driver::start();
    let supervisor = app.demo_user("supervisor").await;
    let (_, units) = supervisor
        .get_json("/api/v1/units?kind=department&per_page=200")
        .await;
    let spj = units["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["code"] == "SPJ")
        .unwrap()["id"]
        .clone();
    // Monday 10:00; due Tuesday's close, so yellow from Monday's close
    let (status, task) = supervisor
        .post_json(
            "/api/v1/tasks",
            &json!({"number": "B-1", "measure": "措施七：窗口人员培训", "title": "窗口人员礼仪培训",
                    "lead_unit_id": spj, "due_on": "2026-12-01"}),
            true,
        )
        .await;
    assert_eq!(status, 201, "{task}");
    let id = task["id"].as_str().unwrap().to_owned();
    app.clock.set("2026-11-30T10:00:00Z".parse().unwrap()); // 18:00 in Shanghai
    app.store.tick("browser-test").await.unwrap();

    // the unit's contact, on a phone
    let profile = tempfile::tempdir().unwrap();
    let client = driver.phone(profile.path()).await;
    sign_in(&client, &app, "unitadmin").await;
    client
        .goto(&app.url(&format!("/tasks/{id}")))
        .await
        .unwrap();
    let card = client.find(Locator::Id("task-card")).await.unwrap();
    assert_eq!(card.text().await.unwrap(), "黄牌");
    assert!(scroll_width(&client).await <= 390, "no horizontal scroll");
    // the report and its photo go together
    let photo = profile.path().join("培训现场.png");
    std::fs::write(
        &photo,
        [0x89, b'P', b'N', b'G', 13, 10, 26, 10, 0, 0, 0, 13],
    )
    .unwrap();
    let form = client.form(Locator::Id("report-form")).await.unwrap();
    form.set_by_name("progress", "60").await.unwrap();
    form.set_by_name("text", "已完成两期礼仪培训")
        .await
        .unwrap();
    client
        .find(Locator::Css("#report-form input[name=file]"))
        .await
        .unwrap()
        .send_keys(photo.to_str().unwrap())
        .await
        .unwrap();
    form.submit().await.unwrap();
    client
        .wait()
        .for_element(Locator::XPath(
            "//ul[@id='reports']/li[contains(., '已完成两期礼仪培训')]/a[text()='培训现场.png']",
        ))
        .await
        .unwrap();
    client
        .find(Locator::XPath(
            "//ul[@id='files']/li/a[text()='培训现场.png']",
        ))
        .await
        .unwrap();
    client.close().await.unwrap();

    // Wednesday morning: overdue
    app.clock.set("2026-12-02T01:00:00Z".parse().unwrap());
    app.store.tick("browser-test").await.unwrap();
    let profile = tempfile::tempdir().unwrap();
    let client = driver.phone(profile.path()).await;
    sign_in(&client, &app, "supervisor").await;
    client
        .goto(&app.url(&format!("/tasks/{id}")))
        .await
        .unwrap();
    let card = client.find(Locator::Id("task-card")).await.unwrap();
    assert_eq!(card.text().await.unwrap(), "红牌");
    let notice = client.find(Locator::Css("#task-notices a")).await.unwrap();
    let number = notice.text().await.unwrap();
    assert!(number.starts_with("槐营商督〔2026〕"), "{number}");
    notice.click().await.unwrap();
    let sheet = client
        .wait()
        .for_element(Locator::Id("notice"))
        .await
        .unwrap();
    let text = sheet.text().await.unwrap();
    assert!(
        text.contains(&number)
            && text.contains("窗口人员礼仪培训")
            && text.contains("超过办理时限"),
        "{text}"
    );
    assert!(
        scroll_width(&client).await <= 390,
        "the notice fits a phone"
    );
    client.close().await.unwrap();
}

/// The supervisor, on a phone, uploads a CSV with two bad rows from the registry's page and
/// reads the report: what landed, and each bad row with its row number, column and reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_supervisor_uploads_enterprises_and_reads_the_two_bad_rows() {
    let app = TestApp::spawn_demo(Backend::Sqlite).await;
    let driver = Driver::start();
    let code = |body: &str| {
        domain::uscc::Uscc::complete(body)
            .unwrap()
            .as_str()
            .to_owned()
    };
    let mut bad = code("91370104MA3E0002");
    let last = if bad.ends_with('1') { "2" } else { "1" };
    bad.replace_range(17.., last);
    let file = format!(
        "{}\r\n{},槐荫智汇物流有限公司,,,振兴街街道,,,,,,,,,,\r\n{bad},槐荫校验有限公司,,,,,,,,,,,,,\r\n{},槐荫火星有限公司,,,火星街道,,,,,,,,,,\r\n",
        domain::enterprise::FILE_COLUMNS.join(","),
        code("91370104MA3E0001"),
        code("91370104MA3E0003"),
    );
    let profile = tempfile::tempdir().unwrap();
    let path = profile.path().join("企业名单.csv");
    std::fs::write(&path, file).unwrap();

    let client = driver.phone(profile.path()).await;
    sign_in(&client, &app, "supervisor").await;
    client.goto(&app.url("/enterprises")).await.unwrap();
    client
        .find(Locator::Id("enterprise-import"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client
        .find(Locator::Css("#import-form input[name=file]"))
        .await
        .unwrap()
        .send_keys(path.to_str().unwrap())
        .await
        .unwrap();
    client
        .form(Locator::Id("import-form"))
        .await
        .unwrap()
        .submit()
        .await
        .unwrap();
    let created = client
        .wait()
        .for_element(Locator::Id("import-created"))
        .await
        .unwrap();
    assert_eq!(created.text().await.unwrap(), "1");
    let rows = client
        .find_all(Locator::Css("#import-row-errors tbody tr"))
        .await
        .unwrap();
    let mut lines = Vec::new();
    for row in rows {
        lines.push(row.text().await.unwrap());
    }
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[0].starts_with("3 统一社会信用代码 校验位错误"),
        "{lines:?}"
    );
    assert!(
        lines[1].starts_with("4 所属街道 “火星街道”不是本区的街道"),
        "{lines:?}"
    );
    client.find(Locator::Id("import-report")).await.unwrap();
    assert!(scroll_width(&client).await <= 390, "no horizontal scroll");
    client.close().await.unwrap();
}

/// Sets a form field by script (date inputs take their value so on every locale).
async fn set_value(client: &Client, css: &str, value: &str) {
    client
        .execute(
            "document.querySelector(arguments[0]).value = arguments[1];",
            vec![json!(css), json!(value)],
        )
        .await
        .unwrap();
}

async fn text_of(client: &Client, id: &str) -> String {
    client
        .find(Locator::Id(id))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Issue 8's journey on a phone: an inspector records a covert inspection and its finding
/// with a photo, the supervisor assigns it, the street plans and submits with evidence, the
/// supervisor verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_covert_finding_goes_from_the_inspector_to_the_street_and_is_verified() {
    let app = TestApp::spawn_demo(Backend::Sqlite).await;
    let driver = Driver::start();
    let supervisor = app.demo_user("supervisor").await;
    let street_id = supervisor.unit_id("370104001").await;
    let profile = tempfile::tempdir().unwrap();
    let photo = profile.path().join("窗口空岗.png");
    std::fs::write(
        &photo,
        [0x89, b'P', b'N', b'G', 13, 10, 26, 10, 0, 0, 0, 13],
    )
    .unwrap();
    let report = profile.path().join("整改报告.pdf");
    std::fs::write(&report, b"%PDF-1.4 rectification").unwrap();

    // the inspector: a covert inspection of the street, then its finding with a photo
    let client = driver.phone(profile.path()).await;
    sign_in(&client, &app, "inspector").await;
    client.goto(&app.url("/inspections/new")).await.unwrap();
    let form = client.form(Locator::Id("inspection-form")).await.unwrap();
    form.set_by_name("kind", "covert").await.unwrap();
    form.set_by_name("title", "便民服务中心窗口暗访")
        .await
        .unwrap();
    set_value(
        &client,
        "#inspection-form input[name=held_on]",
        "2026-11-27",
    )
    .await;
    client
        .find(Locator::Css(&format!(
            "#inspection-form input[name=target_unit_ids][value='{street_id}']"
        )))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    form.submit().await.unwrap();
    client
        .wait()
        .for_element(Locator::Id("record-finding"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let form = client.form(Locator::Id("finding-form")).await.unwrap();
    form.set_by_name("category", "纪律").await.unwrap();
    form.set_by_name("severity", "serious").await.unwrap();
    form.set_by_name("description", "3 号窗口上班时间空岗 40 分钟")
        .await
        .unwrap();
    client
        .find(Locator::Css(&format!(
            "#finding-form input[name=unit_ids][value='{street_id}']"
        )))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    form.submit().await.unwrap();
    client
        .wait()
        .for_element(Locator::Id("finding-upload"))
        .await
        .unwrap();
    let finding_url = client.current_url().await.unwrap().to_string();
    assert_eq!(text_of(&client, "finding-state").await, "待交办");
    client
        .find(Locator::Css("#finding-upload input[name=file]"))
        .await
        .unwrap()
        .send_keys(photo.to_str().unwrap())
        .await
        .unwrap();
    client
        .form(Locator::Id("finding-upload"))
        .await
        .unwrap()
        .submit()
        .await
        .unwrap();
    client
        .wait()
        .for_element(Locator::Css("#files img.thumb[alt='窗口空岗.png']"))
        .await
        .unwrap();
    assert!(scroll_width(&client).await <= 390, "no horizontal scroll");
    client.close().await.unwrap();

    // the supervisor assigns it to the street
    let profile2 = tempfile::tempdir().unwrap();
    let client = driver.phone(profile2.path()).await;
    sign_in(&client, &app, "supervisor").await;
    client.goto(&finding_url).await.unwrap();
    client
        .form(Locator::Id("assign-form"))
        .await
        .unwrap()
        .submit()
        .await
        .unwrap();
    client
        .wait()
        .for_element(Locator::XPath(
            "//dd[@id='finding-state'][contains(., '已交办')]",
        ))
        .await
        .unwrap();
    client.close().await.unwrap();

    // the street: never the covert inspection; plans, then submits with its report
    let profile3 = tempfile::tempdir().unwrap();
    let client = driver.phone(profile3.path()).await;
    sign_in(&client, &app, "street").await;
    client.goto(&finding_url).await.unwrap();
    let page = client.source().await.unwrap();
    assert!(
        !page.contains("便民服务中心窗口暗访") && !page.contains("赵强"),
        "the inspection and the inspector stay hidden"
    );
    let form = client.form(Locator::Id("plan-form")).await.unwrap();
    form.set_by_name("measures", "调整排班，设 AB 岗")
        .await
        .unwrap();
    set_value(&client, "#plan-form input[name=planned_on]", "2026-12-11").await;
    form.submit().await.unwrap();
    client
        .wait()
        .for_element(Locator::XPath(
            "//dd[@id='finding-state'][contains(., '整改中')]",
        ))
        .await
        .unwrap();
    assert_eq!(text_of(&client, "finding-due").await, "2026-12-11 17:30");
    let form = client.form(Locator::Id("submit-form")).await.unwrap();
    form.set_by_name("text", "已调整排班并公示 AB 岗")
        .await
        .unwrap();
    client
        .find(Locator::Css("#submit-form input[name=file]"))
        .await
        .unwrap()
        .send_keys(report.to_str().unwrap())
        .await
        .unwrap();
    form.submit().await.unwrap();
    client
        .wait()
        .for_element(Locator::XPath(
            "//dd[@id='finding-state'][contains(., '待验收')]",
        ))
        .await
        .unwrap();
    client
        .find(Locator::XPath(
            "//ul[@id='files']/li/a[text()='整改报告.pdf']",
        ))
        .await
        .unwrap();
    assert!(scroll_width(&client).await <= 390, "no horizontal scroll");
    client.close().await.unwrap();

    // the supervisor verifies
    let profile4 = tempfile::tempdir().unwrap();
    let client = driver.phone(profile4.path()).await;
    sign_in(&client, &app, "supervisor").await;
    client.goto(&finding_url).await.unwrap();
    client
        .form(Locator::Id("verify-form"))
        .await
        .unwrap()
        .set_by_name("text", "整改到位，同意销号")
        .await
        .unwrap();
    client
        .find(Locator::Css("#verify-form button[value=verify]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client
        .wait()
        .for_element(Locator::XPath(
            "//dd[@id='finding-state'][contains(., '已销号')]",
        ))
        .await
        .unwrap();
    client.close().await.unwrap();
}

/// Issue 7's journey on a phone: a citizen submits on the public form and follows the appeal
/// by tracking code while the lead unit's contact accepts and replies on its pages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizen_submits_an_appeal_and_follows_it_while_the_unit_accepts_and_replies() {
    let app = TestApp::spawn_demo(Backend::Sqlite).await;
    let driver = Driver::start();

    // the citizen, signed out, on the public form
    let profile = tempfile::tempdir().unwrap();
    let citizen = driver.phone(profile.path()).await;
    citizen.goto(&app.url("/appeal")).await.unwrap();
    let form = citizen.form(Locator::Id("appeal-form")).await.unwrap();
    form.set_by_name("kind", "complaint").await.unwrap();
    form.set_by_name("category_code", "QYKB").await.unwrap();
    form.set_by_name("title", "营业执照变更跑了三次")
        .await
        .unwrap();
    form.set_by_name("content", "变更法定代表人，窗口每次只告知一部分材料。")
        .await
        .unwrap();
    form.set_by_name("submitter_name", "浏览器测试人")
        .await
        .unwrap();
    form.set_by_name("submitter_phone", "13911112222")
        .await
        .unwrap();
    form.submit().await.unwrap();
    citizen
        .wait()
        .for_element(Locator::Id("appeal-receipt"))
        .await
        .unwrap();
    let number = text_of(&citizen, "receipt-number").await;
    let code = text_of(&citizen, "receipt-tracking-code").await;
    assert!(number.starts_with("SQ"), "{number}");
    assert_eq!(code.trim().len(), 12, "{code}");
    assert!(scroll_width(&citizen).await <= 390, "no horizontal scroll");
    citizen
        .goto(&app.url(&format!("/track/{}", code.trim())))
        .await
        .unwrap();
    assert_eq!(text_of(&citizen, "track-state").await, "待派发");

    // the supervisor dispatches it to the category's unit (行政审批服务局)
    let supervisor = app.demo_user("supervisor").await;
    let (_, list) = supervisor
        .get_json(&format!("/api/v1/appeals?q={number}"))
        .await;
    let id = list["items"][0]["id"].as_str().unwrap().to_owned();
    let (status, _) = supervisor
        .post_json(
            &format!("/api/v1/appeals/{id}/actions"),
            &json!({"action": "dispatch"}),
            true,
        )
        .await;
    assert_eq!(status, 200);

    // the unit's contact accepts and replies on the appeal's page; it never sees who wrote
    let profile2 = tempfile::tempdir().unwrap();
    let unit = driver.phone(profile2.path()).await;
    sign_in(&unit, &app, "unitadmin").await;
    unit.goto(&app.url(&format!("/appeals/{id}")))
        .await
        .unwrap();
    let page = unit.source().await.unwrap();
    assert!(
        !page.contains("浏览器测试人") && !page.contains("13911112222"),
        "the submitter stays hidden from the unit"
    );
    unit.form(Locator::Id("accept-form"))
        .await
        .unwrap()
        .submit()
        .await
        .unwrap();
    unit.wait()
        .for_element(Locator::Id("reply-form"))
        .await
        .unwrap();
    let form = unit.form(Locator::Id("reply-form")).await.unwrap();
    form.set_by_name("reply", "已安排专人联系，一次性告知全部材料并当场办结。")
        .await
        .unwrap();
    form.submit().await.unwrap();
    unit.wait()
        .for_element(Locator::XPath(
            "//dd[@id='appeal-state'][contains(., '已答复待回访')]",
        ))
        .await
        .unwrap();
    assert!(scroll_width(&unit).await <= 390, "no horizontal scroll");
    unit.close().await.unwrap();

    // the citizen reloads the tracking page: replied, the reply, no staff names
    citizen.refresh().await.unwrap();
    citizen
        .wait()
        .for_element(Locator::Id("track-reply"))
        .await
        .unwrap();
    assert_eq!(text_of(&citizen, "track-state").await, "已答复待回访");
    assert_eq!(
        text_of(&citizen, "track-reply").await,
        "已安排专人联系，一次性告知全部材料并当场办结。"
    );
    let page = citizen.source().await.unwrap();
    assert!(
        !page.contains("陈静") && !page.contains("李明"),
        "no staff names"
    );
    assert!(scroll_width(&citizen).await <= 390, "no horizontal scroll");
    citizen.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizen_rates_a_window_from_its_qr_link_and_the_supervisor_finds_the_bad_rating() {
    let app = TestApp::spawn_demo(Backend::Sqlite).await;
    let driver = Driver::start();
    let tenant = app.store.tenant_by_code("370104").await.unwrap().unwrap();
    let units = app.store.units(&tenant.id).await.unwrap();
    let window = units.iter().find(|u| u.code == "ZWFW-02").unwrap();
    let token = app
        .store
        .window_rating_token(&store::audit::AuditCtx::cli(), &tenant.id, &window.id)
        .await
        .unwrap();

    // the citizen scans the window's QR code: 2 / 2 with two reasons and a comment
    let profile = tempfile::tempdir().unwrap();
    let citizen = driver.phone(profile.path()).await;
    citizen
        .goto(&app.url(&format!("/rate/{token}")))
        .await
        .unwrap();
    assert_eq!(text_of(&citizen, "rate-subject").await, "综合受理2号窗口");
    for css in [
        "input[name='process'][value='2']",
        "input[name='result'][value='2']",
        "input[name='reasons'][value='attitude']",
        "input[name='reasons'][value='visits']",
    ] {
        citizen
            .find(Locator::Css(css))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }
    set_value(
        &citizen,
        "textarea[name='comment']",
        "浏览器评价：来回跑了两趟",
    )
    .await;
    assert!(scroll_width(&citizen).await <= 390, "no horizontal scroll");
    citizen
        .find(Locator::Id("rate-submit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    citizen
        .wait()
        .for_element(Locator::Id("rate-done"))
        .await
        .unwrap();
    citizen.close().await.unwrap();

    // the supervisor finds it in the bad-rating queue and opens it
    let profile2 = tempfile::tempdir().unwrap();
    let supervisor = driver.phone(profile2.path()).await;
    sign_in(&supervisor, &app, "supervisor").await;
    supervisor.goto(&app.url("/bad-ratings")).await.unwrap();
    let row = supervisor
        .find(Locator::XPath(
            "//table[@id='bad-ratings']//tr[td[contains(., '态度不好、多次跑动')]]//a",
        ))
        .await
        .unwrap();
    assert!(
        scroll_width(&supervisor).await <= 390,
        "no horizontal scroll"
    );
    row.click().await.unwrap();
    supervisor
        .wait()
        .for_element(Locator::Id("bad-comment"))
        .await
        .unwrap();
    assert_eq!(
        text_of(&supervisor, "bad-comment").await,
        "浏览器评价：来回跑了两趟"
    );
    assert_eq!(text_of(&supervisor, "bad-state").await, "待核实");
    supervisor.close().await.unwrap();
}
