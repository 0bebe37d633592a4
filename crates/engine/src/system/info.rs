//! `SystemInfo`: what `/info` reports.

use std::collections::HashMap;

use berth_api_types::models::{
    IndexInfo, LocalNodeState, PluginsInfo, RegistryServiceConfig, Runtime, SwarmInfo, SystemInfo,
    SystemInfoCgroupDriverEnum, SystemInfoCgroupVersionEnum,
};

use super::version::ENGINE_VERSION;
use crate::{Engine, Result};

impl Engine {
    pub async fn system_info(&self) -> Result<SystemInfo> {
        let counts = self.containers.counts();
        let cgroup_v2 = std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists();
        let runtimes = HashMap::from([
            ("berth".to_string(), Runtime { path: Some("berth-shim".into()), ..Default::default() }),
            ("runc".to_string(), Runtime { path: Some("runc".into()), ..Default::default() }),
        ]);
        Ok(SystemInfo {
            id: Some(self.daemon_id()),
            containers: Some(counts.total as i64),
            containers_running: Some(counts.running as i64),
            containers_paused: Some(counts.paused as i64),
            containers_stopped: Some(counts.stopped as i64),
            images: Some(self.images.count() as i64),
            driver: Some("overlay2".into()),
            driver_status: Some(vec![vec!["Backing Filesystem".into(), "extfs".into()]]),
            docker_root_dir: Some(self.config.data_root.display().to_string()),
            memory_limit: Some(true),
            swap_limit: Some(true),
            cpu_cfs_period: Some(true),
            cpu_cfs_quota: Some(true),
            cpu_shares: Some(true),
            cpu_set: Some(true),
            pids_limit: Some(true),
            oom_kill_disable: Some(!cgroup_v2),
            ipv4_forwarding: Some(super::read_proc_line("/proc/sys/net/ipv4/ip_forward") == "1"),
            debug: Some(false),
            nfd: Some(std::fs::read_dir("/proc/self/fd").map(|d| d.count() as i64).unwrap_or(0)),
            n_goroutines: Some(0),
            system_time: Some(chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, false)),
            logging_driver: Some("json-file".into()),
            cgroup_driver: Some(SystemInfoCgroupDriverEnum::CGROUPFS),
            cgroup_version: Some(if cgroup_v2 {
                SystemInfoCgroupVersionEnum::_2
            } else {
                SystemInfoCgroupVersionEnum::_1
            }),
            n_events_listener: Some(0),
            kernel_version: Some(super::read_proc_line("/proc/sys/kernel/osrelease")),
            operating_system: Some(os_release_field("PRETTY_NAME").unwrap_or_else(|| "Linux".into())),
            os_version: Some(os_release_field("VERSION_ID").unwrap_or_default()),
            os_type: Some("linux".into()),
            architecture: Some(std::env::consts::ARCH.into()),
            ncpu: Some(std::thread::available_parallelism().map(|n| n.get() as i64).unwrap_or(1)),
            mem_total: Some(mem_total_bytes()),
            index_server_address: Some("https://index.docker.io/v1/".into()),
            registry_config: Some(registry_service_config(&self.config.registry)),
            name: Some(super::read_proc_line("/proc/sys/kernel/hostname")),
            labels: Some(vec![]),
            experimental_build: Some(false),
            server_version: Some(ENGINE_VERSION.into()),
            runtimes: Some(runtimes),
            default_runtime: Some(self.config.default_runtime.clone()),
            live_restore_enabled: Some(true),
            init_binary: Some(String::new()),
            security_options: Some(
                std::iter::once("name=seccomp,profile=builtin".to_string())
                    .chain(self.config.userns_remap.is_some().then(|| "name=userns".to_string()))
                    .collect(),
            ),
            warnings: Some(vec![]),
            plugins: Some(PluginsInfo {
                volume: Some(vec!["local".into()]),
                network: Some(vec!["bridge".into(), "host".into(), "null".into()]),
                authorization: None,
                log: Some(vec!["json-file".into()]),
            }),
            swarm: Some(SwarmInfo { local_node_state: Some(LocalNodeState::INACTIVE), ..Default::default() }),
            http_proxy: Some(String::new()),
            https_proxy: Some(String::new()),
            no_proxy: Some(String::new()),
            ..Default::default()
        })
    }

    /// A stable id for this daemon, kept in `<data-root>/engine-id` (written by `Engine::open`).
    fn daemon_id(&self) -> String {
        std::fs::read_to_string(engine_id_path(&self.config)).map(|s| s.trim().to_string()).unwrap_or_default()
    }
}

/// `RegistryConfig` as dockerd reports it: loopback and the CIDRs of `insecure-registries`,
/// an index entry for Docker Hub (with the mirrors) and one per insecure registry name.
fn registry_service_config(c: &berth_registry::RegistryConfig) -> RegistryServiceConfig {
    let mut cidrs = vec!["127.0.0.0/8".to_string()];
    let mut index = HashMap::from([(
        "docker.io".to_string(),
        IndexInfo {
            name: Some("docker.io".into()),
            mirrors: Some(c.mirrors.clone()),
            secure: Some(true),
            official: Some(true),
        },
    )]);
    for entry in &c.insecure {
        let entry = entry.trim_start_matches("http://").trim_start_matches("https://").trim_end_matches('/');
        if entry.contains('/') {
            if !cidrs.iter().any(|c| c == entry) {
                cidrs.push(entry.to_string());
            }
        } else {
            let info = IndexInfo {
                name: Some(entry.into()),
                mirrors: Some(vec![]),
                secure: Some(false),
                official: Some(false),
            };
            index.insert(entry.to_string(), info);
        }
    }
    RegistryServiceConfig {
        insecure_registry_cidrs: Some(cidrs),
        index_configs: Some(index),
        mirrors: Some(c.mirrors.clone()),
    }
}

fn engine_id_path(config: &crate::Config) -> std::path::PathBuf {
    config.data_root.join("engine-id")
}

/// Creates `<data-root>/engine-id` (a random UUID) if it does not exist yet.
pub(crate) fn ensure_engine_id(config: &crate::Config) -> std::io::Result<()> {
    let path = engine_id_path(config);
    if path.exists() {
        return Ok(());
    }
    let b: [u8; 16] = rand::random();
    let id = format!(
        "{}-{}-{}-{}-{}",
        hex::encode(&b[0..4]),
        hex::encode(&b[4..6]),
        hex::encode(&b[6..8]),
        hex::encode(&b[8..10]),
        hex::encode(&b[10..16])
    );
    crate::fsutil::write_atomic(&path, id.as_bytes())
}

fn os_release_field(key: &str) -> Option<String> {
    let text = std::fs::read_to_string("/etc/os-release").ok()?;
    text.lines().find_map(|l| l.strip_prefix(key)?.strip_prefix('=')).map(|v| v.trim_matches('"').to_string())
}

fn mem_total_bytes() -> i64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<i64>().ok())
        })
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_config_as_dockerd_reports_it() {
        let c = berth_registry::RegistryConfig {
            insecure: vec!["10.1.0.0/16".into(), "myreg:5000".into()],
            mirrors: vec!["http://127.0.0.1:5999/".into()],
            ..Default::default()
        };
        let v = serde_json::to_value(registry_service_config(&c)).unwrap();
        assert_eq!(v["InsecureRegistryCIDRs"], serde_json::json!(["127.0.0.0/8", "10.1.0.0/16"]));
        assert_eq!(v["Mirrors"], serde_json::json!(["http://127.0.0.1:5999/"]));
        assert_eq!(
            v["IndexConfigs"]["docker.io"],
            serde_json::json!({"Name": "docker.io", "Mirrors": ["http://127.0.0.1:5999/"], "Secure": true, "Official": true})
        );
        assert_eq!(v["IndexConfigs"]["myreg:5000"]["Secure"], false);
    }
}
