//! Shim integration tests: real containers from the busybox rootfs (`/tmp/bb/busybox-rootfs.tar`,
//! or `BERTH_TEST_BUSYBOX_TAR`). Only with `BERTH_TEST_PRIVILEGED=1`, as root.
//!
//! The shim binary is `BERTH_SHIM_BIN` if set, else this crate's `shim` example
//! (`$CARGO_TARGET_DIR/debug/examples/shim`, built by `cargo test` — same code as `berth-shim`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::time::Duration;

use berth_runtime::shim::client::ShimClient;
use berth_runtime::shim::protocol::ShimConfig;
use berth_runtime::spec::{self, SpecInput};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn privileged(name: &str) -> bool {
    berth_testkit::require_privileged(name)
}

fn shim_bin() -> PathBuf {
    if let Ok(p) = std::env::var("BERTH_SHIM_BIN") {
        return p.into();
    }
    // tests live in target/debug/deps/<test>; the example in target/debug/examples/shim.
    let exe = std::env::current_exe().expect("current exe");
    exe.parent().and_then(Path::parent).expect("target dir").join("examples/shim")
}

/// One container's temp dirs; removes everything on drop.
struct Fixture {
    dir: tempfile::TempDir,
    cfg: ShimConfig,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        // Kill whatever may be left and remove the runtime state, then the temp dir.
        if let Ok(pid) = std::fs::read_to_string(self.cfg.state_dir.join("pid")) {
            if let Ok(pid) = pid.trim().parse::<i32>() {
                let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::SIGKILL);
            }
        }
        for _ in 0..50 {
            if !self.cfg.runtime_root.join(&self.cfg.id).exists() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = berth_runtime::shim::create::delete(&self.cfg);
        let _ = nix::mount::umount2(&self.dir.path().join("rootfs"), nix::mount::MntFlags::MNT_DETACH);
    }
}

fn fixture(name: &str, args: &[&str], tty: bool, open_stdin: bool) -> Fixture {
    let dir = tempfile::Builder::new().prefix("berth-shim-").tempdir_in("/tmp").expect("tempdir");
    let rootfs = dir.path().join("rootfs");
    std::fs::create_dir(&rootfs).expect("mkdir rootfs");
    let tar = std::env::var("BERTH_TEST_BUSYBOX_TAR").unwrap_or_else(|_| "/tmp/bb/busybox-rootfs.tar".into());
    let st = std::process::Command::new("tar").arg("-xf").arg(&tar).arg("-C").arg(&rootfs).status().expect("tar");
    assert!(st.success(), "unpacking {tar}");
    let id = format!("berthtest-{name}-{}", std::process::id());
    let user = berth_runtime::user::resolve(&rootfs, "").expect("user");
    let input = SpecInput {
        args: args.iter().map(|s| s.to_string()).collect(),
        env: vec!["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into()],
        cwd: "/".into(),
        uid: user.uid,
        gid: user.gid,
        additional_gids: user.additional_gids,
        hostname: "berthtest".into(),
        tty,
        rootfs: rootfs.clone(),
        cgroups_path: format!("/berthtest/{id}"),
        ..Default::default()
    };
    let bundle = dir.path().join("bundle");
    std::fs::create_dir(&bundle).expect("bundle");
    spec::build(&input).save(bundle.join("config.json")).expect("save spec");
    let cfg = ShimConfig {
        id: id.clone(),
        bundle,
        state_dir: dir.path().join("state"),
        log_path: dir.path().join("ctr").join(format!("{id}-json.log")),
        tty,
        open_stdin,
        stdin_once: open_stdin,
        runtime: std::env::var_os("BERTH_TEST_RUNTIME").map(PathBuf::from),
        runtime_root: dir.path().join("runtime"),
        hold_start: false,
    };
    Fixture { dir, cfg }
}

/// Reads an attach stream to EOF, returning (stdout, stderr) payloads.
async fn read_frames(mut s: tokio::net::UnixStream) -> (Vec<u8>, Vec<u8>) {
    let mut all = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), s.read_to_end(&mut all))
        .await
        .expect("attach timeout")
        .expect("read");
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut i = 0;
    while i + 8 <= all.len() {
        let len = u32::from_be_bytes([all[i + 4], all[i + 5], all[i + 6], all[i + 7]]) as usize;
        let payload = &all[i + 8..i + 8 + len];
        if all[i] == 2 {
            err.extend_from_slice(payload)
        } else {
            out.extend_from_slice(payload)
        }
        i += 8 + len;
    }
    assert_eq!(i, all.len(), "trailing partial frame");
    (out, err)
}

async fn wait_gone(f: &Fixture) {
    for _ in 0..100 {
        if !f.cfg.state_dir.join("ctl.sock").exists() && !f.cfg.runtime_root.join(&f.cfg.id).exists() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("shim did not clean up");
}

#[tokio::test]
async fn echo_logs_and_attaches() {
    if !privileged("echo_logs_and_attaches") {
        return;
    }
    let f = fixture("echo", &["sh", "-c", "sleep 0.5; echo hello; echo oops >&2; id"], false, false);
    let (client, pid) = ShimClient::spawn(&shim_bin(), &f.cfg).await.expect("spawn");
    assert!(pid > 0);
    let stream = client.attach(false, true, true).await.expect("attach");
    let (out, err) = read_frames(stream).await;
    assert_eq!(String::from_utf8_lossy(&out), "hello\nuid=0(root) gid=0(root) groups=0(root),10(wheel)\n");
    assert_eq!(String::from_utf8_lossy(&err), "oops\n");
    let status = client.wait().await.expect("wait");
    assert_eq!(status.code, 0);
    let log = std::fs::read_to_string(&f.cfg.log_path).expect("log");
    let lines: Vec<serde_json::Value> = log.lines().map(|l| serde_json::from_str(l).expect("json line")).collect();
    assert_eq!(lines[0]["log"], "hello\n");
    assert_eq!(lines[0]["stream"], "stdout");
    assert!(lines.iter().any(|l| l["log"] == "oops\n" && l["stream"] == "stderr"));
    assert!(log.starts_with("{\"log\":\"hello\\n\",\"stream\":\"stdout\",\"time\":\""), "{log}");
    wait_gone(&f).await;
    assert_eq!(ShimClient::read_exit(&f.cfg.state_dir).expect("exit file").code, 0);
}

#[tokio::test]
async fn exit_code_is_reported() {
    if !privileged("exit_code_is_reported") {
        return;
    }
    let f = fixture("exit3", &["sh", "-c", "exit 3"], false, false);
    let (client, _) = ShimClient::spawn(&shim_bin(), &f.cfg).await.expect("spawn");
    let status = client.wait().await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let log = std::fs::read_to_string(f.cfg.state_dir.join("shim.log")).unwrap_or_default();
    let files: Vec<_> =
        std::fs::read_dir(&f.cfg.state_dir).expect("ls").map(|e| e.expect("entry").file_name()).collect();
    assert_eq!(status.unwrap_or_else(|_| panic!("wait; shim.log: {log}; files: {files:?}")).code, 3);
    wait_gone(&f).await;
}

#[tokio::test]
async fn sigkill_reports_137() {
    if !privileged("sigkill_reports_137") {
        return;
    }
    let f = fixture("kill", &["sleep", "100"], false, false);
    let (client, pid) = ShimClient::spawn(&shim_bin(), &f.cfg).await.expect("spawn");
    let st = client.state().await.expect("state");
    assert_eq!(st.pid, pid);
    assert!(st.exit.is_none());
    client.signal(9).await.expect("signal");
    let status = client.wait().await.expect("wait");
    assert_eq!(status.code, 137);
    wait_gone(&f).await;
}

#[tokio::test]
async fn missing_executable_fails_with_docker_message() {
    if !privileged("missing_executable_fails_with_docker_message") {
        return;
    }
    let f = fixture("nope", &["nope"], false, false);
    let err = ShimClient::spawn(&shim_bin(), &f.cfg).await.expect_err("must fail");
    let msg = err.to_string();
    assert!(msg.contains("exec: \"nope\": executable file not found in $PATH"), "{msg}");
    assert!(!f.cfg.runtime_root.join(&f.cfg.id).exists());
}

#[tokio::test]
async fn tty_output_arrives_through_attach() {
    if !privileged("tty_output_arrives_through_attach") {
        return;
    }
    let f = fixture("tty", &["sh", "-c", "sleep 0.5; tty; echo hi"], true, false);
    let (client, _) = ShimClient::spawn(&shim_bin(), &f.cfg).await.expect("spawn");
    client.resize(30, 100).await.expect("resize");
    let stream = client.attach(false, true, true).await.expect("attach");
    // With a TTY the attach stream is the raw terminal output, unframed.
    let mut out = Vec::new();
    let mut stream = stream;
    tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut out)).await.expect("timeout").expect("read");
    assert_eq!(String::from_utf8_lossy(&out), "/dev/pts/0\r\nhi\r\n");
    assert_eq!(client.wait().await.expect("wait").code, 0);
    let log = std::fs::read_to_string(&f.cfg.log_path).expect("log");
    assert!(log.contains("\"log\":\"hi\\r\\n\",\"stream\":\"stdout\""), "{log}");
    wait_gone(&f).await;
}

#[tokio::test]
async fn stdin_half_close_ends_cat() {
    if !privileged("stdin_half_close_ends_cat") {
        return;
    }
    let f = fixture("cat", &["cat"], false, true);
    let (client, _) = ShimClient::spawn(&shim_bin(), &f.cfg).await.expect("spawn");
    let mut stream = client.attach(true, true, true).await.expect("attach");
    stream.write_all(b"piped\n").await.expect("write");
    stream.shutdown().await.expect("half-close");
    let (out, _) = read_frames(stream).await;
    assert_eq!(String::from_utf8_lossy(&out), "piped\n");
    assert_eq!(client.wait().await.expect("wait").code, 0);
    wait_gone(&f).await;
}

#[tokio::test]
async fn held_start_lets_attach_see_the_first_byte() {
    if !privileged("held_start_lets_attach_see_the_first_byte") {
        return;
    }
    let mut f = fixture("held", &["echo", "first"], false, false);
    f.cfg.hold_start = true;
    let (client, _) = ShimClient::spawn(&shim_bin(), &f.cfg).await.expect("spawn");
    // Nothing runs before start: the attach opened now must get all of the output.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(client.state().await.expect("state").exit.is_none());
    let stream = client.attach(false, true, true).await.expect("attach");
    client.start().await.expect("start");
    client.start().await.expect("a second start is a no-op");
    let (out, _) = read_frames(stream).await;
    assert_eq!(String::from_utf8_lossy(&out), "first\n");
    assert_eq!(client.wait().await.expect("wait").code, 0);
    wait_gone(&f).await;
}
