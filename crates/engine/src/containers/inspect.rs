//! `GET /containers/{id}/json` (ContainerInspect).

use std::collections::HashMap;

use berth_api_types::models::{
    ContainerConfig, ContainerInspectResponse, ContainerState, ContainerStateStatusEnum, HostConfig,
    HostConfigLogConfig, NetworkSettings,
};
use chrono::{DateTime, SecondsFormat, Utc};

use super::record::Record;
use super::state::Status;
use crate::{Engine, Result};

/// Go's zero time, which dockerd prints for timestamps that never happened.
pub const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

fn time(t: Option<DateTime<Utc>>) -> String {
    t.map_or_else(|| ZERO_TIME.to_string(), |t| t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

fn state_enum(s: Status) -> ContainerStateStatusEnum {
    match s {
        Status::Created => ContainerStateStatusEnum::CREATED,
        Status::Running => ContainerStateStatusEnum::RUNNING,
        Status::Restarting => ContainerStateStatusEnum::RESTARTING,
        Status::Exited => ContainerStateStatusEnum::EXITED,
        Status::Removing => ContainerStateStatusEnum::REMOVING,
        Status::Dead => ContainerStateStatusEnum::DEAD,
    }
}

/// The inspect document for a record. `paths` = (hostname, hosts, resolv.conf, log) once the
/// container has been started, empty strings before, as dockerd reports them.
pub fn inspect(r: &Record, dir: &std::path::Path, runtime: &str) -> ContainerInspectResponse {
    let s = &r.state;
    let started = s.started_at.is_some() || s.status == Status::Running;
    let path_of = |name: String| if started { dir.join(name).display().to_string() } else { String::new() };
    let cfg = &r.config;
    let mut resp = ContainerInspectResponse {
        id: Some(r.id.clone()),
        created: Some(r.created.to_rfc3339_opts(SecondsFormat::Nanos, true)),
        path: Some(r.path.clone()),
        args: Some(r.args.clone()),
        state: Some(ContainerState {
            status: Some(if s.paused { ContainerStateStatusEnum::PAUSED } else { state_enum(s.status) }),
            running: Some(matches!(s.status, Status::Running | Status::Restarting)),
            paused: Some(s.paused),
            restarting: Some(s.status == Status::Restarting),
            oom_killed: Some(s.oom_killed),
            dead: Some(s.status == Status::Dead),
            pid: Some(i64::from(s.pid)),
            exit_code: Some(s.exit_code),
            error: Some(s.error.clone()),
            started_at: Some(time(s.started_at)),
            finished_at: Some(time(s.finished_at)),
            health: cfg.healthcheck.as_ref().and(r.health.as_ref()).and_then(|h| h.to_api()),
        }),
        image: Some(r.image_id.clone()),
        resolv_conf_path: Some(path_of("resolv.conf".into())),
        hostname_path: Some(path_of("hostname".into())),
        hosts_path: Some(path_of("hosts".into())),
        log_path: Some(path_of(format!("{}-json.log", r.id))),
        name: Some(format!("/{}", r.name)),
        restart_count: Some(r.restart_count),
        driver: Some("overlay2".into()),
        platform: Some("linux".into()),
        mount_label: Some(String::new()),
        process_label: Some(String::new()),
        app_armor_profile: Some(String::new()),
        host_config: Some(HostConfig {
            container_id_file: Some(String::new()),
            log_config: Some(HostConfigLogConfig { typ: Some("json-file".into()), config: Some(HashMap::new()) }),
            network_mode: Some(r.host.network_mode.clone()),
            restart_policy: Some(r.host.restart_policy.to_api()),
            auto_remove: Some(r.host.auto_remove),
            volume_driver: Some(String::new()),
            readonly_rootfs: Some(r.host.readonly_rootfs),
            privileged: Some(false),
            publish_all_ports: Some(false),
            runtime: Some(r.host.runtime.clone().unwrap_or_else(|| runtime.to_string())),
            console_size: Some(r.host.console_size.map_or(vec![0, 0], |(h, w)| vec![usize::from(h), usize::from(w)])),
            binds: (!r.host.binds.is_empty()).then(|| r.host.binds.clone()),
            tmpfs: (!r.host.tmpfs.is_empty()).then(|| r.host.tmpfs.clone().into_iter().collect()),
            volumes_from: (!r.host.volumes_from.is_empty()).then(|| r.host.volumes_from.clone()),
            mounts: (!r.host.requested_mounts.is_empty())
                .then(|| r.host.requested_mounts.iter().map(|m| m.to_api()).collect()),
            ..Default::default()
        }),
        mounts: Some(vec![]),
        config: Some(ContainerConfig {
            hostname: Some(cfg.hostname.clone()),
            domainname: Some(cfg.domainname.clone()),
            user: Some(cfg.user.clone()),
            attach_stdin: Some(cfg.attach_stdin),
            attach_stdout: Some(cfg.attach_stdout),
            attach_stderr: Some(cfg.attach_stderr),
            exposed_ports: (!cfg.exposed_ports.is_empty()).then(|| cfg.exposed_ports.clone()),
            tty: Some(cfg.tty),
            open_stdin: Some(cfg.open_stdin),
            stdin_once: Some(cfg.stdin_once),
            env: Some(cfg.env.clone()),
            cmd: cfg.cmd.clone(),
            image: Some(r.image.clone()),
            volumes: (!cfg.volumes.is_empty()).then(|| cfg.volumes.clone()),
            working_dir: Some(cfg.working_dir.clone()),
            entrypoint: cfg.entrypoint.clone(),
            labels: Some(cfg.labels.clone().into_iter().collect()),
            stop_signal: cfg.stop_signal.clone(),
            stop_timeout: cfg.stop_timeout,
            healthcheck: cfg.healthcheck.as_ref().map(|h| h.to_api()),
            ..Default::default()
        }),
        network_settings: Some(NetworkSettings {
            sandbox_id: Some(String::new()),
            sandbox_key: Some(String::new()),
            ports: Some(HashMap::new()),
            networks: Some(HashMap::new()),
        }),
        ..Default::default()
    };
    if let Some(hc) = resp.host_config.as_mut() {
        super::security::echo(&r.host.security, hc);
    }
    resp
}

impl Engine {
    pub async fn container_inspect(&self, key: &str) -> Result<ContainerInspectResponse> {
        let c = self.containers.get(key)?;
        let record = c.record();
        let mut resp = inspect(&record, &c.dir, &self.config.default_runtime);
        resp.mounts = Some(self.mount_points(&record));
        resp.network_settings = Some(self.container_network_settings(&record));
        resp.graph_driver = Some(berth_api_types::models::DriverData {
            name: "overlay2".into(),
            data: self.images.rootfs_dirs(&c.id).unwrap_or_default(),
        });
        resp.exec_ids = self.exec_ids(&record);
        if let Some(hc) = resp.host_config.as_mut() {
            record.host.resources.fill_inspect(hc);
        }
        Ok(resp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_matches_dockerd_for_created_and_running() {
        let mut r = crate::containers::record::sample(&"a".repeat(64), "golden1");
        let dir = std::path::Path::new("/d/containers/aaa");
        let v = serde_json::to_value(inspect(&r, dir, "berth")).unwrap();
        assert_eq!(v["Name"], "/golden1");
        assert_eq!(v["State"]["Status"], "created");
        assert_eq!(v["State"]["StartedAt"], ZERO_TIME);
        assert_eq!(v["State"]["Error"], "");
        assert_eq!(v["LogPath"], "");
        assert_eq!(v["HostConfig"]["LogConfig"]["Type"], "json-file");
        assert_eq!(v["HostConfig"]["RestartPolicy"]["Name"], "");
        assert_eq!(v["Config"]["Labels"], serde_json::json!({}));
        r.state.started(7, Utc::now()).unwrap();
        let v = serde_json::to_value(inspect(&r, dir, "berth")).unwrap();
        assert_eq!(v["State"]["Running"], true);
        assert_eq!(v["State"]["Pid"], 7);
        assert_eq!(v["HostsPath"], "/d/containers/aaa/hosts");
        // Every top-level key dockerd emits that we can know is present.
        let golden: serde_json::Value = serde_json::from_str(include_str!(
            "../../../api-types/tests/golden/dockerd/container-inspect-running.json"
        ))
        .unwrap();
        for key in [
            "Id",
            "Created",
            "Path",
            "Args",
            "State",
            "Image",
            "Name",
            "Driver",
            "Platform",
            "HostConfig",
            "Config",
            "NetworkSettings",
            "Mounts",
        ] {
            assert!(v.get(key).is_some(), "{key}");
            assert!(golden.get(key).is_some(), "{key}");
        }
        for key in golden["State"].as_object().unwrap().keys() {
            assert!(v["State"].get(key).is_some(), "State.{key}");
        }
    }
}
