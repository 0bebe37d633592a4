//! berth's own CLI against berthd: the same everyday flow.

use crate::{daemon, eventually, ok, output, stderr};

#[test]
fn berth_run_ps_inspect_logs_stop_rm() {
    let Some(d) = daemon("berth_run_ps_inspect_logs_stop_rm") else { return };
    assert_eq!(ok(d.berth().args(["run", "--rm", "busybox", "echo", "hello"])), "hello\n");
    let out = output(d.berth().args(["run", "--rm", "busybox", "sh", "-c", "exit 3"]));
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let out = output(d.berth().args(["run", "--rm", "busybox", "no-such-binary"]));
    assert_eq!(out.status.code(), Some(127), "{}", stderr(&out));

    ok(d.berth().args([
        "run",
        "-d",
        "--name",
        "ticker",
        "busybox",
        "sh",
        "-c",
        "while true; do echo tick; sleep 0.2; done",
    ]));
    assert!(eventually(10, || ok(d.berth().args(["logs", "ticker"])).lines().count() >= 2));
    assert_eq!(ok(d.berth().args(["logs", "--tail", "2", "ticker"])), "tick\ntick\n");
    let ps = ok(d.berth().args(["ps", "-a", "--format", "{{.Names}}\t{{.Status}}"]));
    assert!(ps.starts_with("ticker\tUp "), "{ps}");
    let st = ok(d.berth().args(["inspect", "-f", "{{.State.Status}}", "ticker"]));
    assert_eq!(st, "running\n");
    ok(d.berth().args(["stop", "-t", "1", "ticker"]));
    ok(d.berth().args(["rm", "ticker"]));
    assert_eq!(ok(d.berth().args(["ps", "-aq"])), "");
}

#[test]
fn berth_matches_docker_tables() {
    let Some(d) = daemon("berth_matches_docker_tables") else { return };
    ok(d.docker().args(["create", "--name", "tabled", "busybox", "true"]));
    for args in [vec!["ps", "-a"], vec!["images"], vec!["history", "busybox"], vec!["ps", "-a", "--no-trunc"]] {
        // CREATED ("1 second ago") can tick between two calls: berth's output must equal
        // docker's from just before or just after it.
        let before = ok(d.docker().args(&args));
        let ours = ok(d.berth().args(&args));
        let after = ok(d.docker().args(&args));
        assert!(ours == before || ours == after, "`{}` differs:\nberth:\n{ours}\ndocker:\n{after}", args.join(" "));
    }
}

#[test]
fn berth_import_load_save_tag_rmi() {
    let Some(d) = daemon("berth_import_load_save_tag_rmi") else { return };
    let bb = berth_testkit::fixtures::busybox();
    ok(d.berth().arg("import").arg(&bb.rootfs_tar).arg("imp:1"));
    assert_eq!(ok(d.berth().args(["run", "--rm", "imp:1", "echo", "imported"])), "imported\n");
    ok(d.berth().args(["tag", "busybox", "again:2"]));
    let tar = d.dir.path().join("s.tar");
    ok(d.berth().args(["save", "-o"]).arg(&tar).arg("again:2"));
    ok(d.berth().args(["rmi", "again:2"]));
    let loaded = ok(d.berth().args(["load", "-i"]).arg(&tar));
    assert!(loaded.contains("again:2"), "{loaded}");
    let out = output(d.berth().args(["rm", "nope"]));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out).trim(), "Error response from daemon: No such container: nope");
}

#[test]
fn berth_run_it_gives_a_sized_pty() {
    let Some(d) = daemon("berth_run_it_gives_a_sized_pty") else { return };
    let berth = berth_testkit::daemon::bin("berth");
    let mut child = std::process::Command::new("script")
        .args(["-qefc", &format!("stty rows 21 cols 77; {} run -it --rm busybox sh", berth.display()), "/dev/null"])
        .env("DOCKER_HOST", d.host())
        .env("TERM", "xterm")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("script");
    let mut stdin = child.stdin.take().expect("stdin");
    std::thread::sleep(std::time::Duration::from_secs(2));
    std::io::Write::write_all(&mut stdin, b"stty size; echo ok-$((2+3))\r").expect("type");
    std::thread::sleep(std::time::Duration::from_millis(800));
    std::io::Write::write_all(&mut stdin, b"exit 6\r").expect("type");
    drop(stdin);
    let out = child.wait_with_output().expect("wait");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("21 77"), "{text}");
    assert!(text.contains("ok-5"), "{text}");
    assert_eq!(out.status.code(), Some(6), "{text}");
}
