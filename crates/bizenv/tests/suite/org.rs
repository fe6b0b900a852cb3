//! The organisation, read side: the demo's unit tree through the API and the pages.

use serde_json::Value;
use test_support::{Backend, TestApp, TestUser, db_tests};

db_tests!(
    the_demo_district_has_its_unit_tree,
    seeding_the_demo_twice_changes_nothing,
    the_unit_list_follows_the_list_convention,
    a_unit_is_read_by_id_and_an_unknown_one_is_a_404,
    the_unit_pages_show_the_tree_the_list_and_a_unit,
    an_installation_without_tenants_says_so,
);

async fn total(app: &TestUser, query: &str) -> i64 {
    let (status, body) = app.get_json(&format!("/api/v1/units?{query}")).await;
    assert_eq!(status, 200, "{query}: {body}");
    body["total"].as_i64().unwrap()
}

async fn the_demo_district_has_its_unit_tree(backend: Backend) {
    let demo = TestApp::spawn_demo(backend).await;
    let app = demo.demo_user("supervisor").await;
    let departments = total(&app, "kind=department").await;
    assert!(
        (18..=24).contains(&departments),
        "about 20 departments: {departments}"
    );
    assert_eq!(total(&app, "kind=street").await, 16);
    assert!(total(&app, "kind=community").await >= 150);
    assert_eq!(total(&app, "kind=district_office").await, 2);
    let halls = total(&app, "kind=hall").await;
    assert!(
        halls >= 17,
        "the district hall and 16 street centres: {halls}"
    );
    assert!(total(&app, "kind=window").await >= 16 + 16);

    let (_, streets) = app.get_json("/api/v1/units?kind=street&per_page=200").await;
    let names: Vec<&str> = streets["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    for street in ["振兴街街道", "道德街街道", "美里湖街道", "玉清湖街道"] {
        assert!(names.contains(&street), "{street} in {names:?}");
    }
    // every street has communities and a service centre
    for street in streets["items"].as_array().unwrap() {
        let id = street["id"].as_str().unwrap();
        assert!(total(&app, &format!("kind=community&parent_id={id}")).await >= 8);
        assert_eq!(total(&app, &format!("kind=hall&parent_id={id}")).await, 1);
    }
    let (_, hall) = app
        .get_json(
            "/api/v1/units?kind=hall&q=%E6%94%BF%E5%8A%A1%E6%9C%8D%E5%8A%A1%E4%B8%AD%E5%BF%83",
        )
        .await;
    assert_eq!(hall["total"], 1, "槐荫区政务服务中心: {hall}");
    let hall_id = hall["items"][0]["id"].as_str().unwrap();
    let (_, windows) = app
        .get_json(&format!("/api/v1/units?parent_id={hall_id}&per_page=200"))
        .await;
    let windows = windows["items"].as_array().unwrap();
    assert!(windows.len() >= 12);
    assert!(
        windows
            .iter()
            .all(|w| w["kind"] == "window" && w["staffed_by_id"].is_string())
    );

    let tenant = demo.store.tenant_by_code("370104").await.unwrap().unwrap();
    assert_eq!(tenant.name, "槐荫区（示例）");
}

async fn seeding_the_demo_twice_changes_nothing(backend: Backend) {
    let demo = TestApp::spawn_demo(backend).await;
    let app = demo.demo_user("supervisor").await;
    let before = total(&app, "").await;
    let summary = demo.store.seed_demo().await.unwrap();
    assert!(summary.seeded_now.is_empty());
    assert_eq!(total(&app, "").await, before);
    assert_eq!(demo.store.tenants().await.unwrap().len(), 1);
    assert_eq!(summary.units.values().sum::<usize>() as i64, before);
}

async fn the_unit_list_follows_the_list_convention(backend: Backend) {
    let demo = TestApp::spawn_demo(backend).await;
    let app = demo.demo_user("supervisor").await;
    let (status, first) = app.get_json("/api/v1/units").await;
    assert_eq!(status, 200);
    assert_eq!(first["page"], 1);
    assert_eq!(first["per_page"], 50);
    assert_eq!(first["items"].as_array().unwrap().len(), 50);
    let all = first["total"].as_i64().unwrap();
    assert!(all > 250);

    let (_, second) = app.get_json("/api/v1/units?page=2&per_page=50").await;
    assert_ne!(first["items"][0]["id"], second["items"][0]["id"]);
    let (_, max) = app.get_json("/api/v1/units?per_page=200").await;
    assert_eq!(max["items"].as_array().unwrap().len(), 200);
    let last_page = (all + 199) / 200;
    let (_, last) = app
        .get_json(&format!("/api/v1/units?per_page=200&page={last_page}"))
        .await;
    assert_eq!(
        last["items"].as_array().unwrap().len() as i64,
        all - 200 * (last_page - 1)
    );
    let (_, beyond) = app.get_json("/api/v1/units?page=99").await;
    assert_eq!(beyond["items"], Value::Array(vec![]));
    assert_eq!(beyond["total"].as_i64().unwrap(), all);

    for (query, field) in [
        ("per_page=201", "per_page"),
        ("per_page=0", "per_page"),
        ("page=0", "page"),
        ("page=x", "page"),
        ("kind=bureau", "kind"),
    ] {
        let (status, body) = app.get_json(&format!("/api/v1/units?{query}")).await;
        assert_eq!(status, 400, "{query}");
        assert!(
            body["error"]["fields"][field].is_string(),
            "{query}: {body}"
        );
    }
    let (_, body) = app.get_json("/api/v1/units?q=%25").await;
    assert_eq!(body["total"], 0, "a % in the search is literal");
}

async fn a_unit_is_read_by_id_and_an_unknown_one_is_a_404(backend: Backend) {
    let demo = TestApp::spawn_demo(backend).await;
    let app = demo.demo_user("supervisor").await;
    let (_, list) = app.get_json("/api/v1/units?kind=window&per_page=1").await;
    let window = &list["items"][0];
    let id = window["id"].as_str().unwrap();
    let (status, one) = app.get_json(&format!("/api/v1/units/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(&one, window);
    let created = one["created_at"].as_str().unwrap();
    assert!(
        created.ends_with("+08:00"),
        "timestamps carry the Shanghai offset: {created}"
    );
    assert!(
        created.starts_with("2026-11-30T10:00:00"),
        "from the test clock: {created}"
    );

    let (status, body) = app.get_json("/api/v1/units/no-such-unit").await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "not_found");
    let (status, body) = demo.get_json("/api/v1/units").await;
    assert_eq!(status, 401, "signed out: {body}");
    assert_eq!(body["error"]["code"], "unauthenticated");
}

async fn the_unit_pages_show_the_tree_the_list_and_a_unit(backend: Backend) {
    let demo = TestApp::spawn_demo(backend).await;
    let app = demo.demo_user("supervisor").await;
    let (status, tree) = app.get_text("/units").await;
    assert_eq!(status, 200);
    assert!(tree.contains("组织机构树"));
    assert!(tree.contains("槐荫区人民政府办公室"));
    assert!(tree.contains("振兴街街道"));
    assert!(tree.contains("示例数据"));

    let (status, list) = app.get_text("/units/list?kind=street").await;
    assert_eq!(status, 200);
    assert!(list.contains("共 16"), "16 streets listed");
    assert!(!list.contains("社区</a>"), "only streets");
    let (status, _) = app.get_text("/units/list?per_page=500").await;
    assert_eq!(status, 400);

    let (_, windows) = app
        .get_json("/api/v1/units?kind=window&q=%E4%BC%81%E4%B8%9A%E5%BC%80%E5%8A%9E")
        .await;
    let window = &windows["items"][0];
    let (status, page) = app
        .get_text(&format!("/units/{}", window["id"].as_str().unwrap()))
        .await;
    assert_eq!(status, 200);
    assert!(page.contains("企业开办"), "{page}");
    assert!(
        page.contains("槐荫区政务服务中心"),
        "breadcrumb shows the hall"
    );
    assert!(
        page.contains("派驻单位"),
        "the staffing department is shown"
    );

    let (status, missing) = app.get_text("/units/no-such-unit").await;
    assert_eq!(status, 404);
    assert!(missing.contains("您访问的内容不存在"));
    assert!(missing.contains("<html lang=\"zh-CN\">"));
}

async fn an_installation_without_tenants_says_so(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, body) = app.get_json("/api/v1/calendar/working-hours").await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "no_tenant");
    let (status, page) = app.get_text("/").await;
    assert_eq!(status, 404);
    assert!(page.contains("bizenv tenant add"), "{page}");
}
