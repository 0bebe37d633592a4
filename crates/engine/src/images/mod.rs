//! Image operations, one per file (owned by the images work).

use std::path::PathBuf;

use crate::{Config, Result};

pub struct Images {}

/// An image found by name, tag, id (full or unique prefix) or digest.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedImage {
    /// `sha256:<hex>` of the config.
    pub id: String,
    pub config: berth_image::ImageConfig,
}

impl Images {
    pub fn open(config: &Config) -> Result<Images> {
        let _ = config;
        Ok(Images {})
    }

    /// Number of images, for `/info`.
    pub fn count(&self) -> usize {
        0
    }

    /// Finds an image; `Error::NotFound("No such image: <ref>")` when there is none.
    pub fn resolve(&self, reference: &str) -> Result<ResolvedImage> {
        let _ = reference;
        todo!("images work")
    }

    /// Creates the container's writable snapshot on top of the image's layers.
    pub fn create_rootfs(&self, container_id: &str, image_id: &str) -> Result<()> {
        let _ = (container_id, image_id);
        todo!("images work")
    }

    /// Mounts the container's rootfs (idempotent) and returns the mounted directory.
    pub fn mount_rootfs(&self, container_id: &str) -> Result<PathBuf> {
        let _ = container_id;
        todo!("images work")
    }

    /// Unmounts the container's rootfs (idempotent; fine when not mounted).
    pub fn unmount_rootfs(&self, container_id: &str) -> Result<()> {
        let _ = container_id;
        todo!("images work")
    }

    /// Unmounts and deletes the container's snapshot (idempotent).
    pub fn remove_rootfs(&self, container_id: &str) -> Result<()> {
        let _ = container_id;
        todo!("images work")
    }
}
