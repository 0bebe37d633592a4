//! End-to-end: operations on a `--restart always` container that exits at once, sent at every
//! moment of its cycle (running, its shim exiting, waiting to restart, starting again). As on
//! dockerd, `rm -f` always removes it, and kill/stop/wait/inspect never fail with a 500 because
//! the shim went away while berthd talked to it (issue 3).

use std::time::{Duration, Instant};

use berth_testkit::TestDaemon;

/// Creates and starts `name` running `true` with `--restart always`.
fn run_always(d: &TestDaemon, name: &str) {
    let body = br#"{"Image":"busybox","Cmd":["true"],"HostConfig":{"RestartPolicy":{"Name":"always"}}}"#;
    let r = d.request("POST", &format!("/containers/create?name={name}"), Some(("application/json", body)));
    assert_eq!(r.status, 201, "create {name}: {}", r.text());
    let r = d.request("POST", &format!("/containers/{name}/start"), None);
    assert_eq!(r.status, 204, "start {name}: {}", r.text());
}

#[test]
fn rm_force_and_signals_race_restarts() {
    let Some(d) = crate::daemon("rm_force_and_signals_race_restarts") else { return };
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut i = 0u64;
    while Instant::now() < deadline {
        let name = format!("rr-{i}");
        run_always(&d, &name);
        // Land the requests at a different point of the exit → restart cycle each time.
        std::thread::sleep(Duration::from_millis((i * 7) % 45));
        match i % 4 {
            1 => {
                let r = d.request("POST", &format!("/containers/{name}/kill"), None);
                assert!(r.status == 204 || r.status == 409, "kill {name}: {} {}", r.status, r.text());
            }
            2 => {
                let r = d.request("POST", &format!("/containers/{name}/stop?t=1"), None);
                assert!(r.status == 204 || r.status == 304, "stop {name}: {} {}", r.status, r.text());
                let r = d.request("POST", &format!("/containers/{name}/wait"), None);
                assert_eq!(r.status, 200, "wait {name}: {}", r.text());
            }
            3 => {
                let r = d.request("GET", &format!("/containers/{name}/json"), None);
                assert_eq!(r.status, 200, "inspect {name}: {}", r.text());
            }
            _ => {}
        }
        let r = d.request("DELETE", &format!("/containers/{name}?force=1"), None);
        assert_eq!(r.status, 204, "rm -f {name} (iteration {i}): {}", r.text());
        let r = d.request("GET", &format!("/containers/{name}/json"), None);
        assert_eq!(r.status, 404, "{name} still there after rm -f: {}", r.text());
        i += 1;
    }
    assert!(i >= 10, "only {i} iterations ran in 15 s");
    let r = d.request("GET", "/containers/json?all=1", None);
    assert_eq!(r.json(), serde_json::json!([]), "containers left behind");
    assert!(d.leftover_mounts().is_empty(), "mounts left: {:?}", d.leftover_mounts());
}

/// Creates an exec in `c` and starts it detached; returns its id.
fn exec_detached(d: &TestDaemon, c: &str, script: &str) -> String {
    let body = serde_json::json!({ "Cmd": ["sh", "-c", script] }).to_string();
    let r = d.request("POST", &format!("/containers/{c}/exec"), Some(("application/json", body.as_bytes())));
    assert_eq!(r.status, 201, "exec create: {}", r.text());
    let id = r.json()["Id"].as_str().expect("exec id").to_string();
    let r = d.request("POST", &format!("/exec/{id}/start"), Some(("application/json", br#"{"Detach":true}"#)));
    assert_eq!(r.status, 200, "exec start: {}", r.text());
    id
}

/// The shim keeps only a bounded number of finished execs; berthd learns each exit as it
/// happens (pushed by the shim) and keeps it, so an exec inspected long after it ended — after
/// more execs than the shim keeps — still shows its exit code, and `exec_die` is emitted without
/// anyone asking. Execs still work after a daemon restart while one runs (live restore).
#[test]
fn exec_exits_are_pushed_and_kept_by_berthd() {
    let Some(mut d) = crate::daemon("exec_exits_are_pushed_and_kept_by_berthd") else { return };
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() - 1;
    let body = br#"{"Image":"busybox","Cmd":["sleep","1000"]}"#;
    assert_eq!(d.request("POST", "/containers/create?name=rr-exec", Some(("application/json", body))).status, 201);
    assert_eq!(d.request("POST", "/containers/rr-exec/start", None).status, 204);
    let first = exec_detached(&d, "rr-exec", "exit 7");
    for i in 0..100 {
        exec_detached(&d, "rr-exec", &format!("exit {}", i % 3));
    }
    let inspect = |d: &TestDaemon, id: &str| d.request("GET", &format!("/exec/{id}/json"), None).json();
    assert!(crate::eventually(10, || inspect(&d, &first)["Running"] == false));
    let v = inspect(&d, &first);
    assert_eq!((v["ExitCode"].clone(), v["Running"].clone()), (serde_json::json!(7), serde_json::json!(false)));
    let until = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + 1;
    let r = d.request("GET", &format!("/events?since={since}&until={until}"), None);
    let dies = r.text().lines().filter(|l| l.contains("exec_die") && l.contains(&first)).count();
    assert_eq!(dies, 1, "one exec_die for the first exec, seen without inspecting it: {}", r.text());

    // Live restore: berthd restarts while an exec runs; the container and exec keep working.
    let running = exec_detached(&d, "rr-exec", "sleep 1; exit 5");
    d.restart().expect("restarting berthd");
    let r = d.request("GET", &format!("/exec/{running}/json"), None);
    assert_eq!(r.status, 404, "exec instances live in memory, as in dockerd: {}", r.text());
    std::thread::sleep(Duration::from_millis(1500));
    let after = exec_detached(&d, "rr-exec", "exit 9");
    assert!(crate::eventually(10, || inspect(&d, &after)["ExitCode"] == 9), "{}", inspect(&d, &after));
    let r = d.request("GET", "/containers/rr-exec/json", None);
    assert_eq!(r.json()["State"]["Status"], "running");
}
