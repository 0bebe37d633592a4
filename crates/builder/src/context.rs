//! Sources of COPY/ADD: the build context (minus `.dockerignore`) or another image's
//! filesystem; glob resolution, content checksums for cache keys (content, modes and names —
//! never mtimes), and the layer tar a COPY writes.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};
use tar::{EntryType, Header};

use crate::dockerignore::{clean, glob_match, Ignore};
use crate::{Error, Result};

/// A directory the build reads files from.
#[derive(Debug, Clone)]
pub struct SourceRoot {
    pub root: PathBuf,
    /// Only the build context has one.
    pub ignore: Option<Ignore>,
}

/// One matched source: its path relative to the root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matched {
    pub rel: String,
    pub is_dir: bool,
}

/// `root/rel` with every symlink on the way resolved inside `root` (an absolute link target
/// starts again at `root`, `..` stops at it), as dockerd's `FollowSymlinkInScope`: a context or
/// an image can never make the builder read a host path. The last component is resolved too.
pub fn secure_join(root: &Path, rel: &str) -> PathBuf {
    let mut parts: Vec<String> = rel.split('/').filter(|c| !c.is_empty() && *c != ".").map(str::to_string).collect();
    parts.reverse();
    let mut cur: Vec<String> = Vec::new();
    let mut hops = 0;
    while let Some(c) = parts.pop() {
        if c == ".." {
            cur.pop();
            continue;
        }
        let candidate = root.join(cur.join("/")).join(&c);
        match fs::symlink_metadata(&candidate) {
            Ok(m) if m.file_type().is_symlink() && hops < 255 => {
                hops += 1;
                let Ok(target) = fs::read_link(&candidate) else {
                    cur.push(c);
                    continue;
                };
                let t = target.to_string_lossy().into_owned();
                if t.starts_with('/') {
                    cur.clear();
                }
                for p in t.split('/').filter(|p| !p.is_empty() && *p != ".").rev() {
                    parts.push(p.to_string());
                }
            }
            _ => cur.push(c),
        }
    }
    root.join(cur.join("/"))
}

fn has_glob(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

impl SourceRoot {
    fn excluded(&self, rel: &str) -> bool {
        self.ignore.as_ref().is_some_and(|i| !rel.is_empty() && i.excludes(rel))
    }

    /// Resolves one COPY source (a path or a glob) to the entries it names.
    pub fn resolve(&self, src: &str) -> Result<Vec<Matched>> {
        let pattern = clean(src);
        if !has_glob(&pattern) {
            let path = secure_join(&self.root, &pattern);
            let rel = path.strip_prefix(&self.root).map(|p| p.to_string_lossy().into_owned()).unwrap_or_default();
            let md = fs::symlink_metadata(&path);
            match md {
                Ok(md) if !self.excluded(&pattern) && (!rel.is_empty() || md.is_dir()) => {
                    return Ok(vec![Matched { rel, is_dir: md.is_dir() }]);
                }
                _ => return Err(not_found(src, self.ignore.is_some())),
            }
        }
        let mut out = Vec::new();
        self.walk_match(Path::new(""), &pattern, &mut out)?;
        if out.is_empty() {
            return Err(not_found(src, self.ignore.is_some()));
        }
        Ok(out)
    }

    fn walk_match(&self, rel: &Path, pattern: &str, out: &mut Vec<Matched>) -> Result<()> {
        let dir = self.root.join(rel);
        if fs::symlink_metadata(&dir).is_ok_and(|m| m.file_type().is_symlink()) {
            return Ok(());
        }
        let mut entries: Vec<_> = fs::read_dir(&dir).map_err(Error::io("reading", &dir))?.flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        let depth = pattern.split('/').count();
        for e in entries {
            let r = rel.join(e.file_name());
            let rs = r.to_string_lossy().into_owned();
            let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
            if glob_match(pattern, &rs) {
                if !self.excluded(&rs) {
                    out.push(Matched { rel: rs, is_dir });
                }
            } else if is_dir && r.components().count() < depth {
                self.walk_match(&r, pattern, out)?;
            }
        }
        Ok(())
    }

    /// Every file below `m` (itself for a file), relative to the root, sorted, minus ignored.
    pub fn files(&self, m: &Matched) -> Result<Vec<String>> {
        let mut out = vec![m.rel.clone()];
        if m.is_dir {
            self.walk_all(&m.rel, &mut out)?;
        }
        Ok(out)
    }

    fn walk_all(&self, rel: &str, out: &mut Vec<String>) -> Result<()> {
        let dir = self.root.join(rel);
        let mut entries: Vec<_> = fs::read_dir(&dir).map_err(Error::io("reading", &dir))?.flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let r = if rel.is_empty() {
                e.file_name().to_string_lossy().into_owned()
            } else {
                format!("{rel}/{}", e.file_name().to_string_lossy())
            };
            if self.excluded(&r) {
                if e.file_type().is_ok_and(|t| t.is_dir()) && self.ignore.as_ref().is_some_and(Ignore::has_exclusions) {
                    self.walk_all(&r, out)?;
                }
                continue;
            }
            out.push(r.clone());
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                self.walk_all(&r, out)?;
            }
        }
        Ok(())
    }

    /// sha256 over names, types, modes and contents of `files` (relative to `base`).
    pub fn checksum(&self, base: &str, files: &[String], h: &mut Sha256) -> Result<()> {
        for f in files {
            let path = self.root.join(f);
            let md = fs::symlink_metadata(&path).map_err(Error::io("reading", &path))?;
            let name = f.strip_prefix(base).unwrap_or(f);
            h.update(format!("{name}\0{:o}\0{}\0{}\0", md.mode(), md.uid(), md.gid()).as_bytes());
            if md.is_file() {
                let mut file = fs::File::open(&path).map_err(Error::io("reading", &path))?;
                std::io::copy(&mut file, h).map_err(Error::io("reading", &path))?;
            } else if md.file_type().is_symlink() {
                let t = fs::read_link(&path).map_err(Error::io("reading", &path))?;
                h.update(t.to_string_lossy().as_bytes());
            }
            h.update(b"\0");
        }
        Ok(())
    }
}

fn not_found(src: &str, context: bool) -> Error {
    if context {
        Error::InvalidArgument(format!(
            "COPY failed: file not found in build context or excluded by .dockerignore: stat {src}: file does not exist"
        ))
    } else {
        Error::InvalidArgument(format!("COPY failed: stat {src}: file does not exist"))
    }
}

/// Owner and mode overrides of a COPY (`--chown`, `--chmod`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Attrs {
    pub owner: Option<(u64, u64)>,
    pub mode: Option<u32>,
}

/// Builds a layer tar: appends `src` (a file, dir or symlink under `root`) at `dest` (a path
/// inside the image, no leading `/`).
pub struct LayerTar<W: Write> {
    b: tar::Builder<W>,
    pub entries: u64,
}

impl<W: Write> LayerTar<W> {
    pub fn new(w: W) -> Self {
        let mut b = tar::Builder::new(w);
        b.follow_symlinks(false);
        LayerTar { b, entries: 0 }
    }

    /// A directory entry (created parents, WORKDIR).
    pub fn dir(&mut self, dest: &str, mode: u32, owner: (u64, u64)) -> Result<()> {
        let mut h = Header::new_gnu();
        h.set_entry_type(EntryType::Directory);
        h.set_mode(mode);
        h.set_uid(owner.0);
        h.set_gid(owner.1);
        h.set_mtime(now());
        h.set_size(0);
        self.append(&mut h, &format!("{}/", dest.trim_end_matches('/')), std::io::empty())
    }

    /// A regular file with the given content (COPY heredocs).
    pub fn data(&mut self, dest: &str, data: &[u8], mode: u32, owner: (u64, u64)) -> Result<()> {
        let mut h = Header::new_gnu();
        h.set_entry_type(EntryType::Regular);
        h.set_mode(mode);
        h.set_uid(owner.0);
        h.set_gid(owner.1);
        h.set_mtime(now());
        h.set_size(data.len() as u64);
        self.append(&mut h, dest, data)
    }

    /// Copies `path` (file, dir or symlink) to `dest` with COPY's attributes: the source's
    /// mode and mtime, owner 0:0 unless `--chown`.
    pub fn copy(&mut self, path: &Path, dest: &str, attrs: Attrs) -> Result<()> {
        let md = fs::symlink_metadata(path).map_err(Error::io("reading", path))?;
        let mut h = Header::new_gnu();
        h.set_metadata_in_mode(&md, tar::HeaderMode::Complete);
        let (uid, gid) = attrs.owner.unwrap_or((0, 0));
        h.set_uid(uid);
        h.set_gid(gid);
        h.set_username("").ok();
        h.set_groupname("").ok();
        let mode = md.permissions().mode() & 0o7777;
        h.set_mode(attrs.mode.unwrap_or(mode));
        if md.is_dir() {
            h.set_entry_type(EntryType::Directory);
            h.set_size(0);
            self.append(&mut h, &format!("{}/", dest.trim_end_matches('/')), std::io::empty())
        } else if md.file_type().is_symlink() {
            let target = fs::read_link(path).map_err(Error::io("reading", path))?;
            h.set_entry_type(EntryType::Symlink);
            h.set_size(0);
            h.set_mode(mode);
            self.b.append_link(&mut h, dest, &target).map_err(Error::io("writing layer entry", dest))?;
            self.entries += 1;
            Ok(())
        } else {
            let f = fs::File::open(path).map_err(Error::io("reading", path))?;
            self.append(&mut h, dest, f)
        }
    }

    fn append(&mut self, h: &mut Header, dest: &str, data: impl std::io::Read) -> Result<()> {
        self.b.append_data(h, dest, data).map_err(Error::io("writing layer entry", dest))?;
        self.entries += 1;
        Ok(())
    }

    pub fn finish(mut self) -> Result<u64> {
        self.b.finish().map_err(Error::io("writing layer", "tar"))?;
        Ok(self.entries)
    }
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// Hex sha256 of a hasher's state.
pub fn hex_digest(h: Sha256) -> String {
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_globs_and_honours_ignore() {
        let d = tempfile::tempdir().unwrap();
        fs::create_dir_all(d.path().join("src/sub")).unwrap();
        fs::write(d.path().join("a.txt"), "a").unwrap();
        fs::write(d.path().join("b.txt"), "b").unwrap();
        fs::write(d.path().join("c.log"), "c").unwrap();
        fs::write(d.path().join("src/sub/x.txt"), "x").unwrap();
        std::os::unix::fs::symlink("/", d.path().join("escape")).unwrap();
        std::os::unix::fs::symlink("../../..", d.path().join("src/up")).unwrap();
        assert_eq!(secure_join(d.path(), "escape/etc/passwd"), d.path().join("etc/passwd"));
        assert_eq!(secure_join(d.path(), "src/up/etc"), d.path().join("etc"));
        let root = SourceRoot { root: d.path().into(), ignore: Some(Ignore::parse("b.txt\nsrc/sub/x.txt")) };
        assert!(root.resolve("escape/etc/passwd").is_err());
        let m = root.resolve("*.txt").unwrap();
        assert_eq!(m, [Matched { rel: "a.txt".into(), is_dir: false }]);
        assert!(root.resolve("b.txt").is_err());
        let s = root.resolve("./src").unwrap();
        assert_eq!(root.files(&s[0]).unwrap(), ["src", "src/sub", "src/up"]);
        let mut h1 = Sha256::new();
        root.checksum("", &["a.txt".into()], &mut h1).unwrap();
        fs::write(d.path().join("a.txt"), "A").unwrap();
        let mut h2 = Sha256::new();
        root.checksum("", &["a.txt".into()], &mut h2).unwrap();
        assert_ne!(hex_digest(h1), hex_digest(h2));
    }
}
