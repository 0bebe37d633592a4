//! End-to-end: exec, pause/unpause, stats, resource limits and update (issue 3).

use std::io::Write;
use std::process::Stdio;

use berth_testkit::TestDaemon;

use crate::{daemon, eventually, ok, output, stderr, stdout};

fn run_d(d: &TestDaemon, args: &[&str]) -> String {
    let mut all = vec!["run", "-d"];
    all.extend_from_slice(args);
    ok(d.docker().args(&all)).trim().to_string()
}

fn exec(d: &TestDaemon, args: &[&str]) -> std::process::Output {
    let mut all = vec!["exec"];
    all.extend_from_slice(args);
    output(d.docker().args(&all))
}

fn inspect(d: &TestDaemon, c: &str, format: &str) -> String {
    ok(d.docker().args(["inspect", "-f", format, c])).trim().to_string()
}

#[test]
fn exec_user_env_workdir_and_exit_codes() {
    let Some(d) = daemon("exec_user_env_workdir_and_exit_codes") else { return };
    run_d(&d, &["--name", "ex1", "-e", "FROM_RUN=yes", "-w", "/etc", "busybox", "sleep", "1000"]);
    // Defaults: the container's user, environment and working directory.
    let out = exec(&d, &["ex1", "sh", "-c", "id -u; pwd; echo $FROM_RUN $HOME; echo err >&2"]);
    assert_eq!(stdout(&out), "0\n/etc\nyes /root\n", "{}", stderr(&out));
    assert_eq!(stderr(&out), "err\n");
    // Overrides: -u, -e, -w (HOME from the exec user's passwd entry, as dockerd).
    let out = exec(
        &d,
        &[
            "-u",
            "nobody",
            "-e",
            "A=1",
            "-e",
            "FROM_RUN=no",
            "-w",
            "/tmp",
            "ex1",
            "sh",
            "-c",
            "id; pwd; echo $A $FROM_RUN $HOME",
        ],
    );
    assert_eq!(
        stdout(&out),
        "uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)\n/tmp\n1 no /home\n",
        "{}",
        stderr(&out)
    );
    // Exit codes pass through; failures to start are 126 with dockerd's message.
    assert_eq!(exec(&d, &["ex1", "sh", "-c", "exit 7"]).status.code(), Some(7));
    let out = exec(&d, &["ex1", "nope"]);
    assert_eq!(out.status.code(), Some(126));
    let all = stdout(&out) + &stderr(&out);
    assert!(all.contains("OCI runtime exec failed: exec failed: unable to start container process: exec: \"nope\": executable file not found in $PATH: unknown"), "{all}");
    let out = exec(&d, &["-u", "nouser", "ex1", "true"]);
    assert_eq!(out.status.code(), Some(126));
    assert!((stdout(&out) + &stderr(&out)).contains("unable to find user nouser"), "{}", stderr(&out));
    // The exec runs in the container's namespaces and cgroup.
    let out = exec(
        &d,
        &["ex1", "sh", "-c", "hostname; cat /proc/1/cmdline | tr '\\0' ' '; cat /proc/self/cgroup | grep memory"],
    );
    let text = stdout(&out);
    let id = inspect(&d, "ex1", "{{.Id}}");
    assert!(text.starts_with(&id[..12]), "{text}");
    assert!(text.contains("sleep 1000"), "sees the container's pid 1: {text}");
    assert!(text.contains(&id), "in the container's cgroup: {text}");
    // --privileged gets every capability berthd holds (this host's root lacks CAP_SYS_RESOURCE);
    // without it, the container's set (which does not include SYS_ADMIN).
    let caps = |args: &[&str]| {
        let mut a = args.to_vec();
        a.extend(["ex1", "sh", "-c", "grep CapEff /proc/self/status"]);
        stdout(&exec(&d, &a)).trim().trim_start_matches("CapEff:").trim().to_string()
    };
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let bounding =
        status.lines().find(|l| l.starts_with("CapBnd:")).unwrap().trim_start_matches("CapBnd:").trim().to_string();
    assert_eq!(caps(&["--privileged"]), bounding);
    let default = u64::from_str_radix(&caps(&[]), 16).unwrap();
    assert_eq!(default & (1 << 21), 0, "no CAP_SYS_ADMIN by default: {default:x}");
    assert_ne!(default & (1 << 0), 0, "CAP_CHOWN by default: {default:x}");
}

#[test]
fn exec_stdin_tty_detach_and_inspect() {
    let Some(d) = daemon("exec_stdin_tty_detach_and_inspect") else { return };
    run_d(&d, &["--name", "ex2", "busybox", "sleep", "1000"]);
    // -i pipes stdin and closes it at EOF.
    let mut child = d
        .docker()
        .args(["exec", "-i", "ex2", "sh", "-c", "cat; echo done"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("docker exec -i");
    child.stdin.take().expect("stdin").write_all(b"hello\n").expect("write");
    let out = child.wait_with_output().expect("wait");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hello\ndone\n", "{}", String::from_utf8_lossy(&out.stderr));
    // -t gives a terminal (output is raw, with CRLF).
    let out = exec(&d, &["-t", "ex2", "sh", "-c", "test -t 1 && echo tty; tty"]);
    assert_eq!(stdout(&out), "tty\r\n/dev/pts/0\r\n", "{}", stderr(&out));
    // -d returns at once; the process keeps running in the container.
    let out = exec(&d, &["-d", "ex2", "sh", "-c", "sleep 0.3; touch /tmp/detached"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(eventually(5, || exec(&d, &["ex2", "test", "-f", "/tmp/detached"]).status.success()));
    // The API: inspect of a finished exec, ExecIDs, errors.
    let c = serde_json::json!({"Cmd": ["sh", "-c", "exit 3"], "AttachStdout": true});
    let r = d.request("POST", "/containers/ex2/exec", Some(("application/json", c.to_string().as_bytes())));
    assert_eq!(r.status, 201, "{}", r.text());
    let exec_id = r.json()["Id"].as_str().unwrap().to_string();
    let r = d.request("GET", &format!("/exec/{exec_id}/json"), None);
    assert_eq!(r.json()["Running"], false);
    assert_eq!(r.json()["ExitCode"], serde_json::Value::Null, "not started yet");
    assert!(inspect(&d, "ex2", "{{json .ExecIDs}}").contains(&exec_id));
    let r = d.request("POST", &format!("/exec/{exec_id}/start"), Some(("application/json", br#"{"Detach":true}"#)));
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(eventually(5, || d.request("GET", &format!("/exec/{exec_id}/json"), None).json()["ExitCode"] == 3));
    let v = d.request("GET", &format!("/exec/{exec_id}/json"), None).json();
    assert_eq!(v["ProcessConfig"]["entrypoint"], "sh");
    assert_eq!(v["ContainerID"], inspect(&d, "ex2", "{{.Id}}"));
    assert!(v["Pid"].as_i64().unwrap() > 0);
    let r = d.request("POST", &format!("/exec/{exec_id}/start"), Some(("application/json", br#"{"Detach":true}"#)));
    assert_eq!(r.status, 409);
    assert_eq!(r.json()["message"], format!("Error: Exec command {exec_id} has already run"));
    let r = d.request("GET", "/exec/nope/json", None);
    assert_eq!((r.status, r.json()["message"].as_str()), (404, Some("No such exec instance: nope")));
    let r = d.request("POST", "/containers/ex2/exec", Some(("application/json", b"{}")));
    assert_eq!((r.status, r.json()["message"].as_str()), (400, Some("No exec command specified")));
}

#[test]
fn exec_in_a_stopped_container_is_refused() {
    let Some(d) = daemon("exec_in_a_stopped_container_is_refused") else { return };
    let id = ok(d.docker().args(["create", "--name", "ex3", "busybox", "true"])).trim().to_string();
    let out = exec(&d, &["ex3", "true"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out).trim(), format!("Error response from daemon: Container {id} is not running"));
    let out = output(d.berth().args(["exec", "ex3", "true"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("is not running"), "{}", stderr(&out));
    // berth exec works like docker exec.
    run_d(&d, &["--name", "ex4", "busybox", "sleep", "1000"]);
    let out = output(d.berth().args(["exec", "-e", "X=2", "ex4", "sh", "-c", "echo $X; exit 4"]));
    assert_eq!((stdout(&out).as_str(), out.status.code()), ("2\n", Some(4)), "{}", stderr(&out));
}

#[test]
fn limits_on_create_seen_inside_and_in_inspect() {
    let Some(d) = daemon("limits_on_create_seen_inside_and_in_inspect") else { return };
    let dev = if std::path::Path::new("/dev/vda").exists() { "/dev/vda" } else { "/dev/loop0" };
    let bps = format!("{dev}:1mb");
    let out = output(d.docker().args([
        "run",
        "-d",
        "--name",
        "lim",
        "--cpus",
        "1.5",
        "-m",
        "64m",
        "--memory-reservation",
        "32m",
        "--pids-limit",
        "100",
        "--cpu-shares",
        "512",
        "--cpuset-cpus",
        "0",
        "--ulimit",
        "nofile=100:200",
        "--shm-size",
        "32m",
        "--oom-kill-disable",
        "--device-read-bps",
        &bps,
        "--device-write-iops",
        &format!("{dev}:50"),
        "busybox",
        "sleep",
        "1000",
    ]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        inspect(&d, "lim", "{{.HostConfig.NanoCpus}} {{.HostConfig.Memory}} {{.HostConfig.PidsLimit}}"),
        "1500000000 67108864 100"
    );
    assert_eq!(
        inspect(&d, "lim", "{{.HostConfig.MemorySwap}} {{.HostConfig.ShmSize}} {{.HostConfig.OomKillDisable}}"),
        "134217728 33554432 true"
    );
    assert_eq!(inspect(&d, "lim", "{{json .HostConfig.Ulimits}}"), r#"[{"Name":"nofile","Hard":200,"Soft":100}]"#);
    let cg = "/sys/fs/cgroup";
    let read = |f: &str| ok(d.docker().args(["exec", "lim", "cat", &format!("{cg}/{f}")])).trim().to_string();
    assert_eq!(read("memory/memory.limit_in_bytes"), "67108864");
    assert_eq!(read("memory/memory.memsw.limit_in_bytes"), "134217728");
    assert_eq!(read("memory/memory.soft_limit_in_bytes"), "33554432");
    assert!(read("memory/memory.oom_control").contains("oom_kill_disable 1"));
    assert_eq!(read("cpu/cpu.cfs_quota_us"), "150000");
    assert_eq!(read("cpu/cpu.cfs_period_us"), "100000");
    assert_eq!(read("cpu/cpu.shares"), "512");
    assert_eq!(read("cpuset/cpuset.cpus"), "0");
    assert_eq!(read("pids/pids.max"), "100");
    assert!(
        read("blkio/blkio.throttle.read_bps_device").ends_with(" 1048576"),
        "{}",
        read("blkio/blkio.throttle.read_bps_device")
    );
    assert!(read("blkio/blkio.throttle.write_iops_device").ends_with(" 50"));
    assert_eq!(ok(d.docker().args(["exec", "lim", "sh", "-c", "ulimit -n; ulimit -Hn"])), "100\n200\n");
    let df = ok(d.docker().args(["exec", "lim", "df", "-k", "/dev/shm"]));
    assert!(df.lines().nth(1).unwrap().split_whitespace().nth(1) == Some("32768"), "{df}");
    // Defaults: no limits, Docker's 64 MiB /dev/shm, PidsLimit null.
    run_d(&d, &["--name", "nolim", "busybox", "sleep", "1000"]);
    assert_eq!(
        inspect(
            &d,
            "nolim",
            "{{.HostConfig.NanoCpus}} {{.HostConfig.Memory}} {{.HostConfig.PidsLimit}} {{.HostConfig.ShmSize}}"
        ),
        "0 0 <no value> 67108864",
        "as dockerd prints a null PidsLimit"
    );
    // Bad values: dockerd's messages, nothing created.
    let out = output(d.docker().args(["run", "-d", "--name", "bad", "-m", "1m", "busybox", "true"]));
    assert!(stderr(&out).contains("Minimum memory limit allowed is 6MB"), "{}", stderr(&out));
    let out = output(d.docker().args([
        "run",
        "-d",
        "--name",
        "bad",
        "--cpus",
        "1",
        "--cpu-quota",
        "50000",
        "busybox",
        "true",
    ]));
    assert!(
        stderr(&out).contains("Conflicting options: Nano CPUs and CPU Quota cannot both be set"),
        "{}",
        stderr(&out)
    );
    assert!(!output(d.docker().args(["inspect", "bad"])).status.success(), "nothing half-created");
    // A ulimit above the hard limit berthd can grant is a clear error at start.
    let out = output(d.docker().args(["run", "--name", "ul", "--ulimit", "nofile=10:999999999", "busybox", "true"]));
    assert!(!out.status.success());
    assert!(stderr(&out).contains("cannot set ulimit nofile=10:999999999"), "{}", stderr(&out));
}

#[test]
fn update_memory_and_cpus_of_a_running_container() {
    let Some(d) = daemon("update_memory_and_cpus_of_a_running_container") else { return };
    run_d(&d, &["--name", "up", "-m", "64m", "busybox", "sleep", "1000"]);
    let out = ok(d.docker().args([
        "update",
        "--memory",
        "128m",
        "--memory-swap",
        "256m",
        "--cpus",
        "0.5",
        "--pids-limit",
        "50",
        "up",
    ]));
    assert_eq!(out, "up\n");
    let read = |f: &str| ok(d.docker().args(["exec", "up", "cat", &format!("/sys/fs/cgroup/{f}")])).trim().to_string();
    assert_eq!(read("memory/memory.limit_in_bytes"), "134217728");
    assert_eq!(read("memory/memory.memsw.limit_in_bytes"), "268435456");
    assert_eq!(read("cpu/cpu.cfs_quota_us"), "50000");
    assert_eq!(read("pids/pids.max"), "50");
    assert_eq!(
        inspect(&d, "up", "{{.HostConfig.NanoCpus}} {{.HostConfig.Memory}} {{.HostConfig.PidsLimit}}"),
        "500000000 134217728 50"
    );
    // The API answers with dockerd's body; bad values are refused as dockerd does.
    let r = d.request("POST", "/containers/up/update", Some(("application/json", br#"{"CpuShares":256}"#)));
    assert_eq!((r.status, r.json()), (200, serde_json::json!({"Warnings": []})));
    assert_eq!(read("cpu/cpu.shares"), "256");
    let out = output(d.docker().args(["update", "--memory", "1m", "up"]));
    assert!(stderr(&out).contains("Minimum memory limit allowed is 6MB"), "{}", stderr(&out));
    // berth update does the same; the limits survive a restart.
    ok(d.berth().args(["update", "--cpus", "1", "up"]));
    ok(d.docker().args(["restart", "-t", "0", "up"]));
    assert_eq!(read("cpu/cpu.cfs_quota_us"), "100000");
    assert_eq!(read("memory/memory.limit_in_bytes"), "134217728");
}

#[test]
fn oom_kill_sets_oomkilled() {
    let Some(d) = daemon("oom_kill_sets_oomkilled") else { return };
    let out = output(d.docker().args([
        "run",
        "--name",
        "oom",
        "-m",
        "16m",
        "--memory-swap",
        "16m",
        "busybox",
        "sh",
        "-c",
        "x=$(head -c 67108864 /dev/zero | tr '\\0' a); echo ${#x}",
    ]));
    assert_eq!(out.status.code(), Some(137), "{}", stderr(&out));
    assert_eq!(inspect(&d, "oom", "{{.State.OOMKilled}} {{.State.ExitCode}}"), "true 137");
    ok(d.docker().args(["run", "--name", "fine", "-m", "16m", "busybox", "true"]));
    assert_eq!(inspect(&d, "fine", "{{.State.OOMKilled}}"), "false");
}

/// The counter a container's loop writes to /tmp/c (`None` while it is being rewritten).
fn counter(d: &TestDaemon, c: &str) -> Option<u64> {
    ok(d.docker().args(["exec", c, "cat", "/tmp/c"])).trim().parse().ok()
}

#[test]
fn pause_freezes_and_unpause_resumes() {
    let Some(d) = daemon("pause_freezes_and_unpause_resumes") else { return };
    run_d(
        &d,
        &["--name", "pz", "busybox", "sh", "-c", "i=0; while true; do i=$((i+1)); echo $i > /tmp/c; sleep 0.05; done"],
    );
    assert!(eventually(5, || output(d.docker().args(["exec", "pz", "cat", "/tmp/c"])).status.success()));
    assert_eq!(ok(d.docker().args(["pause", "pz"])), "pz\n");
    assert_eq!(inspect(&d, "pz", "{{.State.Status}} {{.State.Running}} {{.State.Paused}}"), "paused true true");
    assert!(ok(d.docker().args(["ps", "--format", "{{.Status}}"])).trim().ends_with("(Paused)"));
    let id = inspect(&d, "pz", "{{.Id}}");
    let out = output(d.docker().args(["pause", "pz"]));
    assert!(stderr(&out).contains(&format!("Container {id} is already paused")), "{}", stderr(&out));
    let out = output(d.docker().args(["exec", "pz", "true"]));
    assert!(stderr(&out).contains("Container pz is paused, unpause the container before exec"), "{}", stderr(&out));
    let out = output(d.docker().args(["rm", "pz"]));
    assert!(stderr(&out).contains("You cannot remove a paused container"), "{}", stderr(&out));
    // Frozen: the counter does not move (read through the rootfs, since exec is refused).
    let upper = inspect(&d, "pz", "{{.GraphDriver.Data.MergedDir}}");
    let read_counter = || std::fs::read_to_string(format!("{upper}/tmp/c")).unwrap();
    let frozen = read_counter();
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(read_counter(), frozen, "a paused counter stops advancing");
    let frozen: u64 = frozen.trim().parse().unwrap_or(0);
    assert_eq!(ok(d.docker().args(["unpause", "pz"])), "pz\n");
    assert!(eventually(5, || counter(&d, "pz").is_some_and(|n| n > frozen + 2)), "it runs again");
    // berth pause/unpause; stop of a paused container kills it at once, as dockerd does.
    ok(d.berth().args(["pause", "pz"]));
    let t = std::time::Instant::now();
    ok(d.docker().args(["stop", "-t", "20", "pz"]));
    assert!(t.elapsed() < std::time::Duration::from_secs(10), "took {:?}", t.elapsed());
    assert_eq!(inspect(&d, "pz", "{{.State.Status}} {{.State.Paused}}"), "exited false");
    let out = output(d.berth().args(["unpause", "pz"]));
    assert!(stderr(&out).contains("is not paused"), "{}", stderr(&out));
}

#[test]
fn stats_move_under_load_and_docker_stats_columns() {
    let Some(d) = daemon("stats_move_under_load_and_docker_stats_columns") else { return };
    run_d(&d, &["--name", "busy", "-m", "64m", "busybox", "sh", "-c", "while true; do :; done"]);
    run_d(&d, &["--name", "idle", "busybox", "sleep", "1000"]);
    let one = |c: &str| d.request("GET", &format!("/containers/{c}/stats?stream=false"), None).json();
    let a = one("busy");
    assert_eq!(a["name"], "/busy");
    assert!(a["precpu_stats"]["cpu_usage"]["total_usage"].as_u64().unwrap() > 0, "two samples: {a}");
    let used = a["cpu_stats"]["cpu_usage"]["total_usage"].as_u64().unwrap()
        - a["precpu_stats"]["cpu_usage"]["total_usage"].as_u64().unwrap();
    assert!(used > 300_000_000, "a busy loop uses most of a CPU for a second: {used}");
    assert_eq!(a["memory_stats"]["limit"], 64 << 20);
    assert!(a["memory_stats"]["usage"].as_u64().unwrap() > 0);
    assert!(a["pids_stats"]["current"].as_u64().unwrap() >= 1);
    assert!(a["networks"]["eth0"].is_object() || a.get("networks").is_none(), "{a}");
    let b = one("busy");
    assert!(
        b["cpu_stats"]["cpu_usage"]["total_usage"].as_u64() > a["cpu_stats"]["cpu_usage"]["total_usage"].as_u64(),
        "CPU time grows"
    );
    // One-shot: at once, without a previous sample.
    let r = d.request("GET", "/containers/idle/stats?stream=false&one-shot=true", None).json();
    assert_eq!(r["precpu_stats"]["cpu_usage"]["total_usage"], 0);
    // Streaming: a document a second.
    let mut child = d
        .docker()
        .args(["stats", "--format", "{{.Name}} {{.CPUPerc}}", "busy"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("docker stats");
    std::thread::sleep(std::time::Duration::from_millis(3500));
    child.kill().ok();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let pct = text.split_whitespace().filter_map(|t| t.strip_suffix('%')?.parse::<f64>().ok()).fold(0.0, f64::max);
    assert!(pct > 30.0, "streamed CPU % of a busy loop: {text:?}");
    // docker stats --no-stream: dockerd's columns.
    let table = ok(d.docker().args(["stats", "--no-stream", "busy", "idle"]));
    let mut lines = table.lines();
    let header = lines.next().unwrap();
    let cols: Vec<&str> = header.split("   ").map(str::trim).filter(|s| !s.is_empty()).collect();
    assert_eq!(cols, ["CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS"]);
    let busy = lines.find(|l| l.contains(" busy ")).unwrap();
    assert!(busy.contains(" / 64MiB "), "{busy}");
    let berth_table = ok(d.berth().args(["stats", "--no-stream", "idle"]));
    assert!(berth_table.starts_with("CONTAINER ID   NAME      CPU %     MEM USAGE / LIMIT"), "{berth_table}");
    assert!(berth_table.contains(" idle "), "{berth_table}");
}
