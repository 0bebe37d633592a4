//! End-to-end: capabilities, seccomp, read-only rootfs, users, devices, sysctls, namespace sharing, --init (issue 3).
//! Every flag is observed from inside the container, through the real docker CLI (and bollard
//! for inspect).

use std::time::{Duration, Instant};

use berth_testkit::TestDaemon;

use crate::{daemon, eventually, ok, output, stderr, stdout};

/// `docker run --rm <flags> busybox <cmd>`: stdout, the command must succeed.
fn run(d: &TestDaemon, flags: &[&str], cmd: &[&str]) -> String {
    let mut args = vec!["run", "--rm"];
    args.extend_from_slice(flags);
    args.push("busybox");
    args.extend_from_slice(cmd);
    ok(d.docker().args(&args))
}

/// `docker run --rm <flags> busybox <cmd>`: the raw output.
fn run_out(d: &TestDaemon, flags: &[&str], cmd: &[&str]) -> std::process::Output {
    let mut args = vec!["run", "--rm"];
    args.extend_from_slice(flags);
    args.push("busybox");
    args.extend_from_slice(cmd);
    output(d.docker().args(&args))
}

fn status_field(d: &TestDaemon, flags: &[&str], field: &str) -> String {
    let out = run(d, flags, &["grep", &format!("^{field}:"), "/proc/self/status"]);
    out.split_whitespace().nth(1).unwrap_or_default().to_string()
}

fn host_status_field(field: &str) -> String {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    s.lines().find_map(|l| l.strip_prefix(&format!("{field}:"))).unwrap().trim().to_string()
}

#[test]
fn capabilities_default_add_drop_privileged() {
    let Some(d) = daemon("capabilities_default_add_drop_privileged") else { return };
    // Docker's default set: chown dac_override fowner fsetid kill setgid setuid setpcap
    // net_bind_service net_raw sys_chroot mknod audit_write setfcap.
    assert_eq!(status_field(&d, &[], "CapEff"), "00000000a80425fb");
    assert_eq!(status_field(&d, &["--cap-add", "sys_admin"], "CapEff"), "00000000a82425fb");
    assert_eq!(status_field(&d, &["--cap-add", "CAP_NET_ADMIN", "--cap-drop", "chown"], "CapEff"), "00000000a80435fa");
    assert_eq!(status_field(&d, &["--cap-drop", "ALL"], "CapEff"), "0000000000000000");
    assert_eq!(status_field(&d, &["--cap-drop", "all", "--cap-add", "Kill"], "CapEff"), "0000000000000020");
    // Everything this host's root may hand out.
    let bnd = host_status_field("CapBnd");
    assert_eq!(status_field(&d, &["--privileged"], "CapEff"), bnd);
    assert_eq!(status_field(&d, &["--cap-add", "ALL"], "CapBnd"), bnd);

    let out = run_out(&d, &["--cap-add", "foo"], &["true"]);
    assert_eq!(out.status.code(), Some(125));
    assert!(stderr(&out).contains("invalid CapAdd: unknown capability: \"CAP_FOO\""), "{}", stderr(&out));
    assert_eq!(ok(d.docker().args(["ps", "-aq"])), "", "nothing half-created");
}

#[test]
fn seccomp_default_unconfined_custom_and_no_new_privileges() {
    let Some(d) = daemon("seccomp_default_unconfined_custom_and_no_new_privileges") else { return };
    // unshare(CLONE_NEWUSER) needs no capability, only the default profile refuses it.
    let out = run_out(&d, &[], &["unshare", "-U", "true"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("Operation not permitted"), "{}", stderr(&out));
    run(&d, &["--security-opt", "seccomp=unconfined"], &["unshare", "-U", "true"]);
    run(&d, &["--privileged"], &["unshare", "-U", "-u", "true"]);
    assert_eq!(status_field(&d, &[], "Seccomp"), "2");
    assert_eq!(status_field(&d, &["--security-opt", "seccomp=unconfined"], "Seccomp"), "0");
    assert_eq!(status_field(&d, &["--privileged"], "Seccomp"), "0");

    // A profile of our own: everything allowed but mkdir.
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("no-mkdir.json");
    std::fs::write(
        &profile,
        r#"{"defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}"#,
    )
    .unwrap();
    let opt = format!("seccomp={}", profile.display());
    let out = run_out(&d, &["--security-opt", &opt], &["mkdir", "/x"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("Operation not permitted"), "{}", stderr(&out));
    run(&d, &["--security-opt", &opt], &["unshare", "-U", "true"]);
    let out = run_out(&d, &["--security-opt", "seccomp=/no/such/profile.json"], &["true"]);
    assert_eq!(out.status.code(), Some(125));
    assert!(stderr(&out).contains("opening seccomp profile (/no/such/profile.json) failed"), "{}", stderr(&out));

    assert_eq!(status_field(&d, &[], "NoNewPrivs"), "0");
    assert_eq!(status_field(&d, &["--security-opt", "no-new-privileges"], "NoNewPrivs"), "1");
    assert_eq!(status_field(&d, &["--security-opt", "no-new-privileges=true"], "NoNewPrivs"), "1");
}

#[test]
fn masked_and_readonly_paths_and_readonly_rootfs() {
    let Some(d) = daemon("masked_and_readonly_paths_and_readonly_rootfs") else { return };
    // /proc/timer_list is masked (/dev/null over it), /proc/sys read-only.
    assert_eq!(run(&d, &[], &["sh", "-c", "wc -c < /proc/timer_list"]).trim(), "0");
    let out = run_out(&d, &[], &["sh", "-c", "echo 1 > /proc/sys/kernel/domainname"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("Read-only file system"), "{}", stderr(&out));
    let out = run(
        &d,
        &["--privileged"],
        &[
            "sh",
            "-c",
            "wc -c < /proc/timer_list; grep ' /sys ' /proc/mounts; test -c /dev/loop-control && echo hostdev",
        ],
    );
    assert!(out.ends_with("hostdev\n"), "the host's devices: {out}");
    assert_eq!(run(&d, &[], &["sh", "-c", "test -e /dev/loop-control || echo none"]), "none\n");
    assert_ne!(out.lines().next(), Some("0"), "not masked when privileged: {out}");
    assert!(out.contains("sysfs rw,"), "{out}");

    ok(d.docker().args(["volume", "create", "sec-data"]));
    let out = run(
        &d,
        &["--read-only", "--tmpfs", "/scratch", "-v", "sec-data:/data"],
        &["sh", "-c", "touch /x 2>&1; echo rc=$?; touch /scratch/a /data/b && echo writable"],
    );
    assert!(out.contains("Read-only file system"), "{out}");
    assert!(out.contains("rc=1"), "{out}");
    assert!(out.ends_with("writable\n"), "{out}");
    assert_eq!(run(&d, &[], &["sh", "-c", "touch /x && echo ok"]), "ok\n");
    ok(d.docker().args(["volume", "rm", "sec-data"]));
}

#[test]
fn users_and_groups() {
    let Some(d) = daemon("users_and_groups") else { return };
    assert_eq!(run(&d, &["--user", "1000:1000"], &["sh", "-c", "id -u; id -g; id -G"]), "1000\n1000\n1000\n");
    assert_eq!(run(&d, &["--user", "nobody"], &["sh", "-c", "id -u; id -g"]), "65534\n65534\n");
    assert_eq!(run(&d, &["--user", "nobody:mail"], &["id", "-g"]), "8\n");
    let groups = run(&d, &["--group-add", "mail", "--group-add", "1234"], &["id", "-G"]);
    let groups: Vec<&str> = groups.split_whitespace().collect();
    assert!(groups.contains(&"8") && groups.contains(&"1234"), "{groups:?}");
    let out = run_out(&d, &["--group-add", "nosuchgroup"], &["true"]);
    assert_eq!(out.status.code(), Some(125));
    assert!(stderr(&out).contains("Unable to find group nosuchgroup"), "{}", stderr(&out));
    let out = run_out(&d, &["--user", "nosuchuser"], &["true"]);
    assert_eq!(out.status.code(), Some(125), "{}", stderr(&out));
}

#[test]
fn devices_and_sysctls() {
    let Some(d) = daemon("devices_and_sysctls") else { return };
    let out = run(
        &d,
        &["--device", "/dev/null:/dev/mynull"],
        &["sh", "-c", "ls -l /dev/mynull; echo hi > /dev/mynull && echo written"],
    );
    assert!(out.starts_with("crw-rw-rw-"), "{out}");
    assert!(out.contains("1,   3") || out.contains("1, 3"), "{out}");
    assert!(out.ends_with("written\n"), "{out}");
    // Read-only access through the device cgroup: opening for write is refused (kmsg, 1:11,
    // is not among the devices every container may use).
    let out = run_out(
        &d,
        &["--device", "/dev/kmsg:/dev/mykmsg:r"],
        &["sh", "-c", "test -c /dev/mykmsg && echo x > /dev/mykmsg"],
    );
    assert!(!out.status.success(), "{}", stdout(&out));
    assert!(stderr(&out).contains("Operation not permitted"), "{}", stderr(&out));
    // The docker CLI answers 127 to any error mentioning "no such file or directory".
    let out = run_out(&d, &["--device", "/dev/nonexist"], &["true"]);
    assert_eq!(out.status.code(), Some(127), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("error gathering device information while adding custom device \"/dev/nonexist\""),
        "{}",
        stderr(&out)
    );
    let out = run_out(&d, &["--device", "/dev/null:/dev/x:rwz"], &["true"]);
    assert!(stderr(&out).contains("bad mode specified: rwz"), "{}", stderr(&out));

    let out = run(
        &d,
        &["--sysctl", "kernel.msgmax=65536", "--sysctl", "net.ipv4.ip_forward=1"],
        &["sh", "-c", "cat /proc/sys/kernel/msgmax /proc/sys/net/ipv4/ip_forward"],
    );
    assert_eq!(out, "65536\n1\n");
    let out = run_out(&d, &["--sysctl", "kernel.foo=1"], &["true"]);
    assert_eq!(out.status.code(), Some(125));
    assert!(stderr(&out).contains("sysctl 'kernel.foo=1' is not allowed"), "{}", stderr(&out));
    let out = run_out(&d, &["--network", "host", "--sysctl", "net.ipv4.ip_forward=1"], &["true"]);
    assert_eq!(out.status.code(), Some(125));
    assert!(stderr(&out).contains("not allowed in host network namespace"), "{}", stderr(&out));
    assert_eq!(ok(d.docker().args(["ps", "-aq"])), "");
}

fn ns_link(pid: &str, ns: &str) -> String {
    std::fs::read_link(format!("/proc/{pid}/ns/{ns}")).unwrap().display().to_string()
}

#[test]
fn pid_ipc_uts_sharing() {
    let Some(d) = daemon("pid_ipc_uts_sharing") else { return };
    let me = std::process::id().to_string();
    // --pid host: the test process is visible.
    let out = run(&d, &["--pid", "host"], &["sh", "-c", &format!("test -d /proc/{me} && echo seen")]);
    assert_eq!(out, "seen\n");
    assert_eq!(run(&d, &[], &["sh", "-c", &format!("test -d /proc/{me} || echo hidden")]), "hidden\n");
    // --ipc host / --uts host: the host's namespaces.
    let ipc = run(&d, &["--ipc", "host"], &["readlink", "/proc/self/ns/ipc"]);
    assert_eq!(ipc.trim(), ns_link("self", "ipc"));
    let uts = run(&d, &["--uts", "host"], &["readlink", "/proc/self/ns/uts"]);
    assert_eq!(uts.trim(), ns_link("self", "uts"));
    let host_name = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_eq!(run(&d, &["--uts", "host"], &["hostname"]), host_name);
    assert_ne!(run(&d, &[], &["readlink", "/proc/self/ns/ipc"]).trim(), ns_link("self", "ipc"));
    assert_eq!(run(&d, &["--ipc", "none"], &["sh", "-c", "test -e /dev/shm || echo no-shm"]), "no-shm\n");
    assert_eq!(run(&d, &[], &["sh", "-c", "grep -c ' /dev/shm tmpfs' /proc/mounts"]), "1\n");

    // container:<name>: join another container's namespaces.
    ok(d.docker().args(["run", "-d", "--name", "sec-donor", "--ipc", "shareable", "busybox", "sleep", "600"]));
    let pid = ok(d.docker().args(["inspect", "-f", "{{.State.Pid}}", "sec-donor"])).trim().to_string();
    let ps = run(&d, &["--pid", "container:sec-donor"], &["ps", "-o", "args"]);
    assert!(ps.lines().any(|l| l.trim() == "sleep 600"), "{ps}");
    let ipc = run(&d, &["--ipc", "container:sec-donor"], &["readlink", "/proc/self/ns/ipc"]);
    assert_eq!(ipc.trim(), ns_link(&pid, "ipc"));
    ok(d.docker().args(["run", "-d", "--name", "sec-private", "busybox", "sleep", "600"]));
    let out = run_out(&d, &["--ipc", "container:sec-private"], &["true"]);
    assert_eq!(out.status.code(), Some(125));
    assert!(
        stderr(&out).contains(
            "can't join IPC of container sec-private: non-shareable IPC (hint: use IpcMode:shareable for the donor container)"
        ),
        "{}",
        stderr(&out)
    );
    ok(d.docker().args(["stop", "-t", "0", "sec-private"]));
    let out = run_out(&d, &["--pid", "container:sec-private"], &["true"]);
    assert_eq!(out.status.code(), Some(125));
    assert!(stderr(&out).contains("is not running"), "{}", stderr(&out));
    ok(d.docker().args(["rm", "sec-private"]));
    let out = run_out(&d, &["--pid", "container:nosuch"], &["true"]);
    assert_eq!(out.status.code(), Some(125));
    assert!(stderr(&out).contains("No such container: nosuch"), "{}", stderr(&out));
    let out = run_out(&d, &["--ipc", "bogus"], &["true"]);
    assert!(stderr(&out).contains("Invalid IPC mode: bogus"), "{}", stderr(&out));

    let hc = ok(d.docker().args(["inspect", "-f", "{{.HostConfig.IpcMode}}", "sec-donor"]));
    assert_eq!(hc, "shareable\n");
    ok(d.docker().args(["rm", "-f", "sec-donor"]));
}

#[test]
fn init_is_pid1_reaps_and_forwards() {
    let Some(d) = daemon("init_is_pid1_reaps_and_forwards") else { return };
    let out = run(&d, &["--init"], &["sh", "-c", "cat /proc/1/comm; tr '\\0' ' ' < /proc/1/cmdline"]);
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("docker-init"), "{out}");
    // Started directly, as dockerd does: no host loader in front of it.
    assert_eq!(
        lines.next(),
        Some("/sbin/docker-init -- sh -c cat /proc/1/comm; tr '\\0' ' ' < /proc/1/cmdline "),
        "{out}"
    );
    // The container sees only /sbin/docker-init (static): no host library directory is mounted.
    let out =
        run(&d, &["--init"], &["sh", "-c", "ls -d /.berth-init 2>&1; grep -c berth-init /proc/self/mountinfo; true"]);
    assert!(out.contains("No such file or directory"), "{out}");
    assert_eq!(out.lines().last(), Some("0"), "{out}");
    let mounts =
        run(&d, &["--init"], &["sh", "-c", "grep -E ' /sbin/docker-init | /.berth' /proc/self/mountinfo | wc -l"]);
    assert_eq!(mounts.trim(), "1", "only the init itself is mounted");
    // The command starts with no signal blocked (the init blocks them only for itself).
    assert_eq!(status_field(&d, &["--init"], "SigBlk"), "0000000000000000");
    // The command's exit status is the container's.
    let out = run_out(&d, &["--init"], &["sh", "-c", "exit 7"]);
    assert_eq!(out.status.code(), Some(7));

    // An orphan re-parented to PID 1 is reaped: no zombie left.
    let out = run(&d, &["--init"], &["sh", "-c", "sh -c 'sleep 0.2 & exit 0'; sleep 1; ps -o stat,comm"]);
    assert!(!out.lines().any(|l| l.trim_start().starts_with('Z')), "zombie left: {out}");
    assert!(out.contains("docker-init"), "{out}");

    // SIGTERM reaches the command through the init: stop is quick. Without an init the command
    // is PID 1 and ignores TERM, so stop waits for the timeout.
    ok(d.docker().args(["run", "-d", "--init", "--name", "sec-init", "busybox", "sleep", "600"]));
    let t = Instant::now();
    ok(d.docker().args(["stop", "-t", "10", "sec-init"]));
    assert!(t.elapsed() < Duration::from_secs(5), "stop took {:?}", t.elapsed());
    let code = ok(d.docker().args(["inspect", "-f", "{{.State.ExitCode}} {{.HostConfig.Init}}", "sec-init"]));
    assert_eq!(code, "143 true\n");
    ok(d.docker().args(["run", "-d", "--name", "sec-noinit", "busybox", "sleep", "600"]));
    let t = Instant::now();
    ok(d.docker().args(["stop", "-t", "2", "sec-noinit"]));
    assert!(t.elapsed() >= Duration::from_secs(2), "sleep as PID 1 ignores TERM");
    ok(d.docker().args(["rm", "sec-init", "sec-noinit"]));
}

#[test]
fn inspect_echoes_security_settings_and_api_errors() {
    let Some(d) = daemon("inspect_echoes_security_settings_and_api_errors") else { return };
    ok(d.docker().args([
        "create",
        "--name",
        "sec-echo",
        "--cap-add",
        "net_admin",
        "--cap-drop",
        "CAP_CHOWN",
        "--security-opt",
        "no-new-privileges",
        "--device",
        "/dev/null:/dev/mynull:rw",
        "--sysctl",
        "net.ipv4.ip_forward=1",
        "--group-add",
        "1234",
        "--pid",
        "host",
        "--init",
        "--read-only",
        "busybox",
        "true",
    ]));
    let v: serde_json::Value =
        serde_json::from_str(&ok(d.docker().args(["inspect", "-f", "{{json .HostConfig}}", "sec-echo"]))).unwrap();
    assert_eq!(v["CapAdd"], serde_json::json!(["CAP_NET_ADMIN"]));
    assert_eq!(v["CapDrop"], serde_json::json!(["CAP_CHOWN"]));
    assert_eq!(v["SecurityOpt"], serde_json::json!(["no-new-privileges", "label=disable"]));
    assert_eq!(
        v["Devices"],
        serde_json::json!([{"PathOnHost": "/dev/null", "PathInContainer": "/dev/mynull", "CgroupPermissions": "rw"}])
    );
    assert_eq!(v["Sysctls"], serde_json::json!({"net.ipv4.ip_forward": "1"}));
    assert_eq!(v["GroupAdd"], serde_json::json!(["1234"]));
    assert_eq!(
        (v["PidMode"].as_str(), v["IpcMode"].as_str(), v["UTSMode"].as_str()),
        (Some("host"), Some("private"), Some(""))
    );
    assert_eq!(
        (v["Init"].as_bool(), v["Privileged"].as_bool(), v["ReadonlyRootfs"].as_bool()),
        (Some(true), Some(false), Some(true))
    );
    assert_eq!(v["MaskedPaths"].as_array().map(Vec::len), Some(10));

    // The API refuses bad settings with dockerd's messages and creates nothing.
    for (body, want) in [
        (r#"{"Image":"busybox","HostConfig":{"CapAdd":["FOO"]}}"#, "invalid CapAdd: unknown capability: \"CAP_FOO\""),
        (r#"{"Image":"busybox","HostConfig":{"SecurityOpt":["bogus"]}}"#, "invalid --security-opt 1: \"bogus\""),
        (r#"{"Image":"busybox","HostConfig":{"SecurityOpt":["foo=bar"]}}"#, "invalid --security-opt 2: \"foo=bar\""),
        (
            r#"{"Image":"busybox","HostConfig":{"Sysctls":{"kernel.foo":"1"}}}"#,
            "sysctl \"kernel.foo\" is not in a separate kernel namespace",
        ),
        (r#"{"Image":"busybox","HostConfig":{"IpcMode":"bogus"}}"#, "Invalid IPC mode: bogus"),
    ] {
        let r = d.request("POST", "/containers/create", Some(("application/json", body.as_bytes())));
        assert_eq!(r.status, 400, "{body}: {}", r.text());
        assert_eq!(r.json()["message"], want, "{body}");
    }
    let r = d.request(
        "POST",
        "/containers/create",
        Some(("application/json", br#"{"Image":"busybox","HostConfig":{"SecurityOpt":["seccomp=notjson"]}}"#)),
    );
    assert_eq!(r.status, 400);
    assert!(r.json()["message"].as_str().unwrap_or_default().starts_with("Decoding seccomp profile failed: "));
    assert!(eventually(1, || ok(d.docker().args(["ps", "-aq"])).lines().count() == 1));
    ok(d.docker().args(["rm", "sec-echo"]));
}

#[test]
fn berth_cli_security_flags() {
    let Some(d) = daemon("berth_cli_security_flags") else { return };
    let out = ok(d.berth().args([
        "run",
        "--rm",
        "--cap-drop",
        "ALL",
        "--cap-add",
        "kill",
        "--security-opt",
        "no-new-privileges",
        "--device",
        "/dev/null:/dev/mynull",
        "--sysctl",
        "kernel.msgmax=4096",
        "--group-add",
        "mail",
        "--init",
        "busybox",
        "sh",
        "-c",
        "grep -E '^(CapEff|NoNewPrivs)' /proc/self/status; cat /proc/sys/kernel/msgmax /proc/1/comm; test -c /dev/mynull && id -G",
    ]));
    assert_eq!(out, "CapEff:\t0000000000000020\nNoNewPrivs:\t1\n4096\ndocker-init\n0 8 10\n");
    let out = output(d.berth().args(["run", "--rm", "--sysctl", "kernel.foo=1", "busybox", "true"]));
    assert_eq!(out.status.code(), Some(125));
    assert!(stderr(&out).contains("sysctl 'kernel.foo=1' is not allowed"), "{}", stderr(&out));
    let out = output(d.berth().args(["run", "--rm", "--cap-add", "foo", "busybox", "true"]));
    assert_eq!(out.status.code(), Some(125));
    assert!(stderr(&out).contains("invalid CapAdd: unknown capability: \"CAP_FOO\""), "{}", stderr(&out));
}
