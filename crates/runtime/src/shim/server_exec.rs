//! The shim's side of `docker exec`: starting the process ([`super::exec::spawn`]), recording
//! its exit when the shim reaps it, and the per-exec stream (stdcopy frames out, or raw with a
//! TTY; raw stdin in) that closes once the process has exited and its output is drained.

use std::collections::HashMap;
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

/// Exec'd processes by exec id.
#[derive(Default)]
pub(super) struct Execs {
    by_id: HashMap<String, ExecProc>,
}

impl Execs {
    /// Records the exit of `pid` if it is an exec'd process.
    pub fn reaped(&mut self, pid: i32, status: &ExitStatus) {
        if let Some(e) = self.by_id.values().find(|e| e.pid == pid && e.exit.borrow().is_none()) {
            e.exit.send_replace(Some(status.clone()));
        }
    }

    /// The container is gone: every exec still running died with it (SIGKILL).
    pub fn container_exited(&mut self, finished_at: &str) {
        for e in self.by_id.values() {
            if e.exit.borrow().is_none() {
                let status = ExitStatus { code: 137, finished_at: finished_at.to_string(), oom_killed: false };
                e.exit.send_replace(Some(status));
            }
        }
    }

    pub fn state(&self, id: &str) -> Response {
        match self.by_id.get(id) {
            Some(e) => Response::State(ProcessState { pid: e.pid, exit: e.exit.borrow().clone() }),
            None => Response::Error { message: format!("No such exec instance: {id}") },
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
