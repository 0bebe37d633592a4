//! End-to-end: ExecStart details, each compared with a reference dockerd run side by side: the
//! exec's stdio (its terminal with `-t`, its pipes without) belongs to the exec's user, as runc
//! makes it; and `POST /exec/{id}/start` without `Upgrade: tcp` (plain HTTP) still runs the
//! process and answers 200 with its output as the body.

use std::path::{Path, PathBuf};
use std::process::Command;

use berth_testkit::http::{self, Response};
use berth_testkit::TestDaemon;

use crate::compose_refdockerd::RefDockerd;
use crate::{daemon, ok, output, stderr, stdout};

/// Owner, group and mode of the exec's stdin, stdout and stderr.
const STDIO_OWNERS: &str = "stat -L -c '%u %g %A' /proc/self/fd/0 /proc/self/fd/1 /proc/self/fd/2";

/// The docker CLI of berthd and of the reference dockerd.
fn both<'a>(d: &'a TestDaemon, r: &'a RefDockerd) -> [Box<dyn Fn() -> Command + 'a>; 2] {
    [Box::new(|| d.docker()), Box::new(|| r.docker())]
}

/// What the same `docker exec`s show on one daemon.
fn stdio_owners(docker: Box<dyn Fn() -> Command + '_>, c: &str) -> Vec<String> {
    let mut seen = Vec::new();
    for args in [
        vec!["-t", "-u", "1000"],
        vec!["-t", "-u", "1000:1000"],
        vec!["-t", "-u", "nobody"],
        vec!["-t"],
        vec!["-u", "1000"],
        vec!["-i", "-u", "nobody"],
        vec![],
    ] {
        let mut all = vec!["exec"];
        all.extend_from_slice(&args);
        all.extend_from_slice(&[c, "sh", "-c", STDIO_OWNERS]);
        let out = output(docker().args(&all));
        assert!(out.status.success(), "docker {all:?}: {}", stderr(&out));
        seen.push(format!("{args:?}: {}", stdout(&out).replace('\r', "").trim_end().replace('\n', " | ")));
    }
    seen
}

#[test]
fn exec_stdio_belongs_to_the_exec_user_like_dockerd() {
    let test = "exec_stdio_belongs_to_the_exec_user_like_dockerd";
    let Some(d) = daemon(test) else { return };
    let Some(r) = RefDockerd::start(test) else { return };
    let c = format!("{}c", berth_testkit::unique_prefix("xo"));
    for docker in both(&d, &r) {
        ok(docker().args(["run", "-d", "--name", &c, "busybox", "sleep", "300"]));
    }
    let [ours, theirs] = both(&d, &r).map(|docker| stdio_owners(docker, &c));
    // The terminal: the user's uid, the devpts group (tty, 5), mode 620.
    assert!(
        theirs[0].ends_with("[\"-t\", \"-u\", \"1000\"]: 1000 5 crw--w---- | 1000 5 crw--w---- | 1000 5 crw--w----"),
        "{theirs:?}"
    );
    // Pipes: the user's uid, group unchanged; stdin on /dev/null is left alone.
    assert!(theirs[4].ends_with("0 0 crw-rw-rw- | 1000 0 prw------- | 1000 0 prw-------"), "{theirs:?}");
    assert_eq!(ours, theirs);
    for docker in both(&d, &r) {
        ok(docker().args(["rm", "-f", &c]));
    }
}

/// Creates an exec of `cmd` in `c` and starts it with a plain POST (no upgrade); returns the
/// start response and the exec's inspect document.
fn plain_exec(socket: &Path, c: &str, cmd: &[&str], tty: bool) -> (Response, serde_json::Value) {
    let req = |method: &str, path: &str, body: Option<&[u8]>| {
        http::request(socket, method, path, body.map(|b| ("application/json", b)))
            .unwrap_or_else(|e| panic!("{method} {path} on {}: {e}", socket.display()))
    };
    let config = serde_json::json!({"Cmd": cmd, "AttachStdout": true, "AttachStderr": true, "Tty": tty});
    let created = req("POST", &format!("/v1.41/containers/{c}/exec"), Some(config.to_string().as_bytes()));
    assert_eq!(created.status, 201, "{}", created.text());
    let id = created.json()["Id"].as_str().expect("exec id").to_string();
    let start = serde_json::json!({"Detach": false, "Tty": tty});
    let started = req("POST", &format!("/v1.41/exec/{id}/start"), Some(start.to_string().as_bytes()));
    let inspect = req("GET", &format!("/v1.41/exec/{id}/json"), None).json();
    (started, inspect)
}

#[test]
fn exec_start_without_upgrade_streams_the_output_like_dockerd() {
    let test = "exec_start_without_upgrade_streams_the_output_like_dockerd";
    let Some(d) = daemon(test) else { return };
    let Some(r) = RefDockerd::start(test) else { return };
    let ref_socket = PathBuf::from(r.host().trim_start_matches("unix://"));
    let c = format!("{}c", berth_testkit::unique_prefix("xp"));
    for docker in both(&d, &r) {
        ok(docker().args(["run", "-d", "--name", &c, "busybox", "sleep", "300"]));
    }
    // The pause keeps the two pipes' output in one order on both daemons.
    let script = ["sh", "-c", "echo out; sleep 0.2; echo err >&2; exit 3"];
    for tty in [false, true] {
        let (ours, our_exec) = plain_exec(&d.socket, &c, &script, tty);
        let (theirs, their_exec) = plain_exec(&ref_socket, &c, &script, tty);
        assert_eq!(theirs.status, 200);
        if !tty {
            assert_eq!(theirs.body, b"\x01\0\0\0\0\0\0\x04out\n\x02\0\0\0\0\0\0\x04err\n", "dockerd's frames");
        }
        assert_eq!(ours.status, theirs.status, "tty {tty}: {}", ours.text());
        assert_eq!(ours.header("content-type"), theirs.header("content-type"), "tty {tty}");
        assert_eq!(ours.text(), theirs.text(), "tty {tty}: the output as the body");
        assert_eq!(their_exec["ExitCode"], 3);
        assert_eq!((&our_exec["ExitCode"], &our_exec["Running"]), (&their_exec["ExitCode"], &their_exec["Running"]));
    }
    // A process that cannot start: the error is the body, the exit code 126, on both.
    let (ours, our_exec) = plain_exec(&d.socket, &c, &["/nonexistent"], false);
    let (theirs, their_exec) = plain_exec(&ref_socket, &c, &["/nonexistent"], false);
    assert_eq!((ours.status, &our_exec["ExitCode"]), (theirs.status, &their_exec["ExitCode"]));
    assert_eq!(ours.text(), theirs.text());
    for docker in both(&d, &r) {
        ok(docker().args(["rm", "-f", &c]));
    }
}
