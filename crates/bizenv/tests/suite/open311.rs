//! Open311 GeoReport v2: services, a service definition, a request posted with a system
//! token as `api_key` and followed, in JSON and in XML, checked field by field against the
//! specification (field names, list envelopes, error format); bad input answers in the
//! GeoReport error format and stores nothing.

use domain::account::Role;
use serde_json::{Value, json};
use store::audit::AuditCtx;
use test_support::{Backend, TestApp, db_tests};

db_tests!(
    open311_lists_services_takes_a_request_and_follows_it_in_json_and_xml,
    open311_errors_are_in_the_georeport_format_and_change_nothing,
);

async fn post_form(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
    let body: String = fields
        .iter()
        .map(|(k, v)| format!("{k}={}", urlencode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let response = app
        .client
        .post(app.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A system token of the demo tenant (what `bizenv token add` makes).
async fn api_key(app: &TestApp) -> String {
    let tenant = app.store.tenant_by_code("370104").await.unwrap().unwrap();
    app.store
        .create_token(
            &AuditCtx::cli(),
            &tenant.id,
            "open311-client",
            &[Role::Observer],
            None,
        )
        .await
        .unwrap()
        .1
}

/// The text of `<tag>` inside `xml` (first occurrence), or None for an empty `<tag/>`.
fn xml_field(xml: &str, tag: &str) -> Option<String> {
    if let Some(start) = xml.find(&format!("<{tag}>")) {
        let rest = &xml[start + tag.len() + 2..];
        let end = rest.find(&format!("</{tag}>")).expect("a closing tag");
        Some(rest[..end].to_owned())
    } else {
        assert!(xml.contains(&format!("<{tag}/>")), "no <{tag}> in {xml}");
        None
    }
}

async fn open311_lists_services_takes_a_request_and_follows_it_in_json_and_xml(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let key = api_key(&app).await;

    // services: the demo's categories, each with the specification's fields
    let (status, services) = app.get_json("/open311/v2/services.json").await;
    assert_eq!(status, 200, "{services}");
    let list = services.as_array().expect("a JSON array");
    let qykb = list
        .iter()
        .find(|s| s["service_code"] == "QYKB")
        .expect("the 企业开办 service");
    assert_eq!(
        qykb,
        &json!({"service_code": "QYKB", "service_name": "企业开办", "description": "企业设立、变更、注销登记",
                "metadata": false, "type": "realtime", "keywords": "", "group": ""})
    );
    let (status, xml) = app
        .get_text("/open311/v2/services.xml?jurisdiction_id=370104")
        .await;
    assert_eq!(status, 200);
    assert!(
        xml.starts_with(r#"<?xml version="1.0" encoding="utf-8"?><services><service>"#),
        "{xml}"
    );
    assert!(
        xml.contains("<service_code>QYKB</service_code><service_name>企业开办</service_name>"),
        "{xml}"
    );
    assert!(
        xml.contains("<metadata>false</metadata><type>realtime</type>"),
        "{xml}"
    );
    let (status, definition) = app.get_json("/open311/v2/services/QYKB.json").await;
    assert_eq!(status, 200);
    assert_eq!(
        definition,
        json!([{"service_code": "QYKB", "attributes": []}])
    );

    // a request posted as the specification does (form-encoded, api_key, service_code)
    let (status, posted) = post_form(
        &app,
        "/open311/v2/requests.json",
        &[
            ("api_key", &key),
            ("jurisdiction_id", "370104"),
            ("service_code", "QYKB"),
            (
                "description",
                "公司注销登记材料反复退回，请一次性告知所需材料",
            ),
            ("address_string", "济南市槐荫区经十路 1 号"),
            ("first_name", "开放"),
            ("last_name", "接口"),
            ("phone", "13700001111"),
        ],
    )
    .await;
    assert_eq!(status, 201, "{posted}");
    let posted: Value = serde_json::from_str(&posted).unwrap();
    let id = posted[0]["service_request_id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("SQ20261130"), "{posted}");
    assert_eq!(posted[0]["service_notice"], "");
    assert!(posted[0]["account_id"].is_null());

    // followed: open, no agency yet, expected = the dispatch deadline, no personal data and
    // no description (the submitter did not agree to publish it)
    let (status, one) = app
        .get_json(&format!("/open311/v2/requests/{id}.json"))
        .await;
    assert_eq!(status, 200, "{one}");
    let r = &one[0];
    let keys: Vec<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
    let mut want = vec![
        "address",
        "address_id",
        "agency_responsible",
        "description",
        "expected_datetime",
        "lat",
        "long",
        "media_url",
        "requested_datetime",
        "service_code",
        "service_name",
        "service_notice",
        "service_request_id",
        "status",
        "status_notes",
        "updated_datetime",
        "zipcode",
    ];
    want.sort_unstable();
    assert_eq!(keys, want);
    assert_eq!(r["service_request_id"], id.as_str());
    assert_eq!(r["status"], "open");
    assert_eq!(r["service_code"], "QYKB");
    assert_eq!(r["service_name"], "企业开办");
    assert_eq!(r["agency_responsible"], "");
    assert!(r["description"].is_null());
    assert_eq!(r["address"], "济南市槐荫区经十路 1 号");
    assert_eq!(r["requested_datetime"], "2026-11-30T10:00:00+08:00");
    assert_eq!(r["expected_datetime"], "2026-11-30T12:00:00+08:00");
    let text = one.to_string();
    assert!(
        !text.contains("13700001111") && !text.contains("开放"),
        "{text}"
    );

    // dispatched: the lead unit answers, expected = the accept deadline
    let supervisor = app.demo_user("supervisor").await;
    let (_, list) = supervisor
        .get_json(&format!("/api/v1/appeals?q={id}"))
        .await;
    let appeal_id = list["items"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(list["items"][0]["source"], "open311");
    let (status, _) = supervisor
        .post_json(
            &format!("/api/v1/appeals/{appeal_id}/actions"),
            &json!({"action": "dispatch"}),
            true,
        )
        .await;
    assert_eq!(status, 200);
    let (_, xml) = app
        .get_text(&format!("/open311/v2/requests/{id}.xml"))
        .await;
    assert!(
        xml.starts_with(r#"<?xml version="1.0" encoding="utf-8"?><service_requests><request>"#),
        "{xml}"
    );
    assert_eq!(
        xml_field(&xml, "service_request_id").as_deref(),
        Some(id.as_str())
    );
    assert_eq!(xml_field(&xml, "status").as_deref(), Some("open"));
    assert_eq!(
        xml_field(&xml, "agency_responsible").as_deref(),
        Some("槐荫区行政审批服务局")
    );
    assert_eq!(
        xml_field(&xml, "expected_datetime").as_deref(),
        Some("2026-12-01T17:30:00+08:00")
    );
    assert_eq!(xml_field(&xml, "description"), None);
    assert_eq!(xml_field(&xml, "lat"), None);

    // lists: by id, by status, by service; the demo's year is outside the default 90 days
    let (_, by_id) = app
        .get_json(&format!(
            "/open311/v2/requests.json?service_request_id={id},SQ000"
        ))
        .await;
    assert_eq!(by_id.as_array().unwrap().len(), 1, "{by_id}");
    let (_, closed) = app
        .get_json("/open311/v2/requests.json?status=closed&service_code=QYKB")
        .await;
    assert!(
        closed
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "closed" && r["service_code"] == "QYKB")
    );
    assert!(!closed.to_string().contains(&id));
    let (_, recent) = app.get_json("/open311/v2/requests.json").await;
    let recent = recent.as_array().unwrap();
    assert!(
        recent
            .iter()
            .any(|r| r["service_request_id"] == id.as_str())
    );
    assert!(
        recent
            .iter()
            .all(|r| r["requested_datetime"].as_str().unwrap() >= "2026-09-01"),
        "the last 90 days by default"
    );
    let (_, xml) = app.get_text("/open311/v2/requests.xml?status=open").await;
    assert!(
        xml.contains("<service_requests><request>")
            && xml.ends_with("</request></service_requests>")
    );
}

async fn open311_errors_are_in_the_georeport_format_and_change_nothing(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let key = api_key(&app).await;
    let count = || async {
        app.sql_rows("SELECT CAST(COUNT(*) AS TEXT) FROM appeal")
            .await[0][0]
            .clone()
    };
    let before = count().await;
    let cases: Vec<(Vec<(&str, &str)>, u16)> = vec![
        (
            vec![("service_code", "QYKB"), ("description", "无 api_key")],
            400,
        ),
        (
            vec![
                ("api_key", "bzt_forged"),
                ("service_code", "QYKB"),
                ("description", "伪造"),
            ],
            403,
        ),
        (
            vec![
                ("api_key", &key),
                ("service_code", "NOPE"),
                ("description", "未知服务"),
            ],
            400,
        ),
        (vec![("api_key", &key), ("service_code", "QYKB")], 400),
        (
            vec![
                ("api_key", &key),
                ("service_code", "QYKB"),
                ("description", "x"),
                ("phone", "123"),
            ],
            400,
        ),
        (
            vec![
                ("api_key", &key),
                ("jurisdiction_id", "999999"),
                ("service_code", "QYKB"),
                ("description", "x"),
            ],
            404,
        ),
    ];
    for (fields, want) in cases {
        let (status, body) = post_form(&app, "/open311/v2/requests.json", &fields).await;
        assert_eq!(status, want, "{fields:?} → {body}");
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body[0]["code"], want, "{body}");
        assert!(
            body[0]["description"]
                .as_str()
                .is_some_and(|d| !d.is_empty()),
            "{body}"
        );
    }
    let (status, xml) = post_form(
        &app,
        "/open311/v2/requests.xml",
        &[("service_code", "QYKB")],
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        xml.starts_with(
            r#"<?xml version="1.0" encoding="utf-8"?><errors><error><code>400</code><description>"#
        ),
        "{xml}"
    );
    let (status, body) = app.get_json("/open311/v2/services/NOPE.json").await;
    assert_eq!(status, 404);
    assert_eq!(body[0]["code"], 404);
    let (status, _) = app.get_json("/open311/v2/requests/SQ000.json").await;
    assert_eq!(status, 404);
    let (status, _) = app.get_text("/open311/v2/services.txt").await;
    assert_eq!(status, 404);
    let (status, body) = app
        .get_json("/open311/v2/requests.json?status=pending")
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = app
        .get_json("/open311/v2/requests.json?start_date=yesterday")
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(before, count().await, "nothing stored");
}
