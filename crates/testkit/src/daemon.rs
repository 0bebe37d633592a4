//! [`TestDaemon`]: the real `berthd` on a temp socket, data root, exec root and cgroup parent,
//! torn down (containers, mounts, cgroups, process) when dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::http;

pub struct TestDaemon {
    pub dir: tempfile::TempDir,
    pub socket: PathBuf,
    pub data_root: PathBuf,
    pub exec_root: PathBuf,
    pub cgroup_parent: String,
    /// This daemon's default bridge device (`bt<hex>`), nft table (`berth_t<hex>`) and `--bip`.
    pub bridge: String,
    pub nft_table: String,
    pub bip: String,
    child: Option<Child>,
}

/// Where the workspace's binaries are: `$BERTH_BIN_DIR`, or the directory above the running
/// test executable (`target/debug/deps/..`).
pub fn bin_dir() -> PathBuf {
    if let Ok(d) = std::env::var("BERTH_BIN_DIR") {
        return d.into();
    }
    let exe = std::env::current_exe().expect("current_exe");
    let deps = exe.parent().expect("test exe has a directory");
    if deps.ends_with("deps") {
        deps.parent().expect("deps has a parent").to_path_buf()
    } else {
        deps.to_path_buf()
    }
}

pub fn bin(name: &str) -> PathBuf {
    bin_dir().join(name)
}

impl TestDaemon {
    /// Starts berthd and waits until `/_ping` answers.
    pub fn start() -> Result<TestDaemon> {
        Self::start_nested("")
    }

    /// Like [`start`](Self::start), with the data and exec roots `nest` deeper (to test path
    /// length limits of sockets and mount options).
    pub fn start_nested(nest: &str) -> Result<TestDaemon> {
        Self::start_inner(nest, "{}")
    }

    /// Like [`start`](Self::start) with `daemon_json` as the daemon's configuration file. The
    /// temp directory is made `0711` so a `userns-remap` root can reach the data root.
    pub fn start_with_config(daemon_json: &str) -> Result<TestDaemon> {
        Self::start_inner("", daemon_json)
    }

    fn start_inner(nest: &str, daemon_json: &str) -> Result<TestDaemon> {
        let dir = tempfile::Builder::new().prefix("bt").tempdir_in("/tmp")?;
        if daemon_json != "{}" {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o711))?;
        }
        let socket = dir.path().join("d.sock");
        let data_root = dir.path().join(nest).join("data");
        let exec_root = dir.path().join(nest).join("exec");
        let cgroup_parent = format!("berth-test-{:08x}", rand::random::<u32>());
        let tag = rand::random::<u32>();
        let bridge = format!("bt{tag:08x}");
        let nft_table = format!("berth_t{tag:08x}");
        let bip = format!("10.{}.{}.1/24", 200 + (tag >> 8) % 50, tag & 0xff);
        let log = std::fs::File::create(dir.path().join("berthd.log"))?;
        std::fs::write(dir.path().join("daemon.json"), daemon_json)?;
        let child = Command::new(bin("berthd"))
            .arg("--data-root")
            .arg(&data_root)
            .arg("--exec-root")
            .arg(&exec_root)
            .arg("-H")
            .arg(format!("unix://{}", socket.display()))
            .arg("--cgroup-parent")
            .arg(&cgroup_parent)
            .args(["--bridge-name", &bridge, "--nft-table", &nft_table, "--bip", &bip])
            .arg("--config-file")
            .arg(dir.path().join("daemon.json"))
            .env("RUST_LOG", "debug")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("spawning {}", bin("berthd").display()))?;
        let mut d =
            TestDaemon { dir, socket, data_root, exec_root, cgroup_parent, bridge, nft_table, bip, child: Some(child) };
        d.wait_ready()?;
        Ok(d)
    }

    fn wait_ready(&mut self) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Some(c) = self.child.as_mut() {
                if let Some(status) = c.try_wait()? {
                    bail!("berthd exited early ({status}):\n{}", self.log());
                }
            }
            if let Ok(r) = http::request(&self.socket, "GET", "/_ping", None) {
                if r.status == 200 {
                    return Ok(());
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        bail!("berthd did not answer /_ping within 20s:\n{}", self.log())
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The daemon's log so far (for assertion messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("berthd.log")).unwrap_or_default()
    }

    pub fn host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    /// A bollard client on this daemon.
    pub fn bollard(&self) -> bollard::Docker {
        bollard::Docker::connect_with_unix(&self.host(), 120, bollard::API_DEFAULT_VERSION).expect("bollard client")
    }

    /// The real docker CLI pointed at this daemon.
    pub fn docker(&self) -> Command {
        let mut c = Command::new(std::env::var("BERTH_TEST_DOCKER").unwrap_or_else(|_| "docker".into()));
        c.env("DOCKER_HOST", self.host()).env("DOCKER_CONFIG", self.dir.path().join("docker-config"));
        c
    }

    /// berth's own CLI pointed at this daemon.
    pub fn berth(&self) -> Command {
        let mut c = Command::new(bin("berth"));
        c.env("DOCKER_HOST", self.host());
        c
    }

    /// A raw API request.
    pub fn request(&self, method: &str, path: &str, body: Option<(&str, &[u8])>) -> http::Response {
        http::request(&self.socket, method, path, body)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}\n{}", self.log()))
    }

    /// Loads the busybox fixture as `busybox:latest`.
    pub fn load_busybox(&self) {
        let tar = std::fs::read(&crate::fixtures::busybox().archive_tar).expect("reading busybox.tar");
        let r = self.request("POST", "/images/load?quiet=1", Some(("application/x-tar", &tar)));
        assert_eq!(r.status, 200, "load busybox: {}", r.text());
    }

    /// Sends SIGTERM and waits for the daemon to exit (containers keep running: live restore).
    pub fn stop(&mut self) -> Result<()> {
        let Some(mut child) = self.child.take() else { return Ok(()) };
        signal(child.id(), libc::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if child.try_wait()?.is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        signal(child.id(), libc::SIGKILL);
        child.wait()?;
        bail!("berthd did not stop within 15s of SIGTERM")
    }

    /// `kill -9` of the daemon (for crash and live-restore tests).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            signal(child.id(), libc::SIGKILL);
            let _ = child.wait();
        }
    }

    /// Starts the daemon again on the same roots.
    pub fn restart(&mut self) -> Result<()> {
        self.stop()?;
        let log = std::fs::OpenOptions::new().append(true).open(self.dir.path().join("berthd.log"))?;
        let child = Command::new(bin("berthd"))
            .arg("--data-root")
            .arg(&self.data_root)
            .arg("--exec-root")
            .arg(&self.exec_root)
            .arg("-H")
            .arg(self.host())
            .arg("--cgroup-parent")
            .arg(&self.cgroup_parent)
            .args(["--bridge-name", &self.bridge, "--nft-table", &self.nft_table, "--bip", &self.bip])
            .arg("--config-file")
            .arg(self.dir.path().join("daemon.json"))
            .env("RUST_LOG", "debug")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?;
        self.child = Some(child);
        self.wait_ready()
    }

    /// Mount points under this daemon's roots that are still mounted.
    pub fn leftover_mounts(&self) -> Vec<String> {
        let root = self.dir.path().to_string_lossy().to_string();
        std::fs::read_to_string("/proc/self/mountinfo")
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split_whitespace().nth(4).map(str::to_string))
            .filter(|m| m.starts_with(&root))
            .collect()
    }

    /// cgroup directories this daemon's containers left behind.
    pub fn leftover_cgroups(&self) -> Vec<PathBuf> {
        crate::cgroups::dirs(&self.cgroup_parent).into_iter().filter(|d| crate::cgroups::has_children(d)).collect()
    }

    fn cleanup(&mut self) {
        if self.child.is_some() {
            if let Ok(r) = http::request(&self.socket, "GET", "/containers/json?all=1", None) {
                if let Ok(serde_json::Value::Array(list)) = serde_json::from_slice::<serde_json::Value>(&r.body) {
                    for c in list {
                        if let Some(id) = c["Id"].as_str() {
                            let _ =
                                http::request(&self.socket, "DELETE", &format!("/containers/{id}?force=1&v=1"), None);
                        }
                    }
                }
            }
            let _ = self.stop();
        }
        // Whatever is still there: shims, mounts, cgroups. Only what lives under our own roots.
        kill_processes_under(&self.exec_root);
        let mut mounts = self.leftover_mounts();
        mounts.sort_by_key(|m| std::cmp::Reverse(m.len()));
        for m in mounts {
            let _ = Command::new("umount").arg("-l").arg(&m).status();
        }
        crate::cgroups::cleanup(&self.cgroup_parent);
        // Our own bridge and nft table only (user networks of a test are removed by the test).
        let _ = Command::new("ip").args(["link", "del", &self.bridge]).stderr(Stdio::null()).status();
        let _ = Command::new("nft").args(["delete", "table", "ip", &self.nft_table]).stderr(Stdio::null()).status();
    }
}

impl Drop for TestDaemon {
    fn drop(&mut self) {
        self.cleanup();
    }
}

pub(crate) fn signal(pid: u32, sig: i32) {
    // Only ever called with the pid of a child this process spawned.
    let _ = Command::new("kill").arg(format!("-{sig}")).arg(pid.to_string()).status();
}

/// Kills shims started for this daemon: processes whose command line names our exec root.
fn kill_processes_under(exec_root: &Path) {
    let needle = exec_root.to_string_lossy().to_string();
    let Ok(entries) = std::fs::read_dir("/proc") else { return };
    for e in entries.flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else { continue };
        let cmdline = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
        if String::from_utf8_lossy(&cmdline).contains(&needle) {
            signal(pid, libc::SIGKILL);
        }
    }
}
