//! `POST /containers/{id}/start` (ContainerStart).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use berth_runtime::shim::client::{ShimClient, ShimError};
use berth_runtime::shim::protocol::ShimConfig;
use berth_runtime::spec::{self, SpecInput};
use berth_runtime::user;
use chrono::Utc;

use super::record::Record;
use super::{files, monitor, remove_dir_if_exists, Container};
use crate::{Engine, Error, Result};

pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

impl Engine {
    /// Starts a created or exited container: mounts its rootfs, writes its /etc files and OCI
    /// bundle, spawns its shim and a monitor task. `NotModified` when already running. A
    /// process that cannot be started is recorded in the container's state (exit code 127 for a
    /// missing executable) and answered with 400, as dockerd does.
    pub async fn container_start(self: &Arc<Self>, key: &str) -> Result<()> {
        let c = self.containers.get(key)?;
        let op = c.op.lock().await;
        let status = c.status();
        // dockerd counts a container waiting to restart as running.
        if status.is_running() || status.is_restarting() {
            return Err(Error::NotModified("container already started".into()));
        }
        if !status.can_start() {
            return Err(Error::Conflict(format!("Container {} is marked for removal and cannot be started", c.id)));
        }
        // A manual start resets the restart manager, RestartCount and the manual-stop mark.
        self.restarts.reset(&c.id);
        let record = c.record();
        if record.restart_count != 0 || record.state.manually_stopped {
            c.update(|r| {
                r.restart_count = 0;
                r.state.manually_stopped = false;
                Ok(())
            })?;
        }
        match self.start_locked(&c).await {
            Ok(()) => Ok(()),
            Err(e) => {
                drop(op);
                // As dockerd: an auto-remove container that failed to start is removed at once.
                if record.host.auto_remove {
                    if let Err(de) = self.container_delete(&c.id, true, true).await {
                        tracing::warn!(id = %c.id, error = %de, "auto-removing after failed start");
                    }
                }
                Err(e)
            }
        }
    }

    /// Starts `c` with its lifecycle lock held (manual start, restart policy): launch, record,
    /// `start` event, monitor. A failure is recorded in the container's state.
    pub(crate) async fn start_locked(self: &Arc<Self>, c: &Arc<Container>) -> Result<()> {
        let record = c.record();
        match self.launch(c, &record).await {
            Ok((shim, pid)) => {
                c.set_shim(Some(shim.clone()));
                c.update(|r| r.state.started(pid, Utc::now()).map_err(|e| Error::Internal(e.to_string())))?;
                self.emit_container(&c.record(), "start", &[]);
                monitor::spawn(self.clone(), c.clone(), shim);
                self.start_health_monitor(c);
                Ok(())
            }
            Err(e) => {
                self.cleanup_after_exit(&c.id).await;
                let message = e.to_string();
                if let Err(se) =
                    c.update(|r| r.state.start_failed(&message).map_err(|t| Error::Internal(t.to_string())))
                {
                    tracing::warn!(id = %c.id, error = %se, "recording start failure");
                }
                Err(e)
            }
        }
    }

    async fn launch(&self, c: &Container, r: &Record) -> Result<(ShimClient, i32)> {
        let rootfs = self.images.mount_rootfs(&c.id)?;
        files::write_all(&c.dir, &r.config.hostname, Path::new("/etc/resolv.conf"))?;
        let exec_user = user::resolve(&rootfs, &r.config.user).map_err(|e| Error::InvalidArgument(e.to_string()))?;
        let security = self.security_input(r)?;
        let mut additional_gids = exec_user.additional_gids.clone();
        additional_gids.extend(super::security::group_add_gids(&rootfs, &r.host.security)?);
        let mounts = self.container_mounts(r)?;
        let userns = self.container_userns(r);
        let defer_network = self.userns_defers_network(r);
        // A namespace of its own on bridges: made now, its endpoints added while the shim
        // creates the container (see below).
        let premade = if defer_network { None } else { self.network_premake(r).await? };
        let network = if defer_network {
            self.write_net_files(r, false)?;
            crate::networks::NetworkSetup { namespace: spec::NetworkNamespace::New }
        } else if let Some(namespace) = premade.clone() {
            crate::networks::NetworkSetup { namespace }
        } else {
            self.network_attach(r).await?
        };
        self.userns_own_container_files(&c.dir, r)?;
        let mut args = vec![r.path.clone()];
        args.extend(r.args.iter().cloned());
        let input = SpecInput {
            args,
            env: environment_with_links(r, &exec_user.home, &self.link_env(r)),
            cwd: if r.config.working_dir.is_empty() { "/".into() } else { r.config.working_dir.clone() },
            uid: exec_user.uid,
            gid: exec_user.gid,
            additional_gids,
            hostname: r.config.hostname.clone(),
            tty: r.config.tty,
            rootfs,
            readonly_rootfs: r.host.readonly_rootfs,
            hostname_path: Some(c.dir.join("hostname")),
            hosts_path: Some(c.dir.join("hosts")),
            resolv_conf_path: Some(c.dir.join("resolv.conf")),
            cgroups_path: self.cgroup_path(&c.id),
            mounts,
            network: network.namespace,
            security,
            resources: berth_runtime::resources::plan(&r.host.resources.limits())
                .map_err(|e| Error::InvalidArgument(e.to_string()))?,
            userns,
        };
        let spec = spec::build(&input);
        let bundle = self.bundle_dir(&c.id);
        std::fs::create_dir_all(&bundle).map_err(|e| Error::io(format!("creating {}", bundle.display()), e))?;
        let json = serde_json::to_vec_pretty(&spec).map_err(|e| Error::Internal(format!("encoding OCI spec: {e}")))?;
        let config_path = bundle.join("config.json");
        std::fs::write(&config_path, json).map_err(|e| Error::io(format!("writing {}", config_path.display()), e))?;
        let state_dir = self.shim_dir(&c.id);
        // A previous run's state (exit file, socket) must not be mistaken for this one's.
        remove_dir_if_exists(&state_dir)?;
        let shim_config = ShimConfig {
            id: c.id.clone(),
            bundle,
            state_dir,
            log_path: c.log_path(),
            tty: r.config.tty,
            open_stdin: r.config.open_stdin,
            stdin_once: r.config.stdin_once,
            runtime: self.runtime_binary(r.host.runtime.as_deref()),
            runtime_root: self.config.exec_root.join("runtime"),
            hold_start: true,
        };
        // The held init is created in the premade namespace while its endpoints are added.
        let attach_premade = async {
            match premade {
                Some(_) => self.network_attach_premade(r).await,
                None => Ok(()),
            }
        };
        let (spawned, attached) =
            tokio::join!(ShimClient::spawn(&self.config.shim_binary, &shim_config), attach_premade);
        let (shim, pid) = match spawned {
            Ok(ok) => ok,
            Err(ShimError::Start { message, .. }) => return Err(Error::InvalidArgument(message)),
            Err(e) => return Err(e.into()),
        };
        // From here on a shim and the container's held init exist: any failure must take them
        // down before the caller cleans up the rootfs and state directory.
        let started = if defer_network {
            match self.attach_network_of(r, pid).await {
                Ok(()) => self.start_spawned(c, r, &shim).await,
                Err(e) => Err(e),
            }
        } else {
            match attached {
                Ok(()) => self.start_spawned(c, r, &shim).await,
                Err(e) => Err(e),
            }
        };
        match started {
            Ok(()) => Ok((shim, pid)),
            Err(e) => {
                abort_shim(&shim).await;
                Err(e)
            }
        }
    }

    /// The part of a start after the shim was spawned: open early attaches, apply the limits
    /// that need the cgroup, run the process.
    async fn start_spawned(&self, c: &Container, r: &Record, shim: &ShimClient) -> Result<()> {
        // Clients that attached before start get their streams open before the process runs.
        let mut attached = Vec::new();
        for pending in c.take_pending_attaches() {
            let (done_tx, done_rx) = tokio::sync::oneshot::channel();
            if pending.send((shim.clone(), done_tx)).is_ok() {
                attached.push(done_rx);
            }
        }
        for done in attached {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), done).await;
        }
        self.apply_created_limits(&c.id, &r.host.resources)?;
        match shim.start().await {
            Ok(()) => Ok(()),
            Err(ShimError::Remote(message)) => Err(Error::InvalidArgument(message)),
            Err(e) => Err(e.into()),
        }
    }

    /// The container's cgroup, relative to each hierarchy's root: `/<cgroup-parent>/<id>`.
    pub(crate) fn cgroup_path(&self, id: &str) -> String {
        format!("/{}/{}", self.config.cgroup_parent.trim_matches('/'), id)
    }

    /// `None` for the built-in runtime; otherwise the OCI runtime binary's name (found on PATH).
    fn runtime_binary(&self, requested: Option<&str>) -> Option<PathBuf> {
        let name = requested.unwrap_or(&self.config.default_runtime);
        (name != "berth").then(|| PathBuf::from(name))
    }

    /// After the process is gone (or never started) and its shim is done: unmount the rootfs and
    /// drop the bundle and shim state.
    pub(crate) async fn cleanup_after_exit(&self, id: &str) {
        self.network_detach(id).await;
        self.release_mounts(id);
        if let Err(e) = self.images.unmount_rootfs(id) {
            tracing::warn!(%id, error = %e, "unmounting rootfs");
        }
        for dir in [self.bundle_dir(id), self.shim_dir(id)] {
            if let Err(e) = remove_dir_if_exists(&dir) {
                tracing::warn!(%id, error = %e, "removing runtime state");
            }
        }
    }
}

/// Kills the held (or started) init of a shim whose start failed and waits until the shim has
/// reaped it, deleted the runtime state and exited, so no process of the container is left.
async fn abort_shim(shim: &ShimClient) {
    const SIGKILL: i32 = 9;
    if let Err(e) = shim.signal(SIGKILL).await {
        // Already exited (start_held kills the init itself when the runtime's start fails).
        tracing::debug!(id = %shim.id, error = %e, "killing the init of a failed start");
    }
    match tokio::time::timeout(std::time::Duration::from_secs(10), shim.wait()).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => tracing::debug!(id = %shim.id, error = %e, "waiting for the shim of a failed start"),
        Err(_) => tracing::warn!(id = %shim.id, "the shim of a failed start did not exit within 10s"),
    }
}

/// dockerd's process environment: PATH (unless set), HOSTNAME, TERM for a TTY, then the
/// container's Env replacing same-named entries, and HOME from passwd unless set.
pub fn environment(r: &Record, home: &str) -> Vec<String> {
    environment_with_links(r, home, &[])
}

/// [`environment`] with `--link` variables after the defaults (the container's Env overrides
/// them), as dockerd's `CreateDaemonEnvironment`.
pub fn environment_with_links(r: &Record, home: &str, links: &[String]) -> Vec<String> {
    let mut env = vec![format!("PATH={DEFAULT_PATH}"), format!("HOSTNAME={}", r.config.hostname)];
    if r.config.tty {
        env.push("TERM=xterm".into());
    }
    env.extend(links.iter().cloned());
    for e in &r.config.env {
        let key = e.split_once('=').map_or(e.as_str(), |(k, _)| k);
        match env.iter_mut().find(|x| x.split_once('=').map_or(x.as_str(), |(k, _)| k) == key) {
            Some(slot) => *slot = e.clone(),
            None => env.push(e.clone()),
        }
    }
    if !env.iter().any(|e| e.starts_with("HOME=")) {
        env.push(format!("HOME={}", if home.is_empty() { "/" } else { home }));
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_like_dockerd() {
        let mut r = super::super::record::sample(&"a".repeat(64), "x");
        r.config.hostname = "h".into();
        r.config.tty = true;
        r.config.env = vec!["PATH=/bin".into(), "A=1".into()];
        assert_eq!(environment(&r, "/root"), ["PATH=/bin", "HOSTNAME=h", "TERM=xterm", "A=1", "HOME=/root"]);
        r.config.tty = false;
        r.config.env = vec!["HOME=/x".into()];
        assert_eq!(environment(&r, "/root"), [&format!("PATH={DEFAULT_PATH}"), "HOSTNAME=h", "HOME=/x"]);
    }
}
