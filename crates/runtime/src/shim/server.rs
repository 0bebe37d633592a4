//! The `berth-shim` process: creates the container, then serves its control socket on a
//! current-thread tokio runtime until the container has exited and everything is flushed.

use std::cell::RefCell;
use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::Path;
use std::rc::Rc;
use std::time::Duration;

use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use tokio::io::unix::AsyncFd;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, oneshot};

use super::create::{self, ContainerIo, Started};
use super::jsonlog::{self, JsonLogWriter, LineSplitter};
use super::protocol::{ExitStatus, ProcessState, Request, Response, ShimConfig};

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("reading shim config {path}: {source}")]
    Config {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("parsing shim config: {0}")]
    ConfigJson(#[from] serde_json::Error),
    #[error(transparent)]
    Process(#[from] berth_kernel::process::ProcessError),
    #[error(transparent)]
    Create(#[from] create::CreateError),
    #[error("{what}: {source}")]
    Io {
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
}

fn ioe(what: &'static str) -> impl FnOnce(std::io::Error) -> ServerError {
    move |source| ServerError::Io { what, source }
}

/// Writes `data` to `path` atomically: temp file, fsync, rename.
pub fn write_atomic(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(data)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

pub(super) type Fd = Rc<AsyncFd<OwnedFd>>;

pub(super) fn async_fd(fd: OwnedFd) -> std::io::Result<Fd> {
    let flags = nix::fcntl::fcntl(fd.as_raw_fd(), nix::fcntl::FcntlArg::F_GETFL)?;
    let flags = nix::fcntl::OFlag::from_bits_truncate(flags) | nix::fcntl::OFlag::O_NONBLOCK;
    nix::fcntl::fcntl(fd.as_raw_fd(), nix::fcntl::FcntlArg::F_SETFL(flags))?;
    // `AsyncFd::new` is deprecated for non-owning fd types; an OwnedFd keeps the descriptor
    // alive for as long as it is registered, which is the safety the replacement asks for.
    #[allow(deprecated)]
    let afd = AsyncFd::new(fd)?;
    Ok(Rc::new(afd))
}

pub(super) async fn fd_read(fd: &Fd, buf: &mut [u8]) -> std::io::Result<usize> {
    loop {
        let mut guard = fd.readable().await?;
        match guard.try_io(|f| nix::unistd::read(f.get_ref().as_raw_fd(), buf).map_err(Into::into)) {
            Ok(r) => return r,
            Err(_would_block) => continue,
        }
    }
}

pub(super) async fn fd_write_all(fd: &Fd, mut data: &[u8]) -> std::io::Result<()> {
    while !data.is_empty() {
        let mut guard = fd.writable().await?;
        match guard.try_io(|f| nix::unistd::write(f.get_ref(), data).map_err(Into::into)) {
            Ok(Ok(n)) => data = &data[n..],
            Ok(Err(e)) => return Err(e),
            Err(_would_block) => continue,
        }
    }
    Ok(())
}

struct Client {
    stdout: bool,
    stderr: bool,
    tx: mpsc::UnboundedSender<Vec<u8>>,
}

pub(super) struct State {
    pub(super) cfg: ShimConfig,
    /// Host pid of the container's init.
    pub(super) pid: i32,
    pub(super) exit: Option<ExitStatus>,
    /// Processes started by `docker exec`.
    pub(super) execs: super::server_exec::Execs,
    /// The container's cgroup path (from its spec): OOM kills, thawing a killed paused container.
    cgroup: Option<String>,
    clients: Vec<Client>,
    writers: Vec<tokio::task::JoinHandle<()>>,
    pub(super) waiters: Vec<oneshot::Sender<ExitStatus>>,
    stdin: Option<Fd>,
    pty: Option<Fd>,
    log: Option<JsonLogWriter>,
    /// Created but not yet started (`hold_start`).
    start_pending: bool,
}

pub(super) type Shared = Rc<RefCell<State>>;

/// Entry point of `berth-shim <shim.json>`.
pub fn run(config_path: &Path) -> Result<(), ServerError> {
    let data = std::fs::read(config_path)
        .map_err(|source| ServerError::Config { path: config_path.display().to_string(), source })?;
    let cfg: ShimConfig = serde_json::from_slice(&data)?;
    let result = setup(&cfg);
    let mut out = std::io::stdout();
    let line = match &result {
        Ok(s) => serde_json::json!({"ok": true, "pid": s.pid}),
        Err(e) => serde_json::json!({"ok": false, "message": e.to_string()}),
    };
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
    // The parent reads one line; detach stdout from its pipe so nothing else lands there.
    if let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") {
        let _ = nix::unistd::dup2(std::os::fd::AsRawFd::as_raw_fd(&null), 1);
    }
    let Setup { started, listener, .. } = result?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .on_thread_park(release_if_requested)
        .build()
        .map_err(ioe("building runtime"))?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, serve(cfg, started, listener))
}

/// Everything set up before the event loop: the running container and the bound ctl.sock
/// (bound before the handshake so a client can connect as soon as it hears back).
struct Setup {
    pid: i32,
    started: Started,
    listener: std::os::unix::net::UnixListener,
}

fn setup(cfg: &ShimConfig) -> Result<Setup, ServerError> {
    berth_kernel::process::new_session()?;
    berth_kernel::process::set_child_subreaper()?;
    std::fs::create_dir_all(&cfg.state_dir).map_err(ioe("creating state dir"))?;
    let sock_path = cfg.state_dir.join("ctl.sock");
    let _ = std::fs::remove_file(&sock_path);
    let short = super::sockpath::SocketPath::new(&cfg.state_dir, "ctl.sock").map_err(ioe("opening state dir"))?;
    let listener = std::os::unix::net::UnixListener::bind(short.path()).map_err(ioe("binding ctl.sock"))?;
    let created = if cfg.hold_start { create::create(cfg) } else { create::create_and_start(cfg) };
    let started = match created {
        Ok(s) => s,
        Err(e) => {
            let _ = std::fs::remove_file(&sock_path);
            return Err(e.into());
        }
    };
    write_atomic(&cfg.state_dir.join("pid"), started.pid.to_string().as_bytes()).map_err(ioe("writing pid file"))?;
    Ok(Setup { pid: started.pid, started, listener })
}

pub(super) fn frame(stream: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(8 + payload.len());
    f.extend_from_slice(&[stream, 0, 0, 0]);
    f.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// Sends output to attached clients: stdcopy frames, or the raw bytes with a TTY (where
/// there is only one stream, and clients expect it unframed).
fn broadcast(state: &Shared, stream: u8, data: &[u8]) {
    let st = state.borrow();
    for c in &st.clients {
        if (stream == 1 && c.stdout) || (stream == 2 && c.stderr) {
            let msg = if st.cfg.tty { data.to_vec() } else { frame(stream, data) };
            let _ = c.tx.send(msg);
        }
    }
}

fn log_messages(state: &Shared, stream: &str, msgs: Vec<Vec<u8>>) {
    let mut st = state.borrow_mut();
    if let Some(log) = st.log.as_mut() {
        for m in msgs {
            if let Err(e) = log.write(&m, stream) {
                tracing::warn!("writing log: {e}");
            }
        }
    }
}

/// Copies one output of the container to the log and attached clients until EOF.
async fn pump(state: Shared, fd: Fd, stream: u8) {
    let name = if stream == 2 { "stderr" } else { "stdout" };
    let mut splitter = LineSplitter::default();
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        match fd_read(&fd, &mut buf).await {
            Ok(0) => break,
            Ok(n) => {
                log_messages(&state, name, splitter.push(&buf[..n]));
                broadcast(&state, stream, &buf[..n]);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            // EIO on a pty master once every slave is closed.
            Err(_) => break,
        }
    }
    if let Some(rest) = splitter.finish() {
        log_messages(&state, name, vec![rest]);
    }
}

fn exit_code(ws: WaitStatus) -> Option<i32> {
    match ws {
        WaitStatus::Exited(_, code) => Some(code),
        WaitStatus::Signaled(_, sig, _) => Some(128 + sig as i32),
        _ => None,
    }
}

/// Reaps every child that has exited; returns the init's exit code once seen. Exits of exec'd
/// processes are recorded in `state`.
fn reap(init: i32, state: Option<&Shared>) -> Option<i32> {
    let mut code = None;
    loop {
        match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) | Err(_) => return code,
            Ok(ws) => {
                let pid = ws.pid().map(|p| p.as_raw());
                if pid == Some(init) {
                    code = exit_code(ws).or(code);
                } else if let (Some(st), Some(pid), Some(c)) = (state, pid, exit_code(ws)) {
                    let status = ExitStatus {
                        code: c,
                        finished_at: jsonlog::rfc3339_nano(chrono::Utc::now()),
                        oom_killed: false,
                    };
                    st.borrow_mut().execs.reaped(pid, &status);
                }
            }
        }
    }
}

async fn serve(
    cfg: ShimConfig,
    started: Started,
    listener: std::os::unix::net::UnixListener,
) -> Result<(), ServerError> {
    let mut sigchld = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::child())
        .map_err(ioe("installing SIGCHLD handler"))?;
    let log = JsonLogWriter::open(&cfg.log_path).map_err(ioe("opening log"))?;
    let state: Shared = Rc::new(RefCell::new(State {
        cfg: cfg.clone(),
        pid: started.pid,
        exit: None,
        execs: Default::default(),
        cgroup: container_cgroup(&cfg),
        clients: Vec::new(),
        writers: Vec::new(),
        waiters: Vec::new(),
        stdin: None,
        pty: None,
        log: Some(log),
        start_pending: cfg.hold_start,
    }));

    let mut pumps = Vec::new();
    match started.io {
        ContainerIo::Pipes { stdin, stdout, stderr } => {
            if let Some(i) = stdin {
                state.borrow_mut().stdin = Some(async_fd(i).map_err(ioe("stdin"))?);
            }
            let out = async_fd(stdout).map_err(ioe("stdout"))?;
            let err = async_fd(stderr).map_err(ioe("stderr"))?;
            pumps.push(tokio::task::spawn_local(pump(state.clone(), out, 1)));
            pumps.push(tokio::task::spawn_local(pump(state.clone(), err, 2)));
        }
        ContainerIo::Pty { master } => {
            let m = async_fd(master).map_err(ioe("pty master"))?;
            {
                let mut st = state.borrow_mut();
                st.pty = Some(m.clone());
                if cfg.open_stdin {
                    st.stdin = Some(m.clone());
                }
            }
            pumps.push(tokio::task::spawn_local(pump(state.clone(), m, 1)));
        }
    }

    let sock_path = cfg.state_dir.join("ctl.sock");
    listener.set_nonblocking(true).map_err(ioe("ctl.sock"))?;
    let listener = UnixListener::from_std(listener).map_err(ioe("ctl.sock"))?;
    let accept_state = state.clone();
    let acceptor = tokio::task::spawn_local(async move {
        while let Ok((conn, _)) = listener.accept().await {
            tokio::task::spawn_local(handle(accept_state.clone(), conn));
        }
    });

    // Creating the container ran most of libcontainer once; the serve loop needs little of it.
    release_memory();
    super::server_exec::release_when_idle();

    // Wait for the init to exit (check once first: it may already have).
    let code = loop {
        if let Some(code) = reap(started.pid, Some(&state)) {
            break code;
        }
        sigchld.recv().await;
    };
    let status = ExitStatus {
        code,
        finished_at: jsonlog::rfc3339_nano(chrono::Utc::now()),
        oom_killed: oom_killed(state.borrow().cgroup.as_deref()),
    };
    if let Ok(json) = serde_json::to_vec(&status) {
        if let Err(e) = write_atomic(&cfg.state_dir.join("exit"), &json) {
            tracing::error!("writing exit file: {e}");
        }
    }

    // Drain output, then flush and close every attach stream.
    for p in pumps {
        let _ = tokio::time::timeout(Duration::from_secs(5), p).await;
    }
    let writers = {
        let mut st = state.borrow_mut();
        st.exit = Some(status.clone());
        st.execs.container_exited(&status.finished_at);
        if let Some(log) = st.log.as_mut() {
            let _ = log.sync();
        }
        st.clients.clear();
        st.stdin = None;
        st.pty = None;
        std::mem::take(&mut st.writers)
    };
    for w in writers {
        let _ = tokio::time::timeout(Duration::from_secs(5), w).await;
    }
    // Everything this shim owns on disk (runtime state, cgroup, socket path) is gone before a
    // waiter hears of the exit: berthd may start the container again at once, with a new shim
    // on the same paths, and nothing of this run may touch those afterwards.
    if let Err(e) = create::delete(&cfg) {
        tracing::error!("deleting container: {e}");
    }
    reap(started.pid, None);
    acceptor.abort();
    let _ = std::fs::remove_file(&sock_path);
    let waiters = std::mem::take(&mut state.borrow_mut().waiters);
    for w in waiters {
        let _ = w.send(status.clone());
    }
    // Let the connections already accepted send their responses before the process exits.
    tokio::time::sleep(Duration::from_millis(50)).await;
    Ok(())
}

/// Set by [`release_memory`], taken by [`release_if_requested`].
static RELEASE_REQUESTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Asks for the pages that creating the container or starting an exec touched (libcontainer's
/// code, freed heap, deep stack) to be given back the next time the event loop goes to sleep:
/// they are mapped again from the page cache if needed. Keeps an idle shim's RSS to what its
/// event loop uses.
pub(super) fn release_memory() {
    RELEASE_REQUESTED.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// The runtime's park hook: gives the memory back, if asked, right before the thread sleeps, so
/// the only code that runs between the release and the sleep (and so is mapped again) is the
/// runtime's own way into `epoll_wait`. Every file page touched after the release costs its
/// whole fault-around window (64 KiB) in RSS.
fn release_if_requested() {
    if RELEASE_REQUESTED.swap(false, std::sync::atomic::Ordering::Relaxed) {
        let r = berth_kernel::memory::release_unused();
        tracing::debug!("released {} KiB of file pages, {} KiB of stack", r.file_kib, r.stack_kib);
    }
}

fn container_cgroup(cfg: &ShimConfig) -> Option<String> {
    let spec = oci_spec::runtime::Spec::load(cfg.bundle.join("config.json")).ok()?;
    let path = spec.linux().as_ref()?.cgroups_path().clone()?;
    Some(path.to_string_lossy().into_owned())
}

/// Whether the kernel's OOM killer killed a process of the container (read before the runtime
/// deletes its cgroup).
fn oom_killed(cgroup: Option<&str>) -> bool {
    let root = Path::new(berth_kernel::cgroup::CGROUP_ROOT);
    cgroup.is_some_and(|p| berth_kernel::cgroup_stats::oom_kill_count(root, p) > 0)
}

pub(super) async fn respond(w: &mut tokio::net::unix::OwnedWriteHalf, resp: &Response) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(resp).map_err(std::io::Error::other)?;
    line.push(b'\n');
    w.write_all(&line).await
}

async fn handle(state: Shared, conn: UnixStream) {
    let (r, mut w) = conn.into_split();
    let mut reader = BufReader::new(r);
    let mut line = String::new();
    if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
        return;
    }
    let req: Request = match serde_json::from_str(&line) {
        Ok(r) => r,
        Err(e) => {
            let _ = respond(&mut w, &Response::Error { message: format!("bad request: {e}") }).await;
            return;
        }
    };
    let resp = match req {
        Request::State => {
            let st = state.borrow();
            Response::State(ProcessState { pid: st.pid, exit: st.exit.clone() })
        }
        Request::Start => start_held(&state),
        Request::Signal { signal } => signal_init(&state, signal),
        Request::Resize { height, width } => {
            let pty = state.borrow().pty.clone();
            match pty {
                Some(p) => match berth_kernel::process::set_winsize(p.get_ref().as_fd(), height, width) {
                    Ok(()) => Response::Ok,
                    Err(e) => Response::Error { message: e.to_string() },
                },
                None => Response::Ok,
            }
        }
        Request::Wait => {
            let rx = {
                let mut st = state.borrow_mut();
                match &st.exit {
                    Some(s) => Err(s.clone()),
                    None => {
                        let (tx, rx) = oneshot::channel();
                        st.waiters.push(tx);
                        Ok(rx)
                    }
                }
            };
            match rx {
                Err(s) => Response::Exited(s),
                Ok(rx) => match rx.await {
                    Ok(s) => Response::Exited(s),
                    Err(_) => Response::Error { message: "shim is shutting down".into() },
                },
            }
        }
        Request::Attach { stdin, stdout, stderr } => {
            attach(state, reader, w, stdin, stdout, stderr).await;
            return;
        }
        Request::Shutdown => Response::Ok,
        Request::Exec(req) => {
            super::server_exec::exec(state, req, reader, w).await;
            return;
        }
        Request::ExecState { exec_id } => state.borrow_mut().execs.state(&exec_id),
        Request::Subscribe => {
            super::server_exec::subscribe(state, w).await;
            return;
        }
        Request::ExecResize { exec_id, height, width } => state.borrow().execs.resize(&exec_id, height, width),
    };
    let _ = respond(&mut w, &resp).await;
}

/// Runs a held container's process. On failure the init is killed, so the usual exit path
/// records it and cleans up.
fn start_held(state: &Shared) -> Response {
    let mut st = state.borrow_mut();
    if !st.start_pending {
        return Response::Ok;
    }
    st.start_pending = false;
    let started = create::start(&st.cfg);
    // Now, so a shim is small as soon as its container runs; and again once answering this
    // request and the ones that follow a start (attach, wait) is over.
    release_memory();
    super::server_exec::release_when_idle();
    match started {
        Ok(()) => Response::Ok,
        Err(e) => {
            let _ = nix::sys::signal::kill(Pid::from_raw(st.pid), nix::sys::signal::Signal::SIGKILL);
            Response::Error { message: e.to_string() }
        }
    }
}

fn signal_init(state: &Shared, signal: i32) -> Response {
    let st = state.borrow();
    if let Some(exit) = &st.exit {
        return Response::Exited(exit.clone());
    }
    let sig = match nix::sys::signal::Signal::try_from(signal) {
        Ok(s) => Some(s),
        Err(_) if signal == 0 => None,
        Err(_) => return Response::Error { message: format!("invalid signal: {signal}") },
    };
    match nix::sys::signal::kill(Pid::from_raw(st.pid), sig) {
        Ok(()) => {
            // A frozen (paused) container only dies once thawed.
            let root = Path::new(berth_kernel::cgroup::CGROUP_ROOT);
            if let (Some(nix::sys::signal::Signal::SIGKILL), Some(cg)) = (sig, st.cgroup.as_deref()) {
                if berth_kernel::cgroup_limits::is_frozen(root, cg) {
                    if let Err(e) = berth_kernel::cgroup_limits::freeze(root, cg, false) {
                        return Response::Error { message: format!("thawing killed container: {e}") };
                    }
                }
            }
            Response::Ok
        }
        // Reaped, its exit not yet recorded (output still draining).
        Err(nix::errno::Errno::ESRCH) => Response::Error { message: format!("container {} is not running", st.cfg.id) },
        Err(e) => Response::Error { message: format!("signalling container: {e}") },
    }
}

async fn attach(
    state: Shared,
    mut reader: BufReader<tokio::net::unix::OwnedReadHalf>,
    mut w: tokio::net::unix::OwnedWriteHalf,
    stdin: bool,
    stdout: bool,
    stderr: bool,
) {
    if respond(&mut w, &Response::Ok).await.is_err() {
        return;
    }
    let (tx, mut rx) = mpsc::unbounded_channel::<Vec<u8>>();
    let exited = state.borrow().exit.is_some();
    let writer = tokio::task::spawn_local(async move {
        while let Some(f) = rx.recv().await {
            if w.write_all(&f).await.is_err() {
                break;
            }
        }
        let _ = w.shutdown().await;
    });
    if !exited {
        let mut st = state.borrow_mut();
        st.clients.push(Client { stdout, stderr, tx });
        st.writers.push(writer);
    } else {
        drop(tx);
    }
    if !stdin || exited {
        return;
    }
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        let n = match reader.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let fd = state.borrow().stdin.clone();
        match fd {
            Some(fd) => {
                if fd_write_all(&fd, &buf[..n]).await.is_err() {
                    break;
                }
            }
            None => break,
        }
    }
    let mut st = state.borrow_mut();
    if st.cfg.stdin_once && !st.cfg.tty {
        // Dropping the last handle closes the pipe: the container sees EOF.
        st.stdin = None;
    }
}
