//! In-process API tests of the networks area: the router over a temp engine (with its own nft
//! table name, removed at the end), driven with `tower::ServiceExt::oneshot`. Only error paths
//! and the registry: no container runs, no bridge is made.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use berth_engine::{Config, Engine};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

async fn call(app: &Router, method: &str, uri: &str, body: Value) -> (StatusCode, Value) {
    let body = if body.is_null() { Vec::new() } else { serde_json::to_vec(&body).unwrap() };
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

#[tokio::test]
async fn connect_and_disconnect_errors_like_dockerd() {
    let tmp = tempfile::tempdir().unwrap();
    let net = berth_testkit::hostnet::HostNet::new();
    let mut config = Config::with_roots(tmp.path().join("data"), tmp.path().join("exec"));
    config.bridge_name = net.bridge.clone();
    config.nft_table = net.nft_table.clone();
    config.bip = Some(net.bip.clone());
    let engine = Engine::open(config).await.unwrap();
    let app = berth_api_server::router(engine.clone());

    let (s, b) = call(&app, "POST", "/v1.41/networks/nope/connect", json!({"Container": "x"})).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{b}");
    assert_eq!(b["message"], "network nope not found");
    let (s, _) = call(&app, "POST", "/v1.41/networks/bridge/connect", json!({"Container": ""})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = call(&app, "POST", "/v1.41/networks/bridge/connect", json!({"EndpointConfig": {}})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, b) = call(&app, "POST", "/v1.41/networks/bridge/connect", json!({"Container": "ghost"})).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{b}");
    assert_eq!(b["message"], "No such container: ghost");
    let (s, b) = call(&app, "POST", "/v1.41/networks/bridge/disconnect", json!({"Container": "ghost"})).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{b}");
    // Force on a container that is gone and has nothing on the network: still not found.
    let (s, _) =
        call(&app, "POST", "/v1.41/networks/bridge/disconnect", json!({"Container": "ghost", "Force": true})).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    let (s, b) = call(&app, "DELETE", "/v1.41/networks/host", Value::Null).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{b}");
    assert_eq!(b["message"], "host is a pre-defined network and cannot be removed");
    let (s, b) = call(
        &app,
        "POST",
        "/v1.41/networks/create",
        json!({"Name": "apinet", "Attachable": true, "IPAM": {"Config": [{"Subnet": "10.254.77.0/24"}]}}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let (s, b) = call(&app, "GET", "/v1.41/networks/apinet", Value::Null).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b["Attachable"], true);
    assert_eq!(b["IPAM"]["Config"][0]["Gateway"], "10.254.77.1");
    let (s, b) = call(&app, "POST", "/v1.41/networks/create", json!({"Name": "apinet"})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{b}");
    let (s, _) = call(&app, "DELETE", "/v1.41/networks/apinet", Value::Null).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
}
