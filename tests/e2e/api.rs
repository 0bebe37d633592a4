//! Raw API behaviour: ping, version negotiation, dockerd's error shapes.

use berth_testkit::TestDaemon;

fn bare(test: &str) -> Option<TestDaemon> {
    if !berth_testkit::require_privileged(test) {
        return None;
    }
    Some(TestDaemon::start().expect("starting berthd"))
}

#[test]
fn ping_get_and_head_carry_negotiation_headers() {
    let Some(d) = bare("ping_get_and_head_carry_negotiation_headers") else { return };
    for method in ["GET", "HEAD"] {
        let r = d.request(method, "/_ping", None);
        assert_eq!(r.status, 200);
        assert_eq!(r.header("api-version"), Some("1.50"));
        assert_eq!(r.header("ostype"), Some("linux"));
        assert_eq!(r.header("builder-version"), Some("1"));
        assert_eq!(r.header("docker-experimental"), Some("false"));
    }
    assert_eq!(d.request("GET", "/_ping", None).text(), "OK");
    assert_eq!(d.request("GET", "/v1.41/_ping", None).text(), "OK");
}

#[test]
fn version_prefix_is_negotiated() {
    let Some(d) = bare("version_prefix_is_negotiated") else { return };
    let r = d.request("GET", "/v1.41/version", None);
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["ApiVersion"], "1.50");
    assert_eq!(v["MinAPIVersion"], "1.24");
    assert_eq!(v["Os"], "linux");

    let r = d.request("GET", "/v1.99/version", None);
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["message"], "client version 1.99 is too new. Maximum supported API version is 1.50");
    let r = d.request("GET", "/v1.12/version", None);
    assert_eq!(r.status, 400);
    assert!(r.json()["message"].as_str().unwrap_or("").starts_with("client version 1.12 is too old."));
    let r = d.request("GET", "/v1.41/no/such/endpoint", None);
    assert_eq!(r.status, 404);
    assert_eq!(r.header("content-type"), Some("application/json"));
}

#[test]
fn info_reports_the_roots() {
    let Some(d) = bare("info_reports_the_roots") else { return };
    let info = d.request("GET", "/info", None).json();
    assert_eq!(info["DockerRootDir"], d.data_root.display().to_string());
    assert_eq!(info["OSType"], "linux");
    assert_eq!(info["LoggingDriver"], "json-file");
    assert_eq!(info["Containers"], 0);
    assert!(info["ID"].as_str().is_some_and(|s| s.len() == 36), "{info}");
}

#[test]
fn socket_is_0660_and_removed_on_sigterm() {
    use std::os::unix::fs::PermissionsExt;
    let Some(mut d) = bare("socket_is_0660_and_removed_on_sigterm") else { return };
    let mode = std::fs::metadata(&d.socket).expect("socket exists").permissions().mode();
    assert_eq!(mode & 0o777, 0o660);
    d.stop().expect("graceful stop");
    assert!(!d.socket.exists(), "socket left after SIGTERM");
}

#[test]
fn bad_input_gets_dockerd_errors_and_leaves_nothing() {
    let Some(d) = crate::daemon("bad_input_gets_dockerd_errors_and_leaves_nothing") else { return };
    let r = d.request("GET", "/v1.41/containers/nope/json", None);
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["message"], "No such container: nope");

    let r = d.request("POST", "/v1.41/containers/create", Some(("application/json", br#"{"Image":"nope"}"#)));
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["message"], "No such image: nope:latest");

    let r = d.request("POST", "/v1.41/containers/create", Some(("application/json", b"{bad")));
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.json()["message"].as_str().is_some_and(|m| !m.is_empty()));

    let body = br#"{"Image":"busybox","Cmd":["true"]}"#;
    let r = d.request("POST", "/v1.41/containers/create?name=dup", Some(("application/json", body)));
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["Id"].as_str().expect("Id").to_string();
    let r = d.request("POST", "/v1.41/containers/create?name=dup", Some(("application/json", body)));
    assert_eq!(r.status, 409);
    assert_eq!(
        r.json()["message"],
        format!("Conflict. The container name \"/dup\" is already in use by container \"{id}\". You have to remove (or rename) that container to be able to reuse that name.")
    );

    let r = d.request("POST", "/v1.41/containers/create?name=bad%20name", Some(("application/json", body)));
    assert_eq!(r.status, 400);

    // Only the one good container exists.
    let list = d.request("GET", "/containers/json?all=1", None).json();
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    let dirs = std::fs::read_dir(d.data_root.join("containers")).map(|r| r.count()).unwrap_or(0);
    assert_eq!(dirs, 1, "a failed create left a container directory behind");
}

/// Every key dockerd always emits at these levels of an inspect/list answer must be there.
fn assert_has_keys(ours: &serde_json::Value, golden: &serde_json::Value, path: &str) {
    let (Some(o), Some(g)) = (ours.as_object(), golden.as_object()) else {
        panic!("{path}: expected objects, got {ours} / {golden}");
    };
    let missing: Vec<&String> = g.keys().filter(|k| !o.contains_key(*k)).collect();
    assert!(missing.is_empty(), "{path}: keys dockerd emits but berth does not: {missing:?}");
}

fn golden(name: &str) -> serde_json::Value {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/api-types/tests/golden/dockerd").join(name);
    serde_json::from_slice(&std::fs::read(&p).expect("golden file")).expect("golden JSON")
}

#[test]
fn inspect_and_list_have_dockerd_shape() {
    let Some(d) = crate::daemon("inspect_and_list_have_dockerd_shape") else { return };
    let body = br#"{"Image":"busybox","Cmd":["sleep","30"],"Labels":{"a":"b"}}"#;
    let r = d.request("POST", "/v1.41/containers/create?name=shape", Some(("application/json", body)));
    assert_eq!(r.status, 201, "{}", r.text());
    let ours = d.request("GET", "/v1.41/containers/shape/json", None).json();
    let theirs = golden("container-inspect-created.json");
    assert_has_keys(&ours, &theirs, "inspect");
    for section in ["State", "Config"] {
        assert_has_keys(&ours[section], &theirs[section], section);
    }
    assert_eq!(ours["State"]["StartedAt"], "0001-01-01T00:00:00Z");
    assert_eq!(ours["Path"], "sleep");
    assert_eq!(ours["Args"], serde_json::json!(["30"]));
    let list = d.request("GET", "/v1.41/containers/json?all=1", None).json();
    assert_has_keys(&list[0], &golden("containers-list.json")[0], "list");
    assert_eq!(list[0]["Command"], "sleep 30");

    let img = d.request("GET", "/v1.41/images/busybox/json", None).json();
    assert_has_keys(&img, &golden("image-inspect.json"), "image inspect");
    let imgs = d.request("GET", "/v1.41/images/json", None).json();
    assert_has_keys(&imgs[0], &golden("images-list.json")[0], "image list");
}

#[test]
fn daemon_json_sets_roots_and_hosts() {
    if !berth_testkit::require_privileged("daemon_json_sets_roots_and_hosts") {
        return;
    }
    let dir = tempfile::Builder::new().prefix("btcfg").tempdir_in("/tmp").expect("tempdir");
    let sock = dir.path().join("cfg.sock");
    let cfg = dir.path().join("daemon.json");
    let conf = serde_json::json!({
        "hosts": [format!("unix://{}", sock.display())],
        "data-root": dir.path().join("data"),
        "exec-root": dir.path().join("exec"),
        "cgroup-parent": "berth-test-cfg",
    });
    std::fs::write(&cfg, conf.to_string()).expect("write daemon.json");
    let mut child = std::process::Command::new(berth_testkit::daemon::bin("berthd"))
        .arg("--config-file")
        .arg(&cfg)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("berthd");
    let up = crate::eventually(20, || {
        berth_testkit::http::request(&sock, "GET", "/_ping", None).is_ok_and(|r| r.status == 200)
    });
    let info = berth_testkit::http::request(&sock, "GET", "/info", None).map(|r| r.json());
    let _ = std::process::Command::new("kill").arg(child.id().to_string()).status();
    let status = child.wait().expect("wait berthd");
    assert!(up, "berthd did not listen on the socket from daemon.json");
    assert_eq!(info.expect("info")["DockerRootDir"], dir.path().join("data").display().to_string());
    assert!(status.success(), "SIGTERM should stop berthd cleanly: {status}");
    assert!(!sock.exists());

    // A config file berthd cannot read is an error, not a silent default.
    std::fs::write(&cfg, "{\"data-root\": 5").expect("write");
    let out = std::process::Command::new(berth_testkit::daemon::bin("berthd"))
        .arg("--config-file")
        .arg(&cfg)
        .output()
        .expect("berthd");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("invalid configuration file"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    berth_testkit::cgroups::cleanup("berth-test-cfg");
}
