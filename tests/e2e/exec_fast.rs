//! End-to-end: the shim's own exec path (no TTY) confines the process exactly like the
//! container's init, as dockerd's exec does: same namespaces, cgroups, capabilities, seccomp
//! filter and no_new_privileges, no descriptor of the shim leaked, dockerd's messages.

use berth_testkit::TestDaemon;

use crate::{daemon, ok, output, stderr, stdout};

fn exec_out(d: &TestDaemon, args: &[&str]) -> std::process::Output {
    let mut all = vec!["exec"];
    all.extend_from_slice(args);
    output(d.docker().args(&all))
}

fn sh(d: &TestDaemon, c: &str, script: &str) -> String {
    let out = exec_out(d, &[c, "sh", "-c", script]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    stdout(&out)
}

/// The lines of /proc/<pid>/status named in `keys`.
fn status_of(d: &TestDaemon, c: &str, pid: &str, keys: &str) -> String {
    sh(d, c, &format!("grep -E '^({keys}):' /proc/{pid}/status"))
}

#[test]
fn exec_is_confined_like_the_init() {
    let Some(d) = daemon("exec_is_confined_like_the_init") else { return };
    ok(d.docker().args(["run", "-d", "--name", "fx1", "busybox", "sleep", "1000"]));
    let keys = "CapEff|CapBnd|CapPrm|NoNewPrivs|Seccomp|Seccomp_filters";
    let init = status_of(&d, "fx1", "1", keys);
    assert!(init.contains("Seccomp:\t2"), "{init}");
    assert_eq!(status_of(&d, "fx1", "self", keys), init);
    // Every namespace and cgroup of the init.
    let ns = "for n in ipc mnt net pid uts cgroup; do readlink /proc/$P/ns/$n; done; cat /proc/$P/cgroup";
    assert_eq!(sh(&d, "fx1", &ns.replace("$P", "1")), sh(&d, "fx1", &ns.replace("$P", "self")));
    // stdio only: nothing of the shim leaks into the container.
    assert_eq!(sh(&d, "fx1", "ls /proc/self/fd | sort -n | head -3 | tr '\\n' ' '"), "0 1 2 ");
    // With a TTY too: a terminal of the container's devpts, the same confinement.
    let out = exec_out(&d, &["-t", "fx1", "sh", "-c", "tty; grep -E '^Seccomp:' /proc/self/status"]);
    let text = stdout(&out).replace('\r', "");
    assert!(text.starts_with("/dev/pts/") && text.contains("Seccomp:\t2"), "{text}{}", stderr(&out));
    // A missing working directory fails like dockerd's.
    let out = exec_out(&d, &["-w", "/nonexistent", "fx1", "pwd"]);
    assert_eq!(out.status.code(), Some(126));
    assert!(
        stdout(&out).contains(
            "OCI runtime exec failed: exec failed: unable to start container process: chdir to cwd (\"/nonexistent\") set in config.json failed: no such file or directory: unknown"
        ) || stderr(&out).contains("chdir to cwd (\"/nonexistent\") set in config.json failed: no such file or directory"),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let out = exec_out(&d, &["fx1", "/etc/passwd"]);
    assert_eq!(out.status.code(), Some(126));
    let all = format!("{}{}", stdout(&out), stderr(&out));
    assert!(all.contains("exec: \"/etc/passwd\": permission denied: unknown"), "{all}");
    ok(d.docker().args(["rm", "-f", "fx1"]));
}

#[test]
fn exec_with_no_new_privileges_and_host_network() {
    let Some(d) = daemon("exec_with_no_new_privileges_and_host_network") else { return };
    ok(d.docker().args([
        "run",
        "-d",
        "--name",
        "fx2",
        "--network",
        "host",
        "--security-opt",
        "no-new-privileges",
        "busybox",
        "sleep",
        "1000",
    ]));
    let keys = "NoNewPrivs|Seccomp|CapEff";
    let init = status_of(&d, "fx2", "1", keys);
    assert!(init.contains("NoNewPrivs:\t1"), "{init}");
    assert_eq!(status_of(&d, "fx2", "self", keys), init);
    // The host's network namespace is shared, not joined: the exec sees the same one.
    assert_eq!(sh(&d, "fx2", "readlink /proc/1/ns/net"), sh(&d, "fx2", "readlink /proc/self/ns/net"));
    // A non-root user with the container's ids and groups.
    assert_eq!(sh(&d, "fx2", "id").trim(), "uid=0(root) gid=0(root) groups=0(root),10(wheel)");
    let out = exec_out(&d, &["-u", "1000:1000", "fx2", "id"]);
    assert_eq!(stdout(&out).trim(), "uid=1000 gid=1000 groups=1000", "{}", stderr(&out));
    ok(d.docker().args(["rm", "-f", "fx2"]));
}
