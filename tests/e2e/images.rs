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

/// Builds an OCI image layout (gzip layer) from the busybox rootfs with coreutils, as a tar.
fn oci_layout_tar(dir: &std::path::Path, rootfs_tar: &std::path::Path) -> std::path::PathBuf {
    let script = r#"
set -euo pipefail
out=$1; rootfs=$2
mkdir -p "$out/l/blobs/sha256"; cd "$out/l"
gzip -n -c "$rootfs" > layer.gz
diff=$(sha256sum "$rootfs" | cut -d' ' -f1)
ld=$(sha256sum layer.gz | cut -d' ' -f1); ls=$(stat -c %s layer.gz); mv layer.gz blobs/sha256/$ld
printf '{"architecture":"amd64","os":"linux","config":{"Cmd":["echo","from-oci"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' $diff > c.json
cd_=$(sha256sum c.json | cut -d' ' -f1); cs=$(stat -c %s c.json); mv c.json blobs/sha256/$cd_
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' $cd_ $cs $ld $ls > m.json
md=$(sha256sum m.json | cut -d' ' -f1); ms=$(stat -c %s m.json); mv m.json blobs/sha256/$md
printf '{"imageLayoutVersion":"1.0.0"}' > oci-layout
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"io.containerd.image.name":"docker.io/library/ocibox:1","org.opencontainers.image.ref.name":"1"}}]}' $md $ms > index.json
tar -cf "$out/oci.tar" .
"#;
    let status =
        std::process::Command::new("bash").args(["-c", script, "oci"]).arg(dir).arg(rootfs_tar).status().expect("bash");
    assert!(status.success());
    dir.join("oci.tar")
}

#[test]
fn load_an_oci_layout_and_run_it() {
    let Some(d) = daemon("load_an_oci_layout_and_run_it") else { return };
    let tar = oci_layout_tar(d.dir.path(), &berth_testkit::fixtures::busybox().rootfs_tar);
    let loaded = ok(d.docker().args(["load", "-i"]).arg(&tar));
    assert_eq!(loaded.trim(), "Loaded image: ocibox:1");
    assert_eq!(ok(d.docker().args(["run", "--rm", "ocibox:1"])), "from-oci\n");
}
