//! End-to-end tests of the registry issue: `berth registry serve` and Debian's
//! `docker-registry` on 127.0.0.1, driven by the real docker CLI against berthd.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::{daemon, eventually, ok, output, stderr, stdout};

/// A registry process on 127.0.0.1, killed (by pid) and its root removed on drop.
pub(crate) struct Registry {
    pub(crate) child: Child,
    pub(crate) port: u16,
    pub(crate) root: tempfile::TempDir,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Registry {
    pub(crate) fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub(crate) fn wait_ready(self) -> Registry {
        let addr = format!("127.0.0.1:{}", self.port);
        assert!(eventually(20, || TcpStream::connect(&addr).is_ok()), "registry on {addr} did not start");
        self
    }
}

/// A free port below 32768 (outside the ephemeral range, so nothing grabs it meanwhile).
pub(crate) fn free_port() -> u16 {
    // Each call in this process starts from a different candidate, so tests running in
    // parallel never pick the same port before either registry has bound it.
    static NEXT: std::sync::atomic::AtomicU16 = std::sync::atomic::AtomicU16::new(0);
    let seed = (std::process::id() as u16).wrapping_mul(97);
    for _ in 0..2000u16 {
        let i = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let port = 20000 + seed.wrapping_add(i.wrapping_mul(13)) % 12000;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port");
}

pub(crate) fn berth_registry() -> Registry {
    berth_registry_with(&[])
}

/// `berth registry serve` on a free port with extra flags (`--htpasswd FILE`, ...).
pub(crate) fn berth_registry_with(extra: &[&str]) -> Registry {
    let port = free_port();
    let root = tempfile::tempdir().unwrap();
    let child = Command::new(berth_testkit::daemon::bin("berth"))
        .args(["registry", "serve", "--addr", &format!("127.0.0.1:{port}"), "--root"])
        .arg(root.path())
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Registry { child, port, root }.wait_ready()
}

fn docker_registry(test: &str) -> Option<Registry> {
    docker_registry_with(test, "")
}

/// Debian's `docker-registry` on a free port; `extra` is appended to its config.yml.
pub(crate) fn docker_registry_with(test: &str, extra: &str) -> Option<Registry> {
    let bin = Path::new("/usr/bin/docker-registry");
    if !bin.exists() {
        assert!(std::env::var_os("BERTH_TEST_STRICT").is_none(), "{test}: docker-registry is not installed");
        println!("SKIP {test}: docker-registry is not installed");
        return None;
    }
    let port = free_port();
    let root = tempfile::tempdir().unwrap();
    let config = root.path().join("config.yml");
    std::fs::write(
        &config,
        format!(
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n{extra}",
            root.path().join("data").display()
        ),
    )
    .unwrap();
    let child = Command::new(bin)
        .arg("serve")
        .arg(&config)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Some(Registry { child, port, root }.wait_ready())
}

/// tag → push → rmi → pull → run, all with the docker CLI against berthd.
fn round_trip(d: &berth_testkit::TestDaemon, reg: &Registry) {
    let image = format!("{}/bb:1", reg.host());
    ok(d.docker().args(["tag", "busybox", &image]));
    let pushed = ok(d.docker().args(["push", &image]));
    assert!(pushed.contains("1: digest: sha256:"), "{pushed}");
    let again = ok(d.docker().args(["push", &image]));
    assert!(again.contains("Layer already exists"), "{again}");
    ok(d.docker().args(["rmi", &image]));
    let pulled = ok(d.docker().args(["pull", &image]));
    assert!(pulled.contains("Digest: sha256:"), "{pulled}");
    assert!(
        pulled.contains(&format!("Status: Image is up to date for {image}"))
            || pulled.contains("Downloaded newer image"),
        "{pulled}"
    );
    let digests = ok(d.docker().args(["image", "inspect", "-f", "{{json .RepoDigests}}", &image]));
    assert!(digests.contains(&format!("{}/bb@sha256:", reg.host())), "{digests}");
    // Pull into a store without the layers: remove busybox too so the layer is downloaded.
    ok(d.docker().args(["rmi", "busybox", &image]));
    let pulled = ok(d.docker().args(["pull", &image]));
    assert!(pulled.contains("Pull complete"), "{pulled}");
    assert!(pulled.contains(&format!("Downloaded newer image for {image}")), "{pulled}");
    let out = ok(d.docker().args(["run", "--rm", &image, "echo", "round-trip-ok"]));
    assert_eq!(out.trim(), "round-trip-ok");
}

#[test]
fn push_pull_run_with_berth_registry() {
    let Some(d) = daemon("push_pull_run_with_berth_registry") else { return };
    let reg = berth_registry();
    round_trip(&d, &reg);
}

#[test]
fn push_pull_run_with_docker_registry() {
    let Some(d) = daemon("push_pull_run_with_docker_registry") else { return };
    let Some(reg) = docker_registry("push_pull_run_with_docker_registry") else { return };
    round_trip(&d, &reg);
}

#[test]
fn pull_without_tag_gives_latest() {
    let Some(d) = daemon("pull_without_tag_gives_latest") else { return };
    let reg = berth_registry();
    let repo = format!("{}/plain", reg.host());
    ok(d.docker().args(["tag", "busybox", &repo]));
    ok(d.docker().args(["push", &repo]));
    ok(d.docker().args(["rmi", &repo]));
    let out = ok(d.docker().args(["pull", &repo]));
    assert!(out.contains("Using default tag: latest") || out.contains(&format!("{repo}:latest")), "{out}");
    let tags = ok(d.docker().args(["image", "inspect", "-f", "{{json .RepoTags}}", &format!("{repo}:latest")]));
    assert!(tags.contains(&format!("{repo}:latest")), "{tags}");
}

/// The biggest blob of the registry's content store: the layer.
pub(crate) fn biggest_blob(root: &Path) -> PathBuf {
    let dir = root.join("content/blobs/sha256");
    std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .max_by_key(|e| e.metadata().map(|m| m.len()).unwrap_or(0))
        .unwrap()
        .path()
}

#[test]
fn corrupted_blob_is_rejected() {
    let Some(d) = daemon("corrupted_blob_is_rejected") else { return };
    let reg = berth_registry();
    let image = format!("{}/bad:1", reg.host());
    ok(d.docker().args(["tag", "busybox", &image]));
    ok(d.docker().args(["push", &image]));
    ok(d.docker().args(["rmi", "busybox", &image]));
    let blob = biggest_blob(reg.root.path());
    let mut bytes = std::fs::read(&blob).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&blob, bytes).unwrap();
    let out = output(d.docker().args(["pull", &image]));
    assert!(!out.status.success(), "pull of a corrupted blob succeeded: {}", stdout(&out));
    let err = stderr(&out) + &stdout(&out);
    assert!(err.to_lowercase().contains("digest"), "{err}");
    let inspect = output(d.docker().args(["image", "inspect", &image]));
    assert!(!inspect.status.success(), "a corrupted pull left an image behind");
}

fn curl(args: &[&str]) -> String {
    ok(Command::new("curl").arg("-sSf").args(args))
}

/// Uploads `bytes` as a blob of `repo` (monolithic POST); returns its digest.
fn upload(reg: &Registry, repo: &str, bytes: &[u8]) -> String {
    use sha2::Digest as _;
    let digest = format!("sha256:{}", hex::encode(sha2::Sha256::digest(bytes)));
    let file = reg.root.path().join("upload.tmp");
    std::fs::write(&file, bytes).unwrap();
    curl(&[
        "-X",
        "POST",
        "--data-binary",
        &format!("@{}", file.display()),
        "-H",
        "Content-Type: application/octet-stream",
        &format!("http://{}/v2/{repo}/blobs/uploads/?digest={digest}", reg.host()),
    ]);
    digest
}

fn put_manifest(reg: &Registry, repo: &str, reference: &str, media_type: &str, bytes: &[u8]) {
    let file = reg.root.path().join("manifest.tmp");
    std::fs::write(&file, bytes).unwrap();
    curl(&[
        "-X",
        "PUT",
        "--data-binary",
        &format!("@{}", file.display()),
        "-H",
        &format!("Content-Type: {media_type}"),
        &format!("http://{}/v2/{repo}/manifests/{reference}", reg.host()),
    ]);
}

#[test]
fn multi_platform_index_picks_the_platform() {
    let Some(d) = daemon("multi_platform_index_picks_the_platform") else { return };
    let reg = berth_registry();
    let host_arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    let other_arch = if host_arch == "amd64" { "arm64" } else { "amd64" };
    let image = format!("{}/multi:host", reg.host());
    ok(d.docker().args(["tag", "busybox", &image]));
    ok(d.docker().args(["push", &image]));
    let mt_manifest = "application/vnd.docker.distribution.manifest.v2+json";
    let host_manifest =
        curl(&["-H", &format!("Accept: {mt_manifest}"), &format!("http://{}/v2/multi/manifests/host", reg.host())]);
    let m: serde_json::Value = serde_json::from_str(&host_manifest).unwrap();
    let config_digest = m["config"]["digest"].as_str().unwrap();
    let config = curl(&[&format!("http://{}/v2/multi/blobs/{config_digest}", reg.host())]);
    let mut other_config: serde_json::Value = serde_json::from_str(&config).unwrap();
    other_config["architecture"] = other_arch.into();
    let other_config = serde_json::to_vec(&other_config).unwrap();
    let other_config_digest = upload(&reg, "multi", &other_config);
    let mut other = m.clone();
    other["config"]["digest"] = other_config_digest.clone().into();
    other["config"]["size"] = other_config.len().into();
    let other = serde_json::to_vec(&other).unwrap();
    put_manifest(&reg, "multi", "other", mt_manifest, &other);
    use sha2::Digest as _;
    let digest_of = |b: &[u8]| format!("sha256:{}", hex::encode(sha2::Sha256::digest(b)));
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
        "manifests": [
            {"mediaType": mt_manifest, "digest": digest_of(&other), "size": other.len(), "platform": {"os": "linux", "architecture": other_arch}},
            {"mediaType": mt_manifest, "digest": digest_of(host_manifest.as_bytes()), "size": host_manifest.len(), "platform": {"os": "linux", "architecture": host_arch}},
        ],
    });
    put_manifest(
        &reg,
        "multi",
        "index",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        &serde_json::to_vec(&index).unwrap(),
    );
    let idx = format!("{}/multi:index", reg.host());
    ok(d.docker().args(["pull", &idx]));
    let arch = ok(d.docker().args(["image", "inspect", "-f", "{{.Architecture}}", &idx]));
    assert_eq!(arch.trim(), host_arch);
    ok(d.docker().args(["rmi", &idx]));
    ok(d.docker().args(["pull", "--platform", &format!("linux/{other_arch}"), &idx]));
    let arch = ok(d.docker().args(["image", "inspect", "-f", "{{.Architecture}}", &idx]));
    assert_eq!(arch.trim(), other_arch);
}

#[test]
fn berth_cli_push_and_pull() {
    let Some(d) = daemon("berth_cli_push_and_pull") else { return };
    let reg = berth_registry();
    let image = format!("{}/cli:1", reg.host());
    ok(d.berth().args(["tag", "busybox", &image]));
    let out = ok(d.berth().args(["push", &image]));
    assert!(out.contains("1: digest: sha256:"), "{out}");
    ok(d.berth().args(["rmi", &image]));
    let out = ok(d.berth().args(["pull", &image]));
    assert!(out.contains("Digest: sha256:"), "{out}");
    let missing = output(d.berth().args(["pull", &format!("{}/cli:nope", reg.host())]));
    assert!(!missing.status.success());
    assert!(stderr(&missing).contains("not found"), "{}", stderr(&missing));
}
