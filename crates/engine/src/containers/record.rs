//! The persisted container record, `<data-root>/containers/<id>/config.v1.json`: our own
//! versioned serde struct (never the API types), written temp → fsync → rename.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::state::RunState;
use crate::{Error, Result};

pub const RECORD_FILE: &str = "config.v1.json";
pub const RECORD_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub version: u32,
    pub id: String,
    /// Without the leading `/`.
    pub name: String,
    pub created: DateTime<Utc>,
    /// The image as the client named it.
    pub image: String,
    /// `sha256:<hex>`.
    pub image_id: String,
    /// Executable and arguments (entrypoint + cmd).
    pub path: String,
    pub args: Vec<String>,
    pub config: ContainerSettings,
    pub host: HostSettings,
    pub state: RunState,
    #[serde(default)]
    pub restart_count: i64,
    /// `State.Health` (`health.rs`), when the container has a healthcheck.
    #[serde(default)]
    pub health: Option<super::health::HealthState>,
}

/// The container's effective config (client's merged with the image's).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ContainerSettings {
    pub hostname: String,
    pub domainname: String,
    pub user: String,
    pub env: Vec<String>,
    pub cmd: Option<Vec<String>>,
    pub entrypoint: Option<Vec<String>>,
    pub working_dir: String,
    pub labels: BTreeMap<String, String>,
    pub tty: bool,
    pub open_stdin: bool,
    pub stdin_once: bool,
    pub attach_stdin: bool,
    pub attach_stdout: bool,
    pub attach_stderr: bool,
    pub stop_signal: Option<String>,
    pub stop_timeout: Option<i64>,
    #[serde(default)]
    pub exposed_ports: Vec<String>,
    #[serde(default)]
    pub volumes: Vec<String>,
    /// `Config.Healthcheck`, merged with the image's (`health.rs`).
    #[serde(default)]
    pub healthcheck: Option<super::health::HealthConfig>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HostSettings {
    pub auto_remove: bool,
    #[serde(default)]
    pub network_mode: String,
    #[serde(default)]
    pub readonly_rootfs: bool,
    #[serde(default)]
    pub runtime: Option<String>,
    #[serde(default)]
    pub console_size: Option<(u16, u16)>,
    /// Ports, DNS, extra hosts, endpoint requests (the networking part of the request).
    #[serde(default)]
    pub net: crate::networks::settings::NetSettings,
    /// Volume, bind and tmpfs mounts, resolved at create (`crate::volumes::spec`).
    #[serde(default)]
    pub mounts: Vec<crate::volumes::spec::MountPoint>,
    /// `HostConfig.Binds`, `Tmpfs` and `VolumesFrom` as the client sent them (for inspect).
    #[serde(default)]
    pub binds: Vec<String>,
    #[serde(default)]
    pub tmpfs: BTreeMap<String, String>,
    #[serde(default)]
    pub volumes_from: Vec<String>,
    /// `HostConfig.Mounts` as the client sent them (echoed by inspect).
    #[serde(default)]
    pub requested_mounts: Vec<crate::volumes::requested::RequestedMount>,
    /// `HostConfig.RestartPolicy` (`restart_policy.rs`).
    #[serde(default)]
    pub restart_policy: super::restart_policy::RestartPolicy,
    /// Capabilities, privileged, SecurityOpt, devices, sysctls, IPC/PID/UTS modes, init.
    #[serde(default)]
    pub security: super::security::Security,
    /// Memory, CPU, pids, blkio limits, ulimits, shm size (`resources.rs`).
    #[serde(default)]
    pub resources: super::resources::Resources,
}

impl Record {
    pub fn short_id(&self) -> &str {
        &self.id[..12.min(self.id.len())]
    }
}

pub fn record_path(dir: &Path) -> PathBuf {
    dir.join(RECORD_FILE)
}

/// Atomically replaces `<dir>/config.v1.json`.
pub fn save(dir: &Path, record: &Record) -> Result<()> {
    let path = record_path(dir);
    let data =
        serde_json::to_vec_pretty(record).map_err(|e| Error::Internal(format!("encoding container record: {e}")))?;
    crate::fsutil::write_atomic(&path, &data).map_err(|e| Error::io(format!("writing {}", path.display()), e))
}

pub fn load(dir: &Path) -> Result<Record> {
    let path = record_path(dir);
    let data = std::fs::read(&path).map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
    let record: Record =
        serde_json::from_slice(&data).map_err(|e| Error::Internal(format!("decoding {}: {e}", path.display())))?;
    if record.version != RECORD_VERSION {
        return Err(Error::Internal(format!("{}: unsupported record version {}", path.display(), record.version)));
    }
    Ok(record)
}

#[cfg(test)]
pub(crate) fn sample(id: &str, name: &str) -> Record {
    Record {
        version: RECORD_VERSION,
        id: id.to_string(),
        name: name.to_string(),
        created: Utc::now(),
        image: "busybox".into(),
        image_id: "sha256:abc".into(),
        path: "sh".into(),
        args: vec![],
        config: ContainerSettings::default(),
        host: HostSettings::default(),
        state: RunState::default(),
        restart_count: 0,
        health: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let d = tempfile::tempdir().unwrap();
        let r = sample(&"a".repeat(64), "web");
        save(d.path(), &r).unwrap();
        assert_eq!(load(d.path()).unwrap(), r);
        let raw: serde_json::Value = serde_json::from_slice(&std::fs::read(record_path(d.path())).unwrap()).unwrap();
        assert_eq!(raw["version"], 1);
        assert!(!d.path().join(".config.v1.json.tmp").exists());
    }
}
