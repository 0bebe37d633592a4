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
