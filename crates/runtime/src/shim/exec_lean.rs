//! The shim's fast path for `docker exec`: instead of libcontainer's tenant builder (which sets
//! up a cgroup manager, an intermediate process and its channels for every exec), the shim forks
//! into the container's cgroups and namespaces itself ([`berth_kernel::nsexec`]) and applies the
//! process's settings in the order libcontainer's init does: rlimits, no_new_privileges, umask,
//! working directory, groups and ids, seccomp (before the capabilities unless
//! no_new_privileges), capabilities, then the executable's lookup in the container's `PATH` and
//! exec, with libcontainer's own helpers so the semantics and messages stay the same.
//!
//! The container's spec is read once per shim ([`Container`]), and its seccomp profile compiled
//! to BPF then ([`super::seccomp_bpf`]): each exec'd process only installs the program. Before
//! changing ids the process hands its stdio (pipes or terminal) to the exec's user, as runc does.
//!
//! With a TTY the process opens a terminal in the container's devpts and sends its master to
//! the shim. A container with a user namespace, an AppArmor or SELinux label, a seccomp notify
//! listener, I/O priority or scheduler settings takes libcontainer's path.

use std::cell::RefCell;
use std::collections::HashMap;
use std::os::fd::{AsFd, OwnedFd};
use std::rc::Rc;

use berth_kernel::nsexec::Stdio;
use libcontainer::capabilities;
use libcontainer::oci_spec::runtime::{LinuxSeccomp, Process, Spec};
use libcontainer::syscall::syscall::create_syscall;
use libcontainer::workload::default::get_executor;
use nix::fcntl::OFlag;
use nix::unistd::{Gid, Uid};

use super::create::{ContainerIo, CreateError};
use super::protocol::{ExecRequest, ShimConfig};

/// The container's seccomp filter for exec'd processes.
enum Seccomp {
    /// Compiled once; each process installs the program.
    Compiled(super::seccomp_bpf::CompiledFilter),
    /// Compiling failed: libcontainer builds it in the process (and reports the error there).
    Profile(LinuxSeccomp),
}

impl Seccomp {
    fn load(&self) -> Result<(), String> {
        match self {
            Seccomp::Compiled(f) => f.load(),
            Seccomp::Profile(s) => libcontainer::seccomp::initialize_seccomp(s)
                .map(drop)
                .map_err(|e| format!("initializing seccomp: {}", chain(&e))),
        }
    }
}

/// What every exec of this shim's container shares, from its `config.json` and its init's
/// cgroups (none of which change while the container runs).
struct Container {
    /// The spec allows the fast path (see [`container_supported`]).
    supported: bool,
    seccomp: Option<Seccomp>,
    /// The files that move a process into the init's cgroups ([`berth_kernel::nsexec::cgroups_of`]).
    cgroup_procs: Vec<std::path::PathBuf>,
}

thread_local! {
    /// The shim serves one container: read and compiled at its first exec.
    static CONTAINER: RefCell<Option<Rc<Container>>> = const { RefCell::new(None) };
}

fn container(cfg: &ShimConfig, init_pid: i32) -> Result<Rc<Container>, CreateError> {
    if let Some(c) = CONTAINER.with_borrow(|c| c.clone()) {
        return Ok(c);
    }
    let cgroup_procs =
        berth_kernel::nsexec::cgroups_of(init_pid).map_err(|e| runtime(format!("container cgroups: {e}")))?;
    let spec = Spec::load(cfg.bundle.join("config.json")).map_err(runtime)?;
    let supported = container_supported(&spec);
    let profile = spec.linux().as_ref().and_then(|l| l.seccomp().clone());
    let seccomp = match profile {
        Some(p) if supported => Some(match super::seccomp_bpf::compile(&p) {
            Ok(f) => Seccomp::Compiled(f),
            Err(e) => {
                tracing::warn!("compiling the container's seccomp profile: {e}");
                Seccomp::Profile(p)
            }
        }),
        other => other.map(Seccomp::Profile),
    };
    let c = Rc::new(Container { supported, seccomp, cgroup_procs });
    CONTAINER.set(Some(c.clone()));
    Ok(c)
}

/// What the forked process needs, prepared before the fork.
struct Plan {
    process: Process,
    container: Rc<Container>,
    /// A spec holding only `process`, for libcontainer's executor (validation and exec).
    exec_spec: Spec,
}

fn runtime(what: impl std::fmt::Display) -> CreateError {
    CreateError::Runtime(what.to_string())
}

/// Whether the fast path applies to a container with `spec`.
fn container_supported(spec: &Spec) -> bool {
    let linux = spec.linux().as_ref();
    linux.and_then(|l| l.seccomp().as_ref()).is_none_or(|s| !libcontainer::seccomp::is_notify(s))
        && linux.and_then(|l| l.personality().as_ref()).is_none()
        && linux.and_then(|l| l.intel_rdt().as_ref()).is_none()
}

/// Whether the fast path applies to `process`.
fn process_supported(process: &Process) -> bool {
    process.apparmor_profile().is_none()
        && process.selinux_label().is_none()
        && process.io_priority().is_none()
        && process.scheduler().is_none()
        && process.exec_cpu_affinity().is_none()
}

fn pipe() -> Result<(OwnedFd, OwnedFd), CreateError> {
    nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(|e| CreateError::Io { what: "pipe".into(), source: e.into() })
}

/// The process's stdio (`nsexec` side) and the shim's ends of it.
fn stdio(req: &ExecRequest) -> Result<(Stdio, Option<ContainerIo>, Option<OwnedFd>), CreateError> {
    if req.tty {
        let (ours, theirs) = std::os::unix::net::UnixStream::pair()
            .map_err(|e| CreateError::Io { what: "socketpair".into(), source: e })?;
        return Ok((Stdio::Pty(theirs.into()), None, Some(ours.into())));
    }
    let (stdin_c, stdin_s) = if req.stdin {
        let (r, w) = pipe()?;
        (r, Some(w))
    } else {
        let null = std::fs::File::open("/dev/null")
            .map_err(|e| CreateError::Io { what: "opening /dev/null".into(), source: e })?;
        (null.into(), None)
    };
    let (out_r, out_w) = pipe()?;
    let (err_r, err_w) = pipe()?;
    let io = ContainerIo::Pipes { stdin: stdin_s, stdout: out_r, stderr: err_r };
    Ok((Stdio::Fds([stdin_c, out_w, err_w]), Some(io), None))
}

/// Starts `req`'s process in the container whose init is `init_pid`; returns its pid and the
/// shim's ends of its stdio, or `None` when the fast path does not apply.
pub(super) fn spawn(
    cfg: &ShimConfig,
    req: &ExecRequest,
    init_pid: i32,
) -> Result<Option<(i32, ContainerIo)>, CreateError> {
    let data = std::fs::read(&req.process).map_err(|e| runtime(format!("reading exec process: {e}")))?;
    let process: Process = serde_json::from_slice(&data).map_err(|e| runtime(format!("parsing exec process: {e}")))?;
    let container = container(cfg, init_pid)?;
    if !container.supported || !process_supported(&process) {
        return Ok(None);
    }
    let namespaces =
        berth_kernel::nsexec::namespaces_of(init_pid).map_err(|e| runtime(format!("container namespaces: {e}")))?;
    // A user namespace (`userns-remap`) is joined first, as runc does; libcontainer's tenant
    // builder would not join it at all.
    let cgroup_procs = container.cgroup_procs.clone();
    let (stdio, io, console) = stdio(req)?;
    let mut exec_spec = Spec::default();
    exec_spec.set_process(Some(process.clone()));
    let plan = Plan { container, process, exec_spec };
    let enter = berth_kernel::nsexec::Enter { cgroup_procs, namespaces, stdio };
    let pid = berth_kernel::nsexec::spawn_in(enter, move || match run(&plan) {
        Ok(never) => match never {},
        Err(message) => message,
    })
    .map_err(|e| runtime(super::exec::exec_message(&e.to_string(), &process_args0(&data))))?;
    let io = match (io, console) {
        (Some(io), _) => io,
        (None, Some(sock)) => {
            // Sent before the process exec'd, so it is waiting in the socket.
            let master = berth_kernel::process::recv_fd(sock.as_fd()).map_err(|e| {
                let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
                runtime(format!("receiving pty master: {e}"))
            })?;
            if let Some((h, w)) = req.console_size {
                let _ = berth_kernel::process::set_winsize(master.as_fd(), h, w);
            }
            ContainerIo::Pty { master }
        }
        (None, None) => return Err(runtime("no stdio for exec")),
    };
    Ok(Some((pid, io)))
}

fn process_args0(data: &[u8]) -> String {
    serde_json::from_slice::<Process>(data)
        .ok()
        .and_then(|p| p.args().as_ref().and_then(|a| a.first().cloned()))
        .unwrap_or_default()
}

/// Go-style errno text ("no such file or directory"), as runc's messages have it.
fn errno_text(e: nix::Error) -> String {
    let d = e.desc();
    let mut c = d.chars();
    c.next().map(|f| f.to_lowercase().chain(c).collect()).unwrap_or_default()
}

fn chain(err: &dyn std::error::Error) -> String {
    let mut s = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        s.push_str(": ");
        s.push_str(&e.to_string());
        cur = e.source();
    }
    s
}

/// Gives the process's stdio (its pipes, or its terminal) to `uid`, keeping the group (a
/// terminal keeps the devpts `gid=5`), as runc does before it changes the ids; descriptors on
/// `/dev/null` are left alone, and a descriptor that cannot change owner is not an error.
fn chown_stdio(uid: u32) -> Result<(), String> {
    let null = nix::sys::stat::stat("/dev/null").ok().map(|s| s.st_rdev);
    for fd in 0..3 {
        let st = nix::sys::stat::fstat(fd).map_err(|e| format!("fstat of stdio {fd}: {}", errno_text(e)))?;
        if st.st_uid == uid || Some(st.st_rdev) == null {
            continue;
        }
        match nix::unistd::fchown(fd, Some(Uid::from_raw(uid)), None) {
            // An owner not mapped in a user namespace, a read-only /dev: leave it as it is.
            Ok(()) | Err(nix::Error::EINVAL) | Err(nix::Error::EPERM) | Err(nix::Error::EROFS) => {}
            Err(e) => return Err(format!("fchown of stdio {fd}: {}", errno_text(e))),
        }
    }
    Ok(())
}

/// Runs in the forked process, inside the container: applies `plan.process` and execs it.
/// Returns only on failure, with the error text.
fn run(plan: &Plan) -> Result<std::convert::Infallible, String> {
    let p = &plan.process;
    let syscall = create_syscall();
    for r in p.rlimits().iter().flatten() {
        syscall.set_rlimit(r).map_err(|e| format!("setting rlimit: {}", chain(&e)))?;
    }
    if let Some(adj) = p.oom_score_adj() {
        std::fs::write("/proc/self/oom_score_adj", adj.to_string())
            .map_err(|e| format!("setting oom_score_adj: {e}"))?;
    }
    if p.no_new_privileges() == Some(true) {
        nix::sys::prctl::set_no_new_privs().map_err(|e| format!("setting no_new_privileges: {e}"))?;
    }
    if let Some(umask) = p.user().umask() {
        let mode = nix::sys::stat::Mode::from_bits(umask).ok_or_else(|| format!("invalid umask {umask}"))?;
        nix::sys::stat::umask(mode);
    }
    let cwd = p.cwd();
    let chdir_err = |e: nix::Error| {
        format!("chdir to cwd ({:?}) set in config.json failed: {}", cwd.display().to_string(), errno_text(e))
    };
    // As root first (the user may not reach it); again after the ids changed if that was denied.
    let chdir_later = match nix::unistd::chdir(cwd) {
        Ok(()) => false,
        Err(nix::Error::EPERM) | Err(nix::Error::EACCES) => true,
        Err(e) => return Err(chdir_err(e)),
    };
    chown_stdio(p.user().uid())?;
    if let Some(gids) = p.user().additional_gids().as_ref().filter(|g| !g.is_empty()) {
        let gids: Vec<Gid> = gids.iter().map(|g| Gid::from_raw(*g)).collect();
        syscall.set_groups(&gids).map_err(|e| format!("setting supplementary groups: {}", chain(&e)))?;
    }
    syscall
        .set_id(Uid::from_raw(p.user().uid()), Gid::from_raw(p.user().gid()))
        .map_err(|e| format!("setting uid and gid: {}", chain(&e)))?;
    // Every descriptor of the shim beyond stdio closes on exec.
    syscall.close_range(0).map_err(|e| format!("closing descriptors: {}", chain(&e)))?;
    let seccomp = plan.container.seccomp.as_ref();
    let seccomp_now = p.no_new_privileges().is_none();
    if let (Some(s), true) = (seccomp, seccomp_now) {
        s.load()?;
    }
    capabilities::reset_effective(syscall.as_ref()).map_err(|e| format!("resetting capabilities: {}", chain(&e)))?;
    if let Some(caps) = p.capabilities() {
        capabilities::drop_privileges(caps, syscall.as_ref())
            .map_err(|e| format!("dropping capabilities: {}", chain(&e)))?;
    }
    if chdir_later {
        nix::unistd::chdir(cwd).map_err(chdir_err)?;
    }
    if let (Some(s), false) = (seccomp, seccomp_now) {
        s.load()?;
    }
    let envs: HashMap<String, String> = libcontainer::utils::parse_env(p.env().as_deref().unwrap_or_default());
    let executor = get_executor();
    executor.validate(&plan.exec_spec).map_err(|e| chain(&e))?;
    executor.setup_envs(envs).map_err(|e| chain(&e))?;
    executor.exec(&plan.exec_spec).map_err(|e| chain(&e))?;
    Err("exec returned".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_take_libcontainers_path() {
        let spec = Spec::default();
        let mut p = spec.process().clone().expect("default process");
        assert!(container_supported(&spec) && process_supported(&p));
        p.set_apparmor_profile(Some("docker-default".into()));
        assert!(!process_supported(&p));
    }

    #[test]
    fn errno_text_like_go() {
        assert_eq!(errno_text(nix::Error::ENOENT), "no such file or directory");
    }
}
