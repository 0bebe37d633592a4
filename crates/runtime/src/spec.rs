//! OCI runtime spec generation with Docker's defaults.
//!
//! [`build`] is pure: it turns a [`SpecInput`] into an [`oci_spec::runtime::Spec`] the way
//! dockerd 20.10 + containerd do (namespaces, mounts, capabilities, masked and read-only paths,
//! device cgroup rules, sysctls). The result is golden-tested in `tests/golden/spec-default.json`.
//! The security settings (capabilities, seccomp, devices, sysctls, namespace sharing, init) are
//! applied last by [`crate::security::apply`].

use std::collections::HashMap;
use std::path::PathBuf;

use oci_spec::runtime::{
    Capabilities, Capability, LinuxCapabilities, LinuxDeviceCgroup, LinuxDeviceType, LinuxNamespace,
    LinuxNamespaceType, LinuxResources, Mount, Process, Root, Spec, User,
};

/// Everything about one container that shapes its OCI spec. The engine fills it from the
/// container's Config/HostConfig and the image config.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpecInput {
    pub args: Vec<String>,
    pub env: Vec<String>,
    pub cwd: String,
    pub uid: u32,
    pub gid: u32,
    pub additional_gids: Vec<u32>,
    pub hostname: String,
    pub tty: bool,
    /// Mounted rootfs (overlay merged dir).
    pub rootfs: PathBuf,
    pub readonly_rootfs: bool,
    /// Host files bind-mounted at /etc/hostname, /etc/hosts, /etc/resolv.conf.
    pub hostname_path: Option<PathBuf>,
    pub hosts_path: Option<PathBuf>,
    pub resolv_conf_path: Option<PathBuf>,
    /// cgroup path (e.g. `/berth/<id>`).
    pub cgroups_path: String,
    /// Volumes, bind mounts and tmpfs mounts, applied after the defaults in this order.
    pub mounts: Vec<Mount>,
    /// Which network namespace the container gets.
    pub network: NetworkNamespace,
    /// Capabilities, seccomp, devices, sysctls, namespace sharing, init ([`crate::security`]).
    pub security: crate::security::SecurityInput,
    /// Resource limits (`linux.resources`, rlimits, /dev/shm size), see [`crate::resources`].
    pub resources: crate::resources::ResourcePlan,
    /// `userns-remap`: a new user namespace with these mappings ([`crate::userns`]).
    pub userns: Option<crate::userns::IdMappings>,
}

/// The container's network namespace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum NetworkNamespace {
    /// A new, empty namespace (loopback only until a network attaches one).
    #[default]
    New,
    /// Join an existing namespace (`/proc/<pid>/ns/net`, or a bind-mounted netns file).
    Join(PathBuf),
    /// The host's namespace (`--network host`): no network namespace at all.
    Host,
}

/// `net.ipv4.ping_group_range` of a container with its own network namespace.
pub const DEFAULT_PING_GROUP_RANGE: &str = "0 2147483647";

/// OCI version string Docker writes.
pub const OCI_VERSION: &str = "1.0.2-dev";

/// Docker's default capability set (moby `oci/caps/defaults.go`), in Docker's order.
pub const DEFAULT_CAPS: [Capability; 14] = [
    Capability::Chown,
    Capability::DacOverride,
    Capability::Fsetid,
    Capability::Fowner,
    Capability::Mknod,
    Capability::NetRaw,
    Capability::Setgid,
    Capability::Setuid,
    Capability::Setfcap,
    Capability::Setpcap,
    Capability::NetBindService,
    Capability::SysChroot,
    Capability::Kill,
    Capability::AuditWrite,
];

/// moby `oci/defaults.go` masked paths (20.10).
pub const MASKED_PATHS: [&str; 10] = [
    "/proc/asound",
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
];

/// moby `oci/defaults.go` read-only paths.
pub const READONLY_PATHS: [&str; 5] = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn mount(dest: &str, typ: &str, source: &str, options: &[&str]) -> Mount {
    let mut m = Mount::default();
    m.set_destination(PathBuf::from(dest))
        .set_typ(Some(typ.to_string()))
        .set_source(Some(PathBuf::from(source)))
        .set_options(Some(strs(options)));
    m
}

/// Docker's default mounts, in Docker's order.
pub fn default_mounts() -> Vec<Mount> {
    vec![
        mount("/proc", "proc", "proc", &["nosuid", "noexec", "nodev"]),
        mount("/dev", "tmpfs", "tmpfs", &["nosuid", "strictatime", "mode=755", "size=65536k"]),
        mount(
            "/dev/pts",
            "devpts",
            "devpts",
            &["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
        ),
        mount("/sys", "sysfs", "sysfs", &["nosuid", "noexec", "nodev", "ro"]),
        mount("/sys/fs/cgroup", "cgroup", "cgroup", &["ro", "nosuid", "noexec", "nodev"]),
        mount("/dev/mqueue", "mqueue", "mqueue", &["nosuid", "noexec", "nodev"]),
        mount("/dev/shm", "tmpfs", "shm", &["nosuid", "noexec", "nodev", "mode=1777", "size=67108864"]),
    ]
}

/// dockerd's mount order key: the number of components of the cleaned destination.
pub fn mount_depth(p: &std::path::Path) -> usize {
    p.components().filter(|c| matches!(c, std::path::Component::Normal(_))).count()
}

/// Bind mounts of the container's resolv.conf, hostname and hosts files (Docker's order).
fn network_mounts(input: &SpecInput) -> Vec<Mount> {
    let files = [
        ("/etc/resolv.conf", &input.resolv_conf_path),
        ("/etc/hostname", &input.hostname_path),
        ("/etc/hosts", &input.hosts_path),
    ];
    // dockerd's order: `ro` between `rbind` and `rprivate`.
    let opts = if input.readonly_rootfs { vec!["rbind", "ro", "rprivate"] } else { vec!["rbind", "rprivate"] };
    files
        .iter()
        .filter_map(|(dest, src)| {
            let src = src.as_ref()?;
            Some(mount(dest, "bind", &src.to_string_lossy(), &opts))
        })
        .collect()
}

fn dev_rule(allow: bool, typ: Option<LinuxDeviceType>, major: i64, minor: i64) -> LinuxDeviceCgroup {
    let mut d = LinuxDeviceCgroup::default();
    d.set_allow(allow).set_typ(typ).set_access(Some("rwm".to_string()));
    if typ.is_some() {
        d.set_major(Some(major)).set_minor(Some(minor));
    }
    d
}

/// Docker's device cgroup rules: deny all, allow null zero full random urandom tty, console
/// and ptmx, deny tun (10:229).
pub fn default_device_rules() -> Vec<LinuxDeviceCgroup> {
    let c = Some(LinuxDeviceType::C);
    vec![
        dev_rule(false, None, 0, 0),
        dev_rule(true, c, 1, 5),
        dev_rule(true, c, 1, 3),
        dev_rule(true, c, 1, 9),
        dev_rule(true, c, 1, 8),
        dev_rule(true, c, 5, 0),
        dev_rule(true, c, 5, 1),
        dev_rule(false, c, 10, 229),
    ]
}

/// Builds the container's OCI spec.
pub fn build(input: &SpecInput) -> Spec {
    let caps: Capabilities = DEFAULT_CAPS.iter().copied().collect();
    let mut capabilities = LinuxCapabilities::default();
    capabilities
        .set_bounding(Some(caps.clone()))
        .set_effective(Some(caps.clone()))
        .set_permitted(Some(caps))
        .set_inheritable(None)
        .set_ambient(None);

    let mut user = User::default();
    user.set_uid(input.uid).set_gid(input.gid).set_additional_gids(if input.additional_gids.is_empty() {
        None
    } else {
        Some(input.additional_gids.clone())
    });

    let mut process = Process::default();
    process
        .set_terminal(if input.tty { Some(true) } else { None })
        .set_user(user)
        .set_args(Some(input.args.clone()))
        .set_env(Some(input.env.clone()))
        .set_cwd(PathBuf::from(if input.cwd.is_empty() { "/" } else { &input.cwd }))
        .set_capabilities(Some(capabilities))
        .set_rlimits(None)
        .set_no_new_privileges(None)
        .set_apparmor_profile(None)
        .set_oom_score_adj(Some(0));

    let mut root = Root::default();
    root.set_path(input.rootfs.clone()).set_readonly(if input.readonly_rootfs { Some(true) } else { None });

    // As dockerd: the container's own mounts, stably sorted by path depth, come after the
    // default mounts they do not replace.
    let mut user = network_mounts(input);
    user.extend(input.mounts.iter().cloned());
    user.sort_by_key(|m| mount_depth(m.destination()));
    let mut mounts: Vec<Mount> =
        default_mounts().into_iter().filter(|d| !user.iter().any(|u| u.destination() == d.destination())).collect();
    mounts.extend(user);

    let namespaces = [
        LinuxNamespaceType::Mount,
        LinuxNamespaceType::Network,
        LinuxNamespaceType::Uts,
        LinuxNamespaceType::Pid,
        LinuxNamespaceType::Ipc,
    ]
    .into_iter()
    .filter(|t| !(*t == LinuxNamespaceType::Network && input.network == NetworkNamespace::Host))
    .map(|t| {
        let mut ns = LinuxNamespace::default();
        let path = match (&input.network, t) {
            (NetworkNamespace::Join(p), LinuxNamespaceType::Network) => Some(p.clone()),
            _ => None,
        };
        ns.set_typ(t).set_path(path);
        ns
    })
    .collect::<Vec<_>>();

    let mut resources = LinuxResources::default();
    resources
        .set_devices(Some(default_device_rules()))
        .set_memory(None)
        .set_cpu(None)
        .set_pids(None)
        .set_block_io(None)
        .set_hugepage_limits(None)
        .set_network(None)
        .set_rdma(None)
        .set_unified(None);

    let sysctl: HashMap<String, String> =
        [("net.ipv4.ip_unprivileged_port_start", "0"), ("net.ipv4.ping_group_range", DEFAULT_PING_GROUP_RANGE)]
            .into_iter()
            // As dockerd: network sysctls only in a namespace of the container's own.
            .filter(|_| input.network != NetworkNamespace::Host)
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();

    let mut linux = oci_spec::runtime::Linux::default();
    linux
        .set_uid_mappings(None)
        .set_gid_mappings(None)
        .set_sysctl(Some(sysctl))
        .set_resources(Some(resources))
        .set_cgroups_path(if input.cgroups_path.is_empty() { None } else { Some(PathBuf::from(&input.cgroups_path)) })
        .set_namespaces(Some(namespaces))
        .set_devices(None)
        .set_seccomp(None)
        .set_rootfs_propagation(None)
        .set_masked_paths(Some(strs(&MASKED_PATHS)))
        .set_readonly_paths(Some(strs(&READONLY_PATHS)))
        .set_mount_label(None)
        .set_intel_rdt(None)
        .set_personality(None);

    let mut spec = Spec::default();
    spec.set_version(OCI_VERSION.to_string())
        .set_root(Some(root))
        .set_mounts(Some(mounts))
        .set_process(Some(process))
        .set_hostname(if input.hostname.is_empty() { None } else { Some(input.hostname.clone()) })
        .set_domainname(None)
        .set_hooks(None)
        .set_annotations(None)
        .set_linux(Some(linux));
    if let Err(e) = crate::security::apply(&mut spec, &input.security) {
        // The engine validates profiles at create; should one still fail, fail closed.
        tracing::error!(error = %e, "seccomp profile unusable; denying every syscall");
        crate::security::deny_all(&mut spec);
    }
    crate::resources::apply(&mut spec, &input.resources);
    if let Some(m) = &input.userns {
        crate::userns::apply(&mut spec, m);
    }
    spec
}

#[cfg(test)]
mod tests {

    fn net_ns(input: &SpecInput) -> Option<Option<PathBuf>> {
        let spec = build(input);
        let nss = spec.linux().as_ref().and_then(|l| l.namespaces().clone()).unwrap_or_default();
        nss.iter().find(|n| n.typ() == LinuxNamespaceType::Network).map(|n| n.path().clone())
    }

    #[test]
    fn network_namespace_variants() {
        let mut input = SpecInput { rootfs: "/r".into(), ..Default::default() };
        assert_eq!(net_ns(&input), Some(None), "a new namespace by default");
        input.network = NetworkNamespace::Join("/proc/42/ns/net".into());
        assert_eq!(net_ns(&input), Some(Some(PathBuf::from("/proc/42/ns/net"))));
        input.network = NetworkNamespace::Host;
        assert_eq!(net_ns(&input), None, "host networking has no network namespace");
    }

    #[test]
    fn extra_mounts_come_after_the_defaults() {
        let mut m = Mount::default();
        m.set_destination("/data".into()).set_typ(Some("bind".into())).set_source(Some("/srv".into()));
        let input = SpecInput { rootfs: "/r".into(), mounts: vec![m.clone()], ..Default::default() };
        let spec = build(&input);
        assert_eq!(spec.mounts().as_ref().and_then(|v| v.last()), Some(&m));
    }

    use super::*;

    #[test]
    fn tty_and_readonly_flags() {
        let input = SpecInput {
            args: vec!["sh".into()],
            tty: true,
            readonly_rootfs: true,
            hosts_path: Some("/x/hosts".into()),
            ..Default::default()
        };
        let spec = build(&input);
        let p = spec.process().as_ref().expect("process");
        assert_eq!(p.terminal(), Some(true));
        assert_eq!(p.cwd(), &PathBuf::from("/"));
        assert_eq!(spec.root().as_ref().and_then(|r| r.readonly()), Some(true));
        let mounts = spec.mounts().as_ref().expect("mounts");
        let hosts = mounts.last().expect("hosts mount");
        assert_eq!(hosts.destination(), &PathBuf::from("/etc/hosts"));
        assert!(hosts.options().as_ref().expect("opts").contains(&"ro".to_string()));
        assert!(spec.linux().as_ref().expect("linux").cgroups_path().is_none());
    }

    #[test]
    fn no_rlimits_are_set() {
        let spec = build(&SpecInput::default());
        assert!(spec.process().as_ref().expect("process").rlimits().is_none());
    }
}
