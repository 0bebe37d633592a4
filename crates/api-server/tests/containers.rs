//! In-process API tests of the containers area: the router over a temp engine, driven with
//! `tower::ServiceExt::oneshot`. The error paths need nothing; the lifecycle tests load the
//! busybox fixture (`scripts/make-busybox-image.sh`) and skip when it cannot be built; the run
//! test needs root (`BERTH_TEST_PRIVILEGED=1`) and the `berth-shim` binary.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use berth_engine::{Config, Engine};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

struct Env {
    tmp: tempfile::TempDir,
    data: PathBuf,
    app: Router,
    _engine: Arc<Engine>,
}

async fn env_with(config: impl FnOnce(&Path) -> Config) -> Env {
    let tmp = tempfile::tempdir().unwrap();
    let config = config(tmp.path());
    let data = config.data_root.clone();
    let engine = Engine::open(config).await.unwrap();
    let app = berth_api_server::router(engine.clone());
    Env { tmp, data, app, _engine: engine }
}

async fn env() -> Env {
    env_with(|p| Config::with_roots(p.join("data"), p.join("exec"))).await
}

async fn call(app: &Router, method: &str, uri: &str, body: impl Into<Body>) -> (StatusCode, Vec<u8>) {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(body.into())
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes().to_vec();
    (status, bytes)
}

async fn json_call(app: &Router, method: &str, uri: &str, body: Value) -> (StatusCode, Value) {
    let body = if body.is_null() { Vec::new() } else { serde_json::to_vec(&body).unwrap() };
    let (s, b) = call(app, method, uri, body).await;
    (s, serde_json::from_slice(&b).unwrap_or(Value::Null))
}

fn entries(dir: &Path) -> usize {
    std::fs::read_dir(dir).map(|r| r.count()).unwrap_or(0)
}

fn message(m: &str) -> Value {
    json!({ "message": m })
}

#[tokio::test]
async fn unknown_container_is_404_everywhere() {
    let env = env().await;
    let app = &env.app;
    let golden = include_str!("../../api-types/tests/golden/dockerd/err-no-container.txt");
    let golden_body: Value = serde_json::from_str(golden.lines().last().unwrap()).unwrap();
    for (method, path) in [
        ("GET", "/v1.41/containers/nope/json"),
        ("POST", "/v1.41/containers/nope/start"),
        ("POST", "/v1.41/containers/nope/stop"),
        ("POST", "/v1.41/containers/nope/restart"),
        ("POST", "/v1.41/containers/nope/kill"),
        ("POST", "/v1.41/containers/nope/wait"),
        ("POST", "/v1.41/containers/nope/rename?name=other"),
        ("POST", "/v1.41/containers/nope/resize?h=1&w=1"),
        ("POST", "/v1.41/containers/nope/attach?stream=1&stdout=1"),
        ("GET", "/v1.41/containers/nope/logs?stdout=1"),
        ("DELETE", "/v1.41/containers/nope"),
    ] {
        let (s, body) = json_call(app, method, path, Value::Null).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{method} {path}");
        assert_eq!(body, golden_body, "{method} {path}");
    }
    let (s, body) = json_call(app, "GET", "/v1.41/containers/json?all=1", Value::Null).await;
    assert_eq!((s, body), (StatusCode::OK, json!([])));
}

#[tokio::test]
async fn bad_requests_are_400_and_leave_nothing() {
    let env = env().await;
    let app = &env.app;
    let (s, body) = call(app, "POST", "/v1.41/containers/create", "{\"Image\": bad").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let m: Value = serde_json::from_slice(&body).unwrap();
    assert!(m["message"].as_str().unwrap().starts_with("invalid JSON in request body: "), "{m}");

    let (s, m) = json_call(app, "POST", "/v1.41/containers/create", Value::Null).await;
    assert_eq!((s, m), (StatusCode::BAD_REQUEST, message("Config cannot be empty in order to create a container")));

    let (s, m) = json_call(app, "POST", "/v1.41/containers/create?name=a!b", json!({"Image": "busybox"})).await;
    assert_eq!(
        (s, m),
        (StatusCode::BAD_REQUEST, message("Invalid container name (a!b), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"))
    );
    let (s, _) = json_call(app, "POST", "/v1.41/containers/create?name=a", json!({"Image": "busybox"})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    let (s, m) =
        json_call(app, "GET", "/v1.41/containers/json?filters=%7B%22bogus%22%3A%5B%22x%22%5D%7D", Value::Null).await;
    assert_eq!((s, m), (StatusCode::BAD_REQUEST, message("Invalid filter 'bogus'")));
    let (s, m) =
        json_call(app, "GET", "/v1.41/containers/json?filters=%7B%22status%22%3A%5B%22x%22%5D%7D", Value::Null).await;
    assert_eq!((s, m), (StatusCode::BAD_REQUEST, message("Invalid filter 'status=x'")));
    let (s, _) = json_call(app, "GET", "/v1.41/containers/json?all=maybe", Value::Null).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    assert_eq!(entries(&env.data.join("containers")), 0);
}

#[tokio::test]
async fn unknown_image_is_404() {
    let env = env().await;
    let (s, m) = json_call(&env.app, "POST", "/v1.41/containers/create?name=web", json!({"Image": "nope"})).await;
    let golden = include_str!("../../api-types/tests/golden/dockerd/err-no-image.txt");
    let golden_body: Value = serde_json::from_str(golden.lines().last().unwrap()).unwrap();
    assert_eq!((s, m), (StatusCode::NOT_FOUND, golden_body));
    assert_eq!(entries(&env.data.join("containers")), 0);
}

/// Loads the busybox fixture; `false` (skip) when the fixture cannot be built here.
async fn load_busybox(env: &Env) -> bool {
    let fixtures = env.tmp.path().join("bb");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/make-busybox-image.sh");
    let out = std::process::Command::new("bash").arg(&script).arg(&fixtures).output().unwrap();
    if !out.status.success() {
        eprintln!("SKIP: fixture script failed: {}", String::from_utf8_lossy(&out.stderr));
        return false;
    }
    let archive = std::fs::read(fixtures.join("busybox.tar")).unwrap();
    let (s, body) = call(&env.app, "POST", "/v1.41/images/load", archive).await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    true
}

#[tokio::test]
async fn create_inspect_list_rename_delete_without_running() {
    let env = env().await;
    if !load_busybox(&env).await {
        return;
    }
    let app = &env.app;
    let (s, created) = json_call(
        app,
        "POST",
        "/v1.41/containers/create?name=golden1",
        json!({"Image": "busybox", "Cmd": ["sleep", "30"], "Labels": {"a": "b"}}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    let id = created["Id"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 64);
    assert_eq!(created["Warnings"], json!([]));

    // Duplicate name: dockerd's exact conflict.
    let (s, m) = json_call(app, "POST", "/v1.41/containers/create?name=/golden1", json!({"Image": "busybox"})).await;
    let expected = format!("Conflict. The container name \"/golden1\" is already in use by container \"{id}\". You have to remove (or rename) that container to be able to reuse that name.");
    assert_eq!((s, m), (StatusCode::CONFLICT, message(&expected)));
    assert_eq!(entries(&env.data.join("containers")), 1, "failed create left nothing");

    // Inspect: the created golden's shape and values, less what differs per run.
    let (s, inspect) = json_call(app, "GET", "/v1.41/containers/golden1/json", Value::Null).await;
    assert_eq!(s, StatusCode::OK);
    let golden: Value =
        serde_json::from_str(include_str!("../../api-types/tests/golden/dockerd/container-inspect-created.json"))
            .unwrap();
    assert_eq!(inspect["State"], golden["State"]);
    assert_eq!(inspect["Name"], golden["Name"]);
    assert_eq!(inspect["Path"], golden["Path"]);
    assert_eq!(inspect["Args"], golden["Args"]);
    assert_eq!(inspect["Image"], golden["Image"]);
    assert_eq!(inspect["Config"]["Env"], golden["Config"]["Env"]);
    assert_eq!(inspect["Config"]["Cmd"], golden["Config"]["Cmd"]);
    assert_eq!(inspect["Config"]["Labels"], golden["Config"]["Labels"]);
    assert_eq!(inspect["Config"]["Hostname"], json!(&id[..12]));
    assert_eq!(inspect["ExecIDs"], Value::Null);

    // Lookup by prefix and by /name.
    let (s, _) = json_call(app, "GET", &format!("/v1.41/containers/{}/json", &id[..6]), Value::Null).await;
    assert_eq!(s, StatusCode::OK);

    // List: not running → only with all=1.
    let (_, list) = json_call(app, "GET", "/v1.41/containers/json", Value::Null).await;
    assert_eq!(list, json!([]));
    let (_, list) = json_call(app, "GET", "/v1.41/containers/json?all=1", Value::Null).await;
    assert_eq!(list[0]["Names"], json!(["/golden1"]));
    assert_eq!(list[0]["Status"], "Created");
    assert_eq!(list[0]["State"], "created");
    assert_eq!(list[0]["Command"], "sleep 30");
    let (_, list) = json_call(
        app,
        "GET",
        "/v1.41/containers/json?all=1&filters=%7B%22label%22%3A%5B%22a%3Dc%22%5D%7D",
        Value::Null,
    )
    .await;
    assert_eq!(list, json!([]));

    // Not running: stop 304, kill 409, resize 409, wait returns at once.
    let (s, _) = call(app, "POST", "/v1.41/containers/golden1/stop", Vec::new()).await;
    assert_eq!(s, StatusCode::NOT_MODIFIED);
    let (s, m) = json_call(app, "POST", "/v1.41/containers/golden1/kill", Value::Null).await;
    assert_eq!(
        (s, m),
        (StatusCode::CONFLICT, message(&format!("Cannot kill container: golden1: Container {id} is not running")))
    );
    let (s, m) = json_call(app, "POST", "/v1.41/containers/golden1/resize?h=10&w=10", Value::Null).await;
    assert_eq!((s, m), (StatusCode::CONFLICT, message(&format!("Container {id} is not running"))));
    let (s, m) = json_call(app, "POST", "/v1.41/containers/golden1/wait", Value::Null).await;
    assert_eq!((s, m), (StatusCode::OK, json!({"Error": null, "StatusCode": 0})));

    // Rename.
    let (s, _) = call(app, "POST", "/v1.41/containers/golden1/rename?name=golden2", Vec::new()).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, m) = json_call(app, "POST", "/v1.41/containers/golden2/rename?name=golden2", Value::Null).await;
    assert_eq!(
        (s, m),
        (StatusCode::BAD_REQUEST, message("Renaming a container with the same name as its current name"))
    );

    // A random name when none is given.
    let (s, other) = json_call(app, "POST", "/v1.41/containers/create", json!({"Image": "busybox"})).await;
    assert_eq!(s, StatusCode::CREATED);
    let (_, inspect) =
        json_call(app, "GET", &format!("/v1.41/containers/{}/json", other["Id"].as_str().unwrap()), Value::Null).await;
    assert!(inspect["Name"].as_str().unwrap()[1..].contains('_'), "{}", inspect["Name"]);

    // Delete both; nothing remains.
    for key in ["golden2", other["Id"].as_str().unwrap()] {
        let (s, _) = call(app, "DELETE", &format!("/v1.41/containers/{key}"), Vec::new()).await;
        assert_eq!(s, StatusCode::NO_CONTENT);
    }
    assert_eq!(entries(&env.data.join("containers")), 0);
    let (_, list) = json_call(app, "GET", "/v1.41/containers/json?all=1", Value::Null).await;
    assert_eq!(list, json!([]));
}

#[tokio::test]
async fn runs_a_real_container() {
    if !berth_testkit::require_privileged("runs_a_real_container") {
        return;
    }
    let cgroups = berth_testkit::cgroups::CgroupParent::new();
    let net = berth_testkit::hostnet::HostNet::new();
    let env = env_with(|p| {
        let mut c = Config::with_roots(p.join("data"), p.join("exec"));
        c.shim_binary = berth_testkit::daemon::bin("berth-shim");
        c.cgroup_parent = cgroups.0.clone();
        c.bridge_name = net.bridge.clone();
        c.nft_table = net.nft_table.clone();
        c.bip = Some(net.bip.clone());
        c
    })
    .await;
    assert!(load_busybox(&env).await);
    let app = &env.app;
    let (s, c) = json_call(
        app,
        "POST",
        "/v1.41/containers/create?name=berthtest-run",
        json!({"Image": "busybox", "Cmd": ["sh", "-c", "echo hi; echo err >&2; exit 3"]}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    let (s, body) = call(app, "POST", "/v1.41/containers/berthtest-run/start", Vec::new()).await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{}", String::from_utf8_lossy(&body));
    let (s, w) = json_call(app, "POST", "/v1.41/containers/berthtest-run/wait", Value::Null).await;
    assert_eq!((s, w), (StatusCode::OK, json!({"Error": null, "StatusCode": 3})));
    let (_, inspect) = json_call(app, "GET", "/v1.41/containers/berthtest-run/json", Value::Null).await;
    assert_eq!(inspect["State"]["Status"], "exited");
    assert_eq!(inspect["State"]["ExitCode"], 3);
    let (s, logs) = call(app, "GET", "/v1.41/containers/berthtest-run/logs?stdout=1&stderr=1", Vec::new()).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(logs, b"\x01\0\0\0\0\0\0\x03hi\n\x02\0\0\0\0\0\0\x04err\n");

    // Missing executable: 400, recorded as exit code 127.
    let (_, c2) = json_call(
        app,
        "POST",
        "/v1.41/containers/create?name=berthtest-missing",
        json!({"Image": "busybox", "Cmd": ["nope-exe"]}),
    )
    .await;
    let (s, m) = json_call(app, "POST", "/v1.41/containers/berthtest-missing/start", Value::Null).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{m}");
    let (_, inspect) = json_call(app, "GET", "/v1.41/containers/berthtest-missing/json", Value::Null).await;
    assert_eq!(inspect["State"]["Status"], "created");
    assert_eq!(inspect["State"]["ExitCode"], 127);

    // Long-running: stop sends TERM, then KILL.
    let (_, c3) = json_call(
        app,
        "POST",
        "/v1.41/containers/create?name=berthtest-sleep",
        json!({"Image": "busybox", "Cmd": ["sleep", "300"]}),
    )
    .await;
    let (s, _) = call(app, "POST", "/v1.41/containers/berthtest-sleep/start", Vec::new()).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = call(app, "POST", "/v1.41/containers/berthtest-sleep/start", Vec::new()).await;
    assert_eq!(s, StatusCode::NOT_MODIFIED);
    let (_, list) = json_call(app, "GET", "/v1.41/containers/json", Value::Null).await;
    assert!(list[0]["Status"].as_str().unwrap().starts_with("Up "), "{list}");
    let (s, _) = call(app, "DELETE", "/v1.41/containers/berthtest-sleep", Vec::new()).await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, _) = call(app, "POST", "/v1.41/containers/berthtest-sleep/stop?t=1", Vec::new()).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, inspect) = json_call(app, "GET", "/v1.41/containers/berthtest-sleep/json", Value::Null).await;
    assert_eq!(inspect["State"]["ExitCode"], 137);

    for id in [&c["Id"], &c2["Id"], &c3["Id"]] {
        let (s, _) =
            call(app, "DELETE", &format!("/v1.41/containers/{}?force=1", id.as_str().unwrap()), Vec::new()).await;
        assert_eq!(s, StatusCode::NO_CONTENT);
    }
    assert_eq!(entries(&env.data.join("containers")), 0);
}
