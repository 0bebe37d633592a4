//! `docker image prune` and `docker system df` (and berth's own verbs) against berthd.

use crate::{daemon, ok, output};

/// Imports the busybox rootfs as a new image (`docker import [OPTS] FILE [REPO]`); returns its id.
fn import(d: &berth_testkit::TestDaemon, opts: &[&str], repo: Option<&str>) -> String {
    let tar = berth_testkit::fixtures::busybox().rootfs_tar.to_str().unwrap().to_string();
    let mut args = vec!["import"];
    args.extend_from_slice(opts);
    args.push(&tar);
    args.extend(repo);
    ok(d.docker().args(&args)).trim().to_string()
}

#[test]
fn image_prune_dangling_all_and_filters() {
    let Some(d) = daemon("image_prune_dangling_all_and_filters") else { return };
    // A layer of its own (not busybox's), so pruning it reclaims space.
    let work = tempfile::tempdir().unwrap();
    std::fs::create_dir(work.path().join("root")).unwrap();
    std::fs::write(work.path().join("root/unique"), vec![7u8; 100_000]).unwrap();
    let tar = work.path().join("unique.tar");
    ok(std::process::Command::new("tar").arg("-cf").arg(&tar).arg("-C").arg(work.path().join("root")).arg("."));
    let dangling = ok(d.docker().arg("import").arg(&tar)).trim().to_string();
    assert!(dangling.starts_with("sha256:"), "{dangling}");
    import(&d, &["-c", "LABEL keep=1"], Some("du-keep:1"));
    let busybox_id = ok(d.docker().args(["image", "inspect", "-f", "{{.Id}}", "busybox"])).trim().to_string();
    ok(d.docker().args(["create", "--name", "du-user", "busybox", "true"]));

    // Nothing older than a day.
    let out = ok(d.docker().args(["image", "prune", "-f", "--filter", "until=24h"]));
    assert_eq!(out, "Total reclaimed space: 0B\n");

    let out = ok(d.docker().args(["image", "prune", "-f"]));
    assert!(out.starts_with("Deleted Images:\n"), "{out}");
    assert!(out.contains(&format!("deleted: {dangling}")), "{out}");
    assert!(out.ends_with("Total reclaimed space: 100kB\n"), "{out}");
    assert!(!output(d.docker().args(["image", "inspect", &dangling])).status.success());
    assert!(output(d.docker().args(["image", "inspect", "du-keep:1"])).status.success());

    import(&d, &[], Some("du-drop:1"));
    let out = ok(d.docker().args(["image", "prune", "-a", "-f", "--filter", "label!=keep"]));
    assert!(out.contains("untagged: du-drop:1"), "{out}");
    assert!(!out.contains("du-keep"), "{out}");
    assert!(!out.contains(&busybox_id), "an image in use was pruned: {out}");
    assert!(output(d.docker().args(["image", "inspect", "busybox"])).status.success());

    let out = ok(d.berth().args(["image", "prune", "-a", "-f"]));
    assert!(out.contains("untagged: du-keep:1"), "{out}");
    let bad = output(d.docker().args(["image", "prune", "-f", "--filter", "colour=red"]));
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("Invalid filter 'colour'"));
    ok(d.docker().args(["rm", "du-user"]));
}

#[test]
fn system_df_reports_images_containers_volumes() {
    let Some(d) = daemon("system_df_reports_images_containers_volumes") else { return };
    ok(d.docker().args(["tag", "busybox", "du-df:1"]));
    ok(d.docker().args(["volume", "create", "du-vol"]));
    ok(d.docker().args(["create", "--name", "du-c", "-v", "du-vol:/data", "busybox", "true"]));
    let r = d.request("GET", "/system/df", None);
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert!(v["LayersSize"].as_i64().unwrap() > 0, "{v}");
    let img = &v["Images"][0];
    assert_eq!(img["Containers"], 1, "{v}");
    assert_eq!(img["SharedSize"], 0, "{v}");
    assert!(img["Size"].as_i64().unwrap() > 0);
    assert_eq!(v["Containers"][0]["Names"][0], "/du-c");
    assert!(v["Containers"][0]["SizeRootFs"].as_i64().unwrap() > 0, "{v}");
    let vol = v["Volumes"].as_array().unwrap().iter().find(|x| x["Name"] == "du-vol").unwrap();
    assert_eq!(vol["UsageData"]["RefCount"], 1, "{v}");
    assert!(v["BuildCache"].is_null());
    let bad = d.request("GET", "/system/df?type=bogus", None);
    assert_eq!(bad.status, 400);

    let out = ok(d.docker().args(["system", "df"]));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE", "{out}");
    assert!(lines[1].starts_with("Images          1         1"), "{out}");
    assert!(lines[2].starts_with("Containers      1         0"), "{out}");
    assert!(lines[3].starts_with("Local Volumes   1         1"), "{out}");
    let ours = ok(d.berth().args(["system", "df"]));
    assert_eq!(ours, out, "berth system df differs from docker's");
    let verbose = ok(d.docker().args(["system", "df", "-v"]));
    assert!(verbose.contains("du-vol"), "{verbose}");
    assert!(verbose.contains("du-c"), "{verbose}");
    let ours = ok(d.berth().args(["system", "df", "-v"]));
    assert!(ours.contains("Images space usage:") && ours.contains("du-vol") && ours.contains("du-c"), "{ours}");
    ok(d.docker().args(["rm", "du-c"]));
    ok(d.docker().args(["volume", "rm", "du-vol"]));
}
