//! Seccomp profiles in moby's format, converted to the OCI `linux.seccomp` section.
//!
//! Docker's default profile is data: [`DEFAULT_PROFILE`] is moby's `profiles/seccomp/default.json`
//! (from `github.com/moby/profiles`, Apache-2.0), compiled in. [`from_profile`] applies moby's
//! rules to a profile (the default one or one the client sent with `--security-opt
//! seccomp=FILE`): the architectures come from `archMap` for the host's architecture, and each
//! syscall rule is kept only when its `includes` (arches, caps, minKernel) all hold and its
//! `excludes` do not. Pure: the caller passes the container's capabilities and the host.

use serde::Deserialize;
use serde_json::{json, Value};

use oci_spec::runtime::LinuxSeccomp;

/// moby's default seccomp profile.
pub const DEFAULT_PROFILE: &str = include_str!("seccomp/default.json");

/// A profile that cannot be used. The message is dockerd's.
#[derive(Debug, thiserror::Error)]
pub enum SeccompError {
    #[error("Decoding seccomp profile failed: {0}")]
    Decode(String),
    #[error("{0}")]
    Invalid(String),
}

/// What the conditional rules depend on: the host's architecture and kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// Go's name of the architecture (`amd64`, `arm64`, ...), as the profile's `arches` use.
    pub go_arch: String,
    /// libseccomp's name of the native architecture (`SCMP_ARCH_X86_64`, ...).
    pub scmp_arch: String,
    /// Kernel (major, minor).
    pub kernel: (u32, u32),
}

impl Host {
    /// The machine this process runs on (kernel from `/proc/sys/kernel/osrelease`).
    pub fn current() -> Host {
        let (go_arch, scmp_arch) = match std::env::consts::ARCH {
            "x86_64" => ("amd64", "SCMP_ARCH_X86_64"),
            "x86" => ("386", "SCMP_ARCH_X86"),
            "aarch64" => ("arm64", "SCMP_ARCH_AARCH64"),
            "arm" => ("arm", "SCMP_ARCH_ARM"),
            "riscv64" => ("riscv64", "SCMP_ARCH_RISCV64"),
            "s390x" => ("s390x", "SCMP_ARCH_S390X"),
            "powerpc64" => ("ppc64le", "SCMP_ARCH_PPC64LE"),
            other => (other, "SCMP_ARCH_NATIVE"),
        };
        let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
        Host { go_arch: go_arch.into(), scmp_arch: scmp_arch.into(), kernel: parse_kernel(&release).unwrap_or((0, 0)) }
    }
}

/// `6.1.0-18-amd64` → (6, 1).
fn parse_kernel(s: &str) -> Option<(u32, u32)> {
    let mut it = s.trim().split(['.', '-']);
    let major = it.next()?.parse().ok()?;
    let minor = it.next().and_then(|m| m.parse().ok()).unwrap_or(0);
    Some((major, minor))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Profile {
    default_action: String,
    #[serde(default)]
    default_errno_ret: Option<u32>,
    #[serde(default)]
    architectures: Option<Vec<String>>,
    #[serde(default)]
    arch_map: Option<Vec<ArchMap>>,
    #[serde(default)]
    flags: Option<Vec<String>>,
    #[serde(default)]
    listener_path: Option<String>,
    #[serde(default)]
    listener_metadata: Option<String>,
    #[serde(default)]
    syscalls: Option<Vec<Rule>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ArchMap {
    architecture: String,
    #[serde(default)]
    sub_architectures: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    names: Option<Vec<String>>,
    action: String,
    #[serde(default)]
    errno_ret: Option<u32>,
    #[serde(default)]
    args: Option<Vec<Value>>,
    #[serde(default)]
    includes: Option<Filter>,
    #[serde(default)]
    excludes: Option<Filter>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Filter {
    #[serde(default)]
    arches: Option<Vec<String>>,
    #[serde(default)]
    caps: Option<Vec<String>>,
    #[serde(default)]
    min_kernel: Option<String>,
}

fn kernel_at_least(host: &Host, min: &str) -> Result<bool, SeccompError> {
    let want = parse_kernel(min).ok_or_else(|| SeccompError::Invalid(format!("invalid kernel version: {min}")))?;
    Ok(host.kernel >= want)
}

/// moby's include/exclude semantics for one rule.
fn applies(rule: &Rule, caps: &[String], host: &Host) -> Result<bool, SeccompError> {
    if let Some(inc) = &rule.includes {
        if let Some(arches) = inc.arches.as_ref().filter(|a| !a.is_empty()) {
            if !arches.contains(&host.go_arch) {
                return Ok(false);
            }
        }
        if inc.caps.iter().flatten().any(|c| !caps.contains(c)) {
            return Ok(false);
        }
        if let Some(min) = inc.min_kernel.as_deref().filter(|m| !m.is_empty()) {
            if !kernel_at_least(host, min)? {
                return Ok(false);
            }
        }
    }
    if let Some(exc) = &rule.excludes {
        if exc.arches.iter().flatten().any(|a| *a == host.go_arch) {
            return Ok(false);
        }
        if exc.caps.iter().flatten().any(|c| caps.contains(c)) {
            return Ok(false);
        }
        if let Some(min) = exc.min_kernel.as_deref().filter(|m| !m.is_empty()) {
            if kernel_at_least(host, min)? {
                return Ok(false);
            }
        }
    }
    Ok(true)
}

/// Converts a moby-format profile into the OCI section for a container with capabilities
/// `caps` (`CAP_*` names) on `host`.
pub fn from_profile(profile: &str, caps: &[String], host: &Host) -> Result<LinuxSeccomp, SeccompError> {
    let p: Profile = serde_json::from_str(profile).map_err(|e| SeccompError::Decode(e.to_string()))?;
    let arch_map = p.arch_map.unwrap_or_default();
    let legacy = p.architectures.unwrap_or_default();
    if !legacy.is_empty() && !arch_map.is_empty() {
        return Err(SeccompError::Invalid("'architectures' and 'archMap' were specified in the seccomp profile, use either 'architectures' or 'archMap'".into()));
    }
    let mut arches = legacy;
    for a in arch_map.iter().filter(|a| a.architecture == host.scmp_arch) {
        arches.push(a.architecture.clone());
        arches.extend(a.sub_architectures.iter().flatten().cloned());
    }
    let mut syscalls = Vec::new();
    for rule in p.syscalls.iter().flatten() {
        if rule.name.is_some() && rule.names.is_some() {
            return Err(SeccompError::Invalid(
                "'name' and 'names' were specified in the seccomp profile, use either 'name' or 'names'".into(),
            ));
        }
        if !applies(rule, caps, host)? {
            continue;
        }
        let names: Vec<String> = match (&rule.name, &rule.names) {
            (Some(n), _) => vec![n.clone()],
            (None, Some(ns)) => ns.clone(),
            (None, None) => vec![],
        };
        let mut out = json!({ "names": names, "action": rule.action });
        if let Some(e) = rule.errno_ret {
            out["errnoRet"] = json!(e);
        }
        if let Some(args) = rule.args.as_ref().filter(|a| !a.is_empty()) {
            out["args"] = json!(args);
        }
        syscalls.push(out);
    }
    let mut section = json!({ "defaultAction": p.default_action, "syscalls": syscalls });
    if let Some(e) = p.default_errno_ret {
        section["defaultErrnoRet"] = json!(e);
    }
    if !arches.is_empty() {
        section["architectures"] = json!(arches);
    }
    if let Some(f) = p.flags.filter(|f| !f.is_empty()) {
        section["flags"] = json!(f);
    }
    if let Some(l) = p.listener_path.filter(|l| !l.is_empty()) {
        section["listenerPath"] = json!(l);
    }
    if let Some(m) = p.listener_metadata.filter(|m| !m.is_empty()) {
        section["listenerMetadata"] = json!(m);
    }
    serde_json::from_value(section).map_err(|e| SeccompError::Decode(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host() -> Host {
        Host { go_arch: "amd64".into(), scmp_arch: "SCMP_ARCH_X86_64".into(), kernel: (6, 1) }
    }

    fn rules_with(s: &LinuxSeccomp, name: &str) -> usize {
        s.syscalls().iter().flatten().filter(|r| r.names().iter().any(|n| n == name)).count()
    }

    #[test]
    fn default_profile_without_sys_admin() {
        let s = from_profile(DEFAULT_PROFILE, &["CAP_CHOWN".into()], &host()).unwrap();
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["defaultAction"], "SCMP_ACT_ERRNO");
        assert_eq!(v["architectures"], json!(["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]));
        assert_eq!(rules_with(&s, "unshare"), 0, "unshare needs CAP_SYS_ADMIN");
        assert_eq!(rules_with(&s, "arch_prctl"), 1, "amd64 rule kept");
        assert_eq!(rules_with(&s, "s390_runtime_instr"), 0, "s390 rule dropped");
        // clone with the namespace-flags mask, clone3 answered with ENOSYS.
        assert_eq!(rules_with(&s, "clone"), 1);
        let clone3 = v["syscalls"].as_array().unwrap().iter().find(|r| r["names"] == json!(["clone3"])).unwrap();
        assert_eq!(clone3["errnoRet"], 38);
        assert_eq!(rules_with(&s, "ptrace"), 1, "minKernel 4.8 holds");
    }

    #[test]
    fn default_profile_with_sys_admin() {
        let s = from_profile(DEFAULT_PROFILE, &["CAP_SYS_ADMIN".into()], &host()).unwrap();
        assert_eq!(rules_with(&s, "unshare"), 1);
        assert_eq!(rules_with(&s, "clone3"), 1, "only the allow rule, not the ENOSYS one");
        let old = Host { kernel: (4, 4), ..host() };
        let s = from_profile(DEFAULT_PROFILE, &[], &old).unwrap();
        assert_eq!(rules_with(&s, "ptrace"), 0);
    }

    #[test]
    fn bad_profiles() {
        let e = from_profile("notjson", &[], &host()).unwrap_err().to_string();
        assert!(e.starts_with("Decoding seccomp profile failed: "), "{e}");
        let e = from_profile(
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"name":"a","names":["b"],"action":"SCMP_ACT_ERRNO"}]}"#,
            &[],
            &host(),
        );
        assert!(e.is_err());
        let s = from_profile(
            r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64"],"syscalls":[{"name":"mkdir","action":"SCMP_ACT_ERRNO"}]}"#,
            &[],
            &host(),
        )
        .unwrap();
        assert_eq!(rules_with(&s, "mkdir"), 1);
        assert_eq!(parse_kernel("6.18.44-fc-v669"), Some((6, 18)));
    }
}
