//! A layer diff: an overlay upper directory written as a layer tar with OCI/Docker whiteouts
//! (the reverse of [`crate::apply`]). A 0/0 character device becomes `.wh.<name>`; an opaque
//! directory (`trusted.overlay.opaque=y`) gets `.wh..wh..opq` after its own entry. Entries are
//! written in sorted order with their modes, owners, mtimes, symlinks and hardlinks.

use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use tar::{EntryType, Header};

use crate::apply::{OPAQUE_MARKER, WHITEOUT_PREFIX};
use crate::idmap::IdMap;
use crate::{Error, Result};

/// Writes the diff of `upper` (skipping the relative paths in `skip` and everything under
/// them) as a tar to `out`. Returns the number of entries written (0: an empty layer).
pub fn write_diff(upper: &Path, skip: &[String], out: impl Write) -> Result<u64> {
    write_diff_mapped(upper, skip, None, out)
}

/// [`write_diff`] of a tree stored with host ids (`userns-remap`): owners are written as the
/// container ids `map` gives them.
pub fn write_diff_mapped(upper: &Path, skip: &[String], map: Option<&IdMap>, out: impl Write) -> Result<u64> {
    let mut b = tar::Builder::new(out);
    b.follow_symlinks(false);
    let mut links: HashMap<(u64, u64), String> = HashMap::new();
    let mut count = 0;
    walk(upper, upper, skip, map, &mut b, &mut links, &mut count)?;
    b.finish().map_err(|e| Error::io("writing layer tar", e))?;
    Ok(count)
}

fn walk(
    root: &Path,
    dir: &Path,
    skip: &[String],
    map: Option<&IdMap>,
    b: &mut tar::Builder<impl Write>,
    links: &mut HashMap<(u64, u64), String>,
    count: &mut u64,
) -> Result<()> {
    let mut names: Vec<_> = fs::read_dir(dir)
        .map_err(|e| Error::io(format!("reading {}", dir.display()), e))?
        .flatten()
        .map(|e| e.file_name())
        .collect();
    names.sort();
    for name in names {
        let path = dir.join(&name);
        let rel = path.strip_prefix(root).unwrap_or(&path).to_string_lossy().into_owned();
        if skip.iter().any(|s| s.trim_matches('/') == rel) {
            continue;
        }
        let md = fs::symlink_metadata(&path).map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
        let ft = md.file_type();
        if ft.is_char_device() && md.rdev() == 0 {
            let parent = Path::new(&rel).parent().map(|p| p.to_string_lossy().into_owned()).unwrap_or_default();
            let wh = join(&parent, &format!("{WHITEOUT_PREFIX}{}", name.to_string_lossy()));
            append_empty(b, &wh, EntryType::Regular, &md)?;
            *count += 1;
            continue;
        }
        let mut h = Header::new_gnu();
        h.set_metadata_in_mode(&md, tar::HeaderMode::Complete);
        if let Some(m) = map {
            let (uid, gid) = m.to_container(md.uid(), md.gid());
            h.set_uid(uid.into());
            h.set_gid(gid.into());
        }
        let io = |e| Error::io(format!("adding {rel} to the layer"), e);
        if ft.is_dir() && only_skipped(&path, &rel, skip) {
            // A directory that holds nothing but left-out mount points (`/etc` copied up for
            // `/etc/hosts`): not a change.
            continue;
        }
        if ft.is_dir() {
            h.set_entry_type(EntryType::Directory);
            h.set_size(0);
            b.append_data(&mut h, format!("{rel}/"), std::io::empty()).map_err(io)?;
            *count += 1;
            if berth_kernel::mount::is_overlay_opaque(&path) {
                append_empty(b, &join(&rel, OPAQUE_MARKER), EntryType::Regular, &md)?;
            }
            walk(root, &path, skip, map, b, links, count)?;
        } else if ft.is_symlink() {
            let target = fs::read_link(&path).map_err(io)?;
            h.set_entry_type(EntryType::Symlink);
            h.set_size(0);
            b.append_link(&mut h, &rel, &target).map_err(io)?;
            *count += 1;
        } else if ft.is_file() {
            if md.nlink() > 1 {
                if let Some(first) = links.get(&(md.dev(), md.ino())) {
                    h.set_entry_type(EntryType::Link);
                    h.set_size(0);
                    b.append_link(&mut h, &rel, first).map_err(io)?;
                    *count += 1;
                    continue;
                }
                links.insert((md.dev(), md.ino()), rel.clone());
            }
            let f = fs::File::open(&path).map_err(io)?;
            b.append_data(&mut h, &rel, f).map_err(io)?;
            *count += 1;
        } else {
            // Devices, fifos and sockets: headers only.
            b.append_data(&mut h, &rel, std::io::empty()).map_err(io)?;
            *count += 1;
        }
    }
    Ok(())
}

/// Whether directory `path` (relative `rel`) is a parent of skipped paths and holds nothing
/// else.
fn only_skipped(path: &Path, rel: &str, skip: &[String]) -> bool {
    let prefix = format!("{rel}/");
    if !skip.iter().any(|s| s.trim_matches('/').starts_with(&prefix)) {
        return false;
    }
    let Ok(rd) = fs::read_dir(path) else { return false };
    rd.flatten().all(|e| {
        let r = format!("{prefix}{}", e.file_name().to_string_lossy());
        if skip.iter().any(|s| s.trim_matches('/') == r) {
            return true;
        }
        e.file_type().is_ok_and(|t| t.is_dir()) && only_skipped(&e.path(), &r, skip)
    })
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

fn append_empty(b: &mut tar::Builder<impl Write>, path: &str, kind: EntryType, md: &fs::Metadata) -> Result<()> {
    let mut h = Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(0o644);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(md.mtime().max(0) as u64);
    h.set_size(0);
    b.append_data(&mut h, path, std::io::empty()).map_err(|e| Error::io(format!("adding {path} to the layer"), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_files_dirs_links_sorted() {
        let dir = tempfile::tempdir().unwrap();
        let up = dir.path();
        fs::create_dir_all(up.join("etc/sub")).unwrap();
        fs::write(up.join("etc/b"), "bb").unwrap();
        fs::write(up.join("etc/a"), "a").unwrap();
        fs::hard_link(up.join("etc/a"), up.join("etc/a2")).unwrap();
        std::os::unix::fs::symlink("a", up.join("etc/l")).unwrap();
        fs::create_dir_all(up.join("run/secrets")).unwrap();
        let mut out = Vec::new();
        let n = write_diff(up, &["run/secrets".into()], &mut out).unwrap();
        let mut ar = tar::Archive::new(&out[..]);
        let names: Vec<(String, EntryType)> = ar
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (e.path().unwrap().to_string_lossy().into_owned(), e.header().entry_type())
            })
            .collect();
        assert_eq!(n, names.len() as u64);
        let want = [
            ("etc/", EntryType::Directory),
            ("etc/a", EntryType::Regular),
            ("etc/a2", EntryType::Link),
            ("etc/b", EntryType::Regular),
            ("etc/l", EntryType::Symlink),
            ("etc/sub/", EntryType::Directory),
        ];
        let got: Vec<(&str, EntryType)> = names.iter().map(|(n, t)| (n.as_str(), *t)).collect();
        assert_eq!(got, want);
        let empty = tempfile::tempdir().unwrap();
        assert_eq!(write_diff(empty.path(), &[], &mut Vec::new()).unwrap(), 0);
    }

    /// Whiteouts need mknod and trusted.* xattrs: root only.
    #[test]
    fn whiteouts_round_trip() {
        if !berth_testkit::require_privileged("whiteouts_round_trip") {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("var")).unwrap();
        berth_kernel::mount::make_whiteout(&dir.path().join("gone")).unwrap();
        berth_kernel::mount::set_overlay_opaque(&dir.path().join("var")).unwrap();
        let mut out = Vec::new();
        write_diff(dir.path(), &[], &mut out).unwrap();
        let mut ar = tar::Archive::new(&out[..]);
        let names: Vec<String> =
            ar.entries().unwrap().map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned()).collect();
        assert_eq!(names, [".wh.gone", "var/", "var/.wh..wh..opq"]);
        let back = tempfile::tempdir().unwrap();
        crate::apply::apply_layer(&out[..], back.path()).unwrap();
        assert!(fs::symlink_metadata(back.path().join("gone")).unwrap().file_type().is_char_device());
        assert!(berth_kernel::mount::is_overlay_opaque(&back.path().join("var")));
    }
}
