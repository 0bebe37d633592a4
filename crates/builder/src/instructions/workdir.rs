//! `WORKDIR path`: relative paths join the current one; the directory is created by the
//! build (a layer) when the image lacks it.

use berth_image::ContainerConfig;

use crate::expand::{expand_word, Vars};
use crate::{Error, Result};

/// Sets the working directory; returns the new absolute path.
pub fn workdir(cfg: &mut ContainerConfig, arg: &str, vars: &Vars, escape: char) -> Result<String> {
    let w = expand_word(arg.trim(), vars, escape)?;
    if w.is_empty() {
        return Err(Error::Parse("WORKDIR requires exactly one argument".into()));
    }
    let cur = cfg.working_dir.clone().unwrap_or_default();
    let joined = if w.starts_with('/') {
        w
    } else {
        format!("{}/{}", if cur.is_empty() { "" } else { cur.trim_end_matches('/') }, w)
    };
    let clean = format!("/{}", crate::dockerignore::clean(&joined));
    cfg.working_dir = Some(clean.clone());
    Ok(clean)
}

/// The `WORKDIR` step: config change, plus a layer holding the directory when the image does
/// not have it yet.
pub async fn workdir_step<B: crate::backend::BuildBackend>(
    b: &mut crate::build::Builder<'_, B>,
    state: &mut super::State,
    arg: &str,
) -> Result<()> {
    let mut cfg = state.config.clone();
    let dir = workdir(&mut cfg.config, arg, &state.vars(), b.escape)?;
    let created_by = state.nop1(&format!("WORKDIR {dir}"));
    let key = crate::build::cache_key(&state.image, &created_by, "");
    if let Some(hit) = b.cached(&key, &state.image, &created_by).await {
        return b.use_cache(state, hit).await;
    }
    let m = b.backend.mount_image(&state.image).await?;
    let missing = missing_dirs(&m.root, &dir);
    b.backend.unmount_image(&m).await;
    let layer = if missing.is_empty() {
        crate::backend::Layer::None
    } else {
        let path = b.opts.scratch.join(format!("workdir-{}.tar", crate::build::cache_key(&key, "", "")));
        let f = std::fs::File::create(&path).map_err(Error::io("creating", &path))?;
        let mut t = crate::context::LayerTar::new(f);
        for d in &missing {
            t.dir(d, 0o755, (0, 0))?;
        }
        t.finish()?;
        crate::backend::Layer::Tar(path)
    };
    let tar = match &layer {
        crate::backend::Layer::Tar(p) => Some(p.clone()),
        _ => None,
    };
    let r = b.commit_announced(state, cfg, created_by, layer).await;
    if let Some(p) = tar {
        let _ = std::fs::remove_file(p);
    }
    let id = r?;
    b.backend.cache_put(&key, &id).await?;
    b.say(format!(" ---> {}\n", crate::build::short(&id))).await
}

/// The directories of absolute `path` (parents first, relative, no leading `/`) missing
/// under `root`.
pub fn missing_dirs(root: &std::path::Path, path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in path.split('/').filter(|c| !c.is_empty()) {
        if !cur.is_empty() {
            cur.push('/');
        }
        cur.push_str(c);
        if std::fs::symlink_metadata(crate::context::secure_join(root, &cur)).is_err() {
            out.push(cur.clone());
        }
    }
    out
}
