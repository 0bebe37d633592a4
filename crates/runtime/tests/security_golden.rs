//! Golden tests of the security part of the OCI spec.
//!
//! `tests/golden/dockerd/spec-*.json` are the config.json files the reference dockerd 20.10
//! handed to runc for `docker run` with the same flags (container id, hostname and rootfs
//! replaced by placeholders). Each case builds our spec for the same input and compares it
//! field by field with dockerd's. The seccomp rules themselves come from a newer
//! `profiles/seccomp/default.json` than Debian's 20.10 build, so for seccomp only the default
//! action, the architectures and the capability-dependent rules are compared; our full output
//! is pinned in `tests/golden/spec-seccomp-*.json` (regenerate with `BERTH_UPDATE_GOLDEN=1`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::path::Path;

use berth_runtime::devices;
use berth_runtime::init::InitBinary;
use berth_runtime::seccomp::Host;
use berth_runtime::security::{capabilities, SecurityInput, ShareMode, ALL_CAPS};
use berth_runtime::spec::{build, SpecInput};
use oci_spec::runtime::Mount;
use serde_json::Value;

fn host() -> Host {
    Host { go_arch: "amd64".into(), scmp_arch: "SCMP_ARCH_X86_64".into(), kernel: (6, 1) }
}

fn input(security: SecurityInput) -> SpecInput {
    let c = "/tmp/ref/containers/CID";
    SpecInput {
        args: vec!["sleep".into(), "600".into()],
        env: vec![
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into(),
            "HOSTNAME=HOSTNAME".into(),
        ],
        cwd: "/".into(),
        additional_gids: vec![0, 10],
        hostname: "HOSTNAME".into(),
        rootfs: "ROOTFS".into(),
        hostname_path: Some(format!("{c}/hostname").into()),
        hosts_path: Some(format!("{c}/hosts").into()),
        resolv_conf_path: Some(format!("{c}/resolv.conf").into()),
        cgroups_path: "/docker/CID".into(),
        security: SecurityInput { host: Some(host()), ..security },
        ..Default::default()
    }
}

fn caps(add: &[&str], drop: &[&str]) -> Option<Vec<String>> {
    let v = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    Some(capabilities(false, &v(add), &v(drop), &v(&ALL_CAPS)).unwrap())
}

/// Capability sets are hash sets on our side: sort every set.
fn normalized(mut v: Value) -> Value {
    if let Some(caps) = v.pointer_mut("/process/capabilities").and_then(|c| c.as_object_mut()) {
        for set in caps.values_mut() {
            if let Some(a) = set.as_array_mut() {
                a.sort_by(|x, y| x.as_str().cmp(&y.as_str()));
            }
        }
    }
    v
}

const FIELDS: [&str; 17] = [
    "/process/user",
    "/process/args",
    "/process/cwd",
    "/process/capabilities",
    "/process/noNewPrivileges",
    "/hostname",
    "/mounts",
    "/root/readonly",
    "/linux/namespaces",
    "/linux/devices",
    "/linux/resources/devices",
    "/linux/sysctl",
    "/linux/maskedPaths",
    "/linux/readonlyPaths",
    "/linux/cgroupsPath",
    "/linux/seccomp/defaultAction",
    "/linux/seccomp/architectures",
];

/// Names of the seccomp rules after the first (unconditional) one, one string per rule.
fn conditional_rules(v: &Value) -> Vec<String> {
    let rules = v.pointer("/linux/seccomp/syscalls").and_then(Value::as_array).cloned().unwrap_or_default();
    rules.iter().skip(1).map(|r| r["names"].to_string()).collect()
}

fn compare_with_dockerd(name: &str, ours: &SpecInput) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/golden/dockerd/spec-{name}.json"));
    let want = normalized(serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap());
    let got = normalized(serde_json::to_value(build(ours)).unwrap());
    for f in FIELDS {
        assert_eq!(got.pointer(f), want.pointer(f), "{name}: {f} differs from dockerd's");
    }
    got
}

#[test]
fn default_matches_dockerd() {
    let got = compare_with_dockerd("default", &input(SecurityInput::default()));
    let rules = conditional_rules(&got);
    assert!(rules.iter().any(|r| r == "[\"clone\"]"), "{rules:?}");
    assert!(rules.iter().any(|r| r == "[\"clone3\"]"));
    assert!(!rules.iter().any(|r| r.contains("unshare")), "unshare only with CAP_SYS_ADMIN");
}

#[test]
fn cap_add_and_drop_match_dockerd() {
    let sec = SecurityInput { caps: caps(&["sys_admin"], &["CAP_CHOWN", "net_raw"]), ..Default::default() };
    let got = compare_with_dockerd("caps", &input(sec));
    let rules = conditional_rules(&got);
    assert!(rules.iter().any(|r| r.contains("\"unshare\"") && r.contains("\"mount\"")), "{rules:?}");
    assert!(!rules.iter().any(|r| r == "[\"clone3\"]"), "no ENOSYS clone3 rule with CAP_SYS_ADMIN");
}

#[test]
fn devices_match_dockerd() {
    let mut devs = devices::from_path("/dev/null", "/dev/mynull", "rw").unwrap();
    devs.extend(devices::from_path("/dev/zero", "/dev/zero", "rwm").unwrap());
    compare_with_dockerd("devices", &input(SecurityInput { devices: devs, ..Default::default() }));
}

#[test]
fn sysctls_match_dockerd() {
    let sysctls =
        [("kernel.msgmax", "65536"), ("net.ipv4.ip_forward", "1")].map(|(k, v)| (k.to_string(), v.to_string())).into();
    compare_with_dockerd("sysctls", &input(SecurityInput { sysctls, ..Default::default() }));
}

#[test]
fn readonly_rootfs_matches_dockerd() {
    let mut tmp = Mount::default();
    tmp.set_destination("/tmp".into())
        .set_typ(Some("tmpfs".into()))
        .set_source(Some("tmpfs".into()))
        .set_options(Some(["noexec", "nosuid", "nodev", "rprivate"].map(String::from).to_vec()));
    let mut i = input(SecurityInput::default());
    i.readonly_rootfs = true;
    i.mounts = vec![tmp];
    compare_with_dockerd("readonly", &i);
}

#[test]
fn host_namespaces_match_dockerd() {
    let sec = SecurityInput {
        no_new_privileges: true,
        ipc: ShareMode::Host,
        shm_source: Some("/dev/shm".into()),
        pid: ShareMode::Host,
        uts: ShareMode::Host,
        ..Default::default()
    };
    let mut i = input(sec);
    i.additional_gids = vec![0, 10, 1234];
    compare_with_dockerd("namespaces", &i);
}

/// Our own outputs where the reference daemon cannot serve as the source: --privileged fails
/// under the reference dockerd on a host whose root lacks CAP_SYS_RESOURCE, and Debian's
/// dockerd ships no docker-init.
fn check_golden(name: &str, got: Value) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/golden/spec-{name}.json"));
    let got = normalized(got);
    if std::env::var("BERTH_UPDATE_GOLDEN").as_deref() == Ok("1") {
        std::fs::write(&path, serde_json::to_string_pretty(&got).unwrap() + "\n").unwrap();
    }
    let want: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(got, want, "{name}: regenerate with BERTH_UPDATE_GOLDEN=1 after checking the change");
}

#[test]
fn privileged_spec() {
    let all: Vec<String> = ALL_CAPS.iter().map(|s| s.to_string()).collect();
    let mut dev = oci_spec::runtime::LinuxDevice::default();
    dev.set_path("/dev/kmsg".into()).set_typ(oci_spec::runtime::LinuxDeviceType::C).set_major(1).set_minor(11);
    let sec = SecurityInput {
        privileged: true,
        caps: Some(capabilities(true, &[], &[], &all).unwrap()),
        host_devices: vec![dev],
        ..Default::default()
    };
    let got = serde_json::to_value(build(&input(sec))).unwrap();
    assert!(got.pointer("/linux/seccomp").is_none(), "privileged is unconfined");
    assert!(got.pointer("/linux/maskedPaths").is_none());
    assert!(got.pointer("/linux/readonlyPaths").is_none());
    let sys = got["mounts"].as_array().unwrap().iter().find(|m| m["destination"] == "/sys").unwrap();
    assert!(!sys["options"].as_array().unwrap().iter().any(|o| o == "ro"), "/sys is writable");
    let last_rule = got.pointer("/linux/resources/devices").and_then(Value::as_array).and_then(|r| r.last()).unwrap();
    assert_eq!(last_rule, &serde_json::json!({"allow": true, "access": "rwm"}));
    assert_eq!(got.pointer("/process/capabilities/bounding").and_then(Value::as_array).map(Vec::len), Some(41));
    check_golden("privileged", got);
}

#[test]
fn init_and_seccomp_profiles() {
    let init = InitBinary {
        path: "/usr/local/bin/berth".into(),
        lib_dir: Some("/usr/lib/x86_64-linux-gnu".into()),
        loader: Some("ld-linux-x86-64.so.2".into()),
    };
    let got = serde_json::to_value(build(&input(SecurityInput { init: Some(init), ..Default::default() }))).unwrap();
    let args: Vec<&str> = got["process"]["args"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert_eq!(args[args.len() - 4..], ["/sbin/docker-init", "--", "sleep", "600"]);
    let init_mount =
        got["mounts"].as_array().unwrap().iter().find(|m| m["destination"] == "/sbin/docker-init").unwrap();
    assert_eq!(init_mount["options"], serde_json::json!(["bind", "ro"]));
    check_golden("init", got);
    let got = serde_json::to_value(build(&input(SecurityInput::default()))).unwrap();
    check_golden("seccomp-default", got["linux"]["seccomp"].clone());
    let sec = SecurityInput { caps: caps(&["ALL"], &[]), ..Default::default() };
    let got = serde_json::to_value(build(&input(sec))).unwrap();
    check_golden("seccomp-all-caps", got["linux"]["seccomp"].clone());
}
