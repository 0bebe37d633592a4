//! The security part of a container's OCI spec, as dockerd 20.10 builds it: capabilities
//! (`--cap-add/--cap-drop`, `--privileged`), seccomp, no-new-privileges, devices, sysctls,
//! IPC/PID/UTS namespace sharing, and the `--init` process.
//!
//! [`SecurityInput`] is data the engine resolves (host devices, namespace paths of other
//! containers, the host's capabilities); [`apply`] is pure and runs at the end of
//! [`crate::spec::build`].

use std::collections::BTreeMap;
use std::path::PathBuf;

use oci_spec::runtime::{
    Capabilities, Capability, LinuxCapabilities, LinuxDevice, LinuxDeviceCgroup, LinuxNamespace, LinuxNamespaceType,
    Mount, Spec,
};

use crate::seccomp::{self, Host, SeccompError};

/// Where `--init` puts the init binary in the container, as dockerd does.
pub const INIT_PATH: &str = "/sbin/docker-init";

/// Every capability Linux knows, by number (`CAP_CHOWN` = 0 … `CAP_CHECKPOINT_RESTORE` = 40).
pub const ALL_CAPS: [&str; 41] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// Docker's default capability set (moby `oci/caps/defaults.go`), in Docker's order.
pub const DEFAULT_CAPS: [&str; 14] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
];

/// Bad security settings; the messages are dockerd's.
#[derive(Debug, thiserror::Error)]
pub enum SecurityError {
    #[error("unknown capability: \"{0}\"")]
    UnknownCapability(String),
    #[error(transparent)]
    Seccomp(#[from] SeccompError),
}

/// Which seccomp profile the container gets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum SeccompMode {
    /// moby's default profile.
    #[default]
    Default,
    /// `--security-opt seccomp=unconfined` (and `--privileged`): no filter.
    Unconfined,
    /// `--security-opt seccomp=FILE`: the file's content, in moby's profile format.
    Profile(String),
}

/// An IPC, PID or UTS namespace: the container's own, the host's, or another container's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ShareMode {
    #[default]
    New,
    Host,
    /// `/proc/<pid>/ns/<type>` of the container whose namespace is joined.
    Join(PathBuf),
}

/// A `--device` mapping, resolved on the host: the node to create and its cgroup access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceMapping {
    pub device: LinuxDevice,
    /// `rwm` or a subset.
    pub access: String,
}

/// The security settings of one container.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SecurityInput {
    pub privileged: bool,
    /// The container's capabilities (`CAP_*`), from [`capabilities`]; `None` = Docker's defaults.
    pub caps: Option<Vec<String>>,
    pub no_new_privileges: bool,
    pub seccomp: SeccompMode,
    /// Architecture and kernel the seccomp profile's conditions are checked against; `None`
    /// = this machine.
    pub host: Option<Host>,
    /// Host devices given to a privileged container (all of /dev).
    pub host_devices: Vec<LinuxDevice>,
    /// `--device` mappings.
    pub devices: Vec<DeviceMapping>,
    /// `--sysctl` values (added to dockerd's defaults).
    pub sysctls: BTreeMap<String, String>,
    pub ipc: ShareMode,
    /// `--ipc none`: no /dev/shm at all.
    pub ipc_none: bool,
    /// Source of /dev/shm when the IPC namespace is shared (the host's or the other container's).
    pub shm_source: Option<PathBuf>,
    pub pid: ShareMode,
    pub uts: ShareMode,
    /// `--init`: the init binary (the `berth` binary), mounted at [`INIT_PATH`].
    pub init: Option<crate::init::InitBinary>,
}

/// dockerd's normalisation of a `--cap-add/--cap-drop` list: upper case, `CAP_` prefixed,
/// `ALL` kept as is; unknown names are refused.
pub fn normalize_caps(list: &[String]) -> Result<Vec<String>, SecurityError> {
    list.iter()
        .map(|c| {
            let c = c.to_ascii_uppercase();
            if c == "ALL" {
                return Ok(c);
            }
            let c = if c.starts_with("CAP_") { c } else { format!("CAP_{c}") };
            if ALL_CAPS.contains(&c.as_str()) {
                Ok(c)
            } else {
                Err(SecurityError::UnknownCapability(c))
            }
        })
        .collect()
}

/// moby's `TweakCapabilities`: the capabilities of a container. `all` is what "all
/// capabilities" means on this host (see [`host_capabilities`]).
pub fn capabilities(
    privileged: bool,
    add: &[String],
    drop: &[String],
    all: &[String],
) -> Result<Vec<String>, SecurityError> {
    let defaults = || DEFAULT_CAPS.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    if privileged {
        return Ok(all.to_vec());
    }
    if add.is_empty() && drop.is_empty() {
        return Ok(defaults());
    }
    let add = normalize_caps(add)?;
    let drop = normalize_caps(drop)?;
    let all_word = "ALL".to_string();
    let caps = if add.contains(&all_word) {
        all.iter().filter(|c| !drop.contains(c)).cloned().collect()
    } else if drop.contains(&all_word) {
        add
    } else {
        let mut caps: Vec<String> = defaults().into_iter().filter(|c| !drop.contains(c)).collect();
        for c in add {
            if !caps.contains(&c) {
                caps.push(c);
            }
        }
        caps
    };
    Ok(caps)
}

/// This process's bounding set as a bit mask (`CapBnd` in /proc/self/status; bit n =
/// capability n): what "all capabilities" means for `--privileged`, `--cap-add ALL` and
/// `exec --privileged`. Root on some hosts lacks a few (e.g. CAP_SYS_RESOURCE); asking for
/// those would fail the start.
pub fn host_capability_mask() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("CapBnd:"))
        .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        .unwrap_or(u64::MAX)
}

/// The names of the capabilities whose bits are set in `mask`, in number order.
pub fn capability_names(mask: u64) -> Vec<String> {
    ALL_CAPS.iter().enumerate().filter(|(i, _)| mask & (1u64 << i) != 0).map(|(_, c)| c.to_string()).collect()
}

/// The capabilities this process can hand out, by name.
pub fn host_capabilities() -> Vec<String> {
    capability_names(host_capability_mask())
}

/// Refuses a sysctl that is not namespaced for this container, with runc's messages.
pub fn validate_sysctl(key: &str, ipc_host: bool, net_host: bool, uts_host: bool) -> Result<(), String> {
    let ipc = [
        "kernel.msgmax",
        "kernel.msgmnb",
        "kernel.msgmni",
        "kernel.sem",
        "kernel.shmall",
        "kernel.shmmax",
        "kernel.shmmni",
        "kernel.shm_rmid_forced",
    ];
    if ipc.contains(&key) || key.starts_with("fs.mqueue.") {
        return if ipc_host { Err(format!("sysctl {key:?} not allowed in host IPC namespace")) } else { Ok(()) };
    }
    if key.starts_with("net.") {
        return if net_host { Err(format!("sysctl {key:?} not allowed in host network namespace")) } else { Ok(()) };
    }
    if key == "kernel.domainname" || key == "kernel.hostname" {
        return if uts_host { Err(format!("sysctl {key:?} not allowed in host UTS namespace")) } else { Ok(()) };
    }
    Err(format!("sysctl {key:?} is not in a separate kernel namespace"))
}

fn cap_set(names: &[String]) -> Capabilities {
    names
        .iter()
        .filter_map(|n| serde_json::from_value::<Capability>(serde_json::Value::String(n.clone())).ok())
        .collect()
}

fn ns_of(t: LinuxNamespaceType, path: Option<PathBuf>) -> LinuxNamespace {
    let mut ns = LinuxNamespace::default();
    ns.set_typ(t).set_path(path);
    ns
}

fn bind(dest: &str, source: &std::path::Path, options: &[&str]) -> Mount {
    let mut m = Mount::default();
    m.set_destination(PathBuf::from(dest))
        .set_typ(Some("bind".into()))
        .set_source(Some(source.to_path_buf()))
        .set_options(Some(options.iter().map(|s| s.to_string()).collect()));
    m
}

/// A filter that refuses every syscall (used when a profile that passed validation still
/// cannot be converted: the container must not start unconfined).
pub fn deny_all(spec: &mut Spec) {
    if let Some(linux) = spec.linux_mut() {
        let mut s = oci_spec::runtime::LinuxSeccomp::default();
        s.set_default_action(oci_spec::runtime::LinuxSeccompAction::ScmpActErrno);
        linux.set_seccomp(Some(s));
    }
}

/// Applies the security settings to a spec built with Docker's defaults.
pub fn apply(spec: &mut Spec, s: &SecurityInput) -> Result<(), SecurityError> {
    let caps: Vec<String> = match &s.caps {
        Some(c) => c.clone(),
        None => DEFAULT_CAPS.iter().map(|c| c.to_string()).collect(),
    };
    let set = cap_set(&caps);
    let mut lc = LinuxCapabilities::default();
    lc.set_bounding(Some(set.clone()))
        .set_effective(Some(set.clone()))
        .set_permitted(Some(set))
        .set_inheritable(None)
        .set_ambient(None);

    if let Some(p) = spec.process_mut() {
        p.set_capabilities(Some(lc));
        if s.no_new_privileges {
            p.set_no_new_privileges(Some(true));
        }
        if let Some(init) = &s.init {
            let mut args = init.command_prefix();
            args.push("--".to_string());
            args.extend(p.args().iter().flatten().cloned());
            p.set_args(Some(args));
        }
    }

    let mut mounts = spec.mounts().clone().unwrap_or_default();
    if s.privileged {
        // /sys and the cgroup mount are writable in a privileged container.
        for m in mounts.iter_mut().filter(|m| m.destination().starts_with("/sys")) {
            let opts: Vec<String> = m.options().iter().flatten().filter(|o| *o != "ro").cloned().collect();
            m.set_options(Some(opts));
        }
    }
    if s.ipc_none || s.shm_source.is_some() {
        let shm = std::path::Path::new("/dev/shm");
        mounts.retain(|m| m.destination() != shm);
        if let Some(src) = &s.shm_source {
            // Among the container's own mounts (after the defaults), in dockerd's depth order.
            let defaults = crate::spec::default_mounts();
            let start =
                mounts.iter().take_while(|m| defaults.iter().any(|d| d.destination() == m.destination())).count();
            let depth = crate::spec::mount_depth(shm);
            let at = (start..mounts.len())
                .find(|&i| crate::spec::mount_depth(mounts[i].destination()) > depth)
                .unwrap_or(mounts.len());
            mounts.insert(at, bind("/dev/shm", src, &["rbind", "rprivate"]));
        }
    }
    if let Some(init) = &s.init {
        mounts.push(bind(INIT_PATH, &init.path, &["bind", "ro"]));
        if let Some(dir) = &init.lib_dir {
            mounts.push(bind(crate::init::LIB_DIR, dir, &["rbind", "ro"]));
        }
    }
    spec.set_mounts(Some(mounts));
    if s.uts == ShareMode::Host {
        spec.set_hostname(None);
    }

    let seccomp = match (&s.seccomp, s.privileged) {
        (SeccompMode::Unconfined, _) | (_, true) => None,
        (SeccompMode::Default, false) => Some(seccomp::DEFAULT_PROFILE),
        (SeccompMode::Profile(p), false) => Some(p.as_str()),
    };
    let seccomp = match seccomp {
        Some(profile) => {
            let host = s.host.clone().unwrap_or_else(Host::current);
            Some(seccomp::from_profile(profile, &caps, &host)?)
        }
        None => None,
    };

    let Some(linux) = spec.linux_mut() else { return Ok(()) };
    linux.set_seccomp(seccomp);
    let mut namespaces = linux.namespaces().clone().unwrap_or_default();
    for (t, mode) in
        [(LinuxNamespaceType::Ipc, &s.ipc), (LinuxNamespaceType::Pid, &s.pid), (LinuxNamespaceType::Uts, &s.uts)]
    {
        let at = namespaces.iter().position(|n| n.typ() == t);
        match (mode, at) {
            (ShareMode::Host, Some(i)) => {
                namespaces.remove(i);
            }
            (ShareMode::Join(p), Some(i)) => namespaces[i] = ns_of(t, Some(p.clone())),
            (ShareMode::Join(p), None) => namespaces.push(ns_of(t, Some(p.clone()))),
            _ => {}
        }
    }
    linux.set_namespaces(Some(namespaces));

    let mut sysctl = linux.sysctl().clone().unwrap_or_default();
    sysctl.extend(s.sysctls.iter().map(|(k, v)| (k.clone(), v.clone())));
    linux.set_sysctl(Some(sysctl));

    let mut devices: Vec<LinuxDevice> = s.host_devices.clone();
    devices.extend(s.devices.iter().map(|d| d.device.clone()));
    linux.set_devices(if devices.is_empty() { None } else { Some(devices) });
    if let Some(res) = linux.resources_mut() {
        let mut rules = res.devices().clone().unwrap_or_default();
        if s.privileged {
            let mut all = LinuxDeviceCgroup::default();
            all.set_allow(true).set_access(Some("rwm".into()));
            rules.push(all);
        } else {
            for d in &s.devices {
                let mut r = LinuxDeviceCgroup::from(&d.device);
                r.set_access(Some(d.access.clone()));
                rules.push(r);
            }
        }
        res.set_devices(Some(rules));
    }
    if s.privileged {
        linux.set_masked_paths(None).set_readonly_paths(None);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn cap_names_like_dockerd() {
        assert_eq!(
            normalize_caps(&v(&["sys_admin", "CAP_NET_ADMIN", "all"])).unwrap(),
            v(&["CAP_SYS_ADMIN", "CAP_NET_ADMIN", "ALL"])
        );
        assert_eq!(normalize_caps(&v(&["foo"])).unwrap_err().to_string(), "unknown capability: \"CAP_FOO\"");
    }

    #[test]
    fn tweak_capabilities() {
        let all = v(&ALL_CAPS);
        assert_eq!(capabilities(false, &[], &[], &all).unwrap().len(), 14);
        assert_eq!(capabilities(true, &[], &[], &all).unwrap(), all);
        assert_eq!(capabilities(false, &v(&["kill"]), &v(&["ALL"]), &all).unwrap(), v(&["CAP_KILL"]));
        let c = capabilities(false, &v(&["ALL"]), &v(&["sys_admin"]), &all).unwrap();
        assert_eq!(c.len(), 40);
        assert!(!c.contains(&"CAP_SYS_ADMIN".to_string()));
        let c = capabilities(false, &v(&["sys_admin"]), &v(&["chown", "CAP_NET_RAW"]), &all).unwrap();
        assert_eq!(c.len(), 13);
        assert_eq!(c.last().map(String::as_str), Some("CAP_SYS_ADMIN"));
        assert!(!c.contains(&"CAP_CHOWN".to_string()));
    }

    #[test]
    fn sysctl_namespaces() {
        assert!(validate_sysctl("kernel.msgmax", false, false, false).is_ok());
        assert!(validate_sysctl("net.ipv4.ip_forward", false, false, false).is_ok());
        assert_eq!(
            validate_sysctl("net.ipv4.ip_forward", false, true, false).unwrap_err(),
            "sysctl \"net.ipv4.ip_forward\" not allowed in host network namespace"
        );
        assert_eq!(
            validate_sysctl("kernel.foo", false, false, false).unwrap_err(),
            "sysctl \"kernel.foo\" is not in a separate kernel namespace"
        );
    }

    #[test]
    fn host_caps_parse() {
        let caps = host_capabilities();
        assert!(caps.iter().all(|c| ALL_CAPS.contains(&c.as_str())));
    }
}
