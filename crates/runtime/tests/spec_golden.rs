//! Golden test of the default OCI spec (`tests/golden/spec-default.json`), checked against what
//! dockerd 20.10 writes for `docker run busybox` (minus the zero-valued memory/cpu/blockIO
//! resources; the seccomp rules come from moby's newer default profile, see
//! `security_golden.rs`). Regenerate with `BERTH_UPDATE_GOLDEN=1`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use berth_runtime::spec::{build, SpecInput};

fn fixed_input() -> SpecInput {
    SpecInput {
        args: vec!["sleep".into(), "60".into()],
        env: vec![
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into(),
            "HOSTNAME=b23c29a664ca".into(),
        ],
        cwd: "/".into(),
        uid: 0,
        gid: 0,
        additional_gids: vec![0, 10],
        hostname: "b23c29a664ca".into(),
        tty: false,
        rootfs: "/var/lib/berth/snapshots/1/merged".into(),
        readonly_rootfs: false,
        hostname_path: Some("/var/lib/berth/containers/b23c/hostname".into()),
        hosts_path: Some("/var/lib/berth/containers/b23c/hosts".into()),
        resolv_conf_path: Some("/var/lib/berth/containers/b23c/resolv.conf".into()),
        cgroups_path: "/berth/b23c".into(),
        // Fixed architecture and kernel: the profile's conditional rules depend on them.
        security: berth_runtime::security::SecurityInput {
            host: Some(berth_runtime::seccomp::Host {
                go_arch: "amd64".into(),
                scmp_arch: "SCMP_ARCH_X86_64".into(),
                kernel: (6, 1),
            }),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// Capability sets are hash sets: sort them so the comparison is stable.
fn normalized() -> serde_json::Value {
    let mut v = serde_json::to_value(build(&fixed_input())).expect("serialize");
    if let Some(caps) = v.pointer_mut("/process/capabilities").and_then(|c| c.as_object_mut()) {
        for set in caps.values_mut() {
            if let Some(a) = set.as_array_mut() {
                a.sort_by(|x, y| x.as_str().cmp(&y.as_str()));
            }
        }
    }
    v
}

#[test]
fn default_spec_matches_golden() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/spec-default.json");
    let got = normalized();
    if std::env::var("BERTH_UPDATE_GOLDEN").as_deref() == Ok("1") {
        let text = serde_json::to_string_pretty(&got).expect("pretty") + "\n";
        std::fs::write(&path, text).expect("write golden");
    }
    let want: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read golden")).expect("golden json");
    assert_eq!(got, want);
}
