//! Web conventions: errors, 404s, health, metrics, OpenAPI coverage, assets.

use std::collections::BTreeSet;

use test_support::{Backend, TestApp, db_tests};

db_tests!(
    an_unknown_api_route_is_a_json_404_and_an_unknown_page_a_chinese_one,
    healthz_answers_while_the_database_does,
    metrics_are_labelled_by_the_matched_route,
    every_api_route_of_the_router_is_in_the_openapi_document,
    pages_use_only_assets_served_by_the_binary,
    a_visitor_of_a_city_installation_picks_the_district,
);

async fn a_visitor_of_a_city_installation_picks_the_district(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    // one district: its home page at once
    let (status, page) = app.get_text("/").await;
    assert_eq!(status, 200);
    assert!(!page.contains("请选择地区"));
    app.store
        .create_tenant(&store::audit::AuditCtx::cli(), "370105", "天桥区")
        .await
        .unwrap();
    // several: a list to pick from, each leading to its district's home page
    let (status, page) = app.get_text("/").await;
    assert_eq!(status, 200);
    assert!(page.contains("请选择地区"), "{page}");
    assert!(
        page.contains(r#"<a href="/?tenant=370105">天桥区</a>"#),
        "{page}"
    );
    assert!(page.contains(r#"<a href="/?tenant=370104">"#), "{page}");
    let (status, page) = app.get_text("/?tenant=370105").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("天桥区") && !page.contains("请选择地区"),
        "{page}"
    );
    let (status, _) = app.get_text("/?tenant=999999").await;
    assert_eq!(status, 404);
}

async fn an_unknown_api_route_is_a_json_404_and_an_unknown_page_a_chinese_one(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let (status, body) = app.get_json("/api/v1/no-such-thing").await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "not_found");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("不存在")
    );

    let response = app.get("/no-such-page").await;
    assert_eq!(response.status(), 404);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = response.text().await.unwrap();
    assert!(html.contains("页面不存在"), "{html}");
    assert!(html.contains("返回首页"));
}

async fn healthz_answers_while_the_database_does(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, body) = app.get_text("/healthz").await;
    assert_eq!((status, body.as_str()), (200, "ok"));
    app.store.close().await;
    let (status, _) = app.get_text("/healthz").await;
    assert_eq!(status, 503, "the database no longer answers");
}

async fn metrics_are_labelled_by_the_matched_route(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let user = app.demo_user("leader").await;
    let (_, list) = user.get_json("/api/v1/units?per_page=2").await;
    for unit in list["items"].as_array().unwrap() {
        user.get_json(&format!("/api/v1/units/{}", unit["id"].as_str().unwrap()))
            .await;
    }
    user.get_json("/api/v1/units/missing").await;
    let (status, text) = app.get_text("/metrics").await;
    assert_eq!(status, 200);
    assert!(
        text.contains(
            r#"bizenv_http_requests_total{method="GET",route="/api/v1/units/{id}",status="200"} 2"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"route="/api/v1/units/{id}",status="404"} 1"#),
        "{text}"
    );
    let id = list["items"][0]["id"].as_str().unwrap();
    assert!(!text.contains(id), "raw paths never become labels");
}

async fn every_api_route_of_the_router_is_in_the_openapi_document(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, doc) = app.get_json("/api/v1/openapi.json").await;
    assert_eq!(status, 200);
    assert_eq!(doc["openapi"], "3.1.0");
    let routes = web::routes::api_routes();
    assert!(
        routes.len() >= 7,
        "the router lists its API routes: {routes:?}"
    );
    let mut routed = BTreeSet::new();
    for (method, path) in &routes {
        let method = method.as_str().to_lowercase();
        assert!(
            doc["paths"][*path][&method].is_object(),
            "{method} {path} is routed but not in openapi.json"
        );
        routed.insert((method, path.to_string()));
    }
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            assert!(
                routed.contains(&(method.clone(), path.clone())),
                "{method} {path} is documented but not routed"
            );
        }
    }
}

async fn pages_use_only_assets_served_by_the_binary(backend: Backend) {
    let app = TestApp::spawn_demo(backend).await;
    let user = app.demo_user("supervisor").await;
    for page in [
        "/",
        "/units",
        "/units/list",
        "/calendar",
        "/login",
        "/password",
    ] {
        let (status, html) = user.get_text(page).await;
        assert_eq!(status, 200, "{page}");
        assert!(html.contains("<html lang=\"zh-CN\">"));
        assert!(
            html.contains("width=device-width"),
            "{page} has a phone viewport"
        );
        for attr in ["src=\"", "href=\""] {
            for part in html.split(attr).skip(1) {
                let url = &part[..part.find('"').unwrap()];
                assert!(
                    url.starts_with('/'),
                    "{page} links outside the binary: {url}"
                );
                if url.starts_with("/assets/") {
                    let response = user.get(url).await;
                    assert_eq!(response.status(), 200, "{url}");
                }
            }
        }
    }
    let response = app.get("/assets/app.css").await;
    assert_eq!(
        response.headers()["content-type"],
        "text/css; charset=utf-8"
    );
    let css = response.text().await.unwrap();
    assert!(!css.contains("http://") && !css.contains("https://") && !css.contains("@import"));
    let (status, _) = app.get_text("/assets/none.js").await;
    assert_eq!(status, 404);
}
