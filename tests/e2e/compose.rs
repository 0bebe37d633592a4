//! End-to-end: berth compose against berthd (issue 8). Each test writes a project into a
//! temp dir, drives the real `berth compose`, and checks the daemon's view with `docker`.
//! A guard runs `compose down -v --remove-orphans` so nothing is left behind.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use berth_testkit::TestDaemon;

use crate::{daemon, eventually, ok, output, stderr, stdout};

/// A compose project in a temp dir, driven against one daemon (`host`); `down -v` when dropped.
pub(crate) struct Project {
    host: String,
    docker_config: Option<PathBuf>,
    dir: tempfile::TempDir,
    pub(crate) name: String,
}

impl Project {
    pub(crate) fn new(d: &TestDaemon, name: &str, files: &[(&str, &str)]) -> Project {
        let config = d.docker().get_envs().find(|(k, _)| *k == "DOCKER_CONFIG").and_then(|(_, v)| v.map(PathBuf::from));
        Project::on(&d.host(), config, name, files)
    }

    /// A project on any daemon (e.g. a reference dockerd) at DOCKER_HOST `host`.
    pub(crate) fn on(host: &str, docker_config: Option<PathBuf>, name: &str, files: &[(&str, &str)]) -> Project {
        let dir = tempfile::Builder::new().prefix("compose").tempdir().unwrap();
        let root = dir.path().join(name);
        std::fs::create_dir(&root).unwrap();
        let p = Project { host: host.to_string(), docker_config, dir, name: name.to_string() };
        for (f, text) in files {
            p.write(f, text);
        }
        p
    }

    pub(crate) fn root(&self) -> PathBuf {
        self.dir.path().join(&self.name)
    }

    pub(crate) fn write(&self, file: &str, text: &str) {
        std::fs::write(self.root().join(file), text).unwrap();
    }

    /// `docker` pointed at the project's daemon.
    pub(crate) fn docker(&self) -> Command {
        let mut c = Command::new(std::env::var("BERTH_TEST_DOCKER").unwrap_or_else(|_| "docker".into()));
        c.env("DOCKER_HOST", &self.host);
        if let Some(cfg) = &self.docker_config {
            c.env("DOCKER_CONFIG", cfg);
        }
        c
    }

    /// `berth compose ARGS` run in the project directory.
    pub(crate) fn compose(&self, args: &[&str]) -> Command {
        let mut c = Command::new(berth_testkit::daemon::bin("berth"));
        c.env("DOCKER_HOST", &self.host).current_dir(self.root()).arg("compose").args(args);
        c
    }

    pub(crate) fn ok(&self, args: &[&str]) -> String {
        ok(&mut self.compose(args))
    }

    pub(crate) fn inspect(&self, what: &str, fmt: &str) -> String {
        ok(self.docker().args(["inspect", "-f", fmt, what])).trim().to_string()
    }

    /// `name -> id` of the project's containers, from docker itself.
    pub(crate) fn ids(&self) -> Vec<(String, String)> {
        let out = ok(self.docker().args([
            "ps",
            "-a",
            "--no-trunc",
            "--filter",
            &format!("label=com.docker.compose.project={}", self.name),
            "--format",
            "{{.Names}} {{.ID}}",
        ]));
        let mut v: Vec<(String, String)> =
            out.lines().filter_map(|l| l.split_once(' ').map(|(a, b)| (a.to_string(), b.to_string()))).collect();
        v.sort();
        v
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        let _ = output(&mut self.compose(&["down", "-v", "--remove-orphans", "-t", "1"]));
    }
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn http_get(port: u16) -> Option<String> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    s.write_all(b"GET / HTTP/1.0\r\n\r\n").ok()?;
    let mut body = String::new();
    s.read_to_string(&mut body).ok()?;
    Some(body)
}

fn web_db(port: u16) -> String {
    format!(
        r#"services:
  web:
    image: busybox
    command: ["sh", "-c", "mkdir -p /www && echo $$GREETING > /www/index.html && echo started > /data/web && exec httpd -f -p 8080 -h /www"]
    ports:
      - "127.0.0.1:{port}:8080"
    environment:
      GREETING: hello-from-web
    volumes:
      - data:/data
    depends_on:
      - db
  db:
    image: busybox
    command: ["sh", "-c", "while true; do nc -l -p 6379 -e echo PONG; done"]
volumes:
  data:
"#
    )
}

#[test]
fn compose_web_db_ports_env_volume_and_down_v() {
    let Some(d) = daemon("compose_web_db_ports_env_volume_and_down_v") else { return };
    let port = free_port();
    let p = Project::new(&d, "shop", &[("compose.yaml", &web_db(port))]);
    let out = output(&mut p.compose(&["up", "-d"]));
    assert!(out.status.success(), "up failed: {}\n{}", stderr(&out), d.log());
    let names: Vec<String> = p.ids().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, vec!["shop-db-1", "shop-web-1"]);
    // Compose's labels and names.
    let labels = p.inspect("shop-web-1", "{{json .Config.Labels}}");
    let labels: serde_json::Value = serde_json::from_str(&labels).unwrap();
    assert_eq!(labels["com.docker.compose.project"], "shop");
    assert_eq!(labels["com.docker.compose.service"], "web");
    assert_eq!(labels["com.docker.compose.container-number"], "1");
    assert_eq!(labels["com.docker.compose.oneoff"], "False");
    assert_eq!(labels["com.docker.compose.depends_on"], "db:service_started:false");
    assert_eq!(labels["com.docker.compose.project.working_dir"], p.root().display().to_string());
    assert_eq!(labels["com.docker.compose.config-hash"].as_str().unwrap().len(), 64);
    assert_eq!(
        p.inspect("shop_default", "{{.Name}} {{index .Labels \"com.docker.compose.network\"}}"),
        "shop_default default"
    );
    assert_eq!(p.inspect("shop_data", "{{.Name}} {{index .Labels \"com.docker.compose.volume\"}}"), "shop_data data");
    // Published port and environment reach the service.
    let mut body = String::new();
    assert!(
        eventually(20, || {
            body = http_get(port).unwrap_or_default();
            body.contains("hello-from-web")
        }),
        "GET 127.0.0.1:{port}: {body:?}\n{}",
        d.log()
    );
    // The named volume is the one mounted.
    assert!(eventually(10, || output(d.docker().args([
        "run",
        "--rm",
        "-v",
        "shop_data:/v",
        "busybox",
        "cat",
        "/v/web"
    ]))
    .stdout
    .starts_with(b"started")));
    let ps = p.ok(&["ps", "--format", "{{.Service}} {{.State}}"]);
    assert_eq!(ps, "db running\nweb running\n");
    assert_eq!(p.ok(&["ps", "--services"]), "db\nweb\n");
    assert_eq!(p.ok(&["ps", "-q"]).lines().count(), 2);

    let out = output(&mut p.compose(&["down", "-v", "-t", "1"]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(p.ids().is_empty());
    assert!(!output(d.docker().args(["network", "inspect", "shop_default"])).status.success());
    assert!(!output(d.docker().args(["volume", "inspect", "shop_data"])).status.success());
}

#[test]
fn compose_service_healthy_dependency_waits() {
    let Some(d) = daemon("compose_service_healthy_dependency_waits") else { return };
    let file = r#"services:
  db:
    image: busybox
    network_mode: none
    command: ["sh", "-c", "sleep 2; touch /tmp/ready; exec sleep 1000"]
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ready"]
      interval: 500ms
      retries: 20
  app:
    image: busybox
    network_mode: none
    command: ["sleep", "1000"]
    depends_on:
      db:
        condition: service_healthy
"#;
    let p = Project::new(&d, "health", &[("compose.yaml", file)]);
    let out = output(&mut p.compose(&["up", "-d"]));
    assert!(out.status.success(), "up failed: {}\n{}", stderr(&out), d.log());
    assert!(stderr(&out).contains("Container health-db-1  Healthy"), "{}", stderr(&out));
    // app started only once db was healthy.
    assert_eq!(p.inspect("health-db-1", "{{.State.Health.Status}}"), "healthy");
    let db_started = p.inspect("health-db-1", "{{.State.StartedAt}}");
    let app_started = p.inspect("health-app-1", "{{.State.StartedAt}}");
    assert!(app_started > db_started, "app {app_started} db {db_started}");
    let ds = chrono_secs(&db_started);
    let as_ = chrono_secs(&app_started);
    assert!(as_ - ds >= 2.0, "app started {:.2}s after db", as_ - ds);
}

/// Seconds (with fraction) of an RFC 3339 timestamp's time of day; enough for ordering within a test.
fn chrono_secs(ts: &str) -> f64 {
    let t = ts.split('T').nth(1).unwrap().trim_end_matches('Z');
    let mut parts = t.split(':');
    let h: f64 = parts.next().unwrap().parse().unwrap();
    let m: f64 = parts.next().unwrap().parse().unwrap();
    let s: f64 = parts.next().unwrap().split('+').next().unwrap().parse().unwrap();
    h * 3600.0 + m * 60.0 + s
}

#[test]
fn compose_scale_up_and_down() {
    let Some(d) = daemon("compose_scale_up_and_down") else { return };
    let file = "services:\n  web:\n    image: busybox\n    command: [\"sleep\", \"1000\"]\n";
    let p = Project::new(&d, "scaled", &[("compose.yaml", file)]);
    let out = output(&mut p.compose(&["up", "-d", "--scale", "web=3"]));
    assert!(out.status.success(), "{}\n{}", stderr(&out), d.log());
    let names: Vec<String> = p.ids().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, vec!["scaled-web-1", "scaled-web-2", "scaled-web-3"]);
    assert_eq!(p.inspect("scaled-web-3", "{{index .Config.Labels \"com.docker.compose.container-number\"}}"), "3");
    let out = output(&mut p.compose(&["up", "-d", "--scale", "web=1", "-t", "1"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let names: Vec<String> = p.ids().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, vec!["scaled-web-1"]);
}

#[test]
fn compose_env_file_interpolation_and_merged_files() {
    let Some(d) = daemon("compose_env_file_interpolation_and_merged_files") else { return };
    let base = r#"services:
  app:
    image: "busybox:${TAG}"
    network_mode: none
    command: ["sh", "-c", "echo msg=$$MSG extra=$$EXTRA; sleep 1000"]
    environment:
      MSG: ${MSG:-default}
"#;
    let over = "services:\n  app:\n    environment:\n      EXTRA: from-override\n";
    let p = Project::new(
        &d,
        "interp",
        &[("compose.yaml", base), ("override.yaml", over), (".env", "TAG=latest\nMSG=from-dotenv\n")],
    );
    let cfg = p.ok(&["-f", "compose.yaml", "-f", "override.yaml", "config"]);
    assert!(cfg.contains("image: busybox:latest"), "{cfg}");
    assert!(cfg.contains("MSG: from-dotenv") && cfg.contains("EXTRA: from-override"), "{cfg}");
    let out = output(&mut p.compose(&["-f", "compose.yaml", "-f", "override.yaml", "up", "-d"]));
    assert!(out.status.success(), "{}\n{}", stderr(&out), d.log());
    assert!(eventually(10, || p.ok(&["-f", "compose.yaml", "-f", "override.yaml", "logs", "--no-log-prefix"])
        == "msg=from-dotenv extra=from-override\n"));
    let files = p.inspect("interp-app-1", "{{index .Config.Labels \"com.docker.compose.project.config_files\"}}");
    let root = p.root().display().to_string();
    assert_eq!(files, format!("{root}/compose.yaml,{root}/override.yaml"));
}

#[test]
fn compose_up_twice_is_noop_and_changed_env_recreates_only_that_service() {
    let Some(d) = daemon("compose_up_twice_is_noop_and_changed_env_recreates_only_that_service") else { return };
    let file = |v: &str| {
        format!(
            "services:\n  a:\n    image: busybox\n    network_mode: none\n    command: [\"sleep\", \"1000\"]\n    environment:\n      V: \"{v}\"\n  b:\n    image: busybox\n    network_mode: none\n    command: [\"sleep\", \"1000\"]\n"
        )
    };
    let p = Project::new(&d, "conv", &[("compose.yaml", &file("1"))]);
    p.ok(&["up", "-d"]);
    let first = p.ids();
    assert_eq!(first.len(), 2);
    let out = output(&mut p.compose(&["up", "-d"]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(p.ids(), first, "second up changed containers: {}", stderr(&out));
    assert!(stderr(&out).contains("Container conv-a-1  Running"), "{}", stderr(&out));
    assert!(!stderr(&out).contains("Recreate"), "{}", stderr(&out));

    p.write("compose.yaml", &file("2"));
    let out = output(&mut p.compose(&["up", "-d", "-t", "1"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let second = p.ids();
    assert_eq!(second[0].0, "conv-a-1");
    assert_ne!(second[0].1, first[0].1, "a was not recreated");
    assert_eq!(second[1], first[1], "b was recreated");
    assert_eq!(
        p.inspect("conv-a-1", "{{range .Config.Env}}{{if eq (index (split . \"=\") 0) \"V\"}}{{.}}{{end}}{{end}}"),
        "V=2"
    );
    assert_eq!(p.inspect("conv-a-1", "{{.State.Status}}"), "running");
}

#[test]
fn compose_run_rm_and_exec() {
    let Some(d) = daemon("compose_run_rm_and_exec") else { return };
    let file = "services:\n  tool:\n    image: busybox\n    network_mode: none\n    command: [\"sleep\", \"1000\"]\n    environment:\n      FROM_FILE: yes-it-is\n";
    let p = Project::new(&d, "oneoff", &[("compose.yaml", file)]);
    let out =
        output(&mut p.compose(&["run", "--rm", "-e", "EXTRA=1", "tool", "sh", "-c", "echo $FROM_FILE $EXTRA; exit 4"]));
    assert_eq!(out.status.code(), Some(4), "{}\n{}", stderr(&out), d.log());
    assert_eq!(stdout(&out), "yes-it-is 1\n");
    assert!(p.ids().is_empty(), "run --rm left {:?}", p.ids());

    p.ok(&["up", "-d"]);
    let out = output(&mut p.compose(&["exec", "-T", "tool", "sh", "-c", "echo in $FROM_FILE; exit 5"]));
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert_eq!(stdout(&out), "in yes-it-is\n");
    let out = output(&mut p.compose(&["exec", "-T", "nope", "true"]));
    assert!(!out.status.success());
    assert!(stderr(&out).contains("no such service: nope"), "{}", stderr(&out));
}

#[test]
fn compose_logs_follow_with_prefixes() {
    let Some(d) = daemon("compose_logs_follow_with_prefixes") else { return };
    let file = r#"services:
  ticker:
    image: busybox
    network_mode: none
    command: ["sh", "-c", "i=0; while true; do echo tick $$i; i=$$((i+1)); sleep 0.2; done"]
  once:
    image: busybox
    network_mode: none
    command: ["echo", "just once"]
"#;
    let p = Project::new(&d, "logs", &[("compose.yaml", file)]);
    p.ok(&["up", "-d"]);
    let mut child = p
        .compose(&["logs", "-f", "--no-color"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut seen = Vec::new();
    let mut line = String::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while std::time::Instant::now() < deadline {
        line.clear();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        seen.push(line.trim_end().to_string());
        let ticks = seen.iter().filter(|l| l.starts_with("ticker-1  | tick ")).count();
        if ticks >= 5 && seen.iter().any(|l| l == "once-1    | just once") {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(seen.iter().filter(|l| l.starts_with("ticker-1  | tick ")).count() >= 5, "{seen:?}");
    assert!(seen.iter().any(|l| l == "once-1    | just once"), "{seen:?}");
}

#[test]
fn compose_config_output_and_errors() {
    let Some(d) = daemon("compose_config_output_and_errors") else { return };
    let file = "services:\n  web:\n    image: busybox\n    ports:\n      - \"127.0.0.1:8080:80\"\n";
    let p = Project::new(&d, "cfg", &[("compose.yaml", file)]);
    let cfg = p.ok(&["config"]);
    assert_eq!(
        cfg,
        "name: cfg\nservices:\n  web:\n    image: busybox\n    networks:\n      default: {}\n    ports:\n      - target: 80\n        published: \"8080\"\n        host_ip: \"127.0.0.1\"\n        protocol: tcp\nnetworks:\n  default:\n    name: cfg_default\n"
    );
    assert_eq!(p.ok(&["config", "--services"]), "web\n");
    p.write("compose.yaml", "services:\n  web:\n    image: busybox\n    ports:\n      - \"80:x\"\n");
    let out = output(&mut p.compose(&["config"]));
    assert_eq!(out.status.code(), Some(1));
    let path = p.root().join("compose.yaml");
    assert_eq!(stderr(&out), format!("{}:5: services.web.ports[0]: invalid port \"80:x\"\n", path.display()));
    // The same error from `up`, and nothing created.
    let out = output(&mut p.compose(&["up", "-d"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(p.ids().is_empty());
}

#[test]
fn compose_build_then_up_runs_the_built_image() {
    let Some(d) = daemon("compose_build_then_up_runs_the_built_image") else { return };
    let file =
        "services:\n  app:\n    build:\n      context: ./app\n      args:\n        V: \"7\"\n    network_mode: none\n";
    let p = Project::new(&d, "built", &[("compose.yaml", file)]);
    std::fs::create_dir(p.root().join("app")).unwrap();
    p.write("app/Dockerfile", "FROM busybox\nARG V=0\nRUN echo built-$V > /built\nCMD [\"cat\", \"/built\"]\n");
    let out = output(&mut p.compose(&["build"]));
    assert!(out.status.success(), "build: {}\n{}\n{}", stdout(&out), stderr(&out), d.log());
    assert!(output(d.docker().args(["image", "inspect", "built-app"])).status.success());
    let out = output(&mut p.compose(&["up", "-d"]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(eventually(10, || p.ok(&["logs", "--no-log-prefix"]) == "built-7\n"));
    // A rebuilt image recreates the container (`up --build`); an unchanged one does not.
    let before = p.ids();
    assert!(output(&mut p.compose(&["up", "-d", "--build"])).status.success());
    assert_eq!(p.ids(), before);
    p.write("app/Dockerfile", "FROM busybox\nRUN echo rebuilt > /built\nCMD [\"cat\", \"/built\"]\n");
    let out = output(&mut p.compose(&["up", "-d", "--build"]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_ne!(p.ids(), before);
    assert!(eventually(10, || p.ok(&["logs", "--no-log-prefix"]) == "rebuilt\n"));
    let out = output(&mut p.compose(&["down", "--rmi", "local"]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!output(d.docker().args(["image", "inspect", "built-app"])).status.success());
}

#[test]
fn compose_up_attached_prefixes_logs_and_returns_when_containers_exit() {
    let Some(d) = daemon("compose_up_attached_prefixes_logs_and_returns_when_containers_exit") else { return };
    let file = r#"services:
  first:
    image: busybox
    network_mode: none
    command: ["sh", "-c", "echo one; sleep 1; echo two"]
  second:
    image: busybox
    network_mode: none
    command: ["echo", "hello"]
    profiles: [extra]
"#;
    let p = Project::new(&d, "attached", &[("compose.yaml", file)]);
    let out = output(&mut p.compose(&["--profile", "extra", "up"]));
    assert!(out.status.success(), "{}\n{}", stderr(&out), d.log());
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().filter(|l| !l.contains("WARN")).collect();
    assert!(lines.contains(&"first-1   | one") && lines.contains(&"first-1   | two"), "{text}");
    assert!(lines.contains(&"second-1  | hello"), "{text}");
    assert!(stderr(&out).contains("Attaching to first-1, second-1"), "{}", stderr(&out));
    // Without the profile, `second` is not part of the project.
    assert_eq!(p.ok(&["config", "--services"]), "first\n");
}

#[test]
fn compose_up_wait_and_lifecycle_commands() {
    let Some(d) = daemon("compose_up_wait_and_lifecycle_commands") else { return };
    let file = r#"services:
  svc:
    image: busybox
    network_mode: none
    command: ["sh", "-c", "touch /tmp/ok; exec sleep 1000"]
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ok"]
      interval: 500ms
"#;
    let p = Project::new(&d, "life", &[("compose.yaml", file)]);
    let out = output(&mut p.compose(&["up", "--wait"]));
    assert!(out.status.success(), "{}\n{}", stderr(&out), d.log());
    assert_eq!(p.inspect("life-svc-1", "{{.State.Health.Status}}"), "healthy");
    p.ok(&["stop", "-t", "1"]);
    assert_eq!(p.inspect("life-svc-1", "{{.State.Status}}"), "exited");
    p.ok(&["start"]);
    assert_eq!(p.inspect("life-svc-1", "{{.State.Status}}"), "running");
    p.ok(&["pause"]);
    assert_eq!(p.inspect("life-svc-1", "{{.State.Status}}"), "paused");
    p.ok(&["unpause"]);
    p.ok(&["kill"]);
    assert!(eventually(10, || p.inspect("life-svc-1", "{{.State.Status}}") == "exited"));
    p.ok(&["rm", "-f"]);
    assert!(p.ids().is_empty());
    let ls = ok(d.berth().args(["compose", "ls", "-a", "-q"]));
    assert_eq!(ls, "");
}

#[test]
fn compose_up_attached_ctrl_c_stops_the_containers() {
    let Some(d) = daemon("compose_up_attached_ctrl_c_stops_the_containers") else { return };
    let file = "services:\n  loop:\n    image: busybox\n    network_mode: none\n    command: [\"sh\", \"-c\", \"trap 'echo bye; exit 0' TERM; echo ready; while true; do sleep 0.1; done\"]\n";
    let p = Project::new(&d, "ctrlc", &[("compose.yaml", file)]);
    let mut child = p
        .compose(&["up", "--no-color", "-t", "5"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while std::time::Instant::now() < deadline {
        line.clear();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim_end() == "loop-1  | ready" {
            break;
        }
    }
    assert_eq!(line.trim_end(), "loop-1  | ready");
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGINT).unwrap();
    let status = child.wait().unwrap();
    let mut rest = String::new();
    let _ = reader.read_to_string(&mut rest);
    let mut err = String::new();
    let _ = child.stderr.take().unwrap().read_to_string(&mut err);
    assert_eq!(status.code(), Some(130), "{err}");
    assert!(err.contains("Gracefully stopping..."), "{err}");
    assert_eq!(p.inspect("ctrlc-loop-1", "{{.State.Status}} {{.State.ExitCode}}"), "exited 0");
    assert!(rest.contains("loop-1  | bye"), "{rest}");
}
