//! End-to-end: berth compose's converge details against berthd (issue 8, round 2): recreate
//! as Compose does it (rename, create, remove), `environment:`/`content:` secrets and configs
//! copied in with the archive API, `depends_on.restart: true`, and `compose rm`'s confirmation.

use std::io::Write;
use std::process::Stdio;

use crate::compose::Project;
use crate::{daemon, ok, output, stderr, stdout};

fn service(env: &str, extra: &str) -> String {
    format!(
        "services:\n  web:\n    image: busybox\n    command: [\"sleep\", \"600\"]\n    stop_grace_period: 1s\n    \
         environment:\n      V: \"{env}\"\n{extra}"
    )
}

#[test]
fn compose_recreate_renames_old_creates_new_then_removes_old() {
    let Some(d) = daemon("compose_recreate_renames_old_creates_new_then_removes_old") else { return };
    let p = Project::new(&d, "recr", &[("compose.yaml", &service("1", ""))]);
    p.ok(&["up", "-d"]);
    let first = p.ids();
    assert_eq!(first.len(), 1, "{first:?}");
    let old_id = first[0].1.clone();

    p.write("compose.yaml", &service("2", ""));
    let out = output(&mut p.compose(&["up", "-d"]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("Container recr-web-1  Recreated"), "{}", stderr(&out));
    let second = p.ids();
    assert_eq!(second.len(), 1, "old container left behind: {second:?}");
    assert_eq!(second[0].0, "recr-web-1");
    assert_ne!(second[0].1, old_id, "not recreated");
    assert_eq!(p.inspect("recr-web-1", "{{index .Config.Env 0}}"), "V=2");

    // A create that fails leaves the old container, renamed `<shortid>_<name>` as Compose does.
    let keep_id = second[0].1.clone();
    p.write("compose.yaml", &service("3", "    mem_limit: 1m\n"));
    let out = output(&mut p.compose(&["up", "-d"]));
    assert!(!out.status.success(), "create with mem_limit 1m succeeded: {}", stderr(&out));
    assert!(stderr(&out).contains("Minimum memory limit"), "{}", stderr(&out));
    let third = p.ids();
    assert_eq!(third, vec![(format!("{}_recr-web-1", &keep_id[..12]), keep_id.clone())]);

    // The next good `up` replaces the renamed one.
    p.write("compose.yaml", &service("4", ""));
    p.ok(&["up", "-d"]);
    let fourth = p.ids();
    assert_eq!(fourth.len(), 1, "{fourth:?}");
    assert_eq!(fourth[0].0, "recr-web-1");
    assert_eq!(p.inspect("recr-web-1", "{{index .Config.Env 0}}"), "V=4");
}

#[test]
fn compose_environment_and_content_secrets_are_copied_in() {
    let Some(d) = daemon("compose_environment_and_content_secrets_are_copied_in") else { return };
    let file = r#"services:
  app:
    image: busybox
    command: ["sleep", "600"]
    stop_grace_period: 1s
    secrets:
      - api_token
      - source: inline
        target: inline.txt
    configs:
      - source: settings
        target: /etc/app/settings.ini
secrets:
  api_token:
    environment: API_TOKEN
  inline:
    content: "inline secret"
configs:
  settings:
    content: |
      [app]
      mode=${MODE}
"#;
    let p = Project::new(&d, "secr", &[("compose.yaml", file), (".env", "API_TOKEN=t0ken-from-env\nMODE=prod\n")]);
    p.ok(&["up", "-d"]);
    let cat = |path: &str| p.ok(&["exec", "-T", "app", "cat", path]);
    assert_eq!(cat("/run/secrets/api_token"), "t0ken-from-env");
    assert_eq!(cat("/run/secrets/inline.txt"), "inline secret");
    assert_eq!(cat("/etc/app/settings.ini"), "[app]\nmode=prod\n");
    let mode = p.ok(&["exec", "-T", "app", "stat", "-c", "%a %u", "/run/secrets/api_token"]);
    assert_eq!(mode.trim(), "444 0");
}

#[test]
fn compose_depends_on_restart_true_restarts_dependents() {
    let Some(d) = daemon("compose_depends_on_restart_true_restarts_dependents") else { return };
    let file = |v: &str| {
        format!(
            r#"services:
  db:
    image: busybox
    command: ["sleep", "600"]
    stop_grace_period: 1s
    environment:
      V: "{v}"
  api:
    image: busybox
    command: ["sleep", "600"]
    stop_grace_period: 1s
    depends_on:
      db:
        condition: service_started
        restart: true
  worker:
    image: busybox
    command: ["sleep", "600"]
    stop_grace_period: 1s
    depends_on:
      - db
"#
        )
    };
    let p = Project::new(&d, "rdep", &[("compose.yaml", &file("1"))]);
    p.ok(&["up", "-d"]);
    let started = |svc: &str| p.inspect(&format!("rdep-{svc}-1"), "{{.State.StartedAt}}");
    let (api0, worker0) = (started("api"), started("worker"));
    std::thread::sleep(std::time::Duration::from_millis(1100));

    let out = output(&mut p.compose(&["restart", "db"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let api1 = started("api");
    assert_ne!(api1, api0, "api (restart: true) was not restarted: {}", stderr(&out));
    assert_eq!(started("worker"), worker0, "worker (no restart) was restarted");

    // `--no-deps` restarts only the named service.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    p.ok(&["restart", "--no-deps", "db"]);
    assert_eq!(started("api"), api1, "--no-deps restarted api");

    // `up` recreating db restarts api (same container), not worker.
    let api_id = p.inspect("rdep-api-1", "{{.Id}}");
    std::thread::sleep(std::time::Duration::from_millis(1100));
    p.write("compose.yaml", &file("2"));
    let out = output(&mut p.compose(&["up", "-d"]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(p.inspect("rdep-api-1", "{{.Id}}"), api_id, "api was recreated, not restarted");
    assert_ne!(started("api"), api1, "api not restarted after db was recreated: {}", stderr(&out));
    assert_eq!(started("worker"), worker0, "worker restarted after db was recreated");
}

#[test]
fn compose_rm_asks_unless_force_and_stop_removes_running() {
    let Some(d) = daemon("compose_rm_asks_unless_force_and_stop_removes_running") else { return };
    let p = Project::new(&d, "rmq", &[("compose.yaml", &service("1", ""))]);
    p.ok(&["up", "-d"]);

    // Running containers are not removed without -s.
    let out = output(&mut p.compose(&["rm", "-f"]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("No stopped containers"), "{}", stderr(&out));
    assert_eq!(p.ids().len(), 1);

    p.ok(&["stop", "-t", "1"]);
    let answer = |text: &str| {
        let mut child =
            p.compose(&["rm"]).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };
    let out = answer("n\n");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "Going to remove rmq-web-1\nAre you sure? [yN] ");
    assert_eq!(p.ids().len(), 1, "declined rm removed the container");
    let out = answer("y\n");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(p.ids().is_empty(), "confirmed rm left {:?}", p.ids());

    // -s -f: stop, then remove without asking (the message still goes to stdout).
    p.ok(&["up", "-d"]);
    let out = ok(&mut p.compose(&["rm", "-s", "-f"]));
    assert_eq!(out, "Going to remove rmq-web-1\n");
    assert!(p.ids().is_empty(), "rm -s -f left {:?}", p.ids());
}
