//! End-to-end: docker cp (archive GET/PUT/HEAD) and docker export (issue 3), with the docker
//! CLI, berth and raw API requests, on running and stopped containers, including hostile
//! symlinks and archives that try to reach the host.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use crate::{daemon, eventually, ok, output, stderr};

/// A host tree: `src/f` (0640, 1234:2345, mtime 2001-02-03), `src/sub/g`, `src/link -> f`.
fn host_tree(dir: &Path) -> std::path::PathBuf {
    let src = dir.join("src");
    std::fs::create_dir_all(src.join("sub")).unwrap();
    std::fs::write(src.join("f"), "file f\n").unwrap();
    std::fs::write(src.join("sub/g"), "file g\n").unwrap();
    std::os::unix::fs::symlink("f", src.join("link")).unwrap();
    std::fs::set_permissions(src.join("f"), std::fs::Permissions::from_mode(0o640)).unwrap();
    std::fs::set_permissions(src.join("sub/g"), std::fs::Permissions::from_mode(0o644)).unwrap();
    for p in [src.join("f"), src.join("sub/g"), src.join("sub"), src.clone()] {
        std::os::unix::fs::chown(&p, Some(1234), Some(2345)).unwrap();
    }
    let status =
        std::process::Command::new("touch").args(["-h", "-d", "2001-02-03T00:00:00Z"]).arg(src.join("f")).status();
    assert!(status.unwrap().success());
    src
}

pub(crate) fn tar_list(tar: &[u8]) -> Vec<(String, u32, u64, u64, u64)> {
    let mut a = tar::Archive::new(tar);
    a.entries()
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let h = e.header();
            let name = String::from_utf8_lossy(&e.path_bytes()).into_owned();
            (name, h.mode().unwrap() & 0o7777, h.uid().unwrap(), h.gid().unwrap(), h.mtime().unwrap())
        })
        .collect()
}

#[test]
fn cp_both_ways_keeps_modes_owners_and_sees_volumes() {
    let Some(d) = daemon("cp_both_ways_keeps_modes_owners_and_sees_volumes") else { return };
    let src = host_tree(d.dir.path());
    let report = "stat -c '%n %a %u:%g %Y' /tmp/src/f /tmp/src/sub/g /vol/src/f; readlink /tmp/src/link; cat /vol/v";
    ok(d.docker().args(["create", "--name", "ar-stopped", "-v", "ar-vol:/vol", "busybox", "sh", "-c", report]));
    // Into a stopped container, with docker and with berth; /vol is the named volume.
    ok(d.docker().args(["cp", src.to_str().unwrap(), "ar-stopped:/tmp/"]));
    ok(d.berth().args(["cp", "-a", src.to_str().unwrap(), "ar-stopped:/vol"]));
    let v = d.dir.path().join("v");
    std::fs::write(&v, "in volume\n").unwrap();
    ok(d.berth().args(["cp", v.to_str().unwrap(), "ar-stopped:/vol/v"]));
    assert!(d.leftover_mounts().iter().all(|m| !m.contains("/merged")), "{:?}", d.leftover_mounts());
    let vol_data = d.data_root.join("volumes/ar-vol/_data");
    assert_eq!(std::fs::read_to_string(vol_data.join("v")).unwrap(), "in volume\n");
    let out = ok(d.docker().args(["start", "-a", "ar-stopped"]));
    let g = std::fs::metadata(src.join("sub/g")).unwrap().mtime();
    let want = format!(
        "/tmp/src/f 640 1234:2345 981158400\n/tmp/src/sub/g 644 1234:2345 {g}\n/vol/src/f 640 1234:2345 981158400\nf\nin volume\n"
    );
    assert_eq!(out, want);

    // Out of a running container: the volume is seen at its container path.
    ok(d.docker().args(["run", "-d", "--name", "ar-run", "-v", "ar-vol:/vol", "busybox", "sleep", "300"]));
    let raw = output(d.docker().args(["cp", "ar-run:/vol/src", "-"]));
    assert!(raw.status.success(), "{}", stderr(&raw));
    let list = tar_list(&raw.stdout);
    assert!(list.contains(&("src/".into(), 0o755, 1234, 2345, list[0].4)), "{list:?}");
    assert!(list.contains(&("src/f".into(), 0o640, 1234, 2345, 981158400)), "{list:?}");
    let out_dir = d.dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    ok(d.docker().args(["cp", "ar-run:/vol/src", out_dir.join("docker-copy").to_str().unwrap()]));
    ok(d.berth().args(["cp", "ar-run:/vol/src/f", out_dir.join("berth-f").to_str().unwrap()]));
    ok(d.berth().args(["cp", "ar-run:/vol/src/.", out_dir.join("dot").to_str().unwrap()]));
    let f = out_dir.join("docker-copy/f");
    assert_eq!(std::fs::read_to_string(&f).unwrap(), "file f\n");
    let md = std::fs::metadata(&f).unwrap();
    assert_eq!((md.mode() & 0o777, md.mtime()), (0o640, 981158400));
    assert_eq!(std::fs::read_link(out_dir.join("docker-copy/link")).unwrap(), Path::new("f"));
    assert_eq!(std::fs::read_to_string(out_dir.join("berth-f")).unwrap(), "file f\n");
    assert_eq!(std::fs::read_to_string(out_dir.join("dot/sub/g")).unwrap(), "file g\n");
    // -L follows a symlink source; without it the link itself is copied.
    ok(d.berth().args(["cp", "-L", "ar-run:/vol/src/link", out_dir.join("followed").to_str().unwrap()]));
    assert_eq!(std::fs::read_to_string(out_dir.join("followed")).unwrap(), "file f\n");
    assert!(!out_dir.join("followed").symlink_metadata().unwrap().file_type().is_symlink());
    // Kernel pseudo filesystems of a running container are not walked (dockerd never sees them).
    let raw = output(d.docker().args(["cp", "ar-run:/proc", "-"]));
    assert!(raw.status.success(), "{}", stderr(&raw));
    assert_eq!(tar_list(&raw.stdout).iter().map(|e| e.0.as_str()).collect::<Vec<_>>(), ["proc/"]);
    // Into a running container through berth, read back through docker.
    ok(d.berth().args(["cp", v.to_str().unwrap(), "ar-run:/tmp/"]));
    let raw = output(d.docker().args(["cp", "ar-run:/tmp/v", "-"]));
    assert_eq!(tar_list(&raw.stdout)[0].0, "v");
    ok(d.docker().args(["rm", "-f", "ar-run", "ar-stopped"]));
    ok(d.docker().args(["volume", "rm", "ar-vol"]));
    assert!(d.leftover_mounts().iter().all(|m| !m.contains("/merged")), "{:?}", d.leftover_mounts());
}

#[test]
fn cp_hostile_symlinks_cannot_reach_the_host() {
    let Some(d) = daemon("cp_hostile_symlinks_cannot_reach_the_host") else { return };
    // Host files the container must never see or write.
    let secret = d.dir.path().join("host-secret");
    std::fs::write(&secret, "host only\n").unwrap();
    let script = "echo container > /etc/marker; ln -s / /evil; ln -s ../../../../etc /evil2; \
                  ln -s /etc/marker /pw; touch /ready; sleep 300";
    ok(d.docker().args(["run", "-d", "--name", "ar-evil", "busybox", "sh", "-c", script]));
    assert!(eventually(10, || d.request("HEAD", "/containers/ar-evil/archive?path=/ready", None).status == 200));
    let out_dir = d.dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    for (path, name) in [("/evil2/marker", "a"), ("/evil/etc/marker", "b"), ("/evil/../../../etc/marker", "c")] {
        ok(d.docker().args(["cp", &format!("ar-evil:{path}"), out_dir.join(name).to_str().unwrap()]));
        assert_eq!(std::fs::read_to_string(out_dir.join(name)).unwrap(), "container\n", "{path}");
    }
    ok(d.docker().args(["cp", "-L", "ar-evil:/pw", out_dir.join("pw").to_str().unwrap()]));
    assert_eq!(std::fs::read_to_string(out_dir.join("pw")).unwrap(), "container\n");
    // The host's file is not reachable through the links.
    let through = format!("ar-evil:/evil{}", secret.display());
    let out = output(d.docker().args(["cp", &through, out_dir.join("s").to_str().unwrap()]));
    assert!(!out.status.success());
    assert!(stderr(&out).contains("Could not find the file"), "{}", stderr(&out));
    assert!(!out_dir.join("s").exists());
    let out = output(d.berth().args(["cp", &through, out_dir.join("s").to_str().unwrap()]));
    assert!(!out.status.success());
    assert!(!out_dir.join("s").exists());

    // Writes through the links land in the container.
    let payload = d.dir.path().join("payload");
    std::fs::write(&payload, "payload\n").unwrap();
    ok(d.docker().args(["cp", payload.to_str().unwrap(), "ar-evil:/evil2/"]));
    let host_tmp_before = Path::new("/tmp/payload").exists();
    ok(d.berth().args(["cp", payload.to_str().unwrap(), "ar-evil:/evil/evil/tmp/"]));
    assert_eq!(Path::new("/tmp/payload").exists(), host_tmp_before);
    assert_eq!(d.request("HEAD", "/containers/ar-evil/archive?path=/tmp/payload", None).status, 200);
    assert!(!Path::new("/etc/payload").exists());
    let back = output(d.docker().args(["cp", "ar-evil:/etc/payload", "-"]));
    assert_eq!(tar_list(&back.stdout)[0].0, "payload");
    assert_eq!(std::fs::read_to_string(&secret).unwrap(), "host only\n");

    // Hostile archives: `..` entries are refused; a symlink entry then a path through it stays
    // inside the container.
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(2);
    h.set_mode(0o644);
    let escape = format!("../../../../../../..{}/pwned", d.dir.path().display());
    assert!(escape.len() < 100, "{escape}");
    h.as_gnu_mut().unwrap().name[..escape.len()].copy_from_slice(escape.as_bytes());
    h.set_cksum();
    b.append(&h, &b"x\n"[..]).unwrap();
    let r = d.request(
        "PUT",
        "/containers/ar-evil/archive?path=/tmp",
        Some(("application/x-tar", &b.into_inner().unwrap())),
    );
    assert_eq!(r.status, 400, "{}", String::from_utf8_lossy(&r.body));
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Symlink);
    h.set_size(0);
    h.set_mode(0o777);
    b.append_link(&mut h, "up", "../../../../../..").unwrap();
    let mut h = tar::Header::new_gnu();
    h.set_size(2);
    h.set_mode(0o644);
    b.append_data(&mut h, format!("up{}/pwned", d.dir.path().display()), &b"x\n"[..]).unwrap();
    let r = d.request(
        "PUT",
        "/containers/ar-evil/archive?path=/tmp",
        Some(("application/x-tar", &b.into_inner().unwrap())),
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert!(!d.dir.path().join("pwned").exists());
    let inside = format!("/containers/ar-evil/archive?path={}/pwned", d.dir.path().display());
    assert_eq!(d.request("HEAD", &inside, None).status, 200);

    // The same links on the stopped container (its rootfs mounted for the copy).
    ok(d.docker().args(["stop", "-t", "1", "ar-evil"]));
    ok(d.berth().args(["cp", "ar-evil:/evil2/marker", out_dir.join("stopped").to_str().unwrap()]));
    assert_eq!(std::fs::read_to_string(out_dir.join("stopped")).unwrap(), "container\n");
    ok(d.docker().args(["cp", payload.to_str().unwrap(), "ar-evil:/evil/evil2/stopped-payload"]));
    assert!(!Path::new("/etc/stopped-payload").exists());
    assert_eq!(d.request("HEAD", "/containers/ar-evil/archive?path=/etc/stopped-payload", None).status, 200);
    ok(d.docker().args(["rm", "ar-evil"]));
    assert!(d.leftover_mounts().iter().all(|m| !m.contains("/merged")), "{:?}", d.leftover_mounts());
}

#[test]
fn cp_errors_like_dockerd() {
    let Some(d) = daemon("cp_errors_like_dockerd") else { return };
    ok(d.docker().args(["create", "--name", "ar-err", "--read-only", "-v", "ar-ro:/ro:ro", "busybox", "true"]));
    let out = output(d.docker().args(["cp", "ar-err:/nope", d.dir.path().to_str().unwrap()]));
    assert_eq!(stderr(&out).trim(), "Error response from daemon: Could not find the file /nope in container ar-err");
    let out = output(d.berth().args(["cp", "ar-err:/nope", d.dir.path().to_str().unwrap()]));
    assert_eq!(stderr(&out).trim(), "Error response from daemon: Could not find the file /nope in container ar-err");
    let r = d.request("GET", "/containers/ar-err/archive", None);
    assert_eq!(
        (r.status, String::from_utf8_lossy(&r.body).trim()),
        (400, r#"{"message":"bad parameter: pathcannot be empty"}"#)
    );
    let r = d.request("GET", "/containers/nosuch/archive?path=/", None);
    assert_eq!(r.status, 404);
    let empty = tar::Builder::new(Vec::new()).into_inner().unwrap();
    let put = |path: &str| {
        d.request("PUT", &format!("/containers/ar-err/archive?path={path}"), Some(("application/x-tar", &empty)))
    };
    let r = put("/etc/passwd");
    assert_eq!(String::from_utf8_lossy(&r.body).trim(), r#"{"message":"extraction point is not a directory"}"#);
    let r = put("/nope");
    assert_eq!(
        (r.status, String::from_utf8_lossy(&r.body).trim()),
        (404, r#"{"message":"Could not find the file /nope in container ar-err"}"#)
    );
    let r = put("/tmp");
    assert_eq!(String::from_utf8_lossy(&r.body).trim(), r#"{"message":"container rootfs is marked read-only"}"#);
    let r = put("/ro");
    assert_eq!(String::from_utf8_lossy(&r.body).trim(), r#"{"message":"mounted volume is marked read-only"}"#);
    let out = output(d.berth().args(["cp", "a", "b"]));
    assert_eq!(stderr(&out).trim(), "must specify at least one container source");
    let out = output(d.berth().args(["cp", "x:/a", "y:/b"]));
    assert_eq!(stderr(&out).trim(), "copying between containers is not supported");
    // HEAD stat in dockerd's encoding.
    let r = d.request("HEAD", "/containers/ar-err/archive?path=/bin/sh", None);
    let h = r.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("X-Docker-Container-Path-Stat")).unwrap();
    use base64::Engine as _;
    let json = base64::engine::general_purpose::STANDARD.decode(h.1.trim()).unwrap();
    let stat: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(stat["name"], "sh");
    assert_eq!(stat["mode"].as_u64().unwrap() & (1 << 27), 1 << 27, "{stat}"); // Go's ModeSymlink
    assert!(stat["linkTarget"].as_str().unwrap().starts_with("/bin/"), "{stat}");
    ok(d.docker().args(["rm", "-v", "ar-err"]));
    ok(d.docker().args(["volume", "rm", "ar-ro"]));
}

#[test]
fn export_then_import_round_trips() {
    let Some(d) = daemon("export_then_import_round_trips") else { return };
    ok(d.docker().args([
        "run",
        "--name",
        "ar-exp",
        "-v",
        "ar-xvol:/vol",
        "busybox",
        "sh",
        "-c",
        "echo kept > /marker; echo vol > /vol/v; chmod 600 /marker; dd if=/dev/urandom of=/big bs=1M count=3 2>/dev/null",
    ]));
    // A copy larger than the stream buffers out of the stopped container, with both CLIs.
    for (cli, name) in [(d.berth(), "big-berth"), (d.docker(), "big-docker")] {
        let mut cli = cli;
        ok(cli.args(["cp", "ar-exp:/big", d.dir.path().join(name).to_str().unwrap()]));
        assert_eq!(std::fs::metadata(d.dir.path().join(name)).unwrap().len(), 3 << 20);
    }
    let file = d.dir.path().join("exp.tar");
    ok(d.berth().args(["export", "-o", file.to_str().unwrap(), "ar-exp"]));
    let raw = output(d.docker().args(["export", "ar-exp"]));
    assert!(raw.status.success());
    let list = tar_list(&raw.stdout);
    let marker = list.iter().find(|e| e.0 == "marker").unwrap_or_else(|| panic!("{list:?}"));
    assert_eq!(marker.1, 0o600);
    assert!(list.iter().any(|e| e.0 == "bin/sh"), "{list:?}");
    // Volumes are not part of an export.
    assert!(!list.iter().any(|e| e.0 == "vol/v"), "{list:?}");
    assert_eq!(std::fs::read(&file).unwrap().len(), raw.stdout.len());
    ok(d.docker().args(["import", file.to_str().unwrap(), "ar-imported"]));
    assert_eq!(ok(d.docker().args(["run", "--rm", "ar-imported", "cat", "/marker"])), "kept\n");
    // A running container exports its rootfs (not its volumes, /proc or /sys contents).
    ok(d.docker().args([
        "run",
        "-d",
        "--name",
        "ar-exp-run",
        "-v",
        "ar-xvol:/vol",
        "ar-imported",
        "sh",
        "-c",
        "echo live > /live; sleep 300",
    ]));
    assert!(eventually(10, || d.request("HEAD", "/containers/ar-exp-run/archive?path=/live", None).status == 200));
    let raw = output(d.berth().args(["export", "ar-exp-run"]));
    assert!(raw.status.success(), "{}", stderr(&raw));
    let names: Vec<String> = tar_list(&raw.stdout).into_iter().map(|e| e.0).collect();
    assert!(names.contains(&"live".to_string()) && names.contains(&"marker".to_string()), "{names:?}");
    assert!(!names.iter().any(|n| n.starts_with("proc/") && n.len() > 5 || n == "vol/v"), "{names:?}");
    ok(d.docker().args(["rm", "-f", "ar-exp-run"]));
    let out = output(d.berth().args(["export", "nosuch"]));
    assert_eq!(stderr(&out).trim(), "Error response from daemon: No such container: nosuch");
    ok(d.docker().args(["rm", "-v", "ar-exp"]));
    ok(d.docker().args(["rmi", "ar-imported"]));
    ok(d.docker().args(["volume", "rm", "ar-xvol"]));
    assert!(d.leftover_mounts().iter().all(|m| !m.contains("/merged")), "{:?}", d.leftover_mounts());
}

#[test]
fn cp_archive_mode_owns_files_by_the_container_user() {
    let Some(d) = daemon("cp_archive_mode_owns_files_by_the_container_user") else { return };
    let src = host_tree(d.dir.path());
    let report = "stat -c '%n %u:%g' /tmp/a/f /tmp/a/sub/g /tmp/plain/f";
    ok(d.docker().args(["create", "--name", "ar-user", "-u", "www-data", "busybox", "sh", "-c", report]));
    // -a: owned by the container's user (looked up in its own passwd); without: the archive's.
    ok(d.berth().args(["cp", "-a", src.to_str().unwrap(), "ar-user:/tmp/a"]));
    ok(d.docker().args(["cp", src.to_str().unwrap(), "ar-user:/tmp/plain"]));
    let out = ok(d.docker().args(["start", "-a", "ar-user"]));
    assert_eq!(out, "/tmp/a/f 33:33\n/tmp/a/sub/g 33:33\n/tmp/plain/f 1234:2345\n");
    ok(d.docker().args(["rm", "ar-user"]));
}

/// `docker cp - C:/dir` with a tar padded with zeros after its end marker, as GNU tar pads to
/// whole records: every upload succeeds and the file is there.
#[test]
fn cp_in_of_a_padded_tar_reads_the_whole_body() {
    let Some(d) = daemon("cp_in_of_a_padded_tar_reads_the_whole_body") else { return };
    ok(d.docker().args(["create", "--name", "ar-pad", "busybox", "true"]));
    for i in 0..8 {
        let mut t = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(3);
        h.set_mode(0o644);
        t.append_data(&mut h, format!("pad{i}"), &b"hi\n"[..]).unwrap();
        let mut archive = t.into_inner().unwrap();
        archive.resize(64 * 1024, 0);
        let mut child = d
            .docker()
            .args(["cp", "-", "ar-pad:/tmp"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(&mut child.stdin.take().unwrap(), &archive).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "cp in #{i}: {}", stderr(&out));
    }
    let back = output(d.docker().args(["cp", "ar-pad:/tmp/pad7", "-"]));
    assert!(back.status.success(), "{}", stderr(&back));
    assert!(tar_list(&back.stdout).iter().any(|(name, ..)| name == "pad7"), "{:?}", tar_list(&back.stdout));
}
