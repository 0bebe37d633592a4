//! Container operations, one per file (owned by the containers work).

use std::sync::Arc;

use crate::{Config, Engine, Result};

/// In-memory index of containers, persisted under `<data-root>/containers/<id>/`.
pub struct Containers {}

impl Containers {
    pub fn open(config: &Config) -> Result<Containers> {
        let _ = config;
        Ok(Containers {})
    }

    pub async fn shutdown(&self) {}

    /// Ids of containers created from `image_id` (for `DELETE /images/{name}`).
    pub fn using_image(&self, image_id: &str) -> Vec<String> {
        let _ = image_id;
        Vec::new()
    }

    /// Container counts for `/info`.
    pub fn counts(&self) -> Counts {
        Counts::default()
    }
}

/// Reconnects to running shims after a daemon start.
pub async fn restore(engine: &Arc<Engine>) -> Result<()> {
    let _ = engine;
    Ok(())
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub total: usize,
    pub running: usize,
    pub paused: usize,
    pub stopped: usize,
}
