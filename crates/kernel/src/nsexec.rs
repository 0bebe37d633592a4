//! Starting a process inside a running container's cgroups and namespaces (`docker exec`), the
//! way runc's nsenter does: fork, join the cgroups (from the host's view), join the namespaces
//! through `/proc/<init>/ns/*` descriptors, fork again so the process is inside the pid
//! namespace, then hand over to the caller's `setup` (credentials, seccomp, exec).
//!
//! The caller must be single-threaded (the shim's event loop is): after `fork` only the calling
//! thread exists, so the child may allocate and take locks freely. [`spawn_in`] checks this.

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::PathBuf;

use nix::sched::CloneFlags;
use nix::unistd::{ForkResult, Pid};

#[derive(Debug, thiserror::Error)]
pub enum NsExecError {
    #[error("cannot fork: the process has {0} threads")]
    Threaded(usize),
    #[error("{what}: {source}")]
    Sys {
        what: &'static str,
        #[source]
        source: nix::Error,
    },
    #[error("reading the child's status: {0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Child(String),
}

fn sys(what: &'static str) -> impl FnOnce(nix::Error) -> NsExecError {
    move |source| NsExecError::Sys { what, source }
}

/// Where the process goes and its stdio.
#[derive(Debug)]
pub struct Enter {
    /// Files (host paths) the process writes "0" to before anything else, to move itself into
    /// the container's cgroups (see [`cgroups_of`]).
    pub cgroup_procs: Vec<PathBuf>,
    /// Namespace descriptors and their types, joined in this order (a pid namespace applies to
    /// the second fork; the mount namespace should come last).
    pub namespaces: Vec<(OwnedFd, CloneFlags)>,
    pub stdio: Stdio,
}

/// The process's stdin, stdout and stderr.
#[derive(Debug)]
pub enum Stdio {
    /// These descriptors.
    Fds([OwnedFd; 3]),
    /// A new terminal of the container's devpts as controlling terminal; its master is sent
    /// (SCM_RIGHTS) on this unix socket.
    Pty(OwnedFd),
}

/// The namespaces of `pid` that differ from this process's, as open descriptors, in the order
/// runc joins them (user first, mount last). A namespace shared with the host (`--network
/// host`) is not joined, as it is already ours.
pub fn namespaces_of(pid: i32) -> std::io::Result<Vec<(OwnedFd, CloneFlags)>> {
    use std::os::unix::fs::MetadataExt;
    const ORDER: [(&str, CloneFlags); 7] = [
        ("user", CloneFlags::CLONE_NEWUSER),
        ("pid", CloneFlags::CLONE_NEWPID),
        ("ipc", CloneFlags::CLONE_NEWIPC),
        ("uts", CloneFlags::CLONE_NEWUTS),
        ("net", CloneFlags::CLONE_NEWNET),
        ("cgroup", CloneFlags::CLONE_NEWCGROUP),
        ("mnt", CloneFlags::CLONE_NEWNS),
    ];
    let mut out = Vec::new();
    for (name, flag) in ORDER {
        let theirs = format!("/proc/{pid}/ns/{name}");
        let Ok(their_meta) = std::fs::metadata(&theirs) else { continue };
        let ours = std::fs::metadata(format!("/proc/self/ns/{name}"))?;
        if (their_meta.dev(), their_meta.ino()) == (ours.dev(), ours.ino()) {
            continue;
        }
        out.push((std::fs::File::open(&theirs)?.into(), flag));
    }
    Ok(out)
}

/// The files that move a process into the cgroups `pid` is in where this process is not (the
/// container's own cgroups), from `/proc/<pid>/cgroup` and this process's mount table.
///
/// On a v1 hierarchy that is the cgroup's `tasks` file: the forked child is single-threaded, so
/// moving its one thread moves the whole process, and current kernels migrate the calling
/// thread alone without write-locking the global threadgroup semaphore, whose RCU grace period
/// makes a `cgroup.procs` write cost 5–15 ms (measured on 6.18; about 0.5 ms through `tasks`).
/// A v2 cgroup has only `cgroup.procs`.
pub fn cgroups_of(pid: i32) -> std::io::Result<Vec<PathBuf>> {
    let theirs = std::fs::read_to_string(format!("/proc/{pid}/cgroup"))?;
    let ours = std::fs::read_to_string("/proc/self/cgroup")?;
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo")?;
    Ok(cgroup_procs_files(&theirs, &ours, &mountinfo))
}

/// `(mount point, root within the hierarchy)` of the cgroup hierarchy named by a
/// `/proc/<pid>/cgroup` controller list (empty for v2).
fn hierarchy_mount(mountinfo: &str, controllers: &str) -> Option<(String, String)> {
    for line in mountinfo.lines() {
        let Some((left, right)) = line.split_once(" - ") else { continue };
        let l: Vec<&str> = left.split(' ').collect();
        let r: Vec<&str> = right.split(' ').collect();
        let (Some(root), Some(point), Some(fstype), Some(opts)) = (l.get(3), l.get(4), r.first(), r.get(2)) else {
            continue;
        };
        let matches = match *fstype {
            "cgroup2" => controllers.is_empty(),
            "cgroup" if !controllers.is_empty() => {
                let opts: Vec<&str> = opts.split(',').collect();
                controllers.split(',').all(|c| opts.contains(&c))
            }
            _ => false,
        };
        if matches {
            return Some((point.to_string(), root.to_string()));
        }
    }
    None
}

fn cgroup_procs_files(theirs: &str, ours: &str, mountinfo: &str) -> Vec<PathBuf> {
    let parse = |s: &str| -> Vec<(String, String)> {
        s.lines()
            .filter_map(|l| {
                let mut f = l.splitn(3, ':');
                let (_, c, p) = (f.next()?, f.next()?, f.next()?);
                Some((c.to_string(), p.to_string()))
            })
            .collect()
    };
    let ours = parse(ours);
    let mut out = Vec::new();
    for (controllers, path) in parse(theirs) {
        if ours.iter().any(|(c, p)| *c == controllers && *p == path) {
            continue;
        }
        let Some((point, root)) = hierarchy_mount(mountinfo, &controllers) else { continue };
        let rel = path.strip_prefix(root.trim_end_matches('/')).unwrap_or(&path);
        let file = if controllers.is_empty() { "cgroup.procs" } else { "tasks" };
        out.push(PathBuf::from(point).join(rel.trim_start_matches('/')).join(file));
    }
    out
}

fn threads() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("Threads:").and_then(|n| n.trim().parse().ok())))
        .unwrap_or(0)
}

/// Message kinds on the status pipe (then a 4-byte pid or the error text).
const PID: u8 = b'P';
const ERR: u8 = b'E';

fn report(w: &mut std::fs::File, kind: u8, body: &[u8]) {
    let mut m = Vec::with_capacity(1 + body.len());
    m.push(kind);
    m.extend_from_slice(body);
    let _ = w.write_all(&m);
}

/// Exits a forked child at once (no destructors, no atexit handlers of the parent's state).
fn exit_child(code: i32) -> ! {
    // SAFETY: _exit only ends the calling (forked) process.
    unsafe { libc::_exit(code) }
}

/// Default disposition for every signal and an empty mask, as a freshly started process has
/// (exec keeps ignored signals, and the shim ignores SIGPIPE): see [`crate::signals`].
fn reset_signals() {
    crate::signals::reset_for_exec();
}

nix::ioctl_write_int_bad!(tiocsctty, libc::TIOCSCTTY);

/// Opens a terminal pair in this (the container's) devpts, sends the master on `socket`, makes
/// the slave the controlling terminal of this session leader and returns it.
fn open_pty(socket: &OwnedFd) -> Result<OwnedFd, String> {
    use nix::fcntl::OFlag;
    let master = nix::pty::posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC)
        .map_err(|e| format!("opening /dev/ptmx: {e}"))?;
    nix::pty::grantpt(&master).map_err(|e| format!("grantpt: {e}"))?;
    nix::pty::unlockpt(&master).map_err(|e| format!("unlockpt: {e}"))?;
    let name = nix::pty::ptsname_r(&master).map_err(|e| format!("ptsname: {e}"))?;
    let slave: OwnedFd = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&name)
        .map_err(|e| format!("opening {name}: {e}"))?
        .into();
    let fds = [master.as_raw_fd()];
    let cmsg = [nix::sys::socket::ControlMessage::ScmRights(&fds)];
    let iov = [std::io::IoSlice::new(b"pty")];
    nix::sys::socket::sendmsg::<()>(socket.as_raw_fd(), &iov, &cmsg, nix::sys::socket::MsgFlags::empty(), None)
        .map_err(|e| format!("sending the pty master: {e}"))?;
    // SAFETY: `slave` is an open terminal descriptor for the duration of the call; TIOCSCTTY
    // with 0 takes it as controlling terminal of this session (created by setsid just before).
    unsafe { tiocsctty(slave.as_raw_fd(), 0) }.map_err(|e| format!("setting the controlling terminal: {e}"))?;
    Ok(slave)
}

/// Reports `msg` to the parent and exits the forked child.
fn fail(status: &mut std::fs::File, msg: String) -> ! {
    report(status, ERR, msg.as_bytes());
    exit_child(1)
}

/// Runs in the first child: cgroups, namespaces, second fork. Never returns.
fn intermediate(enter: Enter, status: OwnedFd, setup: impl FnOnce() -> String) -> ! {
    let mut status = std::fs::File::from(status);
    for procs in &enter.cgroup_procs {
        if let Err(e) = std::fs::write(procs, b"0") {
            fail(&mut status, format!("joining cgroup {}: {e}", procs.display()));
        }
    }
    for (fd, flag) in &enter.namespaces {
        if let Err(e) = nix::sched::setns(fd, *flag) {
            fail(&mut status, format!("setns {flag:?}: {e}"));
        }
    }
    drop(enter.namespaces);
    // SAFETY: this process is single-threaded (a fork of a single-threaded process).
    match unsafe { nix::unistd::fork() } {
        Err(e) => fail(&mut status, format!("fork: {e}")),
        Ok(ForkResult::Parent { child }) => {
            report(&mut status, PID, &child.as_raw().to_ne_bytes());
            exit_child(0)
        }
        Ok(ForkResult::Child) => {
            reset_signals();
            if let Err(e) = nix::unistd::setsid() {
                fail(&mut status, format!("setsid: {e}"));
            }
            let fds = match enter.stdio {
                Stdio::Fds(fds) => fds,
                Stdio::Pty(socket) => match open_pty(&socket) {
                    Ok(slave) => [slave.try_clone(), slave.try_clone(), Ok(slave)].map(|f| match f {
                        Ok(f) => f,
                        Err(e) => fail(&mut status, format!("dup pty: {e}")),
                    }),
                    Err(e) => fail(&mut status, e),
                },
            };
            for (i, fd) in fds.iter().enumerate() {
                if let Err(e) = nix::unistd::dup2(fd.as_raw_fd(), i as i32) {
                    fail(&mut status, format!("dup2 stdio: {e}"));
                }
            }
            drop(fds);
            // `setup` only returns on failure (it ends in exec); the status pipe is
            // close-on-exec, so the parent sees EOF once the exec succeeded.
            let msg = setup();
            fail(&mut status, msg)
        }
    }
}

/// Starts a process in `enter`'s cgroups and namespaces, where `setup` runs (it must exec, or
/// return the error text). Returns the process's pid (as seen from here) once it has exec'd,
/// or the text of the first failure. The process is a grandchild: the caller must be a child
/// subreaper to reap it.
pub fn spawn_in(enter: Enter, setup: impl FnOnce() -> String) -> Result<i32, NsExecError> {
    let n = threads();
    if n != 1 {
        return Err(NsExecError::Threaded(n));
    }
    let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(sys("pipe"))?;
    // SAFETY: the process is single-threaded (checked just above), so the child is a
    // consistent copy of it; the child never returns into the caller (it execs or _exits).
    let child = match unsafe { nix::unistd::fork() }.map_err(sys("fork"))? {
        ForkResult::Child => {
            drop(r);
            intermediate(enter, w, setup)
        }
        ForkResult::Parent { child } => child,
    };
    drop(w);
    drop(enter);
    let mut out = Vec::new();
    let read = std::fs::File::from(r).read_to_end(&mut out);
    let _ = nix::sys::wait::waitpid(child, None);
    read?;
    parse_status(&out)
}

fn parse_status(mut out: &[u8]) -> Result<i32, NsExecError> {
    let mut pid = None;
    while let Some((&kind, rest)) = out.split_first() {
        match kind {
            PID if rest.len() >= 4 => {
                let mut b = [0u8; 4];
                b.copy_from_slice(&rest[..4]);
                pid = Some(i32::from_ne_bytes(b));
                out = &rest[4..];
            }
            ERR => {
                if let Some(p) = pid {
                    // Already gone after its failure; reaped by the caller's reaper.
                    let _ = nix::sys::signal::kill(Pid::from_raw(p), nix::sys::signal::Signal::SIGKILL);
                }
                return Err(NsExecError::Child(String::from_utf8_lossy(rest).into_owned()));
            }
            _ => break,
        }
    }
    pid.ok_or_else(|| NsExecError::Child("the process exited before reporting".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTINFO: &str = "\
35 27 0:30 / /sys/fs/cgroup/unified rw,nosuid shared:10 - cgroup2 cgroup2 rw,nsdelegate
36 27 0:31 / /sys/fs/cgroup/systemd rw,nosuid shared:11 - cgroup cgroup rw,xattr,name=systemd
40 27 0:35 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:15 - cgroup cgroup rw,cpu,cpuacct
41 27 0:36 / /sys/fs/cgroup/memory rw,nosuid shared:16 - cgroup cgroup rw,memory
";

    #[test]
    fn cgroup_files_of_the_container_only() {
        let theirs = "9:name=systemd:/\n4:cpu,cpuacct:/berth/c1\n3:memory:/berth/c1\n0::/\n";
        let ours = "9:name=systemd:/\n4:cpu,cpuacct:/\n3:memory:/\n0::/\n";
        let files = cgroup_procs_files(theirs, ours, MOUNTINFO);
        assert_eq!(
            files,
            [
                PathBuf::from("/sys/fs/cgroup/cpu,cpuacct/berth/c1/tasks"),
                PathBuf::from("/sys/fs/cgroup/memory/berth/c1/tasks")
            ]
        );
        let v2 = cgroup_procs_files("0::/berth/c2\n", "0::/user.slice\n", MOUNTINFO);
        assert_eq!(v2, [PathBuf::from("/sys/fs/cgroup/unified/berth/c2/cgroup.procs")]);
    }

    #[test]
    fn status_messages() {
        let mut ok = vec![PID];
        ok.extend_from_slice(&42i32.to_ne_bytes());
        assert_eq!(parse_status(&ok).expect("pid"), 42);
        let mut failed = vec![ERR];
        failed.extend_from_slice(b"executable 'nope' not found in $PATH");
        assert_eq!(parse_status(&failed).unwrap_err().to_string(), "executable 'nope' not found in $PATH");
        assert!(parse_status(b"").is_err());
    }

    #[test]
    fn own_namespaces_are_not_joined() {
        let me = std::process::id() as i32;
        assert!(namespaces_of(me).expect("namespaces").is_empty());
        assert!(cgroups_of(me).expect("cgroups").is_empty());
    }
}
