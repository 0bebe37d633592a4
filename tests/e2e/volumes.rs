//! End-to-end tests of the volumes issue: named and anonymous volumes, bind mounts and tmpfs,
//! driven by the real docker CLI against berthd. Each test's daemon has private roots, and host
//! directories live under `d.dir`, so dropping the daemon removes everything.

use crate::{daemon, ok, output, stderr, stdout};

fn volumes(d: &berth_testkit::TestDaemon) -> Vec<String> {
    let out = ok(d.docker().args(["volume", "ls", "-q"]));
    let mut v: Vec<String> = out.lines().map(str::to_string).collect();
    v.sort();
    v
}

#[test]
fn volume_data_survives_into_a_fresh_container() {
    let Some(d) = daemon("volume_data_survives_into_a_fresh_container") else { return };
    assert_eq!(ok(d.docker().args(["volume", "create", "--label", "k=v", "vt-data"])), "vt-data\n");
    ok(d.docker().args(["run", "--rm", "-v", "vt-data:/data", "busybox", "sh", "-c", "echo hello > /data/f"]));
    let out =
        ok(d.docker().args(["run", "--rm", "--mount", "type=volume,src=vt-data,dst=/d", "busybox", "cat", "/d/f"]));
    assert_eq!(out, "hello\n");
    // inspect: dockerd's shape
    let v: serde_json::Value =
        serde_json::from_str(&ok(d.docker().args(["volume", "inspect", "vt-data"]))).expect("inspect json");
    let v = &v[0];
    assert_eq!(v["Name"], "vt-data");
    assert_eq!(v["Driver"], "local");
    assert_eq!(v["Scope"], "local");
    assert_eq!(v["Labels"]["k"], "v");
    assert_eq!(v["Mountpoint"], format!("{}/volumes/vt-data/_data", d.data_root.display()));
    assert!(v["CreatedAt"].as_str().is_some_and(|s| s.ends_with('Z')), "{v}");
    assert_eq!(ok(d.docker().args(["volume", "ls", "-q", "--filter", "label=k=v"])), "vt-data\n");
    assert_eq!(ok(d.docker().args(["volume", "ls", "-q", "--filter", "name=nomatch"])), "");
    // .Mounts in container inspect
    ok(d.docker().args(["create", "--name", "vt-insp", "-v", "vt-data:/data:ro", "busybox", "true"]));
    let m: serde_json::Value =
        serde_json::from_str(&ok(d.docker().args(["inspect", "--format", "{{json .Mounts}}", "vt-insp"]))).unwrap();
    assert_eq!(m[0]["Type"], "volume");
    assert_eq!(m[0]["Name"], "vt-data");
    assert_eq!(m[0]["Destination"], "/data");
    assert_eq!(m[0]["Driver"], "local");
    assert_eq!(m[0]["Mode"], "ro");
    assert_eq!(m[0]["RW"], false);
    ok(d.docker().args(["rm", "vt-insp"]));
    ok(d.docker().args(["volume", "rm", "vt-data"]));
    let out = output(d.docker().args(["volume", "inspect", "vt-data"]));
    assert!(!out.status.success());
    assert!(stderr(&out).contains("no such volume"), "{}", stderr(&out));
}

#[test]
fn readonly_bind_mount_rejects_writes() {
    let Some(d) = daemon("readonly_bind_mount_rejects_writes") else { return };
    let host = d.dir.path().join("ro-src");
    std::fs::create_dir_all(&host).unwrap();
    std::fs::write(host.join("f"), "from host\n").unwrap();
    let spec = format!("{}:/src:ro", host.display());
    assert_eq!(ok(d.docker().args(["run", "--rm", "-v", &spec, "busybox", "cat", "/src/f"])), "from host\n");
    let out = output(d.docker().args(["run", "--rm", "-v", &spec, "busybox", "sh", "-c", "echo x > /src/g"]));
    assert!(!out.status.success());
    assert!(stderr(&out).contains("Read-only file system"), "{}", stderr(&out));
    assert!(!host.join("g").exists());
    // read-write bind: writes land on the host; a missing -v source is created as a directory
    let created = d.dir.path().join("made-by-v");
    let spec = format!("{}:/w", created.display());
    ok(d.docker().args(["run", "--rm", "-v", &spec, "busybox", "sh", "-c", "echo y > /w/g"]));
    assert_eq!(std::fs::read_to_string(created.join("g")).unwrap(), "y\n");
    // ... but with --mount a missing source is an error
    let missing = d.dir.path().join("missing");
    let out = output(d.docker().args([
        "run",
        "--rm",
        "--mount",
        &format!("type=bind,src={},dst=/m", missing.display()),
        "busybox",
        "true",
    ]));
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains(&format!("bind source path does not exist: {}", missing.display())),
        "{}",
        stderr(&out)
    );
    assert!(!missing.exists());
}

#[test]
fn tmpfs_is_mounted_with_its_size() {
    let Some(d) = daemon("tmpfs_is_mounted_with_its_size") else { return };
    let out = ok(d.docker().args(["run", "--rm", "--tmpfs", "/scratch:rw,size=64m", "busybox", "mount"]));
    let line = out.lines().find(|l| l.contains(" /scratch ")).unwrap_or_else(|| panic!("no /scratch in\n{out}"));
    assert!(line.starts_with("tmpfs on /scratch type tmpfs"), "{line}");
    assert!(line.contains("size=65536k"), "{line}");
    let out = ok(d.docker().args([
        "run",
        "--rm",
        "--read-only",
        "--mount",
        "type=tmpfs,dst=/t,tmpfs-size=1m",
        "-v",
        "vt-rw:/data",
        "busybox",
        "sh",
        "-c",
        "mount | grep ' /t '; echo a > /t/x && echo a > /data/x && cat /t/x /data/x; echo b > /root/x || echo rootfs-ro",
    ]));
    assert!(out.contains("size=1024k"), "{out}");
    assert!(out.contains("a\na\n"), "{out}");
    assert!(out.contains("rootfs-ro"), "{out}");
}

#[test]
fn backup_and_restore_a_volume_with_tar() {
    let Some(d) = daemon("backup_and_restore_a_volume_with_tar") else { return };
    ok(d.docker().args([
        "run",
        "--rm",
        "-v",
        "vt-orig:/data",
        "busybox",
        "sh",
        "-c",
        "mkdir -p /data/sub && echo one > /data/a && echo two > /data/sub/b && chown 7:8 /data/a",
    ]));
    let backup = d.dir.path().join("backup");
    std::fs::create_dir_all(&backup).unwrap();
    let bspec = format!("{}:/backup", backup.display());
    ok(d.docker().args([
        "run",
        "--rm",
        "-v",
        "vt-orig:/data:ro",
        "-v",
        &bspec,
        "busybox",
        "tar",
        "cf",
        "/backup/b.tar",
        "-C",
        "/data",
        ".",
    ]));
    assert!(backup.join("b.tar").metadata().unwrap().len() > 0);
    ok(d.docker().args([
        "run",
        "--rm",
        "-v",
        "vt-copy:/data",
        "-v",
        &bspec,
        "busybox",
        "tar",
        "xf",
        "/backup/b.tar",
        "-C",
        "/data",
    ]));
    let out = ok(d.docker().args([
        "run",
        "--rm",
        "-v",
        "vt-copy:/r",
        "busybox",
        "sh",
        "-c",
        "cat /r/a /r/sub/b; stat -c %u:%g /r/a",
    ]));
    assert_eq!(out, "one\ntwo\n7:8\n");
}

#[test]
fn copy_up_of_image_content_keeps_owners_and_modes() {
    let Some(d) = daemon("copy_up_of_image_content_keeps_owners_and_modes") else { return };
    // An image with /srv/app owned by 1234:5678: busybox's rootfs plus one directory.
    let work = d.dir.path().join("img");
    std::fs::create_dir_all(work.join("srv/app")).unwrap();
    std::fs::write(work.join("srv/app/f"), "image content\n").unwrap();
    let tar = d.dir.path().join("img.tar");
    std::fs::copy(&berth_testkit::fixtures::busybox().rootfs_tar, &tar).unwrap();
    ok(std::process::Command::new("chmod").args(["0640"]).arg(work.join("srv/app/f")));
    ok(std::process::Command::new("chmod").args(["0750"]).arg(work.join("srv/app")));
    ok(std::process::Command::new("tar")
        .args(["--append", "--no-recursion", "--owner=1234", "--group=5678", "--numeric-owner", "-f"])
        .arg(&tar)
        .arg("-C")
        .arg(&work)
        .args(["srv", "srv/app", "srv/app/f"]));
    ok(d.docker().arg("import").arg(&tar).arg("vt-img"));
    let stat = "stat -c '%u:%g %a %n' /srv/app /srv/app/f; cat /srv/app/f";
    let want = "1234:5678 750 /srv/app\n1234:5678 640 /srv/app/f\nimage content\n";
    assert_eq!(ok(d.docker().args(["run", "--rm", "-v", "vt-cu:/srv/app", "vt-img", "sh", "-c", stat])), want);
    // the volume itself now holds the copy; a second mount does not copy again
    ok(d.docker().args(["run", "--rm", "-v", "vt-cu:/srv/app", "vt-img", "rm", "/srv/app/f"]));
    let out = ok(d.docker().args(["run", "--rm", "-v", "vt-cu:/srv/app", "vt-img", "ls", "-A", "/srv/app"]));
    assert_eq!(out, "");
    // nocopy: the new volume stays empty
    let out = ok(d.docker().args(["run", "--rm", "-v", "vt-nc:/srv/app:nocopy", "vt-img", "ls", "-A", "/srv/app"]));
    assert_eq!(out, "");
    // anonymous volume also copies
    assert_eq!(ok(d.docker().args(["run", "--rm", "-v", "/srv/app", "vt-img", "sh", "-c", stat])), want);
}

#[test]
fn rm_removes_anonymous_volumes_and_keeps_named() {
    let Some(d) = daemon("rm_removes_anonymous_volumes_and_keeps_named") else { return };
    ok(d.docker().args([
        "run",
        "--rm",
        "-v",
        "/anon",
        "-v",
        "vt-named:/named",
        "busybox",
        "sh",
        "-c",
        "echo x > /anon/f",
    ]));
    assert_eq!(volumes(&d), ["vt-named"]);
    // docker rm without -v keeps the anonymous volume; with -v removes it
    ok(d.docker().args(["create", "--name", "vt-c1", "-v", "/anon", "busybox", "true"]));
    ok(d.docker().args(["create", "--name", "vt-c2", "-v", "/anon", "busybox", "true"]));
    assert_eq!(volumes(&d).len(), 3);
    ok(d.docker().args(["rm", "vt-c1"]));
    assert_eq!(volumes(&d).len(), 3);
    ok(d.docker().args(["rm", "-v", "vt-c2"]));
    assert_eq!(volumes(&d).len(), 2);
    assert!(volumes(&d).contains(&"vt-named".to_string()));
    // --volumes-from shares the volumes of another container
    ok(d.docker().args(["create", "--name", "vt-src", "-v", "vt-named:/named", "busybox", "true"]));
    let out = ok(d.docker().args([
        "run",
        "--rm",
        "--volumes-from",
        "vt-src:ro",
        "busybox",
        "sh",
        "-c",
        "ls /named; touch /named/z || echo ro",
    ]));
    assert!(out.contains("ro\n"), "{out}");
    ok(d.docker().args(["rm", "vt-src"]));
}

#[test]
fn volume_rm_refuses_in_use_and_prune_keeps_named() {
    let Some(d) = daemon("volume_rm_refuses_in_use_and_prune_keeps_named") else { return };
    ok(d.docker().args(["volume", "create", "vt-used"]));
    ok(d.docker().args(["create", "--name", "vt-user", "-v", "vt-used:/u", "-v", "/anon", "busybox", "true"]));
    let cid = ok(d.docker().args(["inspect", "--format", "{{.Id}}", "vt-user"]));
    let out = output(d.docker().args(["volume", "rm", "vt-used"]));
    assert!(!out.status.success());
    let want = format!("remove vt-used: volume is in use - [{}]", cid.trim());
    assert!(stderr(&out).contains(&want), "{}", stderr(&out));
    let out = output(d.docker().args(["volume", "rm", "-f", "vt-used"]));
    assert!(!out.status.success(), "{}", stdout(&out));
    // dangling filter
    ok(d.docker().args(["volume", "create", "vt-idle"]));
    assert_eq!(ok(d.docker().args(["volume", "ls", "-q", "--filter", "dangling=true"])), "vt-idle\n");
    ok(d.docker().args(["rm", "vt-user"]));
    // prune without all: only the (now unused) anonymous volume goes
    let r = d.request("POST", "/volumes/prune", None);
    assert_eq!(r.status, 200, "{}", r.text());
    let body: serde_json::Value = serde_json::from_str(&r.text()).unwrap();
    assert_eq!(body["VolumesDeleted"].as_array().map(Vec::len), Some(1), "{body}");
    assert_eq!(volumes(&d), ["vt-idle", "vt-used"]);
    // all=true takes named ones too
    let r = d.request("POST", "/volumes/prune?filters=%7B%22all%22%3A%5B%22true%22%5D%7D", None);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(volumes(&d), Vec::<String>::new());
    // errors in dockerd's words
    let out = output(d.docker().args(["run", "--rm", "-v", "vt-x:/x:bad", "busybox", "true"]));
    assert!(stderr(&out).contains("invalid mode: bad"), "{}", stderr(&out));
    let out = output(d.docker().args(["run", "--rm", "-v", "/a:/x", "-v", "/b:/x", "busybox", "true"]));
    assert!(stderr(&out).contains("Duplicate mount point: /x"), "{}", stderr(&out));
    assert_eq!(volumes(&d), Vec::<String>::new());
}

#[test]
fn volume_driver_options_mount_tmpfs() {
    let Some(d) = daemon("volume_driver_options_mount_tmpfs") else { return };
    ok(d.docker().args(["volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs", "-o", "o=size=2m", "vt-tmp"]));
    let v: serde_json::Value = serde_json::from_str(&ok(d.docker().args(["volume", "inspect", "vt-tmp"]))).unwrap();
    assert_eq!(v[0]["Options"]["type"], "tmpfs", "{v}");
    let out = ok(d.docker().args(["run", "--rm", "-v", "vt-tmp:/t", "busybox", "sh", "-c", "mount | grep ' /t '"]));
    assert!(out.starts_with("tmpfs on /t type tmpfs") && out.contains("size=2048k"), "{out}");
    // unmounted again once no container uses it
    let data = d.data_root.join("volumes/vt-tmp/_data");
    assert!(crate::eventually(10, || !std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .contains(&format!(" {} ", data.display()))));
    let out = output(d.docker().args(["volume", "create", "-o", "colour=red", "vt-bad"]));
    assert!(stderr(&out).contains("invalid option: \"colour\""), "{}", stderr(&out));
    ok(d.docker().args(["volume", "rm", "vt-tmp"]));
}

#[test]
fn berth_cli_volume_commands_and_run_flags() {
    let Some(d) = daemon("berth_cli_volume_commands_and_run_flags") else { return };
    assert_eq!(ok(d.berth().args(["volume", "create", "--label", "a=b", "vt-b"])), "vt-b\n");
    ok(d.berth().args(["run", "--rm", "-v", "vt-b:/d", "busybox", "sh", "-c", "echo via-berth > /d/f"]));
    let out = ok(d.berth().args([
        "run",
        "--rm",
        "--read-only",
        "--mount",
        "type=volume,src=vt-b,dst=/m,readonly",
        "--tmpfs",
        "/t:size=1m",
        "busybox",
        "sh",
        "-c",
        "cat /m/f; mount | grep -c ' /t '",
    ]));
    assert_eq!(out, "via-berth\n1\n");
    ok(d.berth().args(["create", "--name", "vt-anon", "-v", "/anon", "busybox", "true"]));
    assert_eq!(ok(d.berth().args(["volume", "ls", "-q", "--filter", "label=a=b"])), "vt-b\n");
    assert!(ok(d.berth().args(["volume", "inspect", "vt-b"])).contains("\"Mountpoint\""));
    ok(d.berth().args(["rm", "vt-anon"]));
    let out = ok(d.berth().args(["volume", "prune", "-f"]));
    assert!(out.starts_with("Deleted Volumes:\n"), "{out}");
    assert_eq!(volumes(&d), ["vt-b"]);
    ok(d.berth().args(["volume", "prune", "-a", "-f"]));
    assert_eq!(volumes(&d), Vec::<String>::new());
    let out = output(d.berth().args(["volume", "rm", "vt-b"]));
    assert!(stderr(&out).contains("get vt-b: no such volume"), "{}", stderr(&out));
}

#[test]
fn image_volume_is_anonymous_and_removed_by_rm() {
    let Some(d) = daemon("image_volume_is_anonymous_and_removed_by_rm") else { return };
    let rootfs = berth_testkit::fixtures::busybox().rootfs_tar.clone();
    ok(d.docker().args(["import", "-c", "VOLUME /data", rootfs.to_str().unwrap(), "vt-volimg"]));
    // --rm: the image's VOLUME gets an anonymous volume, removed with the container.
    let out = ok(d.docker().args(["run", "--rm", "vt-volimg", "sh", "-c", "echo x > /data/f; cat /data/f"]));
    assert_eq!(out, "x\n");
    assert_eq!(volumes(&d), Vec::<String>::new());
    // Without --rm it is listed, shown in .Mounts, kept by rm and removed by rm -v.
    ok(d.docker().args(["create", "--name", "vt-vi", "vt-volimg", "true"]));
    let m: serde_json::Value =
        serde_json::from_str(&ok(d.docker().args(["inspect", "--format", "{{json .Mounts}}", "vt-vi"]))).unwrap();
    let name = m[0]["Name"].as_str().unwrap().to_string();
    assert_eq!((m[0]["Type"].as_str(), m[0]["Destination"].as_str()), (Some("volume"), Some("/data")), "{m}");
    assert_eq!(name.len(), 64, "{m}");
    assert_eq!(volumes(&d), std::slice::from_ref(&name));
    let v: serde_json::Value = serde_json::from_str(&ok(d.docker().args(["volume", "inspect", &name]))).unwrap();
    assert_eq!(v[0]["Labels"]["com.docker.volume.anonymous"], "", "{v}");
    ok(d.docker().args(["rm", "-v", "vt-vi"]));
    assert_eq!(volumes(&d), Vec::<String>::new());
    // Read-only rootfs: the image volume and a tmpfs stay writable.
    let out = ok(d.docker().args([
        "run",
        "--rm",
        "--read-only",
        "--tmpfs",
        "/scratch",
        "vt-volimg",
        "sh",
        "-c",
        "echo v > /data/f && echo t > /scratch/f && cat /data/f /scratch/f; touch /rootfs-file 2>/dev/null || echo ro",
    ]));
    assert_eq!(out, "v\nt\nro\n");
    assert_eq!(volumes(&d), Vec::<String>::new());
}

#[test]
fn inspect_echoes_host_config_mounts_like_dockerd() {
    let Some(d) = daemon("inspect_echoes_host_config_mounts_like_dockerd") else { return };
    let bind = d.dir.path().join("bind-src");
    std::fs::create_dir_all(&bind).unwrap();
    ok(d.docker().args([
        "create",
        "--name",
        "vt-hm",
        "--mount",
        "type=volume,src=vt-mv,dst=/v,volume-opt=type=tmpfs,volume-opt=device=tmpfs",
        "--mount",
        &format!("type=bind,src={},dst=/b,readonly,bind-propagation=rslave", bind.display()),
        "--mount",
        "type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=1770",
        "-v",
        "vt-named:/n:ro",
        "busybox",
        "true",
    ]));
    // HostConfig.Mounts exactly as dockerd 20.10 echoes the same flags.
    let hm = ok(d.docker().args(["inspect", "--format", "{{json .HostConfig.Mounts}}", "vt-hm"]));
    let want = format!(
        r#"[{{"Type":"volume","Source":"vt-mv","Target":"/v","VolumeOptions":{{"DriverConfig":{{"Options":{{"device":"tmpfs","type":"tmpfs"}}}}}}}},{{"Type":"bind","Source":"{}","Target":"/b","ReadOnly":true,"BindOptions":{{"Propagation":"rslave"}}}},{{"Type":"tmpfs","Target":"/t","TmpfsOptions":{{"SizeBytes":1048576,"Mode":1016}}}}]"#,
        bind.display()
    );
    let got: serde_json::Value = serde_json::from_str(&hm).unwrap();
    assert_eq!(got, serde_json::from_str::<serde_json::Value>(&want).unwrap());
    // .Mounts in dockerd's shape (same order and fields as dockerd 20.10).
    let vols = d.data_root.join("volumes");
    let want = serde_json::json!([
        {"Type":"volume","Name":"vt-named","Source":format!("{}/vt-named/_data", vols.display()),"Destination":"/n","Driver":"local","Mode":"ro","RW":false,"Propagation":""},
        {"Type":"volume","Name":"vt-mv","Source":format!("{}/vt-mv/_data", vols.display()),"Destination":"/v","Driver":"local","Mode":"z","RW":true,"Propagation":""},
        {"Type":"bind","Source":bind.display().to_string(),"Destination":"/b","Mode":"","RW":false,"Propagation":"rslave"},
        {"Type":"tmpfs","Source":"","Destination":"/t","Mode":"","RW":true,"Propagation":""}
    ]);
    let got: serde_json::Value =
        serde_json::from_str(&ok(d.docker().args(["inspect", "--format", "{{json .Mounts}}", "vt-hm"]))).unwrap();
    assert_eq!(got, want);
    // Kept across a daemon restart (the record persists the client's list).
    let mut d = d;
    d.restart().unwrap();
    let again = ok(d.docker().args(["inspect", "--format", "{{json .HostConfig.Mounts}}", "vt-hm"]));
    assert_eq!(again, hm);
    ok(d.docker().args(["rm", "vt-hm"]));
    ok(d.docker().args(["volume", "rm", "vt-mv", "vt-named"]));
}

#[test]
fn volume_ls_format_quiet_and_filters() {
    let Some(d) = daemon("volume_ls_format_quiet_and_filters") else { return };
    ok(d.docker().args(["volume", "create", "--label", "b=2", "--label", "a=1", "vt-f1"]));
    ok(d.docker().args(["volume", "create", "vt-f2"]));
    ok(d.docker().args(["create", "--name", "vt-fu", "-v", "vt-f2:/x", "busybox", "true"]));
    let mp = d.data_root.join("volumes/vt-f1/_data").display().to_string();
    for cli in [d.docker(), d.berth()] {
        let mut cli = cli;
        let out = ok(cli.args([
            "volume",
            "ls",
            "--filter",
            "name=vt-f1",
            "--format",
            "table {{.Name}}\t{{.Driver}}\t{{.Mountpoint}}\t{{.Labels}}\t{{.Scope}}",
        ]));
        // The docker CLI joins labels in Go map order (random); berth sorts them.
        let out = out.replace("b=2,a=1", "a=1,b=2");
        let pad = " ".repeat(mp.len() - "MOUNTPOINT".len());
        assert_eq!(
            out,
            format!("VOLUME NAME   DRIVER    MOUNTPOINT{pad}   LABELS    SCOPE\nvt-f1         local     {mp}   a=1,b=2   local\n")
        );
    }
    let berth_out = |args: &[&str]| ok(d.berth().args(args));
    let docker_out = |args: &[&str]| ok(d.docker().args(args));
    for args in [
        &["volume", "ls"][..],
        &["volume", "ls", "-q"],
        &["volume", "ls", "-q", "--filter", "dangling=true"],
        &["volume", "ls", "--filter", "label=a=1"],
        &["volume", "ls", "--format", "{{.Name}} {{.Label \"a\"}}"],
        &["volume", "ls", "--format", "{{json .}}", "--filter", "name=vt-f2"],
    ] {
        assert_eq!(berth_out(args), docker_out(args), "{args:?}");
    }
    assert_eq!(berth_out(&["volume", "ls", "-q", "--filter", "dangling=true"]), "vt-f1\n");
    ok(d.docker().args(["rm", "vt-fu"]));
    ok(d.docker().args(["volume", "rm", "vt-f1", "vt-f2"]));
}

#[test]
fn driver_option_mount_is_tracked_across_daemon_restart() {
    let Some(mut d) = daemon("driver_option_mount_is_tracked_across_daemon_restart") else { return };
    ok(d.docker().args(["volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs", "-o", "o=size=1m", "vt-rt"]));
    ok(d.docker().args([
        "run",
        "-d",
        "--name",
        "vt-rt-c",
        "-v",
        "vt-rt:/t",
        "busybox",
        "sh",
        "-c",
        "echo kept > /t/f; sleep 300",
    ]));
    let data = d.data_root.join("volumes/vt-rt/_data");
    let mounted = |p: &std::path::Path| {
        std::fs::read_to_string("/proc/self/mountinfo").unwrap().contains(&format!(" {} ", p.display()))
    };
    assert!(crate::eventually(10, || data.join("f").exists()));
    assert!(mounted(&data));
    d.restart().unwrap();
    // Still mounted and in use after the restart…
    assert!(mounted(&data));
    assert_eq!(std::fs::read_to_string(data.join("f")).unwrap(), "kept\n");
    let out = output(d.docker().args(["volume", "rm", "vt-rt"]));
    assert!(stderr(&out).contains("volume is in use"), "{}", stderr(&out));
    // …and released when the container stops.
    ok(d.docker().args(["stop", "-t", "1", "vt-rt-c"]));
    assert!(crate::eventually(10, || !mounted(&data)), "tmpfs still mounted on {}", data.display());
    ok(d.docker().args(["rm", "vt-rt-c"]));
    ok(d.docker().args(["volume", "rm", "vt-rt"]));
}
