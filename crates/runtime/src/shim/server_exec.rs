//! The shim's side of `docker exec`: starting the process ([`super::exec::spawn`]), recording
//! its exit when the shim reaps it, and the per-exec stream (stdcopy frames out, or raw with a
//! TTY; raw stdin in) that closes once the process has exited and its output is drained.

use std::collections::{HashMap, VecDeque};
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::sync::{mpsc, watch};

use super::create::ContainerIo;
use super::protocol::{ExecRequest, ExitStatus, ProcessState, Response};
use super::server::{async_fd, fd_read, fd_write_all, frame, respond, Fd, Shared};

/// One exec'd process.
pub(super) struct ExecProc {
    pub pid: i32,
    pub exit: watch::Sender<Option<ExitStatus>>,
    pub pty: Option<Fd>,
}

/// Finished execs whose exit berthd has read ([`Execs::state`]) that are still kept, so that
/// concurrent inspects of one exec all see its exit; berthd keeps the exit code itself.
const KEEP_READ: usize = 8;
/// Finished execs kept when berthd never asks (detached execs, berthd down): the oldest go.
const KEEP_UNREAD: usize = 64;

/// Exec'd processes by exec id: the running ones, and a bounded number of finished ones, so a
/// container that runs an exec every few seconds (a healthcheck) keeps a shim of constant size.
#[derive(Default)]
pub(super) struct Execs {
    by_id: HashMap<String, ExecProc>,
    /// Finished execs, oldest first, and whether berthd has read the exit.
    finished: VecDeque<(String, bool)>,
    /// berthd's event streams ([`super::protocol::Request::Subscribe`]).
    subscribers: Vec<mpsc::UnboundedSender<Response>>,
}

impl Execs {
    /// Records the exit of `pid` if it is an exec'd process.
    pub fn reaped(&mut self, pid: i32, status: &ExitStatus) {
        let found = self.by_id.iter_mut().find(|(_, e)| e.pid == pid && e.exit.borrow().is_none());
        if let Some((id, e)) = found {
            e.exit.send_replace(Some(status.clone()));
            // The pump holds its own handle on the terminal for as long as it reads.
            e.pty = None;
            let id = id.clone();
            let pushed = self.push(&id, status);
            self.finished.push_back((id, pushed));
        }
        self.prune();
    }

    /// Sends an exec's exit to berthd's event streams; true if one took it.
    fn push(&mut self, id: &str, exit: &ExitStatus) -> bool {
        let ev = Response::ExecExited { exec_id: id.to_string(), exit: exit.clone() };
        self.subscribers.retain(|s| s.send(ev.clone()).is_ok());
        !self.subscribers.is_empty()
    }

    /// A new event stream: it first gets the exits nobody has read yet.
    pub fn subscribe(&mut self, tx: mpsc::UnboundedSender<Response>) {
        for (id, read) in self.finished.iter_mut().filter(|(_, r)| !*r) {
            if let Some(exit) = self.by_id.get(id.as_str()).and_then(|e| e.exit.borrow().clone()) {
                *read = tx.send(Response::ExecExited { exec_id: id.clone(), exit }).is_ok();
            }
        }
        self.subscribers.push(tx);
        self.prune();
    }

    /// The container is gone: every exec still running died with it (SIGKILL).
    pub fn container_exited(&mut self, finished_at: &str) {
        let mut killed = Vec::new();
        for (id, e) in self.by_id.iter_mut() {
            if e.exit.borrow().is_none() {
                let status = ExitStatus { code: 137, finished_at: finished_at.to_string(), oom_killed: false };
                e.exit.send_replace(Some(status.clone()));
                e.pty = None;
                killed.push((id.clone(), status));
            }
        }
        for (id, status) in killed {
            let pushed = self.push(&id, &status);
            self.finished.push_back((id, pushed));
        }
        self.prune();
    }

    /// The exec's pid and exit; an exit read here counts as delivered to berthd.
    pub fn state(&mut self, id: &str) -> Response {
        let Some(e) = self.by_id.get(id) else {
            return Response::Error { message: format!("No such exec instance: {id}") };
        };
        let exit = e.exit.borrow().clone();
        let resp = Response::State(ProcessState { pid: e.pid, exit: exit.clone() });
        if exit.is_some() {
            if let Some(entry) = self.finished.iter_mut().find(|(f, _)| f == id) {
                entry.1 = true;
            }
            self.prune();
        }
        resp
    }

    /// Drops the oldest finished records beyond [`KEEP_READ`] read and [`KEEP_UNREAD`] unread.
    fn prune(&mut self) {
        for read in [true, false] {
            let keep = if read { KEEP_READ } else { KEEP_UNREAD };
            let mut over = self.finished.iter().filter(|(_, r)| *r == read).count().saturating_sub(keep);
            while over > 0 {
                let Some(pos) = self.finished.iter().position(|(_, r)| *r == read) else { break };
                if let Some((id, _)) = self.finished.remove(pos) {
                    self.by_id.remove(&id);
                }
                over -= 1;
            }
        }
    }

    pub fn resize(&self, id: &str, height: u16, width: u16) -> Response {
        match self.by_id.get(id).map(|e| e.pty.clone()) {
            None => Response::Error { message: format!("No such exec instance: {id}") },
            Some(None) => Response::Ok,
            Some(Some(p)) => match berth_kernel::process::set_winsize(p.get_ref().as_fd(), height, width) {
                Ok(()) => Response::Ok,
                Err(e) => Response::Error { message: e.to_string() },
            },
        }
    }
}

/// Output of the exec: until EOF, or shortly after the process exited when something it left
/// behind still holds the pipe.
async fn pump(
    fd: Fd,
    stream: u8,
    tty: bool,
    tx: mpsc::UnboundedSender<Vec<u8>>,
    mut exit: watch::Receiver<Option<ExitStatus>>,
) {
    let mut buf = vec![0u8; 32 * 1024];
    let grace = async move {
        let _ = exit.wait_for(|e| e.is_some()).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    tokio::pin!(grace);
    loop {
        tokio::select! {
            r = fd_read(&fd, &mut buf) => match r {
                Ok(0) => break,
                Ok(n) => {
                    let msg = if tty { buf[..n].to_vec() } else { frame(stream, &buf[..n]) };
                    let _ = tx.send(msg);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                // EIO on a pty master once the process and its children are gone.
                Err(_) => break,
            },
            _ = &mut grace => break,
        }
    }
}

/// Gives back the memory an exec (or a start) touched once no exec has started for a while: a
/// burst of execs (a healthcheck, a benchmark) does not pay for mapping the pages again each
/// time.
pub(super) fn release_when_idle() {
    static STARTED: AtomicU64 = AtomicU64::new(0);
    let mine = STARTED.fetch_add(1, Ordering::Relaxed) + 1;
    tokio::task::spawn_local(async move {
        tokio::time::sleep(Duration::from_secs(2)).await;
        if STARTED.load(Ordering::Relaxed) == mine {
            super::server::release_memory();
        }
    });
}

/// Handles [`super::protocol::Request::Subscribe`]: exec exits as they happen, then the
/// container's exit.
pub(super) async fn subscribe(state: Shared, mut w: tokio::net::unix::OwnedWriteHalf) {
    if respond(&mut w, &Response::Ok).await.is_err() {
        return;
    }
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (exit_tx, mut exit_rx) = tokio::sync::oneshot::channel();
    {
        let mut st = state.borrow_mut();
        st.execs.subscribe(tx);
        match st.exit.clone() {
            Some(s) => {
                let _ = exit_tx.send(s);
            }
            None => st.waiters.push(exit_tx),
        }
    }
    loop {
        tokio::select! {
            biased;
            Some(ev) = rx.recv() => {
                if respond(&mut w, &ev).await.is_err() {
                    return;
                }
            }
            exit = &mut exit_rx => {
                // Exec exits recorded before the container's go first.
                while let Ok(ev) = rx.try_recv() {
                    if respond(&mut w, &ev).await.is_err() {
                        return;
                    }
                }
                let resp = match exit {
                    Ok(s) => Response::Exited(s),
                    Err(_) => Response::Error { message: "shim is shutting down".into() },
                };
                let _ = respond(&mut w, &resp).await;
                return;
            }
        }
    }
}

/// Handles [`super::protocol::Request::Exec`] on connection (`reader`, `w`).
pub(super) async fn exec(
    state: Shared,
    req: ExecRequest,
    mut reader: BufReader<tokio::net::unix::OwnedReadHalf>,
    mut w: tokio::net::unix::OwnedWriteHalf,
) {
    let (cfg, running, init_pid) = {
        let st = state.borrow();
        (st.cfg.clone(), st.exit.is_none(), st.pid)
    };
    if !running {
        let _ = respond(&mut w, &Response::Error { message: format!("container {} is not running", cfg.id) }).await;
        return;
    }
    let spawned = super::exec::spawn(&cfg, &req, init_pid);
    let _ = std::fs::remove_file(&req.process);
    release_when_idle();
    let (pid, io) = match spawned {
        Ok(ok) => ok,
        Err(e) => {
            let _ = respond(&mut w, &Response::Error { message: e.to_string() }).await;
            return;
        }
    };
    let (exit_tx, exit_rx) = watch::channel(None);
    let mut stdin = None;
    let mut pty = None;
    let mut outputs = Vec::new();
    let wired = (|| -> std::io::Result<()> {
        match io {
            ContainerIo::Pipes { stdin: i, stdout, stderr } => {
                stdin = i.map(async_fd).transpose()?;
                outputs.push((async_fd(stdout)?, 1u8));
                outputs.push((async_fd(stderr)?, 2u8));
            }
            ContainerIo::Pty { master } => {
                let m = async_fd(master)?;
                pty = Some(m.clone());
                stdin = Some(m.clone());
                outputs.push((m, 1u8));
            }
        }
        Ok(())
    })();
    // Registered before this task yields, so the reaper cannot miss the exit.
    state.borrow_mut().execs.by_id.insert(req.exec_id.clone(), ExecProc { pid, exit: exit_tx, pty });
    if let Err(e) = wired {
        tracing::warn!("wiring exec stdio: {e}");
    }
    let (tx, mut rx) = mpsc::unbounded_channel::<Vec<u8>>();
    let pumps: Vec<_> = outputs
        .into_iter()
        .map(|(fd, s)| tokio::task::spawn_local(pump(fd, s, req.tty, tx.clone(), exit_rx.clone())))
        .collect();
    drop(tx);
    if respond(&mut w, &Response::State(ProcessState { pid, exit: None })).await.is_err() || req.detach {
        // Nobody listens: keep draining the output so the process never blocks on it.
        tokio::task::spawn_local(async move { while rx.recv().await.is_some() {} });
        return;
    }
    let mut exit_wait = exit_rx.clone();
    let writer = tokio::task::spawn_local(async move {
        while let Some(f) = rx.recv().await {
            if w.write_all(&f).await.is_err() {
                break;
            }
        }
        for p in pumps {
            let _ = p.await;
        }
        // Clients read the exit code as soon as the stream ends: it must be recorded by then.
        let _ = exit_wait.wait_for(|e| e.is_some()).await;
        let _ = w.shutdown().await;
    });
    if let Some(fd) = stdin.filter(|_| req.stdin) {
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            let n = match reader.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if fd_write_all(&fd, &buf[..n]).await.is_err() {
                break;
            }
        }
        // Dropping the pipe's last handle gives the process EOF (a pty stays open).
    }
    let _ = writer.await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: i32) -> ExitStatus {
        ExitStatus { code, finished_at: "2026-01-01T00:00:00Z".into(), oom_killed: false }
    }

    fn add(execs: &mut Execs, id: &str, pid: i32) {
        let (exit, _) = watch::channel(None);
        execs.by_id.insert(id.to_string(), ExecProc { pid, exit, pty: None });
    }

    fn exit_code(execs: &mut Execs, id: &str) -> Option<i32> {
        match execs.state(id) {
            Response::State(s) => s.exit.map(|e| e.code),
            other => panic!("{id}: {other:?}"),
        }
    }

    #[test]
    fn finished_execs_are_bounded() {
        let mut execs = Execs::default();
        // A healthcheck: every exec is read once finished; only the last few are kept.
        for i in 0..1000 {
            let id = format!("h{i}");
            add(&mut execs, &id, 100 + i);
            assert_eq!(exit_code(&mut execs, &id), None, "running");
            execs.reaped(100 + i, &status(i % 2));
            assert_eq!(exit_code(&mut execs, &id), Some(i % 2));
            assert_eq!(exit_code(&mut execs, &id), Some(i % 2), "a second inspect sees it too");
        }
        assert_eq!(execs.by_id.len(), KEEP_READ);
        assert!(matches!(execs.state("h0"), Response::Error { .. }));
        // Never read (detached, berthd away): bounded too, the newest kept; running ones stay.
        add(&mut execs, "long", 5);
        for i in 0..200 {
            add(&mut execs, &format!("d{i}"), 2000 + i);
            execs.reaped(2000 + i, &status(3));
        }
        assert_eq!(execs.by_id.len(), KEEP_READ + KEEP_UNREAD + 1);
        assert_eq!(exit_code(&mut execs, "d199"), Some(3));
        assert!(matches!(execs.state("d0"), Response::Error { .. }));
        assert_eq!(exit_code(&mut execs, "long"), None);
        execs.container_exited("2026-01-01T00:00:01Z");
        assert_eq!(exit_code(&mut execs, "long"), Some(137));
        assert!(execs.finished.len() <= KEEP_READ + KEEP_UNREAD);
    }

    #[test]
    fn exits_are_pushed_to_subscribers() {
        let mut execs = Execs::default();
        add(&mut execs, "early", 10);
        execs.reaped(10, &status(4));
        // A subscriber gets what nobody read yet, then each exit as it happens.
        let (tx, mut rx) = mpsc::unbounded_channel();
        execs.subscribe(tx);
        add(&mut execs, "late", 11);
        execs.reaped(11, &status(0));
        let got: Vec<_> = std::iter::from_fn(|| rx.try_recv().ok()).collect();
        assert_eq!(
            got,
            [
                Response::ExecExited { exec_id: "early".into(), exit: status(4) },
                Response::ExecExited { exec_id: "late".into(), exit: status(0) },
            ]
        );
        assert!(execs.finished.iter().all(|(_, read)| *read), "pushed counts as read");
        // Pushed exits stay readable for a while (an inspect racing the push).
        assert_eq!(exit_code(&mut execs, "late"), Some(0));
        // A subscriber that went away is dropped; the exit waits for the next one.
        drop(rx);
        add(&mut execs, "after", 12);
        execs.reaped(12, &status(1));
        assert!(execs.subscribers.is_empty());
        assert_eq!(execs.finished.back(), Some(&("after".to_string(), false)));
    }
}
