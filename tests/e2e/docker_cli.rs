//! The real docker CLI against berthd: the everyday flow of the foundation issue.

use std::io::Write;
use std::process::Stdio;

use crate::{daemon, eventually, ok, output, stderr, stdout};

#[test]
fn docker_run_echo_and_exit_codes() {
    let Some(d) = daemon("docker_run_echo_and_exit_codes") else { return };
    assert_eq!(ok(d.docker().args(["run", "--rm", "busybox", "echo", "hello"])), "hello\n");
    let out = output(d.docker().args(["run", "--rm", "busybox", "sh", "-c", "exit 3"]));
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    // PID 1 ignores a SIGKILL sent from inside its own namespace (exit 0, as on dockerd);
    // stderr still comes through separately.
    let out = output(d.docker().args(["run", "--rm", "busybox", "sh", "-c", "echo err >&2; kill -9 $$"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stderr(&out), "err\n");
    assert_eq!(stdout(&out), "");
    // --rm removed them all
    assert_eq!(ok(d.docker().args(["ps", "-aq"])), "");
}

#[test]
fn docker_run_reports_missing_command_with_127() {
    let Some(d) = daemon("docker_run_reports_missing_command_with_127") else { return };
    let out = output(d.docker().args(["run", "--rm", "busybox", "no-such-binary"]));
    assert_eq!(out.status.code(), Some(127), "stdout {} stderr {}", stdout(&out), stderr(&out));
    assert!(stderr(&out).contains("executable file not found"), "{}", stderr(&out));
}

#[test]
fn docker_run_i_pipes_stdin_and_half_closes() {
    let Some(d) = daemon("docker_run_i_pipes_stdin_and_half_closes") else { return };
    let mut child = d
        .docker()
        .args(["run", "-i", "--rm", "busybox", "cat"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("docker run -i");
    child.stdin.take().expect("stdin").write_all(b"hi\n").expect("write");
    let out = child.wait_with_output().expect("wait");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hi\n", "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success());
}

#[test]
fn docker_detached_logs_inspect_stop_rm() {
    let Some(d) = daemon("docker_detached_logs_inspect_stop_rm") else { return };
    let id = ok(d.docker().args([
        "run",
        "-d",
        "--name",
        "ticker",
        "busybox",
        "sh",
        "-c",
        "while true; do echo tick; sleep 0.2; done",
    ]));
    let id = id.trim().to_string();
    assert_eq!(id.len(), 64, "{id}");
    assert!(eventually(10, || ok(d.docker().args(["logs", "ticker"])).lines().count() >= 3));
    let tail = ok(d.docker().args(["logs", "--tail", "2", "ticker"]));
    assert_eq!(tail, "tick\ntick\n");
    let ps = ok(d.docker().args(["ps", "-a", "--format", "{{.Names}}\t{{.Status}}"]));
    assert!(ps.starts_with("ticker\tUp "), "{ps}");
    let state = ok(d.docker().args(["inspect", "-f", "{{.State.Status}} {{.State.Pid}}", "ticker"]));
    let mut parts = state.split_whitespace();
    assert_eq!(parts.next(), Some("running"));
    let pid: u32 = parts.next().and_then(|p| p.parse().ok()).expect("a pid");
    assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());

    // logs -f follows while the container writes
    let mut follow =
        d.docker().args(["logs", "-f", "--tail", "0", "ticker"]).stdout(Stdio::piped()).spawn().expect("logs -f");
    let mut buf = [0u8; 5];
    std::io::Read::read_exact(follow.stdout.as_mut().expect("stdout"), &mut buf).expect("a followed line");
    assert_eq!(&buf, b"tick\n");
    let _ = follow.kill();
    let _ = follow.wait();

    let t0 = std::time::Instant::now();
    ok(d.docker().args(["stop", "-t", "2", "ticker"]));
    // sh ignores SIGTERM as PID 1 without a handler: the stop takes the timeout, then SIGKILL
    assert!(t0.elapsed() >= std::time::Duration::from_millis(1900), "stopped too early: {:?}", t0.elapsed());
    let code = ok(d.docker().args(["inspect", "-f", "{{.State.ExitCode}} {{.State.Status}}", "ticker"]));
    assert_eq!(code.trim(), "137 exited");
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
    ok(d.docker().args(["rm", "ticker"]));
    assert_eq!(ok(d.docker().args(["ps", "-aq"])), "");
    assert!(d.leftover_mounts().is_empty(), "{:?}", d.leftover_mounts());
    assert!(d.leftover_cgroups().is_empty(), "{:?}", d.leftover_cgroups());
}

#[test]
fn docker_rm_force_running_leaves_nothing() {
    let Some(d) = daemon("docker_rm_force_running_leaves_nothing") else { return };
    let id = ok(d.docker().args(["run", "-d", "busybox", "sleep", "300"])).trim().to_string();
    let pid = ok(d.docker().args(["inspect", "-f", "{{.State.Pid}}", &id])).trim().to_string();
    let out = output(d.docker().args(["rm", &id]));
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("You cannot remove a running container"), "{}", stderr(&out));
    ok(d.docker().args(["rm", "-f", &id]));
    assert!(
        eventually(5, || !std::path::Path::new(&format!("/proc/{pid}")).exists()),
        "container process survived rm -f"
    );
    assert!(d.leftover_mounts().is_empty(), "{:?}", d.leftover_mounts());
    assert!(d.leftover_cgroups().is_empty(), "{:?}", d.leftover_cgroups());
    assert!(!d.data_root.join("containers").join(&id).exists());
}

#[test]
fn docker_tty_session_through_a_pty() {
    let Some(d) = daemon("docker_tty_session_through_a_pty") else { return };
    // `script` gives docker a real pty; we type into it and read the transcript.
    let docker = std::env::var("BERTH_TEST_DOCKER").unwrap_or_else(|_| "docker".into());
    let mut child = std::process::Command::new("script")
        .args(["-qefc", &format!("stty rows 33 cols 111; {docker} run -it --rm busybox sh"), "/dev/null"])
        .env("DOCKER_HOST", d.host())
        .env("TERM", "xterm")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script");
    let mut stdin = child.stdin.take().expect("stdin");
    std::thread::sleep(std::time::Duration::from_secs(2));
    stdin.write_all(b"stty size; tty; echo done-$((6*7))\r").expect("type");
    std::thread::sleep(std::time::Duration::from_millis(800));
    stdin.write_all(b"exit 5\r").expect("type");
    drop(stdin);
    let out = child.wait_with_output().expect("wait");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("done-42"), "{text}");
    assert!(!text.contains('\u{0}'), "stdcopy frame headers leaked into a TTY stream: {text:?}");
    assert!(text.contains("/dev/pts/0"), "no pty inside: {text}");
    assert!(text.contains("33 111"), "the terminal size did not reach the container: {text}");
    assert_eq!(out.status.code(), Some(5), "{text}");
}

#[test]
fn docker_ps_size_and_ancestor_filter() {
    let Some(d) = daemon("docker_ps_size_and_ancestor_filter") else { return };
    ok(d.docker().args(["run", "--name", "writer", "busybox", "sh", "-c", "head -c 5000 /dev/zero > /x"]));
    ok(d.docker().args(["tag", "busybox", "other:1"]));
    ok(d.docker().args(["create", "--name", "via-other", "other:1", "true"]));
    let sizes = ok(d.docker().args(["ps", "-as", "--format", "{{.Names}} {{.Size}}"]));
    assert!(sizes.contains("writer 5kB (virtual 1.99MB)"), "{sizes}");
    assert!(sizes.contains("via-other 0B (virtual 1.99MB)"), "{sizes}");
    // Both were made from busybox's image, whatever name they used.
    let mut names: Vec<String> =
        ok(d.docker().args(["ps", "-a", "--filter", "ancestor=busybox", "--format", "{{.Names}}"]))
            .lines()
            .map(String::from)
            .collect();
    names.sort();
    assert_eq!(names, ["via-other", "writer"]);
}

#[test]
fn docker_kill_restart_wait_rename_start_attach() {
    let Some(d) = daemon("docker_kill_restart_wait_rename_start_attach") else { return };
    // kill with a signal the process handles: it reports and exits on its own terms
    let script = "trap 'echo got-hup; exit 9' HUP; echo ready; while true; do sleep 0.1; done";
    ok(d.docker().args(["run", "-d", "--name", "kk", "busybox", "sh", "-c", script]));
    assert!(eventually(10, || ok(d.docker().args(["logs", "kk"])).contains("ready")));
    ok(d.docker().args(["kill", "-s", "HUP", "kk"]));
    assert_eq!(ok(d.docker().args(["wait", "kk"])).trim(), "9");
    assert!(ok(d.docker().args(["logs", "kk"])).contains("got-hup"));
    let out = output(d.docker().args(["kill", "kk"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("is not running"), "{}", stderr(&out));

    // restart runs the same command again: a second "ready" appears, and the pid changes
    let first_started = ok(d.docker().args(["inspect", "-f", "{{.State.StartedAt}}", "kk"]));
    ok(d.docker().args(["restart", "-t", "1", "kk"]));
    assert!(eventually(10, || ok(d.docker().args(["logs", "kk"])).matches("ready").count() == 2));
    assert_eq!(ok(d.docker().args(["inspect", "-f", "{{.State.Status}}", "kk"])).trim(), "running");
    assert_ne!(ok(d.docker().args(["inspect", "-f", "{{.State.StartedAt}}", "kk"])), first_started);

    ok(d.docker().args(["rename", "kk", "k2"]));
    assert_eq!(ok(d.docker().args(["inspect", "-f", "{{.Name}}", "k2"])).trim(), "/k2");
    let out = output(d.docker().args(["inspect", "kk"]));
    assert_eq!(out.status.code(), Some(1));
    ok(d.docker().args(["rm", "-f", "k2"]));

    // start -a streams the output of a created container and returns its code
    ok(d.docker().args(["create", "--name", "sa", "busybox", "sh", "-c", "echo from-start; exit 2"]));
    let out = output(d.docker().args(["start", "-a", "sa"]));
    assert_eq!(stdout(&out), "from-start\n");
    assert_eq!(out.status.code(), Some(2));

    // attach to a running container sees its new output
    ok(d.docker().args(["run", "-d", "--name", "at", "busybox", "sh", "-c", "sleep 2; echo attached-out; exit 4"]));
    let out = output(d.docker().args(["attach", "at"]));
    assert_eq!(stdout(&out), "attached-out\n");
    assert_eq!(out.status.code(), Some(4));
}

#[test]
fn deep_roots_still_run_containers() {
    if !berth_testkit::require_privileged("deep_roots_still_run_containers") {
        return;
    }
    // Past sun_path's 108 bytes for <exec-root>/shims/<id>/ctl.sock and console.sock.
    let d = berth_testkit::TestDaemon::start_nested(&"n".repeat(80)).expect("berthd");
    d.load_busybox();
    assert_eq!(ok(d.docker().args(["run", "--rm", "busybox", "echo", "deep"])), "deep\n");
    assert_eq!(ok(d.docker().args(["run", "--rm", "-t", "busybox", "echo", "tty"])), "tty\r\n");
}

#[test]
fn run_flags_reach_the_process() {
    let Some(d) = daemon("run_flags_reach_the_process") else { return };
    let env_file = d.dir.path().join("env.list");
    std::fs::write(&env_file, "# comment\nFROM_FILE=yes\n").expect("env file");
    let script = "echo $A $FROM_FILE $(pwd) $(id -u):$(id -g) $(hostname) $HOME";
    for cli in [d.docker(), d.berth()] {
        let mut cli = cli;
        let out = ok(cli.args(["run", "--rm", "-e", "A=1", "--env-file"]).arg(&env_file).args([
            "-w",
            "/tmp",
            "-u",
            "nobody",
            "-h",
            "myhost",
            "-l",
            "k=v",
            "--entrypoint",
            "sh",
            "busybox",
            "-c",
            script,
        ]));
        assert_eq!(out, "1 yes /tmp 65534:65534 myhost /home\n");
    }
    // StopSignal: stop sends it instead of SIGTERM.
    ok(d.docker().args([
        "run",
        "-d",
        "--name",
        "sig",
        "--stop-signal",
        "USR1",
        "busybox",
        "sh",
        "-c",
        "trap 'echo usr1; exit 3' USR1; while true; do sleep 0.1; done",
    ]));
    std::thread::sleep(std::time::Duration::from_millis(500));
    ok(d.docker().args(["stop", "sig"]));
    assert_eq!(
        ok(d.docker().args(["inspect", "-f", "{{.State.ExitCode}} {{.Config.StopSignal}}", "sig"])).trim(),
        "3 USR1"
    );
    assert_eq!(ok(d.docker().args(["logs", "sig"])), "usr1\n");
}

#[test]
fn top_lists_the_container_processes() {
    let Some(d) = daemon("top_lists_the_container_processes") else { return };
    ok(d.docker().args(["run", "-d", "--name", "topped", "busybox", "sh", "-c", "sleep 301 & sleep 302"]));
    for cli in [d.docker(), d.berth()] {
        let mut cli = cli;
        let out = ok(cli.args(["top", "topped"]));
        let mut lines = out.lines();
        assert!(lines.next().is_some_and(|h| h.starts_with("UID") && h.contains("PID") && h.ends_with("CMD")), "{out}");
        let cmds: Vec<&str> = lines.collect();
        // sh execs its last command, so two sleeps and nothing from the host
        assert_eq!(cmds.len(), 2, "{out}");
        assert!(out.contains("sleep 301") && out.contains("sleep 302"), "{out}");
    }
    let aux = ok(d.docker().args(["top", "topped", "aux"]));
    assert!(aux.starts_with("USER"), "{aux}");
    ok(d.docker().args(["create", "--name", "idle", "busybox"]));
    let out = output(d.docker().args(["top", "idle"]));
    assert!(stderr(&out).contains("is not running"), "{}", stderr(&out));
}
