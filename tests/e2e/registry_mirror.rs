//! Registry mirrors (`registry-mirrors` in daemon.json, `--registry-mirror`): Docker Hub pulls
//! go to the mirrors in order, as dockerd. Everything stays on 127.0.0.1: the working mirror
//! holds the image, so the daemon never falls back to Docker Hub; the image's digest (our own
//! busybox fixture, which Docker Hub does not have) shows where it came from.

use std::process::Command;

use crate::registry::{berth_registry, biggest_blob, free_port};
use crate::{daemon, ok, output, stderr};

/// Pushes the busybox fixture as `library/busybox:latest` to `reg`; returns the digest.
fn push_busybox(d: &berth_testkit::TestDaemon, reg: &crate::registry::Registry) -> String {
    let on_mirror = format!("{}/library/busybox:latest", reg.host());
    ok(d.docker().args(["tag", "busybox", &on_mirror]));
    let pushed = ok(d.docker().args(["push", &on_mirror]));
    ok(d.docker().args(["rmi", &on_mirror]));
    pushed
        .split_whitespace()
        .find(|w| w.starts_with("sha256:"))
        .unwrap_or_else(|| panic!("no digest in push output: {pushed}"))
        .to_string()
}

#[test]
fn docker_hub_pulls_go_through_the_mirrors() {
    let Some(mut d) = daemon("docker_hub_pulls_go_through_the_mirrors") else { return };
    // Three mirrors in order: one refusing connections, one whose layer is corrupted (the
    // manifest is fine, the layer fails its digest), and one that has the image.
    let dead = format!("http://127.0.0.1:{}", free_port());
    let broken = berth_registry();
    let mirror = berth_registry();
    let digest = push_busybox(&d, &mirror);
    assert_eq!(push_busybox(&d, &broken), digest);
    let blob = biggest_blob(broken.root.path());
    let mut bytes = std::fs::read(&blob).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&blob, bytes).unwrap();
    let (broken, live) = (format!("http://{}", broken.host()), format!("http://{}", mirror.host()));
    std::fs::write(
        d.dir.path().join("daemon.json"),
        serde_json::json!({ "registry-mirrors": [dead, broken, live] }).to_string(),
    )
    .unwrap();
    d.restart().unwrap();

    let info = ok(d.docker().args(["info"]));
    assert!(info.contains(&format!(" Registry Mirrors:\n  {dead}/\n  {broken}/\n  {live}/\n")), "{info}");
    let mirrors = ok(d.docker().args(["info", "-f", "{{json .RegistryConfig.Mirrors}}"]));
    assert_eq!(
        mirrors.trim(),
        serde_json::json!([format!("{dead}/"), format!("{broken}/"), format!("{live}/")]).to_string()
    );

    // Without the layers, the pull downloads everything, in the end from the third mirror.
    ok(d.docker().args(["rmi", "busybox"]));
    let pulled = ok(d.docker().args(["pull", "busybox"]));
    assert!(pulled.contains("latest: Pulling from library/busybox"), "{pulled}");
    assert!(pulled.contains("Pull complete"), "{pulled}");
    assert!(pulled.contains(&format!("Digest: {digest}")), "{pulled}");
    assert!(pulled.contains("Status: Downloaded newer image for busybox:latest"), "{pulled}");
    let repo_digests = ok(d.docker().args(["image", "inspect", "-f", "{{json .RepoDigests}}", "busybox"]));
    assert!(repo_digests.contains(&format!("busybox@{digest}")), "{repo_digests}");
    let log = d.log();
    let fallbacks: Vec<&str> =
        log.lines().filter(|l| l.contains("attempting next endpoint for pull after error")).collect();
    assert_eq!(fallbacks.len(), 2, "{log}");
    assert!(fallbacks[0].contains(&dead) && fallbacks[1].contains(&broken), "{fallbacks:?}");
    assert!(fallbacks[1].contains("digest"), "{fallbacks:?}");
    let out = ok(d.docker().args(["run", "--rm", "busybox", "echo", "from-mirror"]));
    assert_eq!(out.trim(), "from-mirror");
}

/// dockerd's messages for mirrors that are not http(s) URLs without a path; berthd refuses to
/// start (before it touches anything) with the same words.
#[test]
fn bad_mirrors_are_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str], file: &str| {
        let config = dir.path().join("daemon.json");
        std::fs::write(&config, file).unwrap();
        output(
            Command::new(berth_testkit::daemon::bin("berthd"))
                .arg("--data-root")
                .arg(dir.path().join("data"))
                .arg("--exec-root")
                .arg(dir.path().join("exec"))
                .arg("-H")
                .arg(format!("unix://{}", dir.path().join("d.sock").display()))
                .arg("--config-file")
                .arg(&config)
                .args(args),
        )
    };
    let out = run(&["--registry-mirror", "ftp://x.example"], "{}");
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains(r#"invalid mirror: unsupported scheme "ftp" in "ftp://x.example""#),
        "{}",
        stderr(&out)
    );
    let out = run(&[], r#"{"registry-mirrors": ["http://x.example/path"]}"#);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains(r#"invalid mirror: path, query, or fragment at end of the URI "http://x.example/path""#),
        "{}",
        stderr(&out)
    );
    let out = run(&[], r#"{"registry-mirrors": ["http://u:p@x.example"]}"#);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains(r#"username/password not allowed in URI "http://u:xxxxx@x.example""#),
        "{}",
        stderr(&out)
    );
    assert!(!dir.path().join("data").exists(), "berthd created its data root before refusing the mirror");
}
