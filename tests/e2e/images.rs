//! Getting images in and looking at them, with the docker CLI.

use crate::{daemon, ok, output, stderr};

#[test]
fn import_with_changes_then_run() {
    let Some(d) = daemon("import_with_changes_then_run") else { return };
    let bb = berth_testkit::fixtures::busybox();
    let id = ok(d
        .docker()
        .args(["import", "-c", "CMD [\"echo\", \"from-cmd\"]", "-c", "ENV GREETING=hi"])
        .arg(&bb.rootfs_tar)
        .arg("imported:v1"));
    assert!(id.trim().starts_with("sha256:"), "{id}");
    assert_eq!(ok(d.docker().args(["run", "--rm", "imported:v1"])), "from-cmd\n");
    assert_eq!(ok(d.docker().args(["run", "--rm", "imported:v1", "sh", "-c", "echo $GREETING"])), "hi\n");
    let env = ok(d.docker().args(["inspect", "-f", "{{json .Config.Cmd}}", "imported:v1"]));
    assert_eq!(env.trim(), r#"["echo","from-cmd"]"#);
}

#[test]
fn save_load_tag_history_rmi() {
    let Some(d) = daemon("save_load_tag_history_rmi") else { return };
    let images = ok(d.docker().args(["images", "--format", "{{.Repository}}:{{.Tag}}"]));
    assert_eq!(images, "busybox:latest\n");
    ok(d.docker().args(["tag", "busybox", "mybox:1"]));
    let hist = ok(d.docker().args(["history", "--format", "{{.CreatedBy}}", "mybox:1"]));
    assert!(hist.contains("make-busybox-image.sh"), "{hist}");
    let tar = d.dir.path().join("saved.tar");
    ok(d.docker().args(["save", "-o"]).arg(&tar).arg("mybox:1"));
    ok(d.docker().args(["rmi", "mybox:1"]));
    let out = output(d.docker().args(["inspect", "mybox:1"]));
    assert_eq!(out.status.code(), Some(1));
    let loaded = ok(d.docker().args(["load", "-i"]).arg(&tar));
    assert_eq!(loaded.trim(), "Loaded image: mybox:1");
    let a = ok(d.docker().args(["inspect", "-f", "{{.Id}}", "mybox:1"]));
    let b = ok(d.docker().args(["inspect", "-f", "{{.Id}}", "busybox"]));
    assert_eq!(a, b, "save/load changed the image id");
}

#[test]
fn rmi_refuses_while_a_container_uses_the_image() {
    let Some(d) = daemon("rmi_refuses_while_a_container_uses_the_image") else { return };
    ok(d.docker().args(["create", "--name", "user", "busybox", "true"]));
    let out = output(d.docker().args(["rmi", "busybox"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("conflict"), "{}", stderr(&out));
    ok(d.docker().args(["rm", "user"]));
    ok(d.docker().args(["rmi", "busybox"]));
    assert_eq!(ok(d.docker().args(["images", "-q"])), "");
}
