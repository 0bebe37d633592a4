//! End-to-end: a container's processes start with no ignored and no blocked signal, exactly as
//! under a reference dockerd (`SigIgn`/`SigBlk` of `/proc/<pid>/status`): the init (with and
//! without a TTY), exec'd processes (pipes and TTY) and the command under `--init`. The shim
//! ignores SIGPIPE (Rust's runtime), and every child berthd spawns starts with glibc's two
//! internal signals ignored (`posix_spawn`): none of that may reach the container.

use std::process::Command;

use crate::compose_refdockerd::RefDockerd;
use crate::{ok, output, stderr, stdout};

/// `grep` of the signal lines of `status`, as container command arguments.
fn read(status: &str) -> [&str; 4] {
    ["grep", "-E", "^Sig(Ign|Blk):", status]
}

/// What each case shows, from a daemon reached by `docker()`, labelled by case.
fn observe(docker: &dyn Fn() -> Command) -> Vec<(&'static str, String)> {
    let run = |args: &[&str]| -> String {
        let out = output(docker().args(args));
        assert!(out.status.success(), "{args:?}: {}{}", stdout(&out), stderr(&out));
        // A TTY turns "\n" into "\r\n".
        stdout(&out).replace('\r', "")
    };
    let (init, child) = (read("/proc/1/status"), read("/proc/self/status"));
    let run_in = |opts: &[&str], cmd: &[&str]| {
        let args = [&["run", "--rm", "--network", "none"], opts, &["busybox"], cmd].concat();
        run(&args)
    };
    let mut seen = vec![
        ("init", run_in(&[], &init)),
        ("init with a TTY", run_in(&["-t"], &init)),
        ("child of --init", run_in(&["--init"], &child)),
    ];
    ok(docker().args(["run", "-d", "--name", "sig1", "--network", "none", "busybox", "sleep", "1000"]));
    seen.push(("exec", run(&[&["exec", "sig1"], &child[..]].concat())));
    seen.push(("exec with a TTY", run(&[&["exec", "-t", "sig1"], &child[..]].concat())));
    seen.push(("exec as a user", run(&[&["exec", "-u", "nobody", "sig1"], &child[..]].concat())));
    ok(docker().args(["rm", "-f", "sig1"]));
    seen
}

/// `(SigIgn, SigBlk)` from the two lines [`read`] prints (either order).
fn parse(lines: &str) -> (u64, u64) {
    let field = |name: &str| {
        let line = lines.lines().find_map(|l| l.strip_prefix(name));
        let value = line.and_then(|v| u64::from_str_radix(v.trim(), 16).ok());
        value.unwrap_or_else(|| panic!("no {name} in {lines:?}"))
    };
    (field("SigIgn:"), field("SigBlk:"))
}

/// The signals the reference dockerd process itself ignores. dockerd hands them on to every
/// container; they come from how this test started it (glibc's `posix_spawn`, which cargo and
/// std use, leaves glibc's internal signals ignored in the child), not from dockerd: under a
/// service manager it has none.
fn inherited_by_dockerd(reference: &RefDockerd) -> u64 {
    let host = reference.host();
    let dir = host.trim_start_matches("unix://").trim_end_matches("d.sock");
    let pid = std::fs::read_to_string(format!("{dir}d.pid")).expect("dockerd pid file");
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid.trim())).expect("dockerd status");
    parse(&status).0
}

#[test]
fn container_processes_start_with_dockerds_signal_state() {
    let test = "container_processes_start_with_dockerds_signal_state";
    let Some(d) = crate::daemon(test) else { return };
    let Some(reference) = RefDockerd::start(test) else { return };
    let ours = observe(&|| d.docker());
    let theirs = observe(&|| reference.docker());
    let inherited = inherited_by_dockerd(&reference);
    for ((case, mine), (_, expected)) in ours.iter().zip(&theirs) {
        let (ign, blk) = parse(expected);
        assert_eq!(
            parse(mine),
            (ign & !inherited, blk),
            "{case}: berthd shows {mine:?}, dockerd {expected:?} (dockerd inherited {inherited:#x} ignored)"
        );
    }
}
