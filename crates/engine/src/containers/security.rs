//! A container's security settings: what `HostConfig` asked for (capabilities, privileged,
//! `SecurityOpt`, devices, sysctls, IPC/PID/UTS modes, group-add, init), validated at create
//! with dockerd's messages, persisted in the record, echoed by inspect, and resolved at start
//! into the runtime's [`SecurityInput`] (namespace paths of other containers, host devices,
//! the init binary).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use berth_api_types::models::{DeviceMapping, HostConfig};
use berth_runtime::init::InitBinary;
use berth_runtime::seccomp::{self, Host};
use berth_runtime::security::{self as rsec, SeccompMode, SecurityInput, ShareMode};
use berth_runtime::{devices, spec};
use serde::{Deserialize, Serialize};

use super::record::Record;
use crate::{Engine, Error, Result};

/// One `--device`, as the client sent it (inspect's `HostConfig.Devices`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    pub path_on_host: String,
    pub path_in_container: String,
    pub cgroup_permissions: String,
}

/// The persisted security part of `HostConfig`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Security {
    #[serde(default)]
    pub privileged: bool,
    /// Normalised (`CAP_` prefixed, upper case) as dockerd stores them.
    #[serde(default)]
    pub cap_add: Vec<String>,
    #[serde(default)]
    pub cap_drop: Vec<String>,
    #[serde(default)]
    pub security_opt: Vec<String>,
    #[serde(default)]
    pub group_add: Vec<String>,
    #[serde(default)]
    pub devices: Vec<Device>,
    #[serde(default)]
    pub sysctls: BTreeMap<String, String>,
    /// `private` (default), `shareable`, `none`, `host`, `container:<id>`.
    #[serde(default)]
    pub ipc_mode: String,
    #[serde(default)]
    pub pid_mode: String,
    #[serde(default)]
    pub uts_mode: String,
    #[serde(default)]
    pub init: Option<bool>,
    /// `UsernsMode`: `host` leaves the daemon's `userns-remap` user namespace off.
    #[serde(default)]
    pub userns_mode: String,
}

/// What `SecurityOpt` says, parsed as dockerd's `parseSecurityOpt` does.
#[derive(Debug, Default, PartialEq, Eq)]
struct Opts {
    no_new_privileges: bool,
    seccomp: Option<String>,
}

fn parse_opts(list: &[String]) -> Result<Opts> {
    let mut o = Opts::default();
    for opt in list {
        if opt == "no-new-privileges" {
            o.no_new_privileges = true;
            continue;
        }
        if opt == "disable" {
            continue;
        }
        let kv = opt.split_once('=').or_else(|| opt.split_once(':'));
        let Some((k, v)) = kv else {
            return Err(Error::InvalidArgument(format!("invalid --security-opt 1: {opt:?}")));
        };
        match k {
            "label" | "apparmor" => {}
            "seccomp" => o.seccomp = Some(v.to_string()),
            "no-new-privileges" => {
                o.no_new_privileges = match v {
                    "1" | "t" | "T" | "true" | "TRUE" | "True" => true,
                    "0" | "f" | "F" | "false" | "FALSE" | "False" => false,
                    _ => return Err(Error::InvalidArgument(format!("invalid --security-opt 2: {opt:?}"))),
                }
            }
            _ => return Err(Error::InvalidArgument(format!("invalid --security-opt 2: {opt:?}"))),
        }
    }
    Ok(o)
}

fn seccomp_mode(o: &Opts) -> SeccompMode {
    match o.seccomp.as_deref() {
        None | Some("") | Some("builtin") => SeccompMode::Default,
        Some("unconfined") => SeccompMode::Unconfined,
        Some(profile) => SeccompMode::Profile(profile.to_string()),
    }
}

fn is_container_mode(mode: &str) -> Option<&str> {
    mode.strip_prefix("container:")
}

/// Validates the security part of a create request and returns what to persist. `net_host`:
/// the container uses the host's network namespace.
pub fn from_create(hc: &HostConfig, net_host: bool) -> Result<Security> {
    let cap_add = rsec::normalize_caps(hc.cap_add.as_deref().unwrap_or_default())
        .map_err(|e| Error::InvalidArgument(format!("invalid CapAdd: {e}")))?;
    let cap_drop = rsec::normalize_caps(hc.cap_drop.as_deref().unwrap_or_default())
        .map_err(|e| Error::InvalidArgument(format!("invalid CapDrop: {e}")))?;
    let privileged = hc.privileged.unwrap_or(false);
    let mut security_opt = hc.security_opt.clone().unwrap_or_default();
    let opts = parse_opts(&security_opt)?;
    if let SeccompMode::Profile(p) = seccomp_mode(&opts) {
        seccomp::from_profile(&p, &[], &Host::current()).map_err(|e| Error::InvalidArgument(e.to_string()))?;
    }
    let ipc_mode = match hc.ipc_mode.as_deref().unwrap_or("") {
        "" => "private".to_string(),
        m @ ("private" | "shareable" | "none" | "host") => m.to_string(),
        m if is_container_mode(m).is_some_and(|id| !id.is_empty()) => m.to_string(),
        m => return Err(Error::InvalidArgument(format!("Invalid IPC mode: {m}"))),
    };
    let pid_mode = hc.pid_mode.clone().unwrap_or_default();
    let uts_mode = hc.uts_mode.clone().unwrap_or_default();
    let sysctls: BTreeMap<String, String> = hc.sysctls.clone().unwrap_or_default().into_iter().collect();
    for k in sysctls.keys() {
        rsec::validate_sysctl(k, ipc_mode == "host", net_host, uts_mode == "host").map_err(Error::InvalidArgument)?;
    }
    let mut devices = Vec::new();
    for d in hc.devices.iter().flatten() {
        let dev = device(d);
        devices::from_path(&dev.path_on_host, &dev.path_in_container, &dev.cgroup_permissions)
            .map_err(|e| Error::InvalidArgument(e.to_string()))?;
        devices.push(dev);
    }
    // As dockerd: SELinux labelling is disabled for containers sharing the host's IPC or PID
    // namespace, and for privileged ones.
    if (ipc_mode == "host" || pid_mode == "host" || privileged) && !security_opt.iter().any(|o| o == "label=disable") {
        security_opt.push("label=disable".into());
    }
    Ok(Security {
        privileged,
        cap_add,
        cap_drop,
        security_opt,
        group_add: hc.group_add.clone().unwrap_or_default(),
        devices,
        sysctls,
        ipc_mode,
        pid_mode,
        uts_mode,
        init: hc.init,
        userns_mode: hc.userns_mode.clone().unwrap_or_default(),
    })
}

fn device(d: &DeviceMapping) -> Device {
    let host = d.path_on_host.clone().unwrap_or_default();
    let inside = d.path_in_container.clone().filter(|p| !p.is_empty()).unwrap_or_else(|| host.clone());
    let perms = d.cgroup_permissions.clone().filter(|p| !p.is_empty()).unwrap_or_else(|| "rwm".into());
    Device { path_on_host: host, path_in_container: inside, cgroup_permissions: perms }
}

/// Fills inspect's `HostConfig` security fields with dockerd's shapes.
pub fn echo(s: &Security, hc: &mut HostConfig) {
    let some = |v: &Vec<String>| (!v.is_empty()).then(|| v.clone());
    hc.privileged = Some(s.privileged);
    hc.cap_add = some(&s.cap_add);
    hc.cap_drop = some(&s.cap_drop);
    hc.security_opt = some(&s.security_opt);
    hc.group_add = some(&s.group_add);
    hc.devices = Some(
        s.devices
            .iter()
            .map(|d| DeviceMapping {
                path_on_host: Some(d.path_on_host.clone()),
                path_in_container: Some(d.path_in_container.clone()),
                cgroup_permissions: Some(d.cgroup_permissions.clone()),
            })
            .collect(),
    );
    hc.sysctls = (!s.sysctls.is_empty()).then(|| s.sysctls.clone().into_iter().collect());
    hc.ipc_mode = Some(if s.ipc_mode.is_empty() { "private".into() } else { s.ipc_mode.clone() });
    hc.pid_mode = Some(s.pid_mode.clone());
    hc.uts_mode = Some(s.uts_mode.clone());
    hc.init = s.init;
    hc.userns_mode = Some(s.userns_mode.clone());
    let strs = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    if !s.privileged {
        hc.masked_paths = Some(strs(&spec::MASKED_PATHS));
        hc.readonly_paths = Some(strs(&spec::READONLY_PATHS));
    }
}

impl Engine {
    /// Checks at create that the containers named by `container:<id>` IPC/PID modes exist.
    pub(crate) fn check_shared_namespaces(&self, s: &Security) -> Result<()> {
        for mode in [&s.ipc_mode, &s.pid_mode, &s.uts_mode] {
            if let Some(id) = is_container_mode(mode) {
                self.containers.get(id).map_err(|_| Error::InvalidArgument(format!("No such container: {id}")))?;
            }
        }
        Ok(())
    }

    /// The pid of the running container whose `ns` namespace a `container:<id>` mode joins,
    /// with dockerd's checks and messages (an IPC donor must be `shareable`).
    fn donor_pid(&self, id: &str, ns: &str) -> Result<i32> {
        let ipc = ns == "ipc";
        let prefix = |m: String| if ipc { format!("can't join IPC of container {id}: {m}") } else { m };
        let c = self.containers.get(id).map_err(|e| match e {
            Error::NotFound(m) if ipc => Error::NotFound(prefix(m)),
            Error::NotFound(m) => Error::NotFound(format!("cannot join PID of a non running container: {id}: {m}")),
            other => other,
        })?;
        let r = c.record();
        if !r.state.status.is_running() || r.state.pid <= 0 {
            return Err(Error::Conflict(prefix(format!("Container {} is not running", r.id))));
        }
        if ipc && r.host.security.ipc_mode != "shareable" {
            return Err(Error::Conflict(prefix(
                "non-shareable IPC (hint: use IpcMode:shareable for the donor container)".into(),
            )));
        }
        Ok(r.state.pid)
    }

    fn share_mode(&self, mode: &str, ns: &str) -> Result<(ShareMode, Option<i32>)> {
        if mode == "host" {
            return Ok((ShareMode::Host, None));
        }
        match is_container_mode(mode) {
            Some(id) => {
                let pid = self.donor_pid(id, ns)?;
                Ok((ShareMode::Join(PathBuf::from(format!("/proc/{pid}/ns/{ns}"))), Some(pid)))
            }
            None => Ok((ShareMode::New, None)),
        }
    }

    /// The runtime's security input for a container about to start.
    pub(crate) fn security_input(&self, r: &Record) -> Result<SecurityInput> {
        let s = &r.host.security;
        let opts = parse_opts(&s.security_opt)?;
        let all = rsec::host_capabilities();
        let caps = rsec::capabilities(s.privileged, &s.cap_add, &s.cap_drop, &all)
            .map_err(|e| Error::InvalidArgument(e.to_string()))?;
        let mut devs = Vec::new();
        for d in &s.devices {
            devs.extend(
                devices::from_path(&d.path_on_host, &d.path_in_container, &d.cgroup_permissions)
                    .map_err(|e| Error::InvalidArgument(e.to_string()))?,
            );
        }
        let (ipc, ipc_pid) = self.share_mode(&s.ipc_mode, "ipc")?;
        let shm_source = match (&ipc, ipc_pid) {
            (ShareMode::Host, _) => Some(PathBuf::from("/dev/shm")),
            (ShareMode::Join(_), Some(pid)) => Some(PathBuf::from(format!("/proc/{pid}/root/dev/shm"))),
            _ => None,
        };
        let (pid, _) = self.share_mode(&s.pid_mode, "pid")?;
        let (uts, _) = self.share_mode(&s.uts_mode, "uts")?;
        let init = if s.init == Some(true) {
            let path = super::init::install(&self.config.exec_root)
                .map_err(|e| Error::InvalidArgument(format!("exec: \"docker-init\": {e}")))?;
            Some(InitBinary { path, lib_dir: None, loader: None })
        } else {
            None
        };
        Ok(SecurityInput {
            privileged: s.privileged,
            caps: Some(caps),
            no_new_privileges: opts.no_new_privileges,
            seccomp: seccomp_mode(&opts),
            host: None,
            host_devices: if s.privileged { devices::host_devices(Path::new("/dev")) } else { Vec::new() },
            devices: devs,
            sysctls: s.sysctls.clone(),
            ipc,
            ipc_none: s.ipc_mode == "none",
            shm_source,
            pid,
            uts,
            init,
        })
    }
}

/// `--group-add` groups as gids, resolved in the container's rootfs (dockerd's message).
pub fn group_add_gids(rootfs: &Path, s: &Security) -> Result<Vec<u32>> {
    berth_runtime::user::group_ids(rootfs, &s.group_add).map_err(|e| match e {
        berth_runtime::user::UserError::NoGroup(g) => {
            Error::InvalidArgument(format!("Unable to find group {g}: no matching entries in group file"))
        }
        other => Error::InvalidArgument(other.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hc() -> HostConfig {
        HostConfig::default()
    }

    #[test]
    fn validation_messages_are_dockerds() {
        let e = |h: HostConfig| from_create(&h, false).unwrap_err().to_string();
        assert_eq!(
            e(HostConfig { cap_add: Some(vec!["FOO".into()]), ..hc() }),
            "invalid CapAdd: unknown capability: \"CAP_FOO\""
        );
        assert_eq!(
            e(HostConfig { cap_drop: Some(vec!["cap_foo".into()]), ..hc() }),
            "invalid CapDrop: unknown capability: \"CAP_FOO\""
        );
        assert_eq!(
            e(HostConfig { security_opt: Some(vec!["bogus".into()]), ..hc() }),
            "invalid --security-opt 1: \"bogus\""
        );
        assert_eq!(
            e(HostConfig { security_opt: Some(vec!["foo=bar".into()]), ..hc() }),
            "invalid --security-opt 2: \"foo=bar\""
        );
        assert_eq!(
            e(HostConfig { security_opt: Some(vec!["no-new-privileges=maybe".into()]), ..hc() }),
            "invalid --security-opt 2: \"no-new-privileges=maybe\""
        );
        assert!(e(HostConfig { security_opt: Some(vec!["seccomp=notjson".into()]), ..hc() })
            .starts_with("Decoding seccomp profile failed: "));
        assert_eq!(e(HostConfig { ipc_mode: Some("bogus".into()), ..hc() }), "Invalid IPC mode: bogus");
        let sysctl = |k: &str| Some([(k.to_string(), "1".to_string())].into_iter().collect());
        assert_eq!(
            e(HostConfig { sysctls: sysctl("kernel.foo"), ..hc() }),
            "sysctl \"kernel.foo\" is not in a separate kernel namespace"
        );
        assert_eq!(
            from_create(&HostConfig { sysctls: sysctl("net.ipv4.ip_forward"), ..hc() }, true).unwrap_err().to_string(),
            "sysctl \"net.ipv4.ip_forward\" not allowed in host network namespace"
        );
        let dev = DeviceMapping { path_on_host: Some("/dev/nonexist".into()), ..Default::default() };
        assert_eq!(
            e(HostConfig { devices: Some(vec![dev]), ..hc() }),
            "error gathering device information while adding custom device \"/dev/nonexist\": no such file or directory"
        );
    }

    #[test]
    fn stored_and_echoed_like_dockerd() {
        let h = HostConfig {
            cap_add: Some(vec!["sys_admin".into()]),
            security_opt: Some(vec!["no-new-privileges".into()]),
            pid_mode: Some("host".into()),
            devices: Some(vec![DeviceMapping { path_on_host: Some("/dev/null".into()), ..Default::default() }]),
            init: Some(true),
            ..hc()
        };
        let s = from_create(&h, false).unwrap();
        assert_eq!(s.cap_add, ["CAP_SYS_ADMIN"]);
        assert_eq!(s.security_opt, ["no-new-privileges", "label=disable"]);
        assert_eq!(s.ipc_mode, "private");
        let mut out = HostConfig::default();
        echo(&s, &mut out);
        let v = serde_json::to_value(&out).unwrap();
        assert_eq!(v["CapAdd"], serde_json::json!(["CAP_SYS_ADMIN"]));
        assert_eq!(v["IpcMode"], "private");
        assert_eq!(v["PidMode"], "host");
        assert_eq!(v["Init"], true);
        assert_eq!(v["Devices"][0]["PathInContainer"], "/dev/null");
        assert_eq!(v["Devices"][0]["CgroupPermissions"], "rwm");
        assert_eq!(v["MaskedPaths"].as_array().map(Vec::len), Some(10));
        let o = parse_opts(&["seccomp:unconfined".into(), "no-new-privileges=false".into()]).unwrap();
        assert_eq!(seccomp_mode(&o), SeccompMode::Unconfined);
        assert!(!o.no_new_privileges);
    }
}
