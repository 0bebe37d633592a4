//! `COPY`/`ADD [--from=…] [--chown=…] [--chmod=…] src... dest`: files from the context
//! (minus `.dockerignore`) or from another stage/image, written as a layer tar. The cache key
//! is a checksum of names, modes and contents, never mtimes. `ADD` also unpacks local tar
//! archives.

use std::io::Read;
use std::path::Path;

use sha2::{Digest as _, Sha256};

use super::{add_url, State};
use crate::backend::{BuildBackend, Layer, MountedImage};
use crate::build::{cache_key, Builder};
use crate::context::{hex_digest, secure_join, Attrs, LayerTar, Matched, SourceRoot};
use crate::expand::expand_word;
use crate::instructions::workdir::missing_dirs;
use crate::parse::HereDoc;
use crate::{Error, Result};

#[allow(clippy::too_many_arguments)]
pub async fn copy<B: BuildBackend>(
    b: &mut Builder<'_, B>,
    state: &mut State,
    add: bool,
    flags: &[(String, String)],
    srcs: &[String],
    heredocs: &[HereDoc],
    dest: &str,
) -> Result<()> {
    let kw = if add { "ADD" } else { "COPY" };
    let vars = state.vars();
    let (mut from, mut chown, mut chmod, mut checksum) = (None, None, None, None);
    for (k, v) in flags {
        match k.as_str() {
            "from" => from = Some(expand_word(v, &vars, b.escape)?),
            "chown" => chown = Some(expand_word(v, &vars, b.escape)?),
            "chmod" => chmod = Some(expand_word(v, &vars, b.escape)?),
            "link" | "parents" | "exclude" => {}
            "checksum" if add => checksum = Some(expand_word(v, &vars, b.escape)?),
            "keep-git-dir" | "unpack" if add => {}
            other => return Err(Error::Parse(format!("Unknown flag: {other}"))),
        }
    }
    let mode = match &chmod {
        Some(m) => Some(
            u32::from_str_radix(m, 8).map_err(|_| Error::InvalidArgument(format!("invalid chmod parameter: {m}")))?,
        ),
        None => None,
    };
    let dest = expand_word(dest, &vars, b.escape)?;
    let srcs: Vec<String> = srcs.iter().map(|s| expand_word(s, &vars, b.escape)).collect::<Result<_>>()?;
    if srcs.is_empty() && heredocs.is_empty() {
        return Err(Error::Parse(format!("{kw} requires at least two arguments")));
    }
    if srcs.iter().any(|s| add_url::is_url(s)) {
        if !add {
            return Err(Error::InvalidArgument("source can't be a URL for COPY".into()));
        }
        if from.is_some() || !srcs.iter().all(|s| add_url::is_url(s)) {
            return Err(Error::InvalidArgument(
                "ADD with URL sources cannot also copy local or --from sources in berth".into(),
            ));
        }
        let (root, names) = add_url::download(b, &srcs, checksum.as_deref()).await?;
        let r = copy_from(b, state, (kw, false), &root, &names, heredocs, &dest, chown, mode).await;
        let _ = std::fs::remove_dir_all(&root.root);
        return r;
    }
    if checksum.is_some() {
        return Err(Error::InvalidArgument("checksum can't be specified for non-HTTP(S) sources".into()));
    }
    let mut mounted: Option<MountedImage> = None;
    let root = match &from {
        Some(f) => {
            let id = match b.stage_image(f, b.stage_names.len()) {
                Some(id) => id,
                None => b.backend.resolve_image(f, false, None, &b.run_out).await?.0,
            };
            let m = b.backend.mount_image(&id).await?;
            let r = SourceRoot { root: m.root.clone(), ignore: None };
            mounted = Some(m);
            r
        }
        None => b.context.clone(),
    };
    let r = copy_from(b, state, (kw, add), &root, &srcs, heredocs, &dest, chown, mode).await;
    if let Some(m) = mounted {
        b.backend.unmount_image(&m).await;
    }
    r
}

#[allow(clippy::too_many_arguments)]
async fn copy_from<B: BuildBackend>(
    b: &mut Builder<'_, B>,
    state: &mut State,
    (kw, unpack): (&str, bool),
    root: &SourceRoot,
    srcs: &[String],
    heredocs: &[HereDoc],
    dest: &str,
    chown: Option<String>,
    mode: Option<u32>,
) -> Result<()> {
    let mut matched: Vec<Matched> = Vec::new();
    let mut globbed = false;
    for s in srcs {
        globbed |= s.contains(['*', '?', '[']);
        matched.extend(root.resolve(s)?);
    }
    let mut h = Sha256::new();
    for m in &matched {
        let files = root.files(m)?;
        root.checksum(&m.rel, &files, &mut h)?;
    }
    for d in heredocs {
        h.update(d.body.as_bytes());
    }
    let n = matched.len() + heredocs.len();
    let kind = if n > 1 {
        "multi"
    } else if matched.first().is_some_and(|m| m.is_dir) {
        "dir"
    } else {
        "file"
    };
    let text = format!("{kw} {kind}:{} in {dest} ", hex_digest(h));
    let created_by = state.nop1(&text);
    let extra = format!("{chown:?}\n{mode:?}");
    let key = cache_key(&state.image, &created_by, &extra);
    if let Some(hit) = b.cached(&key, &state.image, &created_by).await {
        return b.use_cache(state, hit).await;
    }
    let abs = if dest.starts_with('/') {
        dest.to_string()
    } else {
        format!("{}/{dest}", state.workdir().trim_end_matches('/'))
    };
    let abs_clean = crate::dockerignore::clean(&abs);
    let target = b.backend.mount_image(&state.image).await?;
    let path = b.opts.scratch.join(format!("copy-{key}.tar"));
    let written = (|| {
        let owner = match &chown {
            Some(c) => Some(resolve_owner(c, &target.root)?),
            None => None,
        };
        let attrs = Attrs { owner, mode };
        let dir_hint = dest.ends_with('/') || dest == "." || n > 1 || globbed;
        let dest_is_dir = dir_hint
            || matched.first().is_some_and(|m| m.is_dir)
            || (!abs_clean.is_empty() && secure_join(&target.root, &abs_clean).is_dir());
        let dir = if dest_is_dir {
            abs_clean.clone()
        } else {
            Path::new(&abs_clean).parent().map(|p| p.to_string_lossy().into_owned()).unwrap_or_default()
        };
        // Symlinks on the way (`/var/run` → `/run`) are followed inside the image, as dockerd does.
        let dir = secure_join(&target.root, &dir)
            .strip_prefix(&target.root)
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or(dir);
        let abs_clean = if dest_is_dir {
            dir.clone()
        } else {
            let name = Path::new(&abs_clean).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            if dir.is_empty() {
                name
            } else {
                format!("{dir}/{name}")
            }
        };
        let f = std::fs::File::create(&path).map_err(Error::io("creating", &path))?;
        let mut t = LayerTar::new(f);
        for d in missing_dirs(&target.root, &format!("/{dir}")) {
            t.dir(&d, 0o755, owner.unwrap_or((0, 0)))?;
        }
        let join = |base: &str, name: &str| if base.is_empty() { name.to_string() } else { format!("{base}/{name}") };
        for m in &matched {
            if m.is_dir {
                for f in root.files(m)?.iter().skip(1) {
                    let rel = f.strip_prefix(&format!("{}/", m.rel)).unwrap_or(f);
                    t.copy(&root.root.join(f), &join(&dir, rel), attrs)?;
                }
                continue;
            }
            let src = root.root.join(&m.rel);
            if unpack && is_archive(&src) {
                unpack_into(&mut t, &src, &dir)?;
                continue;
            }
            let name = if dest_is_dir {
                join(
                    &dir,
                    Path::new(&m.rel)
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default()
                        .as_str(),
                )
            } else {
                abs_clean.clone()
            };
            t.copy(&src, &name, attrs)?;
        }
        for d in heredocs {
            t.data(&abs_clean, d.body.as_bytes(), mode.unwrap_or(0o644), owner.unwrap_or((0, 0)))?;
        }
        t.finish()
    })();
    b.backend.unmount_image(&target).await;
    if let Err(e) = written {
        let _ = std::fs::remove_file(&path);
        return Err(e);
    }
    let cfg = state.config.clone();
    let r = b.commit(state, cfg, created_by, Layer::Tar(path.clone())).await;
    let _ = std::fs::remove_file(&path);
    let id = r?;
    b.backend.cache_put(&key, &id).await?;
    b.say(format!(" ---> {}\n", crate::build::short(&id))).await
}

/// `uid[:gid]` or names looked up in the image's `/etc/passwd` and `/etc/group`.
pub fn resolve_owner(spec: &str, root: &Path) -> Result<(u64, u64)> {
    let (u, g) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let lookup = |file: &str, name: &str| -> Option<(u64, u64)> {
        let text = std::fs::read_to_string(root.join(file)).ok()?;
        for l in text.lines() {
            let f: Vec<&str> = l.split(':').collect();
            if f.len() > 3 && f[0] == name {
                return Some((f[2].parse().ok()?, f[3].parse().unwrap_or(0)));
            }
        }
        None
    };
    let (uid, pgid) = match u.parse::<u64>() {
        Ok(n) => (n, n),
        Err(_) => lookup("etc/passwd", u).ok_or_else(|| {
            Error::InvalidArgument(format!(
                "unable to convert uid/gid chown string to host mapping: can't find uid for user {u}"
            ))
        })?,
    };
    let gid = match g {
        None => {
            if u.parse::<u64>().is_ok() {
                uid
            } else {
                pgid
            }
        }
        Some(g) => match g.parse::<u64>() {
            Ok(n) => n,
            Err(_) => lookup("etc/group", g).map(|(id, _)| id).ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "unable to convert uid/gid chown string to host mapping: can't find gid for group {g}"
                ))
            })?,
        },
    };
    Ok((uid, gid))
}

fn is_archive(p: &Path) -> bool {
    let mut head = [0u8; 512];
    let Ok(mut f) = std::fs::File::open(p) else { return false };
    let n = f.read(&mut head).unwrap_or(0);
    if n >= 2 && head[0] == 0x1f && head[1] == 0x8b {
        return true;
    }
    n >= 262 && &head[257..262] == b"ustar"
}

/// ADD of a local tar (plain or gzip): its entries go under `dir`.
fn unpack_into<W: std::io::Write>(t: &mut LayerTar<W>, src: &Path, dir: &str) -> Result<()> {
    let tmp = tempfile_dir(src)?;
    let f = std::fs::File::open(src).map_err(Error::io("reading", src))?;
    let mut buf = std::io::BufReader::new(f);
    let gz = {
        use std::io::BufRead;
        let head = buf.fill_buf().map_err(Error::io("reading", src))?;
        head.starts_with(&[0x1f, 0x8b])
    };
    let reader: Box<dyn Read> = if gz { Box::new(flate2::read::MultiGzDecoder::new(buf)) } else { Box::new(buf) };
    let mut ar = tar::Archive::new(reader);
    ar.set_preserve_permissions(true);
    ar.unpack(tmp.path()).map_err(Error::io("unpacking", src))?;
    let root = SourceRoot { root: tmp.path().to_path_buf(), ignore: None };
    let all = root.files(&Matched { rel: String::new(), is_dir: true })?;
    for f in all.iter().filter(|f| !f.is_empty()) {
        let d = if dir.is_empty() { f.clone() } else { format!("{dir}/{f}") };
        t.copy(&tmp.path().join(f), &d, Attrs::default())?;
    }
    Ok(())
}

fn tempfile_dir(near: &Path) -> Result<tempfile::TempDir> {
    let parent = near.parent().unwrap_or(Path::new("/tmp"));
    tempfile::tempdir_in(std::env::temp_dir())
        .or_else(|_| tempfile::tempdir_in(parent))
        .map_err(Error::io("creating temp dir", parent))
}
