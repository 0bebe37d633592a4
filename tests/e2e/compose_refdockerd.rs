//! End-to-end: the same `berth compose` scenarios against a reference dockerd (issue 8), so
//! "works against dockerd too" is checked in CI. The test starts its own dockerd the way
//! `bench/lib.sh` does: private data and exec roots, its own socket and pidfile,
//! `--bridge none --iptables=false` (so the projects use `network_mode: host`/`none`); a Drop
//! guard stops it by pid and removes its roots.

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::compose::{free_port, Project};
use crate::{ok, output, stderr};

pub(crate) struct RefDockerd {
    child: Child,
    dir: tempfile::TempDir,
}

impl RefDockerd {
    /// Starts dockerd, or None (with the reason printed) when there is none to start; with
    /// `BERTH_TEST_STRICT=1` a missing dockerd is a failure.
    pub(crate) fn start(test: &str) -> Option<RefDockerd> {
        if !berth_testkit::require_privileged(test) {
            return None;
        }
        let Some(dockerd) =
            ["/usr/sbin/dockerd", "/usr/bin/dockerd"].into_iter().find(|p| std::path::Path::new(p).exists())
        else {
            let strict = std::env::var("BERTH_TEST_STRICT").is_ok_and(|v| v == "1");
            assert!(!strict, "{test}: BERTH_TEST_STRICT=1 but dockerd is not installed (apt-get install docker.io)");
            println!("SKIP {test}: dockerd is not installed");
            return None;
        };
        let dir = tempfile::Builder::new().prefix("berth-refd").tempdir_in("/tmp").unwrap();
        let p = dir.path();
        let log = std::fs::File::create(p.join("dockerd.log")).unwrap();
        let child = Command::new(dockerd)
            .arg("-H")
            .arg(format!("unix://{}", p.join("d.sock").display()))
            .arg("--data-root")
            .arg(p.join("data"))
            .arg("--exec-root")
            .arg(p.join("exec"))
            .arg("--pidfile")
            .arg(p.join("d.pid"))
            .args(["--bridge", "none", "--iptables=false", "--ip6tables=false"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("{test}: starting {dockerd}: {e}"));
        let d = RefDockerd { child, dir };
        let deadline = Instant::now() + Duration::from_secs(60);
        while !output(d.docker().arg("version")).status.success() {
            assert!(Instant::now() < deadline, "{test}: dockerd did not start:\n{}", d.log());
            std::thread::sleep(Duration::from_millis(200));
        }
        ok(d.docker().args(["load", "-q", "-i"]).arg(&berth_testkit::fixtures::busybox().archive_tar));
        Some(d)
    }

    pub(crate) fn host(&self) -> String {
        format!("unix://{}", self.dir.path().join("d.sock").display())
    }

    pub(crate) fn docker(&self) -> Command {
        let mut c = Command::new(std::env::var("BERTH_TEST_DOCKER").unwrap_or_else(|_| "docker".into()));
        c.env("DOCKER_HOST", self.host()).env("DOCKER_CONFIG", self.dir.path().join("docker-config"));
        c
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("dockerd.log")).unwrap_or_default()
    }
}

impl Drop for RefDockerd {
    fn drop(&mut self) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        if !matches!(self.child.try_wait(), Ok(Some(_))) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        // Anything dockerd left mounted under its roots, deepest first, before removing them.
        let root = self.dir.path().display().to_string();
        let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        let mut left: Vec<&str> =
            mounts.lines().filter_map(|l| l.split(' ').nth(4)).filter(|m| m.starts_with(&root)).collect();
        left.sort_by_key(|m| std::cmp::Reverse(m.len()));
        for m in left {
            let _ = Command::new("umount").arg("-l").arg(m).status();
        }
    }
}

fn project_file(port: u16, greeting: &str) -> String {
    format!(
        r#"services:
  web:
    image: busybox
    network_mode: host
    command: ["sh", "-c", "mkdir -p /www && echo $$GREETING > /www/index.html && exec httpd -f -p 127.0.0.1:{port} -h /www"]
    stop_grace_period: 1s
    environment:
      GREETING: "{greeting}"
    volumes:
      - data:/data
    secrets:
      - token
    depends_on:
      db:
        condition: service_started
  db:
    image: busybox
    network_mode: none
    command: ["sleep", "600"]
    stop_grace_period: 1s
volumes:
  data:
secrets:
  token:
    content: "ref-secret"
"#
    )
}

fn http_get(port: u16) -> Option<String> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    s.write_all(b"GET / HTTP/1.0\r\n\r\n").ok()?;
    let mut body = String::new();
    std::io::Read::read_to_string(&mut s, &mut body).ok()?;
    Some(body)
}

#[test]
fn compose_against_reference_dockerd() {
    let Some(d) = RefDockerd::start("compose_against_reference_dockerd") else { return };
    let port = free_port();
    let p = Project::on(
        &d.host(),
        Some(d.dir.path().join("docker-config")),
        "refd",
        &[("compose.yaml", &project_file(port, "hello-ref"))],
    );

    // up -d: dependency first, volume created with Compose's name and labels, secret copied in.
    let out = output(&mut p.compose(&["up", "-d"]));
    assert!(out.status.success(), "up: {}\n{}", stderr(&out), d.log());
    let ids = p.ids();
    let names: Vec<&str> = ids.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["refd-db-1", "refd-web-1"]);
    assert!(crate::eventually(10, || http_get(port).is_some_and(|b| b.contains("hello-ref"))));
    assert_eq!(p.inspect("refd_data", "{{index .Labels \"com.docker.compose.volume\"}}"), "data");
    assert_eq!(p.ok(&["exec", "-T", "web", "cat", "/run/secrets/token"]), "ref-secret");
    let hash = p.inspect("refd-web-1", "{{index .Config.Labels \"com.docker.compose.config-hash\"}}");
    assert_eq!(hash.len(), 64, "config hash {hash:?}");

    // up again: nothing changes.
    p.ok(&["up", "-d"]);
    assert_eq!(p.ids(), ids, "second up changed containers");

    // A changed environment recreates web only (rename, create, remove): db keeps its id.
    p.write("compose.yaml", &project_file(port, "changed"));
    let out = output(&mut p.compose(&["up", "-d"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let after = p.ids();
    assert_eq!(after[0], ids[0], "db was recreated");
    assert_eq!(after[1].0, "refd-web-1");
    assert_ne!(after[1].1, ids[1].1, "web was not recreated");
    assert!(crate::eventually(10, || http_get(port).is_some_and(|b| b.contains("changed"))));

    // run --rm leaves nothing; ps lists both services.
    assert_eq!(p.ok(&["run", "--rm", "-T", "db", "echo", "one-off"]).trim(), "one-off");
    assert_eq!(p.ids().len(), 2);
    let ps = p.ok(&["ps", "--services"]);
    assert_eq!(ps.lines().collect::<Vec<_>>(), ["db", "web"]);

    // down -v removes containers and the named volume.
    p.ok(&["down", "-v", "-t", "1"]);
    assert!(p.ids().is_empty());
    assert!(!output(d.docker().args(["volume", "inspect", "refd_data"])).status.success());
}
