//! Registry round trips with peers we did not write, and failure handling: `skopeo copy` from
//! `berth registry serve` to `dir:`/`oci:` layouts and back, then pulled and run by berthd; and a
//! pull interrupted mid-layer by killing the registry, then retried.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use crate::registry::{berth_registry, free_port, Registry};
use crate::{daemon, eventually, ok, output, stderr, stdout};

fn skopeo(args: &[&str]) -> String {
    ok(Command::new("skopeo").args(args))
}

#[test]
fn skopeo_copies_from_berth_registry_and_back() {
    let Some(d) = daemon("skopeo_copies_from_berth_registry_and_back") else { return };
    if !Path::new("/usr/bin/skopeo").exists() {
        assert!(std::env::var_os("BERTH_TEST_STRICT").is_none(), "skopeo is not installed");
        println!("SKIP skopeo_copies_from_berth_registry_and_back: skopeo is not installed");
        return;
    }
    let reg = berth_registry();
    let host = reg.host();
    ok(d.docker().args(["tag", "busybox", &format!("{host}/sk/bb:1")]));
    ok(d.docker().args(["push", &format!("{host}/sk/bb:1")]));
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("dir");
    let oci = work.path().join("oci");
    let src = format!("docker://{host}/sk/bb:1");
    skopeo(&["copy", "--src-tls-verify=false", &src, &format!("dir:{}", dir.display())]);
    assert!(dir.join("manifest.json").exists() && dir.join("version").exists());
    skopeo(&["copy", "--src-tls-verify=false", &src, &format!("oci:{}:bb", oci.display())]);
    assert!(oci.join("index.json").exists() && oci.join("oci-layout").exists());
    skopeo(&[
        "copy",
        "--dest-tls-verify=false",
        &format!("dir:{}", dir.display()),
        &format!("docker://{host}/sk/dir:1"),
    ]);
    skopeo(&[
        "copy",
        "--dest-tls-verify=false",
        &format!("oci:{}:bb", oci.display()),
        &format!("docker://{host}/sk/oci:1"),
    ]);
    let inspected = skopeo(&["inspect", "--tls-verify=false", &format!("docker://{host}/sk/oci:1")]);
    let v: serde_json::Value = serde_json::from_str(&inspected).unwrap();
    assert_eq!(v["Layers"].as_array().map(Vec::len), Some(1), "{inspected}");
    ok(d.docker().args(["rmi", "busybox", &format!("{host}/sk/bb:1")]));
    for name in ["dir", "oci"] {
        let image = format!("{host}/sk/{name}:1");
        let pulled = ok(d.docker().args(["pull", &image]));
        assert!(pulled.contains("Digest: sha256:"), "{pulled}");
        assert_eq!(ok(d.docker().args(["run", "--rm", &image, "echo", name])).trim(), name);
    }
}

/// A TCP proxy in front of a registry that, once armed, stops forwarding registry→client bytes
/// after `limit` bytes on one connection (so a pull stalls mid-layer) and cuts every stalled
/// connection when told to.
struct Proxy {
    port: u16,
    limit: Arc<AtomicU64>,
    stalled: Arc<AtomicBool>,
    cut: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.cut.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn pipe_down(
    mut from: TcpStream,
    to: TcpStream,
    limit: Arc<AtomicU64>,
    stalled: Arc<AtomicBool>,
    cut: Arc<AtomicBool>,
) {
    let mut to = to;
    let mut sent = 0u64;
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let allowed = limit.load(Ordering::SeqCst).saturating_sub(sent).min(n as u64) as usize;
        if to.write_all(&buf[..allowed]).is_err() {
            break;
        }
        sent += allowed as u64;
        if allowed < n {
            stalled.store(true, Ordering::SeqCst);
            while !cut.load(Ordering::SeqCst) {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Both);
    let _ = from.shutdown(Shutdown::Both);
}

fn proxy(upstream: u16) -> Proxy {
    let port = free_port();
    let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
    let p = Proxy {
        port,
        limit: Arc::new(AtomicU64::new(u64::MAX)),
        stalled: Arc::new(AtomicBool::new(false)),
        cut: Arc::new(AtomicBool::new(false)),
        stop: Arc::new(AtomicBool::new(false)),
    };
    let (limit, stalled, cut, stop) = (p.limit.clone(), p.stalled.clone(), p.cut.clone(), p.stop.clone());
    std::thread::spawn(move || {
        for client in listener.incoming() {
            if stop.load(Ordering::SeqCst) {
                break;
            }
            let Ok(client) = client else { continue };
            let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                let _ = client.shutdown(Shutdown::Both);
                continue;
            };
            let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            std::thread::spawn(move || {
                let (mut c2, mut s2) = (c2, s2);
                let _ = std::io::copy(&mut c2, &mut s2);
                let _ = s2.shutdown(Shutdown::Write);
            });
            let (limit, stalled, cut) = (limit.clone(), stalled.clone(), cut.clone());
            std::thread::spawn(move || pipe_down(server, client, limit, stalled, cut));
        }
    });
    p
}

/// Restarts `berth registry serve` on the same port and root.
fn restart(reg: &mut Registry) {
    let _ = reg.child.kill();
    let _ = reg.child.wait();
    reg.child = Command::new(berth_testkit::daemon::bin("berth"))
        .args(["registry", "serve", "--addr", &reg.host(), "--root"])
        .arg(reg.root.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let addr = reg.host();
    assert!(eventually(20, || TcpStream::connect(&addr).is_ok()), "registry did not come back");
}

/// Every stored blob hashes to its name.
fn assert_blobs_whole(data_root: &Path) {
    use sha2::Digest as _;
    let dir = data_root.join("content/blobs/sha256");
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        let bytes = std::fs::read(e.path()).unwrap();
        let hex = hex::encode(sha2::Sha256::digest(&bytes));
        assert_eq!(e.file_name().to_string_lossy(), hex, "half-written blob {}", e.path().display());
    }
}

#[test]
fn interrupted_pull_leaves_nothing_and_retry_succeeds() {
    let Some(d) = daemon("interrupted_pull_leaves_nothing_and_retry_succeeds") else { return };
    let mut reg = berth_registry();
    let px = proxy(reg.port);
    let image = format!("127.0.0.1:{}/cut/bb:1", px.port);
    ok(d.docker().args(["tag", "busybox", &image]));
    ok(d.docker().args(["push", &image]));
    ok(d.docker().args(["rmi", "busybox", &image]));
    // Manifest and config are a few kB; the layer is far more than 64 kB.
    px.limit.store(64 * 1024, Ordering::SeqCst);
    let mut pull = d.docker().args(["pull", &image]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    assert!(eventually(60, || px.stalled.load(Ordering::SeqCst)), "the pull never reached the layer");
    let _ = reg.child.kill();
    let _ = reg.child.wait();
    px.cut.store(true, Ordering::SeqCst);
    let status = pull.wait().unwrap();
    let mut err = String::new();
    pull.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert!(!status.success(), "the interrupted pull succeeded");
    assert!(!err.is_empty());
    assert_blobs_whole(&d.data_root);
    let leftovers: Vec<_> = std::fs::read_dir(d.data_root.join("tmp")).unwrap().flatten().map(|e| e.path()).collect();
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");
    assert!(!output(d.docker().args(["image", "inspect", &image])).status.success());

    px.limit.store(u64::MAX, Ordering::SeqCst);
    restart(&mut reg);
    let out = output(d.docker().args(["pull", &image]));
    assert!(out.status.success(), "retry failed: {}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("Pull complete"), "{}", stdout(&out));
    assert_blobs_whole(&d.data_root);
    assert_eq!(ok(d.docker().args(["run", "--rm", &image, "echo", "retried"])).trim(), "retried");
}

/// A CA (`<name>-ca.pem`) and a server certificate for 127.0.0.1 it signed (`<name>.pem`,
/// `<name>.key`) in `dir`; returns (ca, cert, key).
fn certificates(dir: &Path, name: &str) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let p = |suffix: &str| dir.join(format!("{name}{suffix}"));
    ok(Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", &format!("/CN={name}-ca")])
        .arg("-keyout")
        .arg(p("-ca.key"))
        .arg("-out")
        .arg(p("-ca.pem")));
    ok(Command::new("openssl")
        .args(["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1"])
        .arg("-keyout")
        .arg(p(".key"))
        .arg("-out")
        .arg(p(".csr")));
    std::fs::write(p(".ext"), "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
        .unwrap();
    ok(Command::new("openssl")
        .args(["x509", "-req", "-days", "1", "-CAcreateserial"])
        .arg("-in")
        .arg(p(".csr"))
        .arg("-CA")
        .arg(p("-ca.pem"))
        .arg("-CAkey")
        .arg(p("-ca.key"))
        .arg("-extfile")
        .arg(p(".ext"))
        .arg("-out")
        .arg(p(".pem")));
    (p("-ca.pem"), p(".pem"), p(".key"))
}

#[test]
fn tls_registry_and_certs_dir_trust() {
    let Some(d) = daemon("tls_registry_and_certs_dir_trust") else { return };
    let work = tempfile::tempdir().unwrap();
    let (ca, cert, key) = certificates(work.path(), "registry");
    let (other, _, _) = certificates(work.path(), "other");
    let reg = crate::registry::berth_registry_with(&[
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ]);
    let host = reg.host();
    // It speaks TLS with that certificate, and not plain HTTP.
    let base = format!("https://{host}/v2/");
    assert_eq!(ok(Command::new("curl").args(["-sSf", "--cacert", ca.to_str().unwrap(), &base])), "{}");
    assert!(!output(Command::new("curl").args(["-sSf", "--cacert", other.to_str().unwrap(), &base])).status.success());
    assert!(!output(Command::new("curl").args(["-sSf", &format!("http://{host}/v2/")])).status.success());

    // Loopback registries are insecure by default: TLS without verification, as dockerd.
    let image = format!("{host}/tls/bb:1");
    ok(d.docker().args(["tag", "busybox", &image]));
    let pushed = ok(d.docker().args(["push", &image]));
    assert!(pushed.contains("1: digest: sha256:"), "{pushed}");
    // With CAs in certs.d/<host>/ next to daemon.json, TLS is verified against them.
    let certs = d.dir.path().join("certs.d").join(&host);
    std::fs::create_dir_all(&certs).unwrap();
    std::fs::copy(&other, certs.join("ca.crt")).unwrap();
    ok(d.docker().args(["rmi", "busybox", &image]));
    let refused = output(d.docker().args(["pull", &image]));
    assert!(!refused.status.success(), "pull with an untrusted certificate succeeded");
    let text = (stdout(&refused) + &stderr(&refused)).to_lowercase();
    assert!(text.contains("certificate") || text.contains("tls") || text.contains("error sending request"), "{text}");
    std::fs::copy(&ca, certs.join("ca.crt")).unwrap();
    let pulled = ok(d.docker().args(["pull", &image]));
    assert!(pulled.contains("Pull complete"), "{pulled}");
    assert_eq!(ok(d.docker().args(["run", "--rm", &image, "echo", "tls-ok"])).trim(), "tls-ok");
}

#[test]
fn search_berth_registry_and_error_without_support() {
    let Some(d) = daemon("search_berth_registry_and_error_without_support") else { return };
    let reg = berth_registry();
    let host = reg.host();
    for name in ["search/bb:1", "search/other:1", "unrelated:1"] {
        let image = format!("{host}/{name}");
        ok(d.docker().args(["tag", "busybox", &image]));
        ok(d.docker().args(["push", &image]));
    }
    let out = ok(d.docker().args(["search", &format!("{host}/search")]));
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("NAME") && lines[0].contains("DESCRIPTION"), "{out}");
    assert_eq!(lines.len(), 3, "{out}");
    assert!(lines[1].starts_with("search/bb ") && lines[2].starts_with("search/other "), "{out}");
    assert_eq!(ok(d.berth().args(["search", &format!("{host}/search")])), out, "berth search differs from docker's");
    let one = ok(d.docker().args(["search", "--limit", "1", &format!("{host}/search")]));
    assert_eq!(one.lines().count(), 2, "{one}");
    let bad = output(d.docker().args(["search", "--limit", "101", &format!("{host}/search")]));
    assert!(!bad.status.success());
    let r = d.request("GET", &format!("/images/search?term={host}/search&limit=0"), None);
    assert_eq!((r.status, r.json()["message"].as_str().unwrap()), (400, "Limit is not between 1 and 100"));
    let r = d.request("GET", &format!("/images/search?term={host}/x&filters=%7B%22bogus%22%3A%5B%221%22%5D%7D"), None);
    assert_eq!((r.status, r.json()["message"].as_str().unwrap()), (400, "Invalid filter 'bogus'"));

    // Debian's docker-registry has no search API: dockerd's error.
    let Some(plain) = crate::registry::docker_registry_with("search_berth_registry_and_error_without_support", "")
    else {
        return;
    };
    let out = output(d.docker().args(["search", &format!("{}/bb", plain.host())]));
    assert!(!out.status.success());
    assert_eq!(stderr(&out).trim(), "Error response from daemon: Unexpected status code 404");
}
