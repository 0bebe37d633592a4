//! Tar streams to and from a container root, through `berth_kernel::inroot::Dir` handles only:
//! [`write_entry`]/[`write_contents`] archive a path (GET archive, export), [`extract`] unpacks a
//! client's tar into a directory (PUT archive). Every parent directory is resolved inside the
//! container root, and no final path component is ever followed, so neither symlinks in the
//! container nor `../` or link entries in the archive can reach the host.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::io::{self, Read, Write};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use berth_kernel::inroot::{Dir, NodeKind};
use berth_store::idmap::IdMap;
use tar::{Builder, EntryType, Header};

use crate::{Error, Result};

/// What a writer carries across entries: hard links already written ((device, inode) → name
/// in the archive), and under `userns-remap` the id map that turns host owners back into the
/// container's.
#[derive(Debug, Default)]
pub(crate) struct SeenLinks {
    links: HashMap<(u64, u64), Vec<u8>>,
    id_map: Option<IdMap>,
}

impl SeenLinks {
    /// Owners are written as container ids through `id_map` (a remapped daemon's storage).
    pub(crate) fn with_id_map(id_map: Option<IdMap>) -> SeenLinks {
        SeenLinks { links: HashMap::new(), id_map }
    }

    fn header(&self, md: &std::fs::Metadata, kind: EntryType) -> Header {
        let mut h = header_for(md, kind);
        if let Some(m) = &self.id_map {
            let (uid, gid) = m.to_container(md.uid(), md.gid());
            h.set_uid(u64::from(uid));
            h.set_gid(u64::from(gid));
        }
        h
    }
}

fn join(prefix: &[u8], name: &[u8]) -> Vec<u8> {
    let mut out = prefix.to_vec();
    if !out.is_empty() && !out.ends_with(b"/") {
        out.push(b'/');
    }
    out.extend_from_slice(name);
    out
}

fn header_for(md: &std::fs::Metadata, kind: EntryType) -> Header {
    let mut h = Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(md.mode() & 0o7777);
    h.set_uid(u64::from(md.uid()));
    h.set_gid(u64::from(md.gid()));
    h.set_mtime(u64::try_from(md.mtime()).unwrap_or(0));
    h.set_size(0);
    h
}

/// Writes one header with `name` (and `link`) stored exactly as given (GNU long-name records
/// when longer than the header fields), followed by `data`.
fn append_raw<W: Write>(
    b: &mut Builder<W>,
    mut h: Header,
    name: &[u8],
    link: Option<&[u8]>,
    data: impl Read,
) -> io::Result<()> {
    if name.len() > 100 {
        long_record(b, b'L', name)?;
    }
    if let Some(l) = link.filter(|l| l.len() > 100) {
        long_record(b, b'K', l)?;
    }
    if let Some(gnu) = h.as_gnu_mut() {
        gnu.name = [0; 100];
        let n = name.len().min(100);
        gnu.name[..n].copy_from_slice(&name[..n]);
        if let Some(l) = link {
            gnu.linkname = [0; 100];
            let n = l.len().min(100);
            gnu.linkname[..n].copy_from_slice(&l[..n]);
        }
    }
    h.set_cksum();
    b.append(&h, data)
}

fn long_record<W: Write>(b: &mut Builder<W>, kind: u8, value: &[u8]) -> io::Result<()> {
    let mut h = Header::new_gnu();
    if let Some(gnu) = h.as_gnu_mut() {
        gnu.name[..13].copy_from_slice(b"././@LongLink");
    }
    h.set_mode(0o644);
    h.set_entry_type(EntryType::new(kind));
    h.set_size(value.len() as u64 + 1);
    h.set_cksum();
    b.append(&h, value.chain(&[0u8][..]))
}

/// Archives `dir`'s entry `name` (not following it when it is a symlink) as `tar_name`, and
/// everything under it. Entries that vanish while walking are skipped.
pub(crate) fn write_entry<W: Write>(
    b: &mut Builder<W>,
    seen: &mut SeenLinks,
    dir: &Dir,
    name: &OsStr,
    tar_name: &[u8],
) -> io::Result<()> {
    let md = match dir.lstat(name) {
        Ok(md) => md,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let ft = md.file_type();
    if ft.is_dir() {
        let sub = dir.open_dir(name)?;
        return write_dir(b, seen, &sub, &md, tar_name);
    }
    use std::os::unix::fs::FileTypeExt;
    if ft.is_symlink() {
        let target = dir.read_link(name)?;
        let h = seen.header(&md, EntryType::Symlink);
        return append_raw(b, h, tar_name, Some(target.as_os_str().as_bytes()), io::empty());
    }
    if ft.is_file() {
        if md.nlink() > 1 {
            if let Some(first) = seen.links.get(&(md.dev(), md.ino())) {
                let h = seen.header(&md, EntryType::Link);
                return append_raw(b, h, tar_name, Some(&first.clone()), io::empty());
            }
            seen.links.insert((md.dev(), md.ino()), tar_name.to_vec());
        }
        let file = dir.open_file(name)?;
        let mut h = seen.header(&md, EntryType::Regular);
        h.set_size(md.len());
        // Exactly `len` bytes even if the file changes while being read.
        let data = file.take(md.len()).chain(io::repeat(0)).take(md.len());
        return append_raw(b, h, tar_name, None, data);
    }
    let kind = if ft.is_char_device() {
        EntryType::Char
    } else if ft.is_block_device() {
        EntryType::Block
    } else if ft.is_fifo() {
        EntryType::Fifo
    } else {
        return Ok(()); // sockets are not archived, as dockerd
    };
    let mut h = seen.header(&md, kind);
    let rdev = md.rdev();
    h.set_device_major(major(rdev))?;
    h.set_device_minor(minor(rdev))?;
    append_raw(b, h, tar_name, None, io::empty())
}

fn major(dev: u64) -> u32 {
    (((dev >> 32) & 0xffff_f000) | ((dev >> 8) & 0xfff)) as u32
}

fn minor(dev: u64) -> u32 {
    (((dev >> 12) & 0xffff_ff00) | (dev & 0xff)) as u32
}

/// Archives the open directory `dir` itself as `tar_name/`, then its contents.
pub(crate) fn write_dir<W: Write>(
    b: &mut Builder<W>,
    seen: &mut SeenLinks,
    dir: &Dir,
    md: &std::fs::Metadata,
    tar_name: &[u8],
) -> io::Result<()> {
    let mut name = tar_name.to_vec();
    if !name.ends_with(b"/") {
        name.push(b'/');
    }
    append_raw(b, seen.header(md, EntryType::Directory), &name, None, io::empty())?;
    if dir.is_pseudo_fs() {
        return Ok(()); // a running container's /proc, /sys, …: the mount point only
    }
    write_contents(b, seen, dir, tar_name)
}

/// Archives everything in `dir` under `prefix` (empty: names relative to `dir`, as export).
pub(crate) fn write_contents<W: Write>(
    b: &mut Builder<W>,
    seen: &mut SeenLinks,
    dir: &Dir,
    prefix: &[u8],
) -> io::Result<()> {
    for child in dir.entries()? {
        write_entry(b, seen, dir, &child, &join(prefix, child.as_bytes()))?;
    }
    Ok(())
}

/// How [`extract`] treats existing files and owners.
#[derive(Debug, Clone, Default)]
pub(crate) struct ExtractOptions {
    /// Refuse to replace a directory with a non-directory or the reverse.
    pub no_overwrite_dir_non_dir: bool,
    /// Owner for every entry (copyUIDGID with a container user); `None`: the archive's.
    pub owner: Option<(u32, u32)>,
    /// `userns-remap`: container owners are stored as these host ids.
    pub id_map: Option<IdMap>,
}

/// The components of an archive entry's name relative to the extraction point, like Go's
/// `filepath.Clean` then `Rel`: `None` when it climbs out (`../x`).
fn clean_entry(raw: &[u8]) -> Option<Vec<OsString>> {
    let rooted = raw.starts_with(b"/");
    let mut out: Vec<OsString> = Vec::new();
    for part in raw.split(|c| *c == b'/') {
        match part {
            b"" | b"." => {}
            b".." => {
                if out.pop().is_none() && !rooted {
                    return None;
                }
            }
            p => out.push(OsString::from_vec(p.to_vec())),
        }
    }
    Some(out)
}

fn breakout(name: &[u8], dest: &Path) -> Error {
    Error::InvalidArgument(format!(
        "Error processing tar file: {:?} is outside of {:?}",
        String::from_utf8_lossy(name),
        dest.display().to_string()
    ))
}

fn bad_archive(e: io::Error) -> Error {
    Error::InvalidArgument(format!("Error processing tar file: {e}"))
}

/// Unpacks `input` into `dest`, an existing directory given as its canonical path inside
/// `root`. Owners, modes, times, symlinks, hard links and device nodes are kept.
pub(crate) fn extract(root: &Dir, dest: &Path, input: impl Read, opts: ExtractOptions) -> Result<()> {
    let io_err = |what: &str, p: &Path, e: io::Error| Error::io(format!("{what} {}", p.display()), e);
    let mut archive = tar::Archive::new(input);
    let mut dir_times: Vec<(PathBuf, u64)> = Vec::new();
    for entry in archive.entries().map_err(bad_archive)? {
        let mut entry = entry.map_err(bad_archive)?;
        let kind = entry.header().entry_type();
        if !(kind.is_file()
            || kind.is_dir()
            || kind.is_symlink()
            || kind.is_hard_link()
            || kind.is_character_special()
            || kind.is_block_special()
            || kind.is_fifo()
            || kind.is_contiguous())
        {
            continue;
        }
        let raw = entry.path_bytes().into_owned();
        let parts = clean_entry(&raw).ok_or_else(|| breakout(&raw, dest))?;
        let Some((name, parents)) = parts.split_last() else { continue };
        let parent_path: PathBuf = dest.join(parents.iter().collect::<PathBuf>());
        let full = parent_path.join(name);
        let parent = root.create_dir_all(&parent_path).map_err(|e| io_err("creating", &parent_path, e))?;
        let (mode, mtime) = (entry.header().mode().map_err(bad_archive)?, entry.header().mtime().unwrap_or(0));
        if let Ok(existing) = parent.lstat(name) {
            let keep = existing.is_dir() && kind.is_dir();
            if !keep {
                if opts.no_overwrite_dir_non_dir && existing.is_dir() && !kind.is_dir() {
                    return Err(Error::Internal(format!(
                        "Error processing tar file: cannot overwrite directory {:?} with non-directory {:?}",
                        full.display().to_string(),
                        dest.display().to_string()
                    )));
                }
                if opts.no_overwrite_dir_non_dir && !existing.is_dir() && kind.is_dir() {
                    return Err(Error::Internal(format!(
                        "Error processing tar file: cannot overwrite non-directory {:?} with directory {:?}",
                        full.display().to_string(),
                        dest.display().to_string()
                    )));
                }
                parent.remove_all(name).map_err(|e| io_err("removing", &full, e))?;
            }
        }
        let made = |e| io_err("creating", &full, e);
        if kind.is_dir() {
            if parent.lstat(name).is_err() {
                parent.mkdir(name, 0o700).map_err(made)?;
            }
            dir_times.push((full.clone(), mtime));
        } else if kind.is_file() || kind.is_contiguous() {
            let mut f = parent.create_file(name, 0o600).map_err(made)?;
            io::copy(&mut entry, &mut f).map_err(made)?;
            f.set_permissions(std::fs::Permissions::from_mode(0o600)).map_err(made)?;
        } else if kind.is_symlink() {
            let target = entry.link_name_bytes().map(|l| l.into_owned()).unwrap_or_default();
            parent.symlink(Path::new(OsStr::from_bytes(&target)), name).map_err(made)?;
        } else if kind.is_hard_link() {
            let target = entry.link_name_bytes().map(|l| l.into_owned()).unwrap_or_default();
            let tparts = clean_entry(&target).ok_or_else(|| breakout(&target, dest))?;
            let Some((tname, tparents)) = tparts.split_last() else { return Err(breakout(&target, dest)) };
            let tdir_path = dest.join(tparents.iter().collect::<PathBuf>());
            let tdir = root.resolve_dir(&tdir_path).map_err(|e| io_err("linking to", &tdir_path, e))?;
            parent.hard_link(name, &tdir, tname).map_err(made)?;
            continue; // the link shares the target's owner, mode and times
        } else {
            let node = if kind.is_character_special() {
                NodeKind::Char
            } else if kind.is_block_special() {
                NodeKind::Block
            } else {
                NodeKind::Fifo
            };
            let major = entry.header().device_major().ok().flatten().unwrap_or(0);
            let minor = entry.header().device_minor().ok().flatten().unwrap_or(0);
            parent.mknod(name, node, 0o600, major.into(), minor.into()).map_err(made)?;
        }
        let (uid, gid) = match opts.owner {
            Some(o) => o,
            // As Go's archive/tar, an empty numeric field reads as 0.
            None => (entry.header().uid().unwrap_or(0) as u32, entry.header().gid().unwrap_or(0) as u32),
        };
        let (uid, gid) = match &opts.id_map {
            Some(m) => m.to_host(uid, gid).map_err(|e| Error::InvalidArgument(e.to_string()))?,
            None => (uid, gid),
        };
        parent.chown(name, uid, gid).map_err(|e| io_err("chown", &full, e))?;
        // After chown, which clears set-id bits.
        parent.set_mode(name, mode).map_err(|e| io_err("chmod", &full, e))?;
        if !kind.is_dir() {
            let t = (mtime as i64, 0);
            parent.set_times(name, t, t).map_err(|e| io_err("setting times on", &full, e))?;
        }
    }
    // Directory times last: creating their children changed them.
    for (path, mtime) in dir_times.iter().rev() {
        let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else { continue };
        if let Ok(p) = root.resolve_dir(parent) {
            let t = (*mtime as i64, 0);
            let _ = p.set_times(name, t, t);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn tar_of(entries: &[(&str, EntryType, &str, u32)]) -> Vec<u8> {
        let mut b = Builder::new(Vec::new());
        for (name, kind, data, mode) in entries {
            let mut h = Header::new_gnu();
            h.set_entry_type(*kind);
            h.set_mode(*mode);
            h.set_uid(1234);
            h.set_gid(2345);
            h.set_mtime(981158400);
            if kind.is_symlink() || kind.is_hard_link() {
                h.set_size(0);
                append_raw(&mut b, h, name.as_bytes(), Some(data.as_bytes()), io::empty()).unwrap();
            } else {
                h.set_size(data.len() as u64);
                append_raw(&mut b, h, name.as_bytes(), None, data.as_bytes()).unwrap();
            }
        }
        b.into_inner().unwrap()
    }

    fn names(data: &[u8]) -> Vec<String> {
        let mut a = tar::Archive::new(data);
        a.entries().unwrap().map(|e| String::from_utf8(e.unwrap().path_bytes().into_owned()).unwrap()).collect()
    }

    #[test]
    fn clean_like_go() {
        let s =
            |v: Option<Vec<OsString>>| v.map(|v| v.into_iter().map(|o| o.into_string().unwrap()).collect::<Vec<_>>());
        assert_eq!(s(clean_entry(b"./a/b/")), Some(vec!["a".into(), "b".into()]));
        assert_eq!(s(clean_entry(b"a/../../x")), None);
        assert_eq!(s(clean_entry(b"../x")), None);
        assert_eq!(s(clean_entry(b"/../x")), Some(vec!["x".into()]));
        assert_eq!(s(clean_entry(b"a/../x")), Some(vec!["x".into()]));
    }

    #[test]
    fn extract_keeps_attributes_and_stays_inside() {
        let d = tempfile::tempdir().unwrap();
        let rootp = d.path().join("root");
        std::fs::create_dir_all(rootp.join("tmp")).unwrap();
        std::fs::create_dir_all(rootp.join("etc")).unwrap();
        symlink("/", rootp.join("tmp/evil")).unwrap();
        let root = Dir::open(&rootp).unwrap();
        let data = tar_of(&[
            ("d/", EntryType::Directory, "", 0o750),
            ("d/f", EntryType::Regular, "hi", 0o4640),
            ("d/l", EntryType::Symlink, "/etc/passwd", 0o777),
            ("d/h", EntryType::Link, "d/f", 0o640),
            ("evil/etc/owned", EntryType::Regular, "x", 0o644),
        ]);
        extract(&root, Path::new("/tmp"), &data[..], ExtractOptions::default()).unwrap();
        let md = std::fs::metadata(rootp.join("tmp/d/f")).unwrap();
        assert_eq!((md.mode() & 0o7777, md.uid(), md.gid(), md.mtime()), (0o4640, 1234, 2345, 981158400));
        assert_eq!(md.nlink(), 2);
        let dmd = std::fs::metadata(rootp.join("tmp/d")).unwrap();
        assert_eq!((dmd.mode() & 0o777, dmd.mtime()), (0o750, 981158400));
        assert_eq!(std::fs::read_link(rootp.join("tmp/d/l")).unwrap(), Path::new("/etc/passwd"));
        // Through the container's /tmp/evil -> / : lands in the container's /etc.
        assert!(rootp.join("etc/owned").exists());
        assert!(!Path::new("/etc/owned").exists());

        for bad in ["../escape", "a/../../escape"] {
            let t = tar_of(&[(bad, EntryType::Regular, "x", 0o644)]);
            let e = extract(&root, Path::new("/tmp"), &t[..], ExtractOptions::default()).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::InvalidArgument, "{bad}");
        }
        let t = tar_of(&[("x", EntryType::Link, "../../../etc/passwd", 0o644)]);
        assert!(extract(&root, Path::new("/tmp"), &t[..], ExtractOptions::default()).is_err());
        assert!(!d.path().join("x").exists());

        // An archive symlink followed by an entry through it resolves inside the root.
        let t = tar_of(&[
            ("up", EntryType::Symlink, "../../../..", 0o777),
            ("up/etc/through", EntryType::Regular, "y", 0o644),
        ]);
        extract(&root, Path::new("/tmp"), &t[..], ExtractOptions { owner: Some((7, 8)), ..Default::default() })
            .unwrap();
        let md = std::fs::metadata(rootp.join("etc/through")).unwrap();
        assert_eq!((md.uid(), md.gid()), (7, 8));

        let t = tar_of(&[("d", EntryType::Regular, "z", 0o644)]);
        let opts = ExtractOptions { no_overwrite_dir_non_dir: true, owner: None, id_map: None };
        let e = extract(&root, Path::new("/tmp"), &t[..], opts).unwrap_err();
        assert!(e.to_string().contains("cannot overwrite directory \"/tmp/d\" with non-directory \"/tmp\""), "{e}");
        extract(&root, Path::new("/tmp"), &t[..], ExtractOptions::default()).unwrap();
        assert_eq!(std::fs::read(rootp.join("tmp/d")).unwrap(), b"z");
    }

    #[test]
    fn writes_names_like_dockerd() {
        let d = tempfile::tempdir().unwrap();
        let rootp = d.path().join("root");
        std::fs::create_dir_all(rootp.join("etc/sub")).unwrap();
        std::fs::write(rootp.join("etc/a"), "1").unwrap();
        std::fs::hard_link(rootp.join("etc/a"), rootp.join("etc/b")).unwrap();
        symlink("/", rootp.join("etc/evil")).unwrap();
        let long = "x".repeat(150);
        std::fs::write(rootp.join("etc/sub").join(&long), "2").unwrap();
        let root = Dir::open(&rootp).unwrap();
        let top = root.resolve_dir(Path::new("/")).unwrap();
        let mut b = Builder::new(Vec::new());
        write_entry(&mut b, &mut SeenLinks::default(), &top, OsStr::new("etc"), b"etc").unwrap();
        let data = b.into_inner().unwrap();
        assert_eq!(names(&data), ["etc/", "etc/a", "etc/b", "etc/evil", "etc/sub/", &format!("etc/sub/{long}")]);
        let mut a = tar::Archive::new(&data[..]);
        let kinds: Vec<EntryType> = a.entries().unwrap().map(|e| e.unwrap().header().entry_type()).collect();
        assert_eq!(kinds[2], EntryType::Link);
        assert_eq!(kinds[3], EntryType::Symlink);

        let etc = root.resolve_dir(Path::new("/etc/.")).unwrap();
        let mut b = Builder::new(Vec::new());
        write_dir(&mut b, &mut SeenLinks::default(), &etc, &etc.metadata().unwrap(), b".").unwrap();
        assert_eq!(names(&b.into_inner().unwrap())[..2], ["./", "./a"]);
    }
}
