//! Security flags of `run`/`create` (`--cap-add`, `--privileged`, `--security-opt`, `--device`,
//! `--sysctl`, `--ipc/--pid/--uts`, `--group-add`, `--init`) and their translation into
//! `HostConfig`, validated as the docker CLI does (same messages).

use std::collections::HashMap;

use bollard::models::{DeviceMapping, HostConfig};

use crate::error::CliError;

#[derive(clap::Args, Debug, Clone, Default)]
pub struct SecurityOpts {
    /// Add Linux capabilities
    #[arg(long = "cap-add")]
    pub cap_add: Vec<String>,
    /// Drop Linux capabilities
    #[arg(long = "cap-drop")]
    pub cap_drop: Vec<String>,
    /// Give extended privileges to this container
    #[arg(long = "privileged")]
    pub privileged: bool,
    /// Security Options
    #[arg(long = "security-opt")]
    pub security_opt: Vec<String>,
    /// Add additional groups to join
    #[arg(long = "group-add")]
    pub group_add: Vec<String>,
    /// Add a host device to the container
    #[arg(long = "device")]
    pub device: Vec<String>,
    /// Sysctl options
    #[arg(long = "sysctl")]
    pub sysctl: Vec<String>,
    /// IPC mode to use
    #[arg(long = "ipc")]
    pub ipc: Option<String>,
    /// PID namespace to use
    #[arg(long = "pid")]
    pub pid: Option<String>,
    /// UTS namespace to use
    #[arg(long = "uts")]
    pub uts: Option<String>,
    /// Run an init inside the container that forwards signals and reaps processes
    #[arg(long = "init")]
    pub init: bool,
    /// User namespace to use
    #[arg(long = "userns")]
    pub userns: Option<String>,
}

/// The docker CLI's `--security-opt` handling: `seccomp=FILE` is replaced by the file's
/// compacted JSON; `=` or `:` separates key and value.
pub fn parse_security_opts(opts: &[String]) -> Result<Vec<String>, CliError> {
    let mut out = Vec::new();
    for opt in opts {
        let kv = match opt.split_once('=') {
            Some(kv) => Some(kv),
            None if opt == "no-new-privileges" => None,
            None => Some(
                opt.split_once(':').ok_or_else(|| CliError::new(125, format!("Invalid --security-opt: {opt:?}")))?,
            ),
        };
        match kv {
            Some(("seccomp", file)) if file != "unconfined" => {
                let text = std::fs::read(file).map_err(|e| {
                    CliError::new(125, format!("opening seccomp profile ({file}) failed: open {file}: {}", io_text(&e)))
                })?;
                let v: serde_json::Value = serde_json::from_slice(&text).map_err(|e| {
                    CliError::new(125, format!("compacting json for seccomp profile ({file}) failed: {e}"))
                })?;
                out.push(format!("seccomp={v}"));
            }
            _ => out.push(opt.clone()),
        }
    }
    Ok(out)
}

fn io_text(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

fn valid_device_mode(mode: &str) -> bool {
    !mode.is_empty()
        && mode.len() <= 3
        && mode.chars().all(|c| matches!(c, 'r' | 'w' | 'm'))
        && mode.chars().collect::<std::collections::HashSet<_>>().len() == mode.len()
}

/// `--device SRC[:DST][:MODE]` as the docker CLI parses and validates it.
pub fn parse_device(spec: &str) -> Result<DeviceMapping, CliError> {
    let err = |m: String| CliError::new(125, m);
    let parts: Vec<&str> = spec.split(':').collect();
    let (src, mut dst, mut mode) = (parts[0], "", "rwm");
    match parts.len() {
        1 => {}
        2 => {
            if valid_device_mode(parts[1]) {
                mode = parts[1];
            } else {
                dst = parts[1];
            }
        }
        3 => {
            dst = parts[1];
            mode = parts[2];
            if !valid_device_mode(mode) {
                return Err(err(format!("bad mode specified: {mode}")));
            }
        }
        _ => return Err(err(format!("bad format for path: {spec}"))),
    }
    for p in [src, dst].into_iter().filter(|p| !p.is_empty()) {
        if !p.starts_with('/') {
            return Err(err(format!("{p} is not an absolute path")));
        }
    }
    let dst = if dst.is_empty() { src } else { dst };
    Ok(DeviceMapping {
        path_on_host: Some(src.to_string()),
        path_in_container: Some(dst.to_string()),
        cgroup_permissions: Some(mode.to_string()),
    })
}

/// The docker CLI's `ValidateSysctl`: only namespaced sysctls.
pub fn parse_sysctl(item: &str) -> Result<(String, String), CliError> {
    const IPC: [&str; 8] = [
        "kernel.msgmax",
        "kernel.msgmnb",
        "kernel.msgmni",
        "kernel.sem",
        "kernel.shmall",
        "kernel.shmmax",
        "kernel.shmmni",
        "kernel.shm_rmid_forced",
    ];
    let refuse = || {
        CliError::new(125, format!("invalid argument \"{item}\" for \"--sysctl\" flag: sysctl '{item}' is not allowed"))
    };
    let (k, v) = item.split_once('=').ok_or_else(refuse)?;
    if IPC.contains(&k) || k.starts_with("net.") || k.starts_with("fs.mqueue.") {
        Ok((k.to_string(), v.to_string()))
    } else {
        Err(refuse())
    }
}

impl SecurityOpts {
    /// Adds the flags to a create request's `HostConfig`.
    pub fn apply(&self, hc: &mut HostConfig) -> Result<(), CliError> {
        let nonempty = |v: &Vec<String>| (!v.is_empty()).then(|| v.clone());
        if let Some(pid) = &self.pid {
            let ok = pid.is_empty() || pid == "host" || pid.strip_prefix("container:").is_some_and(|c| !c.is_empty());
            if !ok {
                return Err(CliError::new(125, "--pid: invalid PID mode"));
            }
        }
        if let Some(uts) = &self.uts {
            if !(uts.is_empty() || uts == "host") {
                return Err(CliError::new(125, "--uts: invalid UTS mode"));
            }
        }
        if let Some(userns) = &self.userns {
            if !(userns.is_empty() || userns == "host") {
                return Err(CliError::new(125, "--userns: invalid USER mode"));
            }
        }
        let devices = self.device.iter().map(|d| parse_device(d)).collect::<Result<Vec<_>, _>>()?;
        let sysctls = self.sysctl.iter().map(|s| parse_sysctl(s)).collect::<Result<HashMap<_, _>, _>>()?;
        let security_opt = parse_security_opts(&self.security_opt)?;
        hc.cap_add = nonempty(&self.cap_add);
        hc.cap_drop = nonempty(&self.cap_drop);
        hc.privileged = Some(self.privileged);
        hc.security_opt = nonempty(&security_opt);
        hc.group_add = nonempty(&self.group_add);
        hc.devices = Some(devices);
        hc.sysctls = (!sysctls.is_empty()).then_some(sysctls);
        hc.ipc_mode = self.ipc.clone();
        hc.pid_mode = self.pid.clone();
        hc.uts_mode = self.uts.clone();
        hc.userns_mode = self.userns.clone();
        hc.init = self.init.then_some(true);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_like_docker() {
        let d = parse_device("/dev/null:/dev/mynull:rw").unwrap();
        assert_eq!(d.path_in_container.as_deref(), Some("/dev/mynull"));
        assert_eq!(d.cgroup_permissions.as_deref(), Some("rw"));
        let d = parse_device("/dev/zero:r").unwrap();
        assert_eq!((d.path_in_container.as_deref(), d.cgroup_permissions.as_deref()), (Some("/dev/zero"), Some("r")));
        assert_eq!(parse_device("/dev/null:/dev/x:rwz").unwrap_err().msg, "bad mode specified: rwz");
        assert_eq!(parse_device("/dev/null:x").unwrap_err().msg, "x is not an absolute path");
        assert_eq!(parse_device("a:b:c:d").unwrap_err().msg, "bad format for path: a:b:c:d");
    }

    #[test]
    fn sysctls_like_docker() {
        assert_eq!(parse_sysctl("net.ipv4.ip_forward=1").unwrap(), ("net.ipv4.ip_forward".into(), "1".into()));
        assert!(parse_sysctl("kernel.msgmax=65536").is_ok());
        assert_eq!(
            parse_sysctl("kernel.foo=1").unwrap_err().msg,
            "invalid argument \"kernel.foo=1\" for \"--sysctl\" flag: sysctl 'kernel.foo=1' is not allowed"
        );
    }

    #[test]
    fn security_opts_like_docker() {
        assert_eq!(parse_security_opts(&["bogus".into()]).unwrap_err().msg, "Invalid --security-opt: \"bogus\"");
        assert_eq!(
            parse_security_opts(&["seccomp=/nonexist".into()]).unwrap_err().msg,
            "opening seccomp profile (/nonexist) failed: open /nonexist: no such file or directory"
        );
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), "{\n  \"defaultAction\": \"SCMP_ACT_ALLOW\"\n}\n").unwrap();
        let opt = format!("seccomp={}", f.path().display());
        assert_eq!(
            parse_security_opts(&[opt, "no-new-privileges".into(), "seccomp=unconfined".into()]).unwrap(),
            ["seccomp={\"defaultAction\":\"SCMP_ACT_ALLOW\"}", "no-new-privileges", "seccomp=unconfined"]
        );
    }

    #[test]
    fn namespace_modes() {
        let mut hc = HostConfig::default();
        let o = SecurityOpts { pid: Some("bogus".into()), ..Default::default() };
        assert_eq!(o.apply(&mut hc).unwrap_err().msg, "--pid: invalid PID mode");
        let o = SecurityOpts { uts: Some("container:x".into()), ..Default::default() };
        assert_eq!(o.apply(&mut hc).unwrap_err().msg, "--uts: invalid UTS mode");
        let o = SecurityOpts { userns: Some("private".into()), ..Default::default() };
        assert_eq!(o.apply(&mut hc).unwrap_err().msg, "--userns: invalid USER mode");
        let o = SecurityOpts { pid: Some("container:x".into()), init: true, ..Default::default() };
        o.apply(&mut hc).unwrap();
        assert_eq!((hc.pid_mode.as_deref(), hc.init), (Some("container:x"), Some(true)));
    }
}
