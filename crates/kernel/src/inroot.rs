//! Files inside a container root, reached only through directory file descriptors.
//!
//! A [`Dir`] is an open directory. [`Dir::resolve_dir`] resolves a whole path with
//! `openat2(RESOLVE_IN_ROOT)`: symlinks and `..` are followed as if the directory were `/`, so a
//! container's `/evil -> /` or `../../etc` never leads to the host. Every other method takes a
//! single path component (no `/`, not `.` or `..`) and never follows a final symlink, so once a
//! parent directory is open nothing can redirect an operation outside it, even while a running
//! container changes its files concurrently.

use std::ffi::{OsStr, OsString};
use std::fs::{File, Metadata};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::AtFlags;
use nix::fcntl::{openat, openat2, readlinkat, OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::{fchmod, mkdirat, mknodat, utimensat, Mode, SFlag, UtimensatFlags};
use nix::sys::time::TimeSpec;
use nix::unistd::{fchownat, linkat, symlinkat, unlinkat, Gid, Uid, UnlinkatFlags};

/// Most symlinks followed while resolving one path (the kernel's own limit).
const MAX_LINKS: usize = 40;

fn errno(e: Errno) -> io::Error {
    io::Error::from_raw_os_error(e as i32)
}

fn own(fd: RawFd) -> OwnedFd {
    // SAFETY: `fd` was just returned by a successful open call; nothing else owns or closes it.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// Rejects anything but one plain path component.
fn component(name: &OsStr) -> io::Result<&OsStr> {
    let b = name.as_bytes();
    if b.is_empty() || b == b"." || b == b".." || b.contains(&b'/') || b.contains(&0) {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("invalid file name {name:?}")));
    }
    Ok(name)
}

/// The kind of special file [`Dir::mknod`] creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    Char,
    Block,
    Fifo,
}

/// An open directory (`O_RDONLY|O_DIRECTORY`).
#[derive(Debug)]
pub struct Dir {
    fd: OwnedFd,
}

impl Dir {
    /// Opens a trusted host directory (for example a mounted rootfs or `/proc/<pid>/root`).
    pub fn open(path: &Path) -> io::Result<Dir> {
        let fd = nix::fcntl::open(path, OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC, Mode::empty())
            .map_err(errno)?;
        Ok(Dir { fd: own(fd) })
    }

    /// Opens the directory at `path` resolved inside `self` as the root: symlinks (absolute or
    /// relative) and `..` never leave it. Magic links (`/proc/*/fd`) are refused.
    pub fn resolve_dir(&self, path: &Path) -> io::Result<Dir> {
        let rel = relative(path);
        let how = OpenHow::new()
            .flags(OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC)
            .resolve(ResolveFlag::RESOLVE_IN_ROOT | ResolveFlag::RESOLVE_NO_MAGICLINKS);
        loop {
            match openat2(self.fd.as_raw_fd(), &rel, how) {
                Ok(fd) => return Ok(Dir { fd: own(fd) }),
                // The kernel asks for a retry when a rename raced with the walk.
                Err(Errno::EAGAIN) | Err(Errno::EINTR) => continue,
                Err(e) => return Err(errno(e)),
            }
        }
    }

    /// Like [`Dir::resolve_dir`], creating missing directories (mode 0755, owned by the caller)
    /// as `mkdir -p` would, each inside the root.
    pub fn create_dir_all(&self, path: &Path) -> io::Result<Dir> {
        let mut cur = PathBuf::from(".");
        let mut dir = self.resolve_dir(&cur)?;
        for part in path.components() {
            match part {
                Component::Normal(name) => {
                    cur.push(name);
                    dir = match self.resolve_dir(&cur) {
                        Ok(d) => d,
                        Err(e) if e.kind() == io::ErrorKind::NotFound => {
                            match dir.mkdir(name, 0o755) {
                                Ok(()) => {}
                                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                                Err(e) => return Err(e),
                            }
                            self.resolve_dir(&cur)?
                        }
                        Err(e) => return Err(e),
                    };
                }
                Component::ParentDir => {
                    cur.push("..");
                    dir = self.resolve_dir(&cur)?;
                }
                _ => {}
            }
        }
        Ok(dir)
    }

    /// The canonical path of `path` inside the root (symlinks followed as the kernel does inside
    /// it; missing components kept as written). Used for names shown to clients, never for
    /// access.
    pub fn canonical(&self, path: &Path) -> io::Result<PathBuf> {
        let mut pending: Vec<OsString> = Vec::new();
        push_components(&mut pending, path);
        let mut cur: Vec<OsString> = Vec::new();
        let mut links = 0;
        while let Some(part) = pending.pop() {
            if part == ".." {
                cur.pop();
                continue;
            }
            let parent: PathBuf = cur.iter().collect();
            let link = match self.resolve_dir(&parent) {
                Ok(d) => match d.lstat(&part) {
                    Ok(md) if md.file_type().is_symlink() => Some(d.read_link(&part)?),
                    _ => None,
                },
                Err(_) => None,
            };
            match link {
                Some(target) => {
                    links += 1;
                    if links > MAX_LINKS {
                        return Err(errno(Errno::ELOOP));
                    }
                    if target.is_absolute() {
                        cur.clear();
                    }
                    push_components(&mut pending, &target);
                }
                None => cur.push(part),
            }
        }
        let mut out = PathBuf::from("/");
        out.extend(cur);
        Ok(out)
    }

    /// `/proc/self/fd/<n>`: a path naming exactly this directory, for calls that only take paths
    /// (mount targets). Valid while `self` is open.
    pub fn fd_path(&self) -> PathBuf {
        PathBuf::from(format!("/proc/self/fd/{}", self.fd.as_raw_fd()))
    }

    /// True when this directory is on a kernel pseudo filesystem (proc, sysfs, cgroup, devpts,
    /// mqueue, …): views of kernel state rather than container data, which archive walks do
    /// not descend into (dockerd never sees them either).
    pub fn is_pseudo_fs(&self) -> bool {
        use nix::sys::statfs::{
            fstatfs, BPF_FS_MAGIC, CGROUP2_SUPER_MAGIC, CGROUP_SUPER_MAGIC, DEBUGFS_MAGIC, DEVPTS_SUPER_MAGIC,
            NSFS_MAGIC, PROC_SUPER_MAGIC, SECURITYFS_MAGIC, SYSFS_MAGIC, TRACEFS_MAGIC,
        };
        const MQUEUE_MAGIC: i64 = 0x1980_0202;
        let Ok(st) = fstatfs(&self.fd) else { return false };
        let t = st.filesystem_type();
        [
            PROC_SUPER_MAGIC,
            SYSFS_MAGIC,
            CGROUP_SUPER_MAGIC,
            CGROUP2_SUPER_MAGIC,
            DEVPTS_SUPER_MAGIC,
            DEBUGFS_MAGIC,
            TRACEFS_MAGIC,
            SECURITYFS_MAGIC,
            BPF_FS_MAGIC,
            NSFS_MAGIC,
        ]
        .contains(&t)
            || t.0 == MQUEUE_MAGIC
    }

    /// This directory's own metadata.
    pub fn metadata(&self) -> io::Result<Metadata> {
        File::from(self.fd.try_clone()?).metadata()
    }

    fn open_at(&self, name: &OsStr, flags: OFlag, mode: u32) -> io::Result<OwnedFd> {
        let name = component(name)?;
        let fd = openat(Some(self.fd.as_raw_fd()), name, flags | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW, mode_of(mode))
            .map_err(errno)?;
        Ok(own(fd))
    }

    /// Metadata of the entry `name` itself (a symlink is not followed).
    pub fn lstat(&self, name: &OsStr) -> io::Result<Metadata> {
        File::from(self.open_at(name, OFlag::O_PATH, 0)?).metadata()
    }

    /// Opens the subdirectory `name`; fails when it is a symlink or not a directory.
    pub fn open_dir(&self, name: &OsStr) -> io::Result<Dir> {
        Ok(Dir { fd: self.open_at(name, OFlag::O_RDONLY | OFlag::O_DIRECTORY, 0)? })
    }

    /// Opens the regular file `name` for reading; fails for symlinks and special files (a FIFO
    /// never blocks the caller).
    pub fn open_file(&self, name: &OsStr) -> io::Result<File> {
        let f = File::from(self.open_at(name, OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_NOCTTY, 0)?);
        if !f.metadata()?.is_file() {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("{name:?} is not a regular file")));
        }
        Ok(f)
    }

    /// Names in this directory (without `.` and `..`), sorted.
    pub fn entries(&self) -> io::Result<Vec<OsString>> {
        // Listing through our own fd's magic link reads exactly this directory.
        let mut names = Vec::new();
        for entry in std::fs::read_dir(self.fd_path())? {
            names.push(entry?.file_name());
        }
        names.sort();
        Ok(names)
    }

    /// The target of the symlink `name`.
    pub fn read_link(&self, name: &OsStr) -> io::Result<PathBuf> {
        let name = component(name)?;
        Ok(PathBuf::from(readlinkat(Some(self.fd.as_raw_fd()), name).map_err(errno)?))
    }

    /// Creates the regular file `name` (which must not exist) for writing.
    pub fn create_file(&self, name: &OsStr, mode: u32) -> io::Result<File> {
        Ok(File::from(self.open_at(name, OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL, mode)?))
    }

    pub fn mkdir(&self, name: &OsStr, mode: u32) -> io::Result<()> {
        mkdirat(Some(self.fd.as_raw_fd()), component(name)?, mode_of(mode)).map_err(errno)
    }

    /// Creates the symlink `name` pointing at `target` (stored as is, resolved later inside
    /// whatever root reads it).
    pub fn symlink(&self, target: &Path, name: &OsStr) -> io::Result<()> {
        symlinkat(target, Some(self.fd.as_raw_fd()), component(name)?).map_err(errno)
    }

    /// Makes `name` a hard link to `from`'s entry `from_name` (a symlink is linked itself).
    pub fn hard_link(&self, name: &OsStr, from: &Dir, from_name: &OsStr) -> io::Result<()> {
        linkat(
            Some(from.fd.as_raw_fd()),
            component(from_name)?,
            Some(self.fd.as_raw_fd()),
            component(name)?,
            AtFlags::empty(),
        )
        .map_err(errno)
    }

    /// Creates a device node or FIFO.
    pub fn mknod(&self, name: &OsStr, kind: NodeKind, mode: u32, major: u64, minor: u64) -> io::Result<()> {
        let flag = match kind {
            NodeKind::Char => SFlag::S_IFCHR,
            NodeKind::Block => SFlag::S_IFBLK,
            NodeKind::Fifo => SFlag::S_IFIFO,
        };
        let dev = nix::sys::stat::makedev(major, minor);
        mknodat(Some(self.fd.as_raw_fd()), component(name)?, flag, mode_of(mode), dev).map_err(errno)
    }

    /// Removes `name`; a directory with everything under it.
    pub fn remove_all(&self, name: &OsStr) -> io::Result<()> {
        let md = self.lstat(name)?;
        if md.is_dir() {
            let sub = self.open_dir(name)?;
            for child in sub.entries()? {
                sub.remove_all(&child)?;
            }
            unlinkat(Some(self.fd.as_raw_fd()), component(name)?, UnlinkatFlags::RemoveDir).map_err(errno)
        } else {
            unlinkat(Some(self.fd.as_raw_fd()), component(name)?, UnlinkatFlags::NoRemoveDir).map_err(errno)
        }
    }

    /// Sets the owner of `name` itself (`lchown`).
    pub fn chown(&self, name: &OsStr, uid: u32, gid: u32) -> io::Result<()> {
        fchownat(
            Some(self.fd.as_raw_fd()),
            component(name)?,
            Some(Uid::from_raw(uid)),
            Some(Gid::from_raw(gid)),
            AtFlags::AT_SYMLINK_NOFOLLOW,
        )
        .map_err(errno)
    }

    /// Sets the permission bits of `name` (not a symlink: those have no mode of their own).
    pub fn set_mode(&self, name: &OsStr, mode: u32) -> io::Result<()> {
        let fd = self.open_at(name, OFlag::O_PATH, 0)?;
        if File::from(fd.try_clone()?).metadata()?.file_type().is_symlink() {
            return Ok(());
        }
        // chmod through the fd's magic link reaches exactly the inode opened without following.
        nix::sys::stat::fchmodat(
            None,
            format!("/proc/self/fd/{}", fd.as_raw_fd()).as_str(),
            mode_of(mode),
            nix::sys::stat::FchmodatFlags::FollowSymlink,
        )
        .map_err(errno)
    }

    /// Sets this directory's own permission bits.
    pub fn set_own_mode(&self, mode: u32) -> io::Result<()> {
        fchmod(self.fd.as_raw_fd(), mode_of(mode)).map_err(errno)
    }

    /// Sets access and modification times of `name` itself (seconds, nanoseconds).
    pub fn set_times(&self, name: &OsStr, atime: (i64, i64), mtime: (i64, i64)) -> io::Result<()> {
        let ts = |(s, n): (i64, i64)| TimeSpec::new(s, n);
        utimensat(Some(self.fd.as_raw_fd()), component(name)?, &ts(atime), &ts(mtime), UtimensatFlags::NoFollowSymlink)
            .map_err(errno)
    }
}

fn mode_of(mode: u32) -> Mode {
    Mode::from_bits_truncate(mode & 0o7777)
}

/// `path` relative to the root (`/a/b` → `a/b`, `/` → `.`).
fn relative(path: &Path) -> PathBuf {
    let rel: PathBuf = path.components().filter(|c| !matches!(c, Component::RootDir | Component::Prefix(_))).collect();
    if rel.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        rel
    }
}

/// Pushes `path`'s components in reverse (so `pop` yields them in order), keeping `..`.
fn push_components(stack: &mut Vec<OsString>, path: &Path) {
    let parts: Vec<OsString> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_os_string()),
            Component::ParentDir => Some(OsString::from("..")),
            _ => None,
        })
        .collect();
    stack.extend(parts.into_iter().rev());
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{symlink, MetadataExt};

    /// A root with `/etc/passwd` ("inside"), hostile links, and a sibling "host" file.
    fn fixture() -> (tempfile::TempDir, Dir) {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("root");
        std::fs::create_dir_all(root.join("etc")).unwrap();
        std::fs::write(root.join("etc/passwd"), "inside").unwrap();
        std::fs::write(d.path().join("secret"), "host").unwrap();
        symlink("/", root.join("evil")).unwrap();
        symlink("../../../../etc", root.join("evil2")).unwrap();
        symlink("../secret", root.join("up")).unwrap();
        symlink("/etc/passwd", root.join("abs")).unwrap();
        let dir = Dir::open(&root).unwrap();
        (d, dir)
    }

    fn read(dir: &Dir, path: &str) -> String {
        let p = Path::new(path);
        let parent = dir.resolve_dir(p.parent().unwrap()).unwrap();
        let mut s = String::new();
        io::Read::read_to_string(&mut parent.open_file(p.file_name().unwrap()).unwrap(), &mut s).unwrap();
        s
    }

    #[test]
    fn hostile_links_stay_inside() {
        let (_d, root) = fixture();
        assert_eq!(read(&root, "/evil/etc/passwd"), "inside");
        assert_eq!(read(&root, "/evil2/passwd"), "inside");
        assert_eq!(read(&root, "/../../etc/passwd"), "inside");
        let evil = root.resolve_dir(Path::new("/evil")).unwrap();
        assert_eq!(evil.metadata().unwrap().ino(), root.metadata().unwrap().ino());
        // `up` points at ../secret, which inside the root is /secret: missing.
        let top = root.resolve_dir(Path::new("/")).unwrap();
        assert!(top.open_file(OsStr::new("up")).is_err());
        assert_eq!(root.canonical(Path::new("/up")).unwrap(), PathBuf::from("/secret"));
        assert_eq!(root.canonical(Path::new("/evil2/passwd")).unwrap(), PathBuf::from("/etc/passwd"));
        assert_eq!(root.canonical(Path::new("/abs")).unwrap(), PathBuf::from("/etc/passwd"));
        assert_eq!(root.canonical(Path::new("/evil/x/../etc")).unwrap(), PathBuf::from("/etc"));
    }

    #[test]
    fn single_components_only() {
        let (_d, root) = fixture();
        for bad in ["..", ".", "a/b", ""] {
            assert!(root.lstat(OsStr::new(bad)).is_err(), "{bad}");
            assert!(root.mkdir(OsStr::new(bad), 0o755).is_err(), "{bad}");
        }
        // A final symlink is never followed.
        assert!(root.open_dir(OsStr::new("evil")).is_err());
        assert!(root.open_file(OsStr::new("abs")).is_err());
        assert!(root.lstat(OsStr::new("evil")).unwrap().file_type().is_symlink());
    }

    #[test]
    fn writes_through_hostile_links_stay_inside() {
        let (d, root) = fixture();
        let etc = root.create_dir_all(Path::new("/evil2/new/deeper")).unwrap();
        etc.create_file(OsStr::new("f"), 0o600).unwrap();
        assert!(d.path().join("root/etc/new/deeper/f").exists());
        assert!(!Path::new("/etc/new").exists());
        // Replacing a link removes the link, not its target.
        let top = root.resolve_dir(Path::new("/")).unwrap();
        top.remove_all(OsStr::new("evil")).unwrap();
        assert!(d.path().join("root/etc/passwd").exists());
        top.symlink(Path::new("/etc"), OsStr::new("l")).unwrap();
        top.chown(OsStr::new("l"), 1, 2).unwrap();
        top.set_mode(OsStr::new("l"), 0o600).unwrap();
        assert_eq!(std::fs::metadata(d.path().join("root/etc")).unwrap().mode() & 0o777, 0o755);
        top.set_times(OsStr::new("l"), (5, 0), (7, 0)).unwrap();
        assert_eq!(d.path().join("root/l").symlink_metadata().unwrap().mtime(), 7);
        top.hard_link(OsStr::new("h"), &etc, OsStr::new("f")).unwrap();
        assert_eq!(top.lstat(OsStr::new("h")).unwrap().nlink(), 2);
        top.mknod(OsStr::new("p"), NodeKind::Fifo, 0o644, 0, 0).unwrap();
        assert!(top.open_file(OsStr::new("p")).is_err());
        assert_eq!(top.entries().unwrap(), ["abs", "etc", "evil2", "h", "l", "p", "up"]);
        assert!(!top.is_pseudo_fs());
        assert!(Dir::open(Path::new("/proc/self")).unwrap().is_pseudo_fs());
    }
}
