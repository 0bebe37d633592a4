//! The berth daemon core: every Docker Engine operation as a method on [`Engine`].
//!
//! Operations live one per file, named after the swagger operationId
//! (`containers/create.rs` → `Engine::container_create`), grouped by area: [`containers`],
//! [`images`], [`system`]. The container lifecycle state machine is owned here
//! (`containers::state`). Images and layers are kept by `berth-store`; processes are run by
//! `berth-runtime` shims. Every operation reports what it did on the [`events`] bus
//! (`GET /events`); restart policies and healthchecks follow containers as they exit
//! (`containers::restart_policy`, `containers::health`). With `userns-remap`, [`userns`] resolves
//! the remapped root and puts every container in a user namespace over its id ranges.
//!
//! No HTTP and no `unsafe` here: the API server parses requests into these calls, and kernel
//! calls go through `berth-kernel`. Errors carry an [`ErrorKind`] the API server maps to a
//! status code.

pub mod build;
pub mod config;
pub mod containers;
pub mod error;
pub mod events;
pub mod exec;
pub mod fsutil;
pub mod images;
pub mod networks;
mod prune_filters;
pub mod system;
pub mod userns;
pub mod volumes;

use std::sync::Arc;

pub use config::Config;
pub use error::{Error, ErrorKind, Result};

/// The daemon core. Cheap to share: handlers hold an `Arc<Engine>`.
pub struct Engine {
    pub config: Config,
    pub(crate) images: images::Images,
    pub(crate) containers: containers::Containers,
    pub(crate) networks: networks::Networks,
    pub(crate) volumes: volumes::store::Volumes,
    /// `docker exec` instances (in memory, as in dockerd).
    pub(crate) execs: exec::Execs,
    pub(crate) events: events::Events,
    /// Restart-policy back-off and cancellation, per container.
    pub(crate) restarts: containers::restart_policy::RestartManagers,
    started_at: std::time::SystemTime,
}

impl Engine {
    /// Opens (or creates) the data and exec roots and restores state from disk.
    pub async fn open(config: Config) -> Result<Arc<Engine>> {
        std::fs::create_dir_all(&config.data_root)
            .map_err(|e| Error::io(format!("creating {}", config.data_root.display()), e))?;
        std::fs::create_dir_all(&config.exec_root)
            .map_err(|e| Error::io(format!("creating {}", config.exec_root.display()), e))?;
        system::ensure_engine_id(&config).map_err(|e| Error::io("writing engine-id", e))?;
        let images = images::Images::open(&config)?;
        let containers = containers::Containers::open(&config)?;
        let networks = networks::Networks::open(&config)?;
        let volumes = volumes::store::Volumes::open(&config)?;
        let engine = Arc::new(Engine {
            config,
            images,
            containers,
            networks,
            volumes,
            execs: Default::default(),
            events: events::Events::default(),
            restarts: Default::default(),
            started_at: std::time::SystemTime::now(),
        });
        engine.restore().await?;
        Ok(engine)
    }

    /// Reconnects to the shims of containers that were running, and reconciles state.
    async fn restore(self: &Arc<Self>) -> Result<()> {
        self.restarts.set_booting(true);
        // Before reconciling: containers found exited must release their volume mounts.
        self.volumes_restore_active();
        containers::restore(self).await?;
        if let Err(e) = self.networks_init().await {
            tracing::warn!(error = %e, "setting up networks");
        }
        self.restarts.set_booting(false);
        // In the background, as dockerd: the API answers while policy restarts start.
        let engine = self.clone();
        tokio::spawn(async move { containers::restart_on_boot(&engine).await });
        Ok(())
    }

    /// Graceful shutdown: containers keep running (live restore), or with `live-restore: false`
    /// are stopped; state is flushed.
    pub async fn shutdown(&self) {
        self.restarts.set_shutting_down();
        if !self.config.live_restore {
            self.stop_all_for_shutdown().await;
        }
        self.containers.shutdown().await;
        self.networks_shutdown().await;
    }

    pub fn started_at(&self) -> std::time::SystemTime {
        self.started_at
    }
}
