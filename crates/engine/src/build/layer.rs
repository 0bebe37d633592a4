//! Committing a new image on top of a parent: an optional layer (an overlay upper directory
//! diffed into a tar with whiteouts, or a ready tar) plus a config. Shared by builds and
//! `POST /commit`.

use std::fs::File;
use std::path::{Path, PathBuf};

use berth_image::{Digest, ImageConfig};
use berth_store::diff::write_diff_mapped;

use crate::images::Inner;
use crate::{Error, Result};

/// The filesystem change of a new image.
pub(crate) enum NewLayer {
    None,
    /// An overlay upper directory; relative paths in the list are left out.
    Upper {
        dir: PathBuf,
        skip: Vec<String>,
    },
    Tar(PathBuf),
}

/// Stores `config` as an image whose parent is `parent` (`""` for none). The new layer's diff
/// id is appended to the config's diff ids; an empty change adds no layer and marks the last
/// history entry `empty_layer`. Blocking: call from a blocking task.
pub(crate) fn commit_image(inner: &Inner, parent: &str, mut config: ImageConfig, layer: NewLayer) -> Result<Digest> {
    let parent_layers = if parent.is_empty() { vec![] } else { inner.resolve(parent)?.layers };
    let mut tmp_tar = None;
    let tar_path: Option<PathBuf> = match layer {
        NewLayer::None => None,
        NewLayer::Tar(p) => Some(p),
        NewLayer::Upper { dir, skip } => {
            let tmp = tempfile::NamedTempFile::new_in(&inner.tmp).map_err(|e| Error::io("creating layer file", e))?;
            let f = tmp.reopen().map_err(|e| Error::io("opening layer file", e))?;
            let n = write_diff_mapped(&dir, &skip, inner.id_map.as_ref(), std::io::BufWriter::new(f))
                .map_err(|e| Error::store("writing layer diff", e))?;
            let p = tmp.path().to_path_buf();
            tmp_tar = Some(tmp);
            (n > 0).then_some(p)
        }
    };
    let mut layers: Vec<Option<crate::images::layers::NewLayer>> = parent_layers.iter().map(|_| None).collect();
    let _g = inner.lock();
    match &tar_path {
        Some(p) => {
            let f = File::open(p).map_err(|e| Error::io(format!("opening {}", p.display()), e))?;
            let l = inner.unpack_layer(f)?;
            config.rootfs.diff_ids.push(l.diff_id.to_string());
            layers.push(Some(l));
            if let Some(h) = config.history.last_mut() {
                h.empty_layer = false;
            }
        }
        None => {
            if let Some(h) = config.history.last_mut() {
                h.empty_layer = true;
            }
        }
    }
    drop(tmp_tar);
    if config.rootfs.diff_ids.len() != layers.len() {
        return Err(Error::Internal(format!(
            "commit: config has {} layers, parent chain has {}",
            config.rootfs.diff_ids.len(),
            layers.len()
        )));
    }
    let bytes = serde_json::to_vec(&config).map_err(|e| Error::Internal(format!("encoding image config: {e}")))?;
    let id = inner.add_image(&bytes, layers, &[], false)?;
    if !parent.is_empty() {
        let parent_id = inner.resolve(parent)?.id;
        inner
            .meta
            .write(|w| {
                if let Some(mut rec) = w.image(&id.to_string())? {
                    if rec.parent.is_empty() && rec.id != parent_id {
                        rec.parent = parent_id.clone();
                        w.put_image(&rec)?;
                    }
                }
                Ok(())
            })
            .map_err(|e| Error::store("recording parent image", e))?;
    }
    Ok(id)
}

/// The overlay upper directory of a container's rootfs.
pub(crate) fn upper_dir(engine: &crate::Engine, container: &str) -> Result<PathBuf> {
    let dirs = engine.image_store().rootfs_dirs(container)?;
    match dirs.get("UpperDir") {
        Some(u) => Ok(PathBuf::from(u)),
        None => Err(Error::Internal(format!("container {container} has no writable layer"))),
    }
}

/// Paths the runtime creates as mount points, left out of a commit when they are empty stubs.
pub(crate) fn runtime_stubs(upper: &Path) -> Vec<String> {
    ["etc/hosts", "etc/hostname", "etc/resolv.conf"]
        .iter()
        .filter(|p| std::fs::metadata(upper.join(p)).is_ok_and(|m| m.is_file() && m.len() == 0))
        .map(|p| p.to_string())
        .collect()
}
