//! `POST /containers/create` (ContainerCreate).

use std::collections::BTreeMap;
use std::sync::Arc;

use berth_api_types::models::{ContainerCreateBody, ContainerCreateResponse};
use chrono::Utc;

use super::record::{self, ContainerSettings, HostSettings, Record, RECORD_VERSION};
use super::state::RunState;
use super::{names, remove_dir_if_exists, Container};
use crate::{Engine, Error, Result};

impl Engine {
    /// Creates a container: validates the name, resolves the image, merges its config, reserves
    /// the name, creates the rootfs snapshot and persists the record. On any failure nothing is
    /// left behind.
    pub async fn container_create(
        &self,
        name: Option<&str>,
        body: ContainerCreateBody,
    ) -> Result<ContainerCreateResponse> {
        let name = match name.filter(|n| !n.is_empty()) {
            Some(n) => Some(names::validate(n)?),
            None => None,
        };
        let image_ref =
            body.image.clone().filter(|i| !i.is_empty()).ok_or_else(|| {
                Error::InvalidArgument("Config cannot be empty in order to create a container".into())
            })?;
        crate::userns::verify_container(
            &body.host_config.clone().unwrap_or_default(),
            self.config.userns_remap.is_some(),
        )?;
        let image = self.images.resolve(&image_ref)?;
        let id = new_id();
        let mut settings = merge(&body, &image.config.config, &id);
        settings.healthcheck = super::health::merge(&body, image.config.config.healthcheck.as_ref());
        let (path, args) = command(&settings)?;
        let mut host = host_settings(&body);
        host.restart_policy = super::restart_policy::from_create(&body)?;
        host.security =
            super::security::from_create(&body.host_config.clone().unwrap_or_default(), host.network_mode == "host")?;
        self.check_shared_namespaces(&host.security)?;
        self.check_network_request(&host.network_mode, &host.net)?;
        let (resources, warnings) = super::resources::from_create(&body)?;
        host.resources = resources;
        let (mounts, new_volumes) = self.volumes_plan(&body, &settings.volumes)?;
        host.mounts = mounts;
        let name = match name {
            Some(n) => n,
            None => self.free_random_name(),
        };
        let record = Record {
            version: RECORD_VERSION,
            id: id.clone(),
            name,
            created: Utc::now(),
            image: image_ref,
            image_id: image.id.clone(),
            path,
            args,
            config: settings,
            host,
            state: RunState::default(),
            restart_count: 0,
            health: None,
        };
        let dir = self.containers.container_dir(&id);
        let container = Arc::new(Container::new(dir.clone(), record.clone()));
        if let Err(e) = self.containers.insert(container) {
            self.volumes_discard(&new_volumes);
            return Err(e);
        }
        if let Err(e) = self.persist_new(&dir, &record, &image.id) {
            self.containers.remove(&id);
            self.volumes_discard(&new_volumes);
            if let Err(re) = self.images.remove_rootfs(&id) {
                tracing::warn!(%id, error = %re, "cleaning up rootfs after failed create");
            }
            if let Err(re) = remove_dir_if_exists(&dir) {
                tracing::warn!(%id, error = %re, "cleaning up after failed create");
            }
            return Err(e);
        }
        self.emit_container(&record, "create", &[]);
        Ok(ContainerCreateResponse { id, warnings })
    }

    fn persist_new(&self, dir: &std::path::Path, record: &Record, image_id: &str) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
        self.images.create_rootfs(&record.id, image_id)?;
        record::save(dir, record)
    }

    fn free_random_name(&self) -> String {
        for retry in 0..10 {
            let n = names::generate(u32::from(retry >= 3));
            if self.containers.name_is_free(&n) {
                return n;
            }
        }
        names::generate(1) + &names::generate(1)
    }
}

/// 64 hex characters from 32 random bytes.
pub fn new_id() -> String {
    let bytes: [u8; 32] = rand::random();
    hex::encode(bytes)
}

/// dockerd's merge of the client's config with the image's (`daemon.merge`): user, env (image
/// variables the client did not set are appended), labels, cmd/entrypoint, working dir, stop signal.
pub fn merge(body: &ContainerCreateBody, image: &berth_image::config::ContainerConfig, id: &str) -> ContainerSettings {
    let mut env = body.env.clone().unwrap_or_default();
    for ie in image.env.iter().flatten() {
        let key = ie.split_once('=').map_or(ie.as_str(), |(k, _)| k);
        if !env.iter().any(|e| e.split_once('=').map_or(e.as_str(), |(k, _)| k) == key) {
            env.push(ie.clone());
        }
    }
    let mut labels: BTreeMap<String, String> = image.labels.clone().unwrap_or_default();
    labels.extend(body.labels.clone().unwrap_or_default());
    let user_entry = body.entrypoint.clone().filter(|e| !e.is_empty());
    let user_cmd = body.cmd.clone().filter(|c| !c.is_empty());
    let (entrypoint, cmd) = match user_entry {
        Some(e) => (Some(e), user_cmd),
        None => (image.entrypoint.clone().filter(|e| !e.is_empty()), user_cmd.or_else(|| image.cmd.clone())),
    };
    let nonempty = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
    let mut exposed: Vec<String> = body.exposed_ports.clone().unwrap_or_default();
    for p in image.exposed_ports.iter().flat_map(|m| m.keys()) {
        if !exposed.contains(p) {
            exposed.push(p.clone());
        }
    }
    let mut volumes: Vec<String> = body.volumes.clone().unwrap_or_default();
    for v in image.volumes.iter().flat_map(|m| m.keys()) {
        if !volumes.contains(v) {
            volumes.push(v.clone());
        }
    }
    ContainerSettings {
        hostname: nonempty(&body.hostname).unwrap_or_else(|| id[..12].to_string()),
        domainname: body.domainname.clone().unwrap_or_default(),
        user: nonempty(&body.user).or_else(|| image.user.clone()).unwrap_or_default(),
        env,
        cmd,
        entrypoint,
        working_dir: nonempty(&body.working_dir).or_else(|| image.working_dir.clone()).unwrap_or_default(),
        labels,
        tty: body.tty.unwrap_or(false),
        open_stdin: body.open_stdin.unwrap_or(false),
        stdin_once: body.stdin_once.unwrap_or(false),
        attach_stdin: body.attach_stdin.unwrap_or(false),
        attach_stdout: body.attach_stdout.unwrap_or(false),
        attach_stderr: body.attach_stderr.unwrap_or(false),
        stop_signal: nonempty(&body.stop_signal).or_else(|| image.stop_signal.clone()),
        stop_timeout: body.stop_timeout,
        exposed_ports: exposed,
        volumes,
        ..Default::default()
    }
}

/// Path and args from entrypoint + cmd; `No command specified` (400) when both are empty.
pub fn command(s: &ContainerSettings) -> Result<(String, Vec<String>)> {
    let mut all: Vec<String> = s.entrypoint.iter().flatten().chain(s.cmd.iter().flatten()).cloned().collect();
    if all.is_empty() {
        return Err(Error::InvalidArgument("No command specified".into()));
    }
    let path = all.remove(0);
    Ok((path, all))
}

fn host_settings(body: &ContainerCreateBody) -> HostSettings {
    let hc = body.host_config.clone().unwrap_or_default();
    HostSettings {
        auto_remove: hc.auto_remove.unwrap_or(false),
        network_mode: hc.network_mode.filter(|m| !m.is_empty()).unwrap_or_else(|| "default".into()),
        readonly_rootfs: hc.readonly_rootfs.unwrap_or(false),
        net: crate::networks::settings::from_create(body),
        runtime: hc.runtime.filter(|r| !r.is_empty()),
        console_size: hc.console_size.and_then(|v| match v.as_slice() {
            [h, w] => Some((u16::try_from(*h).unwrap_or(u16::MAX), u16::try_from(*w).unwrap_or(u16::MAX))),
            _ => None,
        }),
        binds: hc.binds.unwrap_or_default(),
        tmpfs: hc.tmpfs.unwrap_or_default().into_iter().collect(),
        volumes_from: hc.volumes_from.unwrap_or_default(),
        requested_mounts: hc.mounts.iter().flatten().map(crate::volumes::requested::RequestedMount::from_api).collect(),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_image::config::ContainerConfig as ImageCfg;

    fn image() -> ImageCfg {
        ImageCfg {
            env: Some(vec!["PATH=/usr/bin:/bin".into(), "A=image".into()]),
            cmd: Some(vec!["sh".into()]),
            working_dir: Some("/w".into()),
            labels: Some([("l".to_string(), "image".to_string()), ("m".to_string(), "image".to_string())].into()),
            ..Default::default()
        }
    }

    #[test]
    fn merges_like_dockerd() {
        let id = new_id();
        assert_eq!(id.len(), 64);
        assert!(id.chars().all(|c| c.is_ascii_hexdigit()));
        let body = ContainerCreateBody {
            env: Some(vec!["A=user".into(), "B=1".into()]),
            labels: Some([("l".to_string(), "user".to_string())].into()),
            ..Default::default()
        };
        let s = merge(&body, &image(), &id);
        assert_eq!(s.env, ["A=user", "B=1", "PATH=/usr/bin:/bin"]);
        assert_eq!(s.labels["l"], "user");
        assert_eq!(s.labels["m"], "image");
        assert_eq!(s.cmd, Some(vec!["sh".to_string()]));
        assert_eq!(s.entrypoint, None);
        assert_eq!(s.working_dir, "/w");
        assert_eq!(s.hostname, id[..12]);
        assert_eq!(command(&s).unwrap(), ("sh".to_string(), vec![]));
    }

    #[test]
    fn user_entrypoint_drops_image_cmd() {
        let mut img = image();
        img.entrypoint = Some(vec!["/init".into()]);
        let body = ContainerCreateBody { entrypoint: Some(vec!["echo".into()]), ..Default::default() };
        let s = merge(&body, &img, &new_id());
        assert_eq!(command(&s).unwrap(), ("echo".to_string(), vec![]));
        let body = ContainerCreateBody { cmd: Some(vec!["x".into(), "y".into()]), ..Default::default() };
        let s = merge(&body, &img, &new_id());
        assert_eq!(command(&s).unwrap(), ("/init".to_string(), vec!["x".to_string(), "y".to_string()]));
    }

    #[test]
    fn no_command() {
        let s = merge(&ContainerCreateBody::default(), &ImageCfg::default(), &new_id());
        assert_eq!(command(&s).unwrap_err().to_string(), "No command specified");
    }
}
