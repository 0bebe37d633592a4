//! Copy-up: a new volume mounted over a path that has content in the image is first filled
//! with that content, keeping owners and modes (dockerd's `copyExistingContents`).

use std::os::unix::fs::{lchown, MetadataExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

/// Resolves `path` inside `root`, following symlinks as if `root` were `/` (so an absolute
/// link in the image never points at the host). `None` when it does not exist.
pub fn resolve_in_root(root: &Path, path: &str) -> Option<PathBuf> {
    let mut pending: Vec<String> = Path::new(path).components().rev().filter_map(|c| component(&c)).collect();
    let mut cur = PathBuf::new();
    let mut hops = 0;
    while let Some(part) = pending.pop() {
        if part == ".." {
            cur.pop();
            continue;
        }
        let next = cur.join(&part);
        let md = root.join(&next).symlink_metadata().ok()?;
        if md.file_type().is_symlink() {
            hops += 1;
            if hops > 40 {
                return None;
            }
            let target = std::fs::read_link(root.join(&next)).ok()?;
            if target.is_absolute() {
                cur = PathBuf::new();
            }
            pending.extend(target.components().rev().filter_map(|c| component(&c)));
        } else {
            cur = next;
        }
    }
    Some(root.join(cur))
}

fn component(c: &Component<'_>) -> Option<String> {
    match c {
        Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
        Component::ParentDir => Some("..".into()),
        _ => None,
    }
}

fn is_empty_dir(dir: &Path) -> bool {
    std::fs::read_dir(dir).map(|mut d| d.next().is_none()).unwrap_or(false)
}

/// Copies the image's `src` directory into the empty volume directory `dst`: content, owners,
/// modes (and `dst`'s own owner and mode from `src`). Does nothing when `src` is not a
/// directory or `dst` is not empty.
pub fn copy_up(src: &Path, dst: &Path) -> std::io::Result<bool> {
    let Ok(md) = src.symlink_metadata() else { return Ok(false) };
    if !md.is_dir() || !is_empty_dir(dst) {
        return Ok(false);
    }
    copy_dir(src, dst)?;
    lchown(dst, Some(md.uid()), Some(md.gid()))?;
    std::fs::set_permissions(dst, std::fs::Permissions::from_mode(md.mode() & 0o7777))?;
    Ok(true)
}

fn copy_dir(src: &Path, dst: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(src)? {
        let entry = entry?;
        let from = entry.path();
        let to = dst.join(entry.file_name());
        let md = from.symlink_metadata()?;
        let ft = md.file_type();
        if ft.is_dir() {
            std::fs::create_dir(&to)?;
            copy_dir(&from, &to)?;
        } else if ft.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&from)?, &to)?;
        } else if ft.is_file() {
            std::fs::copy(&from, &to)?;
        } else {
            tracing::debug!(path = %from.display(), "copy-up skips special file");
            continue;
        }
        lchown(&to, Some(md.uid()), Some(md.gid()))?;
        if !ft.is_symlink() {
            std::fs::set_permissions(&to, std::fs::Permissions::from_mode(md.mode() & 0o7777))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_tree_and_modes() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("root");
        std::fs::create_dir_all(root.join("etc/app/sub")).unwrap();
        std::fs::write(root.join("etc/app/sub/f"), b"hi").unwrap();
        std::fs::set_permissions(root.join("etc/app/sub/f"), std::fs::Permissions::from_mode(0o640)).unwrap();
        std::fs::set_permissions(root.join("etc/app"), std::fs::Permissions::from_mode(0o710)).unwrap();
        std::os::unix::fs::symlink("/etc/app", root.join("link")).unwrap();
        let src = resolve_in_root(&root, "/link").unwrap();
        assert_eq!(src, root.join("etc/app"));
        assert!(resolve_in_root(&root, "/missing").is_none());
        let vol = d.path().join("vol");
        std::fs::create_dir(&vol).unwrap();
        assert!(copy_up(&src, &vol).unwrap());
        assert_eq!(std::fs::read(vol.join("sub/f")).unwrap(), b"hi");
        assert_eq!(vol.join("sub/f").metadata().unwrap().mode() & 0o777, 0o640);
        assert_eq!(vol.metadata().unwrap().mode() & 0o777, 0o710);
        // Not empty any more: a second copy does nothing.
        assert!(!copy_up(&src, &vol).unwrap());
    }
}
