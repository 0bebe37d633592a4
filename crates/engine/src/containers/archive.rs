//! `docker cp`: `HEAD` (ContainerArchiveInfo), `GET` (ContainerArchive) and `PUT`
//! (PutContainerArchive) `/containers/{id}/archive`.
//!
//! Paths are resolved inside the container's root with `berth_kernel::inroot` (never on the
//! host): for a running container its root is `/proc/<pid>/root`, which also shows its volumes,
//! bind mounts and tmpfs at their container paths; a stopped container's rootfs is mounted, with
//! its volumes and binds bound on top, for the duration of the operation (holding the lifecycle
//! lock, so it cannot start meanwhile), and everything is unmounted afterwards.

use std::ffi::{OsStr, OsString};
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use berth_api_types::archive::{go_file_mode, ContainerPathStat};
use berth_kernel::inroot::Dir;
use berth_store::idmap::IdMap;
use chrono::{TimeZone, Utc};
use tokio::io::AsyncRead;
use tokio::sync::OwnedMutexGuard;
use tokio_util::io::SyncIoBridge;

use super::archive_tar::{self, ExtractOptions, SeenLinks};
use super::record::Record;
use super::Container;
use crate::volumes::spec::MountKind;
use crate::{Engine, Error, Result};

/// A container's filesystem opened for one operation; undoes its mounts when dropped.
pub(crate) struct RootView {
    pub root: Dir,
    engine: Arc<Engine>,
    id: String,
    /// Volumes and binds bound onto a stopped container's rootfs (each open at its mount root).
    binds: Vec<Dir>,
    mounted_rootfs: bool,
    _guard: Option<OwnedMutexGuard<()>>,
}

impl Drop for RootView {
    fn drop(&mut self) {
        for d in self.binds.drain(..).rev() {
            if let Err(e) = berth_kernel::mount::unmount(&d.fd_path()) {
                tracing::warn!(id = %self.id, error = %e, "unmounting a volume bound for cp");
            }
        }
        if self.mounted_rootfs {
            if let Err(e) = self.engine.images.unmount_rootfs(&self.id) {
                tracing::warn!(id = %self.id, error = %e, "unmounting rootfs after cp");
            }
        }
    }
}

/// A client's path as dockerd reads it: made absolute and cleaned, keeping a trailing `/` or
/// `/.`, then split into the directory to resolve (following links) and the final component
/// (not followed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CpPath {
    pub abs: String,
    pub dir: String,
    pub base: String,
    /// Go's `filepath.Base(abs)`: the stat's name and the archive's top entry.
    pub name: String,
}

pub(crate) fn split_path(path: &str) -> CpPath {
    let mut parts: Vec<&str> = Vec::new();
    for p in path.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    let clean = format!("/{}", parts.join("/"));
    let abs = if path == "." || path.ends_with("/.") {
        if clean == "/" {
            "/.".to_string()
        } else {
            format!("{clean}/.")
        }
    } else if path.ends_with('/') && clean != "/" {
        format!("{clean}/")
    } else {
        clean
    };
    let (dir, base) = abs.rsplit_once('/').map(|(d, b)| (format!("{d}/"), b.to_string())).unwrap_or_default();
    let trimmed = abs.trim_end_matches('/');
    let name = if trimmed.is_empty() { "/".to_string() } else { trimmed.rsplit('/').next().unwrap_or("/").to_string() };
    CpPath { abs, dir, base, name }
}

/// What a path names: an entry of an open directory (not followed), or a directory itself.
pub(crate) enum Target {
    Entry(Dir, OsString),
    Itself(Dir),
}

fn not_found(path: &str, key: &str) -> Error {
    Error::NotFound(format!("Could not find the file {path} in container {key}"))
}

/// Maps a resolution error: missing → dockerd's 404, anything else → 500 naming the path.
fn path_err(path: &str, key: &str, e: io::Error) -> Error {
    if e.kind() == io::ErrorKind::NotFound {
        not_found(path, key)
    } else {
        Error::io(format!("lstat {path}"), e)
    }
}

/// Resolves `p` inside `root` and stats it as dockerd's `statPath`.
pub(crate) fn stat_path(root: &Dir, p: &CpPath) -> io::Result<(Target, ContainerPathStat)> {
    let (target, md) = if p.base.is_empty() || p.base == "." {
        let d = root.resolve_dir(Path::new(&p.dir))?;
        let md = d.metadata()?;
        (Target::Itself(d), md)
    } else {
        let parent = root.resolve_dir(Path::new(&p.dir))?;
        let md = parent.lstat(OsStr::new(&p.base))?;
        (Target::Entry(parent, OsString::from(&p.base)), md)
    };
    let link_target = if md.file_type().is_symlink() {
        root.canonical(Path::new(&p.abs))?.display().to_string()
    } else {
        String::new()
    };
    let mtime =
        Utc.timestamp_opt(md.mtime(), md.mtime_nsec().clamp(0, 999_999_999) as u32).single().unwrap_or_default();
    let stat = ContainerPathStat {
        name: p.name.clone(),
        size: i64::try_from(md.size()).unwrap_or(i64::MAX),
        mode: go_file_mode(md.mode()),
        mtime,
        link_target,
    };
    Ok((target, stat))
}

/// The options of `PUT /containers/{id}/archive`.
#[derive(Debug, Clone, Default)]
pub struct ExtractRequest {
    pub path: String,
    pub no_overwrite_dir_non_dir: bool,
    pub copy_uid_gid: bool,
}

impl Engine {
    /// Opens the container's filesystem as its processes see it (`with_mounts`) or its rootfs
    /// alone (export).
    pub(crate) async fn open_root_view(self: &Arc<Self>, c: &Arc<Container>, with_mounts: bool) -> Result<RootView> {
        let view = |root, guard, mounted_rootfs| RootView {
            root,
            engine: self.clone(),
            id: c.id.clone(),
            binds: Vec::new(),
            mounted_rootfs,
            _guard: guard,
        };
        for _ in 0..3 {
            let r = c.record();
            if r.state.status.is_running() && r.state.pid > 0 {
                let path = if with_mounts {
                    PathBuf::from(format!("/proc/{}/root", r.state.pid))
                } else {
                    self.merged_dir(&c.id)?
                };
                if let Ok(root) = Dir::open(&path) {
                    return Ok(view(root, None, false));
                }
            }
            let guard = c.op.clone().lock_owned().await;
            if c.status().is_running() {
                continue; // started meanwhile: use its live root
            }
            let merged = self.images.mount_rootfs(&c.id)?;
            let mut v = view(
                Dir::open(&merged).map_err(|e| Error::io(format!("opening {}", merged.display()), e))?,
                Some(guard),
                true,
            );
            if with_mounts {
                self.bind_mounts_for_cp(&c.record(), &mut v)?;
            }
            return Ok(v);
        }
        Err(Error::Conflict(format!("container {} is changing state; try again", c.id)))
    }

    fn merged_dir(&self, id: &str) -> Result<PathBuf> {
        let dirs = self.images.rootfs_dirs(id)?;
        dirs.get("MergedDir").map(PathBuf::from).ok_or_else(|| Error::Internal(format!("no rootfs for {id}")))
    }

    /// Binds a stopped container's volumes and bind mounts (directories) at their destinations
    /// inside its mounted rootfs, parents first, as dockerd does for cp.
    fn bind_mounts_for_cp(&self, r: &super::record::Record, v: &mut RootView) -> Result<()> {
        let mut mounts: Vec<_> = r.host.mounts.iter().filter(|m| m.kind != MountKind::Tmpfs).collect();
        mounts.sort_by_key(|m| m.destination.split('/').filter(|c| !c.is_empty()).count());
        for m in mounts {
            let source = match m.kind {
                MountKind::Volume => self.volumes.data_dir(&m.source),
                _ => PathBuf::from(&m.source),
            };
            if !source.is_dir() {
                continue; // file binds and missing sources are not shown while stopped
            }
            let dest = Path::new(&m.destination);
            let target =
                v.root.create_dir_all(dest).map_err(|e| Error::io(format!("creating {}", m.destination), e))?;
            let src = source.display().to_string();
            berth_kernel::mount::mount("bind", &src, &target.fd_path(), &["rbind".to_string()])
                .map_err(|e| Error::Internal(format!("binding {src} for cp: {e}")))?;
            let mounted = v.root.resolve_dir(dest).map_err(|e| Error::io(format!("opening {}", m.destination), e))?;
            v.binds.push(mounted);
        }
        Ok(())
    }

    /// `HEAD /containers/{id}/archive` (ContainerArchiveInfo).
    pub async fn container_archive_info(self: &Arc<Self>, key: &str, path: &str) -> Result<ContainerPathStat> {
        let c = self.containers.get(key)?;
        let view = self.open_root_view(&c, true).await?;
        let p = split_path(path);
        let stat = tokio::task::spawn_blocking(move || stat_path(&view.root, &p).map(|(_, s)| s))
            .await
            .map_err(|e| Error::Internal(format!("stat task: {e}")))?;
        stat.map_err(|e| path_err(path, key, e))
    }

    /// `GET /containers/{id}/archive` (ContainerArchive): the stat, then a tar of the path.
    pub async fn container_archive(
        self: &Arc<Self>,
        key: &str,
        path: &str,
    ) -> Result<(ContainerPathStat, impl AsyncRead + Send + Unpin + 'static)> {
        let c = self.containers.get(key)?;
        let view = self.open_root_view(&c, true).await?;
        let p = split_path(path);
        let (target, stat) = stat_path(&view.root, &p).map_err(|e| path_err(path, key, e))?;
        let (reader, writer) = tokio::io::duplex(256 * 1024);
        let writer = SyncIoBridge::new(writer);
        let name = p.name.clone();
        let id = c.id.clone();
        let id_map = self.config.userns_remap.as_ref().map(|r| r.map.clone());
        tokio::task::spawn_blocking(move || {
            let _view = view;
            let mut b = tar::Builder::new(writer);
            let mut seen = SeenLinks::with_id_map(id_map);
            let res = match &target {
                Target::Entry(dir, base) => archive_tar::write_entry(&mut b, &mut seen, dir, base, name.as_bytes()),
                Target::Itself(dir) => {
                    dir.metadata().and_then(|md| archive_tar::write_dir(&mut b, &mut seen, dir, &md, name.as_bytes()))
                }
            };
            if let Err(e) = res.and_then(|()| b.into_inner().map(drop)) {
                tracing::warn!(%id, error = %e, "archive stream aborted");
            }
        });
        Ok((stat, reader))
    }

    /// `PUT /containers/{id}/archive` (PutContainerArchive): extracts a tar into a directory.
    pub async fn container_extract_to_dir(
        self: &Arc<Self>,
        key: &str,
        req: ExtractRequest,
        mut body: impl AsyncRead + Send + Unpin + 'static,
    ) -> Result<()> {
        let opened = match self.containers.get(key) {
            Ok(c) => self.open_root_view(&c, true).await.map(|view| (c.record(), view)),
            Err(e) => Err(e),
        };
        let (record, view) = match opened {
            Ok(v) => v,
            Err(e) => {
                // Read the body first, so the client sees this error and not a broken pipe.
                let _ =
                    tokio::io::copy(&mut tokio::io::AsyncReadExt::take(&mut body, DRAIN_LIMIT), &mut tokio::io::sink())
                        .await;
                return Err(e);
            }
        };
        let p = split_path(&req.path);
        let key = key.to_string();
        let id_map = self.config.userns_remap.as_ref().map(|r| r.map.clone());
        let task = tokio::task::spawn_blocking(move || -> Result<()> {
            let mut body = SyncIoBridge::new(body);
            let extracted = extract_checked(&view, &record, &req, &p.abs, &key, id_map, &mut body);
            // The tar reader stops at the first end-of-archive block; what the client still
            // sends (the rest of the end marker, padding) is read, up to a bound, before the
            // response goes out, as Go's server does: a response to an unread body closes
            // the connection under the client's write ("broken pipe" instead of the answer).
            let _ = std::io::copy(&mut std::io::Read::take(&mut body, DRAIN_LIMIT), &mut std::io::sink());
            extracted
        });
        task.await.map_err(|e| Error::Internal(format!("extract task: {e}")))?
    }
}

/// How much of a request body is read after the archive ended or failed (Go's server: 256 KiB).
const DRAIN_LIMIT: u64 = 256 * 1024;

/// Resolves the extraction point of `PUT /containers/{key}/archive` inside the container, checks
/// dockerd's rules, and extracts `body` there.
fn extract_checked(
    view: &RootView,
    record: &Record,
    req: &ExtractRequest,
    abs: &str,
    key: &str,
    id_map: Option<IdMap>,
    body: impl std::io::Read,
) -> Result<()> {
    let dest = view.root.canonical(Path::new(abs)).map_err(|e| path_err(&req.path, key, e))?;
    match view.root.resolve_dir(&dest) {
        Ok(_) => {}
        Err(e) if e.raw_os_error() == Some(20) => {
            return Err(Error::Internal("extraction point is not a directory".into()))
        }
        Err(e) => return Err(path_err(&req.path, key, e)),
    }
    check_writable(record, &dest)?;
    let owner = if req.copy_uid_gid && !record.config.user.is_empty() {
        Some(container_user(&view.root, &record.config.user)?)
    } else {
        None
    };
    let opts = ExtractOptions { no_overwrite_dir_non_dir: req.no_overwrite_dir_non_dir, owner, id_map };
    archive_tar::extract(&view.root, &dest, body, opts)
}

/// dockerd's checks: a path in a volume or bind mount must be in a writable one; anywhere else
/// the rootfs must not be read-only.
fn check_writable(r: &super::record::Record, dest: &Path) -> Result<()> {
    let mut to_volume = false;
    for m in r.host.mounts.iter().filter(|m| m.kind != MountKind::Tmpfs) {
        if dest.starts_with(&m.destination) {
            if !m.rw {
                return Err(Error::Internal("mounted volume is marked read-only".into()));
            }
            to_volume = true;
        }
    }
    if !to_volume && r.host.readonly_rootfs {
        return Err(Error::Internal("container rootfs is marked read-only".into()));
    }
    Ok(())
}

/// The container user's uid and gid for copyUIDGID, from the container's own passwd and group
/// files (copied out through the root handle, so their lookup cannot touch host files).
fn container_user(root: &Dir, user: &str) -> Result<(u32, u32)> {
    let tmp = tempfile::tempdir().map_err(|e| Error::io("creating a temp dir", e))?;
    std::fs::create_dir(tmp.path().join("etc")).map_err(|e| Error::io("creating a temp dir", e))?;
    if let Ok(etc) = root.resolve_dir(Path::new("/etc")) {
        for f in ["passwd", "group"] {
            if let Ok(mut src) = etc.open_file(OsStr::new(f)) {
                let dst = tmp.path().join("etc").join(f);
                let mut out = std::fs::File::create(&dst).map_err(|e| Error::io("copying /etc/passwd", e))?;
                io::copy(&mut src, &mut out).map_err(|e| Error::io("copying /etc/passwd", e))?;
            }
        }
    }
    let u = berth_runtime::user::resolve(tmp.path(), user).map_err(|e| Error::InvalidArgument(e.to_string()))?;
    Ok((u.uid, u.gid))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sp(path: &str) -> (String, String, String, String) {
        let p = split_path(path);
        (p.abs, p.dir, p.base, p.name)
    }

    #[test]
    fn paths_like_dockerd() {
        let t = |a: &str, d: &str, b: &str, n: &str| (a.to_string(), d.to_string(), b.to_string(), n.to_string());
        assert_eq!(sp("/etc"), t("/etc", "/", "etc", "etc"));
        assert_eq!(sp("etc/"), t("/etc/", "/etc/", "", "etc"));
        assert_eq!(sp("/etc/."), t("/etc/.", "/etc/", ".", "."));
        assert_eq!(sp("/etc/.."), t("/", "/", "", "/"));
        assert_eq!(sp("/"), t("/", "/", "", "/"));
        assert_eq!(sp("/a/../b/c"), t("/b/c", "/b/", "c", "c"));
        assert_eq!(sp("."), t("/.", "/", ".", "."));
    }

    #[test]
    fn stat_follows_parents_not_the_last_component() {
        let d = tempfile::tempdir().unwrap();
        let rootp = d.path().join("root");
        std::fs::create_dir_all(rootp.join("bin")).unwrap();
        std::fs::write(rootp.join("bin/busybox"), "x").unwrap();
        std::os::unix::fs::symlink("../bin/busybox", rootp.join("bin/sh")).unwrap();
        std::os::unix::fs::symlink("/", rootp.join("evil")).unwrap();
        let root = Dir::open(&rootp).unwrap();
        let (_, s) = stat_path(&root, &split_path("/evil/bin/sh")).unwrap();
        assert_eq!((s.name.as_str(), s.is_symlink(), s.link_target.as_str()), ("sh", true, "/bin/busybox"));
        let (_, s) = stat_path(&root, &split_path("/evil/")).unwrap();
        assert!(s.is_dir());
        assert_eq!(s.name, "evil");
        let e = stat_path(&root, &split_path("/nope")).err().unwrap();
        assert_eq!(path_err("/nope", "c", e).to_string(), "Could not find the file /nope in container c");
        let e = stat_path(&root, &split_path("/bin/busybox/x")).err().unwrap();
        assert_eq!(path_err("/bin/busybox/x", "c", e).kind(), crate::ErrorKind::Internal);
    }

    #[test]
    fn writable_checks() {
        let mut r = super::super::record::sample(&"a".repeat(64), "x");
        r.host.readonly_rootfs = true;
        assert_eq!(
            check_writable(&r, Path::new("/tmp")).unwrap_err().to_string(),
            "container rootfs is marked read-only"
        );
        let mut m = crate::volumes::spec::anonymous("/data").unwrap();
        r.host.mounts.push(m.clone());
        assert!(check_writable(&r, Path::new("/data/x")).is_ok());
        m.rw = false;
        r.host.mounts = vec![m];
        assert_eq!(
            check_writable(&r, Path::new("/data")).unwrap_err().to_string(),
            "mounted volume is marked read-only"
        );
        assert!(check_writable(&r, Path::new("/database")).is_err()); // rootfs, read-only
    }
}
