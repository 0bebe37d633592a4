//! `userns-remap` (daemon option) and `--userns=host`: containers in a user namespace mapped onto
//! the remapped root's subordinate ranges, id-shifted images, volumes, exec and cp.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;

use berth_testkit::TestDaemon;

use crate::{ok, output, stderr};

const REMAP_USER: &str = "dockremap";

/// The tests here change /etc and start remapping daemons: one at a time, also across test
/// processes (an exclusive `flock` held until the returned file is dropped).
fn userns_lock() -> std::fs::File {
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open("/tmp/berth-test-userns.lock")
        .expect("opening the userns test lock");
    f.lock().expect("locking the userns test lock");
    f
}

/// Puts `/etc/subuid`, `/etc/subgid` and the `dockremap` user back as they were: lines the test
/// added are removed by exact match, and the user is deleted if the test created it.
struct EtcGuard {
    subuid: Option<String>,
    subgid: Option<String>,
    user_existed: bool,
}

fn user_exists(name: &str) -> bool {
    std::fs::read_to_string("/etc/passwd").unwrap_or_default().lines().any(|l| l.split(':').next() == Some(name))
}

impl EtcGuard {
    fn new() -> EtcGuard {
        EtcGuard {
            subuid: std::fs::read_to_string("/etc/subuid").ok(),
            subgid: std::fs::read_to_string("/etc/subgid").ok(),
            user_existed: user_exists(REMAP_USER),
        }
    }
}

/// Removes the lines of `path` that were not in `before` (and the file if it did not exist).
fn restore_lines(path: &str, before: Option<&str>) {
    let Some(before) = before else {
        let _ = std::fs::remove_file(path);
        return;
    };
    let now = std::fs::read_to_string(path).unwrap_or_default();
    let kept: String =
        now.lines().filter(|l| before.lines().any(|b| b == *l)).map(|l| format!("{l}\n")).collect::<String>();
    if kept != now {
        std::fs::write(path, kept).unwrap_or_else(|e| eprintln!("restoring {path}: {e}"));
    }
}

impl Drop for EtcGuard {
    fn drop(&mut self) {
        if !self.user_existed && user_exists(REMAP_USER) {
            let _ = Command::new("userdel").arg(REMAP_USER).status();
        }
        restore_lines("/etc/subuid", self.subuid.as_deref());
        restore_lines("/etc/subgid", self.subgid.as_deref());
    }
}

/// A tmpfs mounted for the test, unmounted when dropped.
struct MountGuard(std::path::PathBuf);

impl MountGuard {
    fn tmpfs(at: &Path, opts: &str) -> MountGuard {
        std::fs::create_dir_all(at).unwrap();
        ok(Command::new("mount").args(["-t", "tmpfs", "-o", opts, "hutmpfs"]).arg(at));
        MountGuard(at.to_path_buf())
    }
}

impl Drop for MountGuard {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// The first id of `user`'s range in a subuid/subgid file.
fn range_start(path: &str, user: &str) -> u32 {
    let text = std::fs::read_to_string(path).unwrap();
    let line = text.lines().find(|l| l.starts_with(&format!("{user}:"))).unwrap_or_else(|| panic!("{user} in {path}"));
    line.split(':').nth(1).unwrap().parse().unwrap()
}

fn run(d: &TestDaemon, args: &[&str]) -> String {
    let mut cmd = d.docker();
    cmd.args(["run", "--rm"]).args(args);
    ok(&mut cmd)
}

fn words(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Owners (uid, gid) of the entries of a tar archive, by path.
fn tar_owners(tar: &[u8]) -> Vec<(String, u64, u64)> {
    crate::archive::tar_list(tar).into_iter().map(|(name, _mode, uid, gid, _mtime)| (name, uid, gid)).collect()
}

#[test]
fn userns_remap_default_maps_containers_volumes_exec_and_cp() {
    if !berth_testkit::require_privileged("userns_remap_default_maps_containers_volumes_exec_and_cp") {
        return;
    }
    let _lock = userns_lock();
    let _etc = EtcGuard::new();
    let mut d =
        TestDaemon::start_with_config(r#"{"userns-remap": "default"}"#).expect("starting berthd with userns-remap");
    assert!(user_exists(REMAP_USER), "dockremap created");
    let (uid, gid) = (range_start("/etc/subuid", REMAP_USER), range_start("/etc/subgid", REMAP_USER));
    let root = d.data_root.join(format!("{uid}.{gid}"));
    let md = std::fs::metadata(&root).expect("remapped data root");
    assert_eq!((md.uid(), md.gid(), md.mode() & 0o777), (0, gid, 0o710));
    d.load_busybox();
    assert!(root.join("containers").is_dir(), "containers live in the remapped root");

    let info = ok(d.docker().args(["info", "--format", "{{json .SecurityOptions}}"]));
    assert!(info.contains("name=userns"), "{info}");

    // The container's ids map onto the range; root inside is root of the range.
    assert_eq!(words(&run(&d, &["busybox", "cat", "/proc/self/uid_map"])), format!("0 {uid} 65536"));
    assert_eq!(words(&run(&d, &["busybox", "cat", "/proc/self/gid_map"])), format!("0 {gid} 65536"));
    assert_eq!(
        words(&run(&d, &["busybox", "sh", "-c", "id -u; id -g; touch /tmp/x && echo ok; stat -c %u /bin/busybox /"])),
        "0 0 ok 0 0"
    );
    // The default bridge works from inside the user namespace (sysfs and eth0 included).
    let net = run(&d, &["busybox", "sh", "-c", "ls /sys/class/net; ip -o -4 addr show eth0"]);
    assert!(net.contains("eth0") && net.contains("inet "), "{net}");

    // `--userns=host`: no user namespace.
    assert_eq!(words(&run(&d, &["--userns=host", "busybox", "cat", "/proc/self/uid_map"])), "0 0 4294967295");
    // Host namespaces need --userns=host, with dockerd's messages.
    for (flag, want) in [
        ("--privileged", "privileged mode is incompatible with user namespaces.  You must run the container in the host namespace when running privileged mode"),
        ("--pid=host", "cannot share the host PID namespace when user namespaces are enabled"),
        ("--network=host", "cannot share the host's network namespace when user namespaces are enabled"),
    ] {
        let out = output(d.docker().args(["run", "--rm", flag, "busybox", "true"]));
        assert!(!out.status.success() && stderr(&out).contains(want), "{flag}: {}", stderr(&out));
    }
    assert_eq!(
        words(&run(&d, &["--privileged", "--userns=host", "busybox", "cat", "/proc/self/uid_map"])),
        "0 0 4294967295"
    );
    let berth =
        ok(d.berth().args(["run", "--rm", "--userns=host", "--privileged", "busybox", "cat", "/proc/self/uid_map"]));
    assert_eq!(words(&berth), "0 0 4294967295");
    let ps = ok(d.docker().args(["ps", "-aq"]));
    assert!(ps.trim().is_empty(), "refused containers were not created: {ps}");

    // Files root makes in a volume or a bind mount belong to the range's root on the host.
    let vol = format!("{}vol", berth_testkit::unique_prefix("hu"));
    run(&d, &["-v", &format!("{vol}:/data"), "busybox", "sh", "-c", "touch /data/f && chown 1000:1000 /data"]);
    let data = root.join("volumes").join(&vol).join("_data");
    let f = std::fs::metadata(data.join("f")).expect("file in the volume");
    assert_eq!((f.uid(), f.gid()), (uid, gid));
    assert_eq!(std::fs::metadata(&data).unwrap().uid(), uid + 1000);
    ok(d.docker().args(["volume", "rm", &vol]));
    let bind = tempfile::Builder::new().prefix("hubind").tempdir_in(d.dir.path()).unwrap();
    std::fs::set_permissions(bind.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    run(&d, &["-v", &format!("{}:/b", bind.path().display()), "busybox", "touch", "/b/f"]);
    let f = std::fs::metadata(bind.path().join("f")).unwrap();
    assert_eq!((f.uid(), f.gid()), (uid, gid));
    // A source on a nosuid/nodev/noexec mount (flags locked in the user namespace), rw and ro.
    let locked = MountGuard::tmpfs(&bind.path().join("locked"), "nosuid,nodev,noexec,mode=0777");
    std::fs::write(locked.0.join("g"), "x").unwrap();
    std::fs::set_permissions(locked.0.join("g"), std::fs::Permissions::from_mode(0o666)).unwrap();
    let out = run(&d, &["-v", &format!("{}:/l", locked.0.display()), "busybox", "sh", "-c", "touch /l/g && echo ok"]);
    assert_eq!(words(&out), "ok");
    let out = run(
        &d,
        &[
            "-v",
            &format!("{}:/l:ro", locked.0.display()),
            "busybox",
            "sh",
            "-c",
            "cat /l/g; echo; touch /l/h || echo ro",
        ],
    );
    assert_eq!(words(&out), "x ro");
    drop(locked);

    // exec joins the user namespace; cp gives container ids.
    let name = format!("{}c", berth_testkit::unique_prefix("hu"));
    ok(d.docker().args(["run", "-d", "--name", &name, "busybox", "sleep", "300"]));
    assert_eq!(words(&ok(d.docker().args(["exec", &name, "cat", "/proc/self/uid_map"]))), format!("0 {uid} 65536"));
    assert_eq!(
        words(&ok(d.docker().args([
            "exec",
            &name,
            "sh",
            "-c",
            "id -u; echo hi > /tmp/f; chown 1000:1000 /tmp/f; mkdir /tmp/d"
        ]))),
        "0"
    );
    let out = output(d.docker().args(["cp", &format!("{name}:/tmp"), "-"]));
    assert!(out.status.success(), "cp: {}", stderr(&out));
    let owners = tar_owners(&out.stdout);
    assert!(owners.contains(&("tmp/f".into(), 1000, 1000)), "{owners:?}");
    assert!(owners.contains(&("tmp/d/".into(), 0, 0)) || owners.contains(&("tmp/d".into(), 0, 0)), "{owners:?}");

    // cp into the container: the archive's ids are container ids.
    let mut t = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(2);
    h.set_mode(0o644);
    h.set_uid(1000);
    h.set_gid(1000);
    t.append_data(&mut h, "in", &b"hi"[..]).unwrap();
    let archive = t.into_inner().unwrap();
    let mut cp = d.docker();
    cp.args(["cp", "-", &format!("{name}:/tmp")]).stdin(std::process::Stdio::piped());
    let mut child = cp.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), &archive).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "cp in: {}", stderr(&out));
    assert_eq!(words(&ok(d.docker().args(["exec", &name, "stat", "-c", "%u:%g", "/tmp/in"]))), "1000:1000");

    // export, too, gives container ids.
    let out = output(d.docker().args(["export", &name]));
    assert!(out.status.success(), "export: {}", stderr(&out));
    let owners = tar_owners(&out.stdout);
    assert!(owners.contains(&("tmp/f".into(), 1000, 1000)), "{owners:?}");
    assert!(owners.contains(&("bin/busybox".into(), 0, 0)), "{owners:?}");

    // Sharing its network namespace shares its user namespace.
    let net = format!("container:{name}");
    assert_eq!(words(&run(&d, &["--network", &net, "busybox", "cat", "/proc/self/uid_map"])), format!("0 {uid} 65536"));

    // commit writes container ids into the layer; the image runs with them.
    let image = format!("{}img", berth_testkit::unique_prefix("hu"));
    ok(d.docker().args(["commit", &name, &image]));
    assert_eq!(words(&run(&d, &[&image, "stat", "-c", "%u:%g", "/tmp/f", "/tmp/in"])), "1000:1000 1000:1000");
    ok(d.docker().args(["rmi", &image]));

    // A build: RUN steps run remapped, COPY and RUN layers carry container ids.
    let ctx = tempfile::Builder::new().prefix("hubuild").tempdir_in(d.dir.path()).unwrap();
    std::fs::write(
        ctx.path().join("Dockerfile"),
        "FROM busybox\nRUN touch /made && chown 1000:1000 /made\nCOPY f /f\n",
    )
    .unwrap();
    std::fs::write(ctx.path().join("f"), "x").unwrap();
    let built = format!("{}built", berth_testkit::unique_prefix("hu"));
    ok(d.docker().env("DOCKER_BUILDKIT", "0").args(["build", "-q", "-t", &built]).arg(ctx.path()));
    assert_eq!(words(&run(&d, &[&built, "stat", "-c", "%u:%g", "/made", "/f"])), "1000:1000 0:0");
    ok(d.docker().args(["rmi", &built]));

    // Live restore: the restarted daemon finds the remapped root and the running container.
    d.restart().expect("restarting berthd");
    assert_eq!(words(&ok(d.docker().args(["exec", &name, "cat", "/proc/self/uid_map"]))), format!("0 {uid} 65536"));
    // A user-defined network: its embedded DNS answers inside the container's own namespace.
    let netname = format!("{}net", berth_testkit::unique_prefix("hu"));
    ok(d.docker().args(["network", "create", &netname]));
    ok(d.docker().args(["network", "connect", "--alias", "husvc", &netname, &name]));
    let script = "nslookup -type=a husvc 2>&1 | sed -n 's/^Address: *//p' | grep -v ':53$' | head -n1";
    let addr = run(&d, &["--network", &netname, "busybox", "sh", "-c", script]);
    let want = ok(d.docker().args([
        "inspect",
        "-f",
        &format!("{{{{(index .NetworkSettings.Networks \"{netname}\").IPAddress}}}}"),
        &name,
    ]));
    assert!(want.trim().parse::<std::net::Ipv4Addr>().is_ok(), "address on {netname}: {want:?}");
    assert_eq!(addr.trim(), want.trim(), "husvc resolves to the container's address");
    ok(d.docker().args(["network", "disconnect", &netname, &name]));
    ok(d.docker().args(["network", "rm", &netname]));
    // A restarted container gets a network namespace of its own again.
    ok(d.docker().args(["restart", "-t", "1", &name]));
    let net = ok(d.docker().args(["exec", &name, "ip", "-o", "-4", "addr", "show", "eth0"]));
    assert!(net.contains("inet "), "{net}");
    ok(d.docker().args(["rm", "-f", &name]));
}

#[test]
fn userns_remap_user_without_ranges_is_refused_at_start() {
    if !berth_testkit::require_privileged("userns_remap_user_without_ranges_is_refused_at_start") {
        return;
    }
    let _lock = userns_lock();
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("daemon.json");
    for (spec, want) in [
        ("nobody:nogroup", "no subuid ranges found for user \"nobody\""),
        ("nobody", "Error during gid lookup for \"nobody\""),
        ("hu-no-such-user", "Error during uid lookup for \"hu-no-such-user\""),
        ("a:b:c", "Invalid user/group specification in --userns-remap: \"a:b:c\""),
    ] {
        std::fs::write(&cfg, format!(r#"{{"userns-remap": "{spec}"}}"#)).unwrap();
        let sock = format!("unix://{}", dir.path().join("d.sock").display());
        let out = output(
            Command::new(berth_testkit::daemon::bin("berthd"))
                .arg("--config-file")
                .arg(&cfg)
                .args(["-H", &sock, "--data-root"])
                .arg(dir.path().join("data"))
                .arg("--exec-root")
                .arg(dir.path().join("exec")),
        );
        assert!(!out.status.success(), "{spec}");
        assert!(stderr(&out).contains(want), "{spec}: {}", stderr(&out));
        assert!(!dir.path().join("d.sock").exists());
        assert!(!Path::new(&dir.path().join("data")).exists(), "{spec}: nothing created");
    }
}
