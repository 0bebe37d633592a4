//! End-to-end: restart policies, healthchecks, events and live restore (issue 3).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use berth_testkit::TestDaemon;

use crate::{eventually, ok, output, stderr};

fn docker(d: &TestDaemon, args: &[&str]) -> String {
    ok(d.docker().args(args)).trim().to_string()
}

fn inspect(d: &TestDaemon, name: &str, format: &str) -> String {
    docker(d, &["inspect", "-f", format, name])
}

/// A child process killed when dropped (event subscribers, `logs -f`).
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Lines of a spawned command's stdout, read on a thread into a channel.
fn spawn_lines(cmd: &mut Command) -> (Reaped, std::sync::mpsc::Receiver<String>) {
    let mut child =
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().expect("spawning subscriber");
    let out = child.stdout.take().expect("piped stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (Reaped(child), rx)
}

/// Collects lines from `rx` until `done` holds for the collected set or `secs` pass.
fn collect_until(rx: &std::sync::mpsc::Receiver<String>, secs: u64, done: impl Fn(&[String]) -> bool) -> Vec<String> {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    let mut lines = Vec::new();
    while !done(&lines) {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            break;
        }
        if let Ok(l) = rx.recv_timeout(left) {
            lines.push(l);
        }
    }
    lines
}

fn now_secs() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

fn json(line: &str) -> serde_json::Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("event line {line:?}: {e}"))
}

#[test]
fn restart_on_failure_counts_then_gives_up() {
    let Some(d) = crate::daemon("restart_on_failure_counts_then_gives_up") else { return };
    docker(&d, &["run", "-d", "--name", "lc-onfail", "--restart", "on-failure:2", "busybox", "sh", "-c", "exit 3"]);
    assert!(
        eventually(20, || inspect(&d, "lc-onfail", "{{.RestartCount}} {{.State.Status}}") == "2 exited"),
        "on-failure:2 should restart twice then stay exited: {}",
        inspect(&d, "lc-onfail", "{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}")
    );
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(inspect(&d, "lc-onfail", "{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}"), "2 exited 3");
    assert_eq!(
        inspect(&d, "lc-onfail", "{{.HostConfig.RestartPolicy.Name}} {{.HostConfig.RestartPolicy.MaximumRetryCount}}"),
        "on-failure 2"
    );

    // A clean exit is not a failure.
    docker(&d, &["run", "-d", "--name", "lc-onfail0", "--restart", "on-failure", "busybox", "true"]);
    assert!(eventually(10, || inspect(&d, "lc-onfail0", "{{.State.Status}}") == "exited"));
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(inspect(&d, "lc-onfail0", "{{.RestartCount}}"), "0");

    // `no` never restarts; --rm with a policy is refused as docker does; bad names are 400s.
    docker(&d, &["run", "-d", "--name", "lc-no", "--restart", "no", "busybox", "sh", "-c", "exit 1"]);
    assert!(eventually(10, || inspect(&d, "lc-no", "{{.State.Status}}") == "exited"));
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        inspect(&d, "lc-no", "{{.RestartCount}} {{.State.Status}} {{.HostConfig.RestartPolicy.Name}}"),
        "0 exited no"
    );
    let out = output(d.docker().args(["run", "--rm", "--restart", "always", "busybox", "true"]));
    assert_eq!(out.status.code(), Some(125));
    assert!(stderr(&out).contains("conflicting options: cannot specify both --restart and --rm"), "{}", stderr(&out));
    let body =
        br#"{"Image":"busybox","Cmd":["true"],"HostConfig":{"AutoRemove":true,"RestartPolicy":{"Name":"always"}}}"#;
    let r = d.request("POST", "/containers/create?name=lc-bad", Some(("application/json", body)));
    assert_eq!(r.status, 400);
    assert_eq!(r.text().trim(), "{\"message\":\"can't create 'AutoRemove' container with restart policy\"}");
    let body =
        br#"{"Image":"busybox","Cmd":["true"],"HostConfig":{"RestartPolicy":{"Name":"always","MaximumRetryCount":3}}}"#;
    let r = d.request("POST", "/containers/create?name=lc-bad", Some(("application/json", body)));
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("maximum retry count cannot be used with restart policy 'always'"), "{}", r.text());
    assert_eq!(d.request("GET", "/containers/lc-bad/json", None).status, 404);
    let out = output(d.docker().args(["run", "-d", "--restart", "bogus", "busybox", "true"]));
    assert!(stderr(&out).contains("invalid restart policy 'bogus'"), "{}", stderr(&out));

    // docker update --restart.
    docker(&d, &["update", "--restart", "on-failure:3", "lc-no"]);
    assert_eq!(
        inspect(&d, "lc-no", "{{.HostConfig.RestartPolicy.Name}} {{.HostConfig.RestartPolicy.MaximumRetryCount}}"),
        "on-failure 3"
    );
    docker(&d, &["run", "-d", "--rm", "--name", "lc-rm", "busybox", "sleep", "100"]);
    let out = output(d.docker().args(["update", "--restart", "always", "lc-rm"]));
    assert!(
        stderr(&out).contains("Restart policy cannot be updated because AutoRemove is enabled for the container"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn restart_always_backs_off_and_stop_ends_it() {
    let Some(d) = crate::daemon("restart_always_backs_off_and_stop_ends_it") else { return };
    docker(&d, &["run", "-d", "--name", "lc-always", "--restart", "always", "busybox", "sh", "-c", "exit 1"]);
    assert!(
        eventually(20, || inspect(&d, "lc-always", "{{.RestartCount}}").parse::<i64>().unwrap_or(0) >= 3),
        "always should keep restarting: {}",
        inspect(&d, "lc-always", "{{.RestartCount}} {{.State.Status}}")
    );
    // While it waits for the back-off it is `restarting` in inspect and ps.
    assert!(
        eventually(20, || {
            inspect(&d, "lc-always", "{{.State.Status}} {{.State.Restarting}}") == "restarting true"
                && docker(&d, &["ps", "--filter", "name=lc-always", "--format", "{{.Status}}"])
                    .starts_with("Restarting (1)")
        }),
        "never seen restarting"
    );
    docker(&d, &["stop", "lc-always"]);
    assert_eq!(inspect(&d, "lc-always", "{{.State.Status}}"), "exited");
    let count = inspect(&d, "lc-always", "{{.RestartCount}}");
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(inspect(&d, "lc-always", "{{.State.Status}} {{.RestartCount}}"), format!("exited {count}"));
    // A manual start resets RestartCount, as in dockerd.
    docker(&d, &["start", "lc-always"]);
    assert!(eventually(10, || inspect(&d, "lc-always", "{{.RestartCount}}").parse::<i64>().unwrap_or(99) <= 2));
    docker(&d, &["rm", "-f", "lc-always"]);
    assert_eq!(d.request("GET", "/containers/lc-always/json", None).status, 404);
}

#[test]
fn restart_policies_across_daemon_restart() {
    let Some(mut d) = crate::daemon("restart_policies_across_daemon_restart") else { return };
    let looping = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"];
    let run = |name: &str, policy: &str| {
        let mut args = vec!["run", "-d", "--name", name, "--restart", policy, "busybox"];
        args.extend(looping);
        docker(&d, &args);
    };
    run("lc-always-stopped", "always");
    run("lc-unless-stopped", "unless-stopped");
    run("lc-unless-running", "unless-stopped");
    run("lc-no-stopped", "no");
    for name in ["lc-always-stopped", "lc-unless-stopped", "lc-no-stopped"] {
        docker(&d, &["stop", name]);
    }
    let pid = inspect(&d, "lc-unless-running", "{{.State.Pid}}");
    d.restart().expect("restarting berthd");
    // dockerd semantics: `always` comes back even after a user stop, `unless-stopped` does not.
    assert!(eventually(20, || inspect(&d, "lc-always-stopped", "{{.State.Status}}") == "running"));
    assert_eq!(inspect(&d, "lc-unless-stopped", "{{.State.Status}}"), "exited");
    assert_eq!(inspect(&d, "lc-no-stopped", "{{.State.Status}}"), "exited");
    assert_eq!(inspect(&d, "lc-unless-running", "{{.State.Status}} {{.State.Pid}}"), format!("running {pid}"));
}

#[test]
fn healthcheck_flips_healthy_to_unhealthy() {
    let Some(d) = crate::daemon("healthcheck_flips_healthy_to_unhealthy") else { return };
    let since = now_secs().to_string();
    docker(
        &d,
        &[
            "run",
            "-d",
            "--name",
            "lc-health",
            "--health-cmd",
            "test -f /tmp/ok && echo fine",
            "--health-interval",
            "300ms",
            "--health-retries",
            "2",
            "busybox",
            "sh",
            "-c",
            "touch /tmp/ok; sleep 4; rm /tmp/ok; sleep 1000",
        ],
    );
    let ps = || docker(&d, &["ps", "--filter", "name=lc-health", "--format", "{{.Status}}"]);
    assert!(eventually(10, || inspect(&d, "lc-health", "{{.State.Health.Status}}") == "healthy"));
    assert!(ps().ends_with("(healthy)"), "{}", ps());
    let log = inspect(&d, "lc-health", "{{json .State.Health.Log}}");
    let log: serde_json::Value = serde_json::from_str(&log).unwrap();
    let last = log.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["ExitCode"], 0);
    assert_eq!(last["Output"], "fine\n");
    assert!(last["Start"].as_str().unwrap().starts_with("20") && last["End"].as_str().is_some());
    assert!(eventually(15, || inspect(&d, "lc-health", "{{.State.Health.Status}}") == "unhealthy"));
    assert!(ps().ends_with("(unhealthy)"), "{}", ps());
    assert_eq!(docker(&d, &["ps", "--filter", "health=unhealthy", "--format", "{{.Names}}"]), "lc-health");
    assert_eq!(docker(&d, &["ps", "-q", "--filter", "health=healthy"]), "");
    let streak: i64 = inspect(&d, "lc-health", "{{.State.Health.FailingStreak}}").parse().unwrap();
    assert!(streak >= 2, "{streak}");
    std::thread::sleep(Duration::from_secs(2));
    let log: serde_json::Value = serde_json::from_str(&inspect(&d, "lc-health", "{{json .State.Health.Log}}")).unwrap();
    assert_eq!(log.as_array().unwrap().len(), 5, "{log}");
    assert_eq!(log[4]["ExitCode"], 1);
    assert_eq!(
        inspect(&d, "lc-health", "{{json .Config.Healthcheck.Test}} {{.Config.Healthcheck.Retries}}"),
        "[\"CMD-SHELL\",\"test -f /tmp/ok \u{26}\u{26} echo fine\"] 2"
    );
    // Both transitions were reported as events.
    let until = (now_secs() + 1).to_string();
    let events = docker(
        &d,
        &["events", "--since", &since, "--until", &until, "--filter", "event=health_status", "--format", "{{.Action}}"],
    );
    assert_eq!(events.lines().collect::<Vec<_>>(), ["health_status: healthy", "health_status: unhealthy"]);

    // Before the first probe: starting; --no-healthcheck: no Health at all.
    docker(
        &d,
        &[
            "run",
            "-d",
            "--name",
            "lc-starting",
            "--health-cmd",
            "true",
            "--health-interval",
            "1h",
            "busybox",
            "sleep",
            "1000",
        ],
    );
    assert_eq!(inspect(&d, "lc-starting", "{{.State.Health.Status}}"), "starting");
    let st = docker(&d, &["ps", "--filter", "name=lc-starting", "--format", "{{.Status}}"]);
    assert!(st.ends_with("(health: starting)"), "{st}");
    docker(&d, &["run", "-d", "--name", "lc-nohc", "--no-healthcheck", "busybox", "sleep", "1000"]);
    assert_eq!(inspect(&d, "lc-nohc", "{{json .State.Health}}"), "null");
}

#[test]
fn events_reach_subscribers_with_filters_since_and_until() {
    let Some(d) = crate::daemon("events_reach_subscribers_with_filters_since_and_until") else { return };
    let since = now_secs().to_string();
    let (_sub, rx) = spawn_lines(d.docker().args(["events", "--format", "{{json .}}", "--filter", "type=container"]));
    // The subscription is open once an event reaches it.
    std::thread::sleep(Duration::from_millis(500));
    docker(&d, &["create", "--name", "lc-ev", "--label", "foo=bar", "busybox", "sh", "-c", "exit 3"]);
    docker(&d, &["start", "lc-ev"]);
    assert_eq!(docker(&d, &["wait", "lc-ev"]), "3");
    docker(&d, &["rename", "lc-ev", "lc-ev2"]);
    docker(&d, &["rm", "lc-ev2"]);
    docker(&d, &["volume", "create", "lc-vol"]);
    let lines = collect_until(&rx, 15, |l| l.iter().any(|x| x.contains("\"destroy\"")));
    let events: Vec<serde_json::Value> = lines.iter().map(|l| json(l)).collect();
    let actions: Vec<&str> = events.iter().map(|e| e["Action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["create", "start", "die", "rename", "destroy"], "{lines:?}");
    let die = &events[2];
    assert_eq!(die["Type"], "container");
    assert_eq!(die["status"], "die");
    assert_eq!(die["from"], "busybox");
    assert_eq!(die["scope"], "local");
    assert_eq!(die["id"], die["Actor"]["ID"]);
    assert_eq!(die["Actor"]["Attributes"]["exitCode"], "3");
    assert_eq!(die["Actor"]["Attributes"]["name"], "lc-ev");
    assert_eq!(die["Actor"]["Attributes"]["image"], "busybox");
    assert_eq!(die["Actor"]["Attributes"]["foo"], "bar");
    assert_eq!(die["time"].as_i64().unwrap(), die["timeNano"].as_i64().unwrap() / 1_000_000_000);
    assert_eq!(events[3]["Actor"]["Attributes"]["oldName"], "/lc-ev");
    assert_eq!(events[4]["Actor"]["Attributes"]["name"], "lc-ev2");

    // Past events: since/until end the stream; filters narrow it.
    docker(&d, &["run", "--name", "lc-other", "busybox", "true"]);
    docker(&d, &["run", "-d", "--name", "lc-exec", "busybox", "sleep", "100"]);
    assert_eq!(docker(&d, &["exec", "lc-exec", "echo", "hi"]), "hi");
    docker(&d, &["tag", "busybox", "lc-tag:1"]);
    let until = (now_secs() + 1).to_string();
    let past = |extra: &[&str]| -> Vec<String> {
        let mut args = vec!["events", "--since", &since, "--until", &until, "--format", "{{.Type}} {{.Action}}"];
        args.extend(extra);
        docker(&d, &args).lines().map(str::to_string).collect()
    };
    assert_eq!(past(&["--filter", "event=die"]), ["container die", "container die"]);
    assert_eq!(past(&["--filter", "container=lc-other", "--filter", "event=start"]), ["container start"]);
    assert_eq!(past(&["--filter", "label=foo=bar", "--filter", "event=create"]), ["container create"]);
    assert_eq!(past(&["--filter", "type=volume"]), ["volume create"]);
    let all = past(&[]);
    assert!(all.contains(&"container attach".to_string()), "{all:?}");
    assert_eq!(past(&["--filter", "event=exec_create"]), ["container exec_create: echo hi"]);
    assert_eq!(past(&["--filter", "event=exec_die"]), ["container exec_die"]);
    assert_eq!(
        past(&["--filter", "event=exec_start", "--filter", "container=lc-exec"]),
        ["container exec_start: echo hi"]
    );
    // (busybox was loaded in the same second as `since`: look at tags only.)
    assert_eq!(past(&["--filter", "type=image", "--filter", "event=tag"]), ["image tag"]);
    assert!(past(&["--filter", "type=network"]).contains(&"network connect".to_string()), "{all:?}");
    let tag = docker(
        &d,
        &["events", "--since", &since, "--until", &until, "--filter", "image=lc-tag", "--format", "{{json .Actor}}"],
    );
    let actor = json(&tag);
    assert_eq!(actor["Attributes"]["name"], "lc-tag:1");
    assert!(actor["ID"].as_str().unwrap().starts_with("sha256:"), "{actor}");
    // berth's own CLI prints docker's default line.
    let line = ok(d.berth().args(["events", "--since", &since, "--until", &until, "--filter", "type=volume"]));
    assert!(line.trim().ends_with("volume create lc-vol (driver=local)"), "{line}");
    // Bad input is a 400 with dockerd's message.
    let r = d.request("GET", "/events?since=yesterday", None);
    assert_eq!(r.status, 400);
    assert_eq!(r.text().trim(), "{\"message\":\"strconv.ParseInt: parsing \\\"yesterday\\\": invalid syntax\"}");
    let r = d.request("GET", "/events?since=5&until=1", None);
    assert_eq!(r.status, 400);
    assert!(r.text().contains("`since` time (5) cannot be after `until` time (1)"), "{}", r.text());
    docker(&d, &["volume", "rm", "lc-vol"]);
}

/// Reads the `i` counter the looping containers print.
fn last_count(d: &TestDaemon, name: &str) -> i64 {
    docker(d, &["logs", "--tail", "1", name]).parse().unwrap_or(-1)
}

#[test]
fn live_restore_after_kill_9_with_10_containers() {
    let Some(mut d) = crate::daemon("live_restore_after_kill_9_with_10_containers") else { return };
    let counter = "i=0; while true; do echo $i; i=$((i+1)); sleep 0.2; done";
    let names: Vec<String> = (0..10).map(|i| format!("lc-live{i}")).collect();
    for n in &names {
        docker(&d, &["run", "-d", "--name", n, "busybox", "sh", "-c", counter]);
    }
    docker(&d, &["run", "-d", "--name", "lc-dies", "busybox", "sh", "-c", "sleep 2; exit 7"]);
    docker(
        &d,
        &["run", "-d", "--name", "lc-comeback", "--restart", "on-failure", "busybox", "sh", "-c", "sleep 2; exit 5"],
    );
    let pids: Vec<String> = names.iter().map(|n| inspect(&d, n, "{{.State.Pid}}")).collect();

    d.kill();
    std::thread::sleep(Duration::from_secs(4));
    d.restart().expect("starting berthd again");

    for (n, pid) in names.iter().zip(&pids) {
        assert_eq!(inspect(&d, n, "{{.State.Status}} {{.State.Pid}}"), format!("running {pid}"), "{n}");
    }
    let ps = docker(&d, &["ps", "--format", "{{.Names}}"]);
    for n in &names {
        assert!(ps.lines().any(|l| l == n), "{n} missing from ps:\n{ps}");
    }
    assert_eq!(inspect(&d, "lc-dies", "{{.State.Status}} {{.State.ExitCode}}"), "exited 7");
    let st = docker(&d, &["ps", "-a", "--filter", "name=lc-dies", "--format", "{{.Status}}"]);
    assert!(st.starts_with("Exited (7)"), "{st}");
    // The policy applies to what exited while the daemon was down.
    assert!(eventually(10, || inspect(&d, "lc-comeback", "{{.State.Status}}") == "running"));

    // Logs keep growing, and `logs -f` follows them.
    let before = last_count(&d, &names[0]);
    assert!(eventually(5, || last_count(&d, &names[0]) > before));
    let (_follow, rx) = spawn_lines(d.docker().args(["logs", "-f", "--tail", "0", &names[0]]));
    let fresh = collect_until(&rx, 5, |l| l.len() >= 2);
    assert!(fresh.len() >= 2, "logs -f after live restore: {fresh:?}");
    // exec, stop and wait work on restored containers.
    assert_eq!(docker(&d, &["exec", &names[1], "echo", "hi"]), "hi");
    let waiter = d.docker().args(["wait", &names[2]]).stdout(Stdio::piped()).spawn().expect("docker wait");
    let waiter = Reaped(waiter);
    std::thread::sleep(Duration::from_millis(300));
    docker(&d, &["kill", &names[2]]);
    let mut waiter = waiter;
    let mut out = String::new();
    std::io::Read::read_to_string(waiter.0.stdout.as_mut().unwrap(), &mut out).unwrap();
    assert_eq!(out.trim(), "137");
    docker(&d, &["stop", "-t", "1", &names[3]]);
    assert_eq!(inspect(&d, &names[3], "{{.State.Status}}"), "exited");
}

#[test]
fn sigterm_with_live_restore_false_stops_containers() {
    let Some(mut d) = crate::daemon("sigterm_with_live_restore_false_stops_containers") else { return };
    std::fs::write(d.dir.path().join("daemon.json"), r#"{"live-restore": false}"#).unwrap();
    d.restart().expect("restarting berthd with live-restore off");
    let graceful = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"];
    let mut args = vec!["run", "-d", "--name", "lc-plain", "busybox"];
    args.extend(graceful);
    docker(&d, &args);
    let mut args = vec!["run", "-d", "--name", "lc-back", "--restart", "always", "busybox"];
    args.extend(graceful);
    docker(&d, &args);
    let pid: i32 = inspect(&d, "lc-plain", "{{.State.Pid}}").parse().unwrap();
    d.stop().expect("SIGTERM berthd");
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists(), "container process {pid} survived shutdown");
    d.restart().expect("starting berthd again");
    assert_eq!(inspect(&d, "lc-plain", "{{.State.Status}} {{.State.ExitCode}}"), "exited 0");
    // Not stopped by the user: its policy brings it back.
    assert!(eventually(10, || inspect(&d, "lc-back", "{{.State.Status}}") == "running"));
}
