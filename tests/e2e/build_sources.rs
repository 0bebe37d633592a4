//! End-to-end: where build steps take files from besides the context (issue 7): `ADD` of an
//! http URL served by this test process on 127.0.0.1 (the daemon fetches it), and `RUN
//! --mount=type=bind,from=<stage|image>`.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use crate::{daemon, ok, output, stderr};

fn context(dir: &Path, name: &str, dockerfile: &str) -> PathBuf {
    let ctx = dir.join(name);
    std::fs::create_dir_all(&ctx).unwrap();
    std::fs::write(ctx.join("Dockerfile"), dockerfile).unwrap();
    ctx
}

fn docker_build(d: &berth_testkit::TestDaemon) -> Command {
    let mut c = d.docker();
    c.env("DOCKER_BUILDKIT", "0").arg("build");
    c
}

/// A tiny HTTP/1.0 server on 127.0.0.1: `/files/<name>` answers `body` with a fixed
/// Last-Modified, anything else 404. Counts the requests it answered.
struct Server {
    port: u16,
    body: Arc<Mutex<String>>,
    hits: Arc<Mutex<usize>>,
}

fn serve() -> Server {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let body = Arc::new(Mutex::new(String::from("remote-content\n")));
    let hits = Arc::new(Mutex::new(0));
    let (b, h) = (body.clone(), hits.clone());
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            let mut line = String::new();
            let mut r = BufReader::new(s.try_clone().unwrap());
            if r.read_line(&mut line).is_err() {
                continue;
            }
            loop {
                let mut hdr = String::new();
                if r.read_line(&mut hdr).unwrap_or(0) == 0 || hdr == "\r\n" {
                    break;
                }
            }
            *h.lock().unwrap() += 1;
            let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
            let resp = if path.starts_with("/files/") {
                let body = b.lock().unwrap().clone();
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nLast-Modified: Wed, 21 Oct 2015 07:28:00 GMT\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
            } else {
                "HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\nConnection: close\r\n\r\nnope".to_string()
            };
            let _ = s.write_all(resp.as_bytes());
        }
    });
    Server { port, body, hits }
}

fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(data))
}

#[test]
fn add_url_names_mode_mtime_checksum_and_cache() {
    let Some(d) = daemon("add_url_names_mode_mtime_checksum_and_cache") else { return };
    let srv = serve();
    let base = format!("http://127.0.0.1:{}", srv.port);
    let sum = sha256_hex(b"remote-content\n");
    let df = format!(
        "FROM busybox\nADD {base}/files/data.txt /downloads/\nADD --checksum=sha256:{sum} {base}/files/data.txt?v=1 /named.txt\nRUN stat -c '%a %Y %u' /downloads/data.txt /named.txt > /meta && cat /named.txt >> /meta\n"
    );
    let ctx = context(d.dir.path(), "ctx", &df);
    let out = ok(docker_build(&d).args(["-t", "url:1"]).arg(&ctx));
    assert!(out.contains(&format!("Step 2/4 : ADD {base}/files/data.txt /downloads/")), "{out}");
    // Mode 0600, mtime from Last-Modified (2015-10-21T07:28:00Z), owned by root.
    assert_eq!(
        ok(d.docker().args(["run", "--rm", "url:1", "cat", "/meta"])),
        "600 1445412480 0\n600 1445412480 0\nremote-content\n"
    );
    let hist = ok(d.docker().args(["history", "--no-trunc", "--format", "{{.CreatedBy}}", "url:1"]));
    assert!(
        hist.lines().any(|l| l.starts_with("/bin/sh -c #(nop) ADD file:") && l.ends_with(" in /downloads/ ")),
        "{hist}"
    );
    // The daemon fetches again on a rebuild; same content: every step cached.
    let hits = *srv.hits.lock().unwrap();
    let again = ok(docker_build(&d).args(["-t", "url:2"]).arg(&ctx));
    assert_eq!(again.matches("Using cache").count(), 3, "{again}");
    assert!(*srv.hits.lock().unwrap() > hits, "the rebuild did not fetch");
    // New content: the first ADD is rebuilt, and the pinned checksum now fails the build.
    *srv.body.lock().unwrap() = "changed\n".into();
    let out = output(docker_build(&d).args(["-t", "url:3"]).arg(&ctx));
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains(&format!("digest mismatch sha256:{}: sha256:{sum}", sha256_hex(b"changed\n"))), "{err}");
    let so = crate::stdout(&out);
    let step2 = so.split("Step 2/4").nth(1).unwrap_or("").split("Step 3/4").next().unwrap_or("");
    assert!(!step2.is_empty() && !step2.contains("Using cache"), "{so}");
    assert!(!output(d.docker().args(["inspect", "url:3"])).status.success());
    // A 404 and COPY of a URL fail with dockerd's messages.
    let missing = context(d.dir.path(), "missing", &format!("FROM busybox\nADD {base}/nothing/here.txt /x\n"));
    let out = output(docker_build(&d).arg(&missing));
    assert!(
        stderr(&out).contains(&format!("failed to GET {base}/nothing/here.txt with status 404 Not Found: nope")),
        "{}",
        stderr(&out)
    );
    let copy = context(d.dir.path(), "copy", &format!("FROM busybox\nCOPY {base}/files/a /a\n"));
    let out = output(d.berth().arg("build").arg(&copy));
    assert!(stderr(&out).contains("source can't be a URL for COPY"), "{}", stderr(&out));
}

#[test]
fn run_mount_bind_from_stage_and_image() {
    let Some(d) = daemon("run_mount_bind_from_stage_and_image") else { return };
    let df = "FROM busybox AS tools\nRUN mkdir /out && echo from-tools > /out/msg\n\nFROM busybox\n\
RUN --mount=type=bind,from=busybox,source=/bin,target=/b /b/busybox echo image-bin > /got2\n\
RUN --mount=type=bind,from=tools,source=/out,target=/mnt cat /mnt/msg > /got\n\
RUN --mount=type=bind,from=tools,source=out,target=/mnt,rw echo scribble > /mnt/new && cat /mnt/new > /got3\n\
RUN --mount=type=bind,from=tools,source=/out,target=/mnt test ! -e /mnt/new && ! touch /mnt/ro 2>/dev/null && echo ro > /got4\n";
    let ctx = context(d.dir.path(), "ctx", df);
    let out = ok(d.berth().args(["build", "-t", "bind:1"]).arg(&ctx));
    assert!(!out.contains("Using cache"), "{out}");
    let got = ok(d.docker().args(["run", "--rm", "bind:1", "cat", "/got", "/got2", "/got3", "/got4"]));
    assert_eq!(got, "from-tools\nimage-bin\nscribble\nro\n");
    // The mounted files are in no layer of the image.
    let check = "test ! -e /mnt/msg && test ! -e /mnt/new && test ! -e /b && echo clean";
    let clean = ok(d.docker().args(["run", "--rm", "bind:1", "sh", "-c", check]));
    assert_eq!(clean, "clean\n", "mount content leaked into the image");
    // Cached as a whole; a change in the source stage rebuilds the steps that mount it.
    let again = ok(docker_build(&d).args(["-t", "bind:2"]).arg(&ctx));
    assert_eq!(again.matches("Using cache").count(), 5, "{again}");
    std::fs::write(ctx.join("Dockerfile"), df.replace("from-tools", "tools-v2")).unwrap();
    let changed = ok(docker_build(&d).args(["-t", "bind:3"]).arg(&ctx));
    assert_eq!(changed.matches("Using cache").count(), 1, "{changed}");
    assert_eq!(ok(d.docker().args(["run", "--rm", "bind:3", "cat", "/got"])), "tools-v2\n");
    let bad =
        context(d.dir.path(), "bad", "FROM busybox\nRUN --mount=type=bind,from=busybox,source=/nope,target=/m true\n");
    let out = output(d.berth().arg("build").arg(&bad));
    assert!(stderr(&out).contains("bind mount source /nope not found in busybox"), "{}", stderr(&out));
    assert_eq!(ok(d.docker().args(["ps", "-aq"])), "", "step containers left behind");
}
