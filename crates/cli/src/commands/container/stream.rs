//! Streaming a hijacked attach connection: stdout/stderr demultiplexing, stdin copying
//! with half-close at EOF, TTY resize on SIGWINCH, and signal proxying.

use std::io::Write;

use bollard::container::{AttachContainerResults, LogOutput};
use bollard::query_parameters::{
    AttachContainerOptionsBuilder, KillContainerOptionsBuilder, ResizeContainerTTYOptionsBuilder,
};
use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::client::Client;
use crate::error::CliError;

/// Which streams to attach.
#[derive(Debug, Clone, Copy)]
pub struct Streams {
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
}

/// Open `POST /containers/{id}/attach?stream=1&…` (before start, for run/start -a).
pub async fn attach(c: &Client, id: &str, s: Streams) -> Result<AttachContainerResults, CliError> {
    let opts =
        AttachContainerOptionsBuilder::new().stream(true).stdin(s.stdin).stdout(s.stdout).stderr(s.stderr).build();
    Ok(c.docker.attach_container(id, Some(opts)).await?)
}

/// Write one frame to the local stdout/stderr.
pub fn write_output(item: LogOutput) -> std::io::Result<()> {
    match item {
        LogOutput::StdErr { message } => {
            let mut e = std::io::stderr().lock();
            e.write_all(&message)?;
            e.flush()
        }
        LogOutput::StdOut { message } | LogOutput::Console { message } => {
            let mut o = std::io::stdout().lock();
            o.write_all(&message)?;
            o.flush()
        }
        LogOutput::StdIn { .. } => Ok(()),
    }
}

/// Copy local stdin into the attach connection; shut the write side at EOF so the daemon
/// closes the container's stdin (StdinOnce).
fn spawn_stdin(mut input: std::pin::Pin<Box<dyn tokio::io::AsyncWrite + Send>>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut stdin = tokio::io::stdin();
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            match stdin.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if input.write_all(&buf[..n]).await.is_err() || input.flush().await.is_err() {
                        return;
                    }
                }
            }
        }
        let _ = input.shutdown().await;
    })
}

/// Send the local terminal size now and on every SIGWINCH.
pub async fn resize_now(c: &Client, id: &str) {
    if let Some((h, w)) = crate::term::size() {
        let opts = ResizeContainerTTYOptionsBuilder::new().h(h as i32).w(w as i32).build();
        let _ = c.docker.resize_container_tty(id, opts).await;
    }
}

/// Keep the container's TTY size in sync with the local terminal.
/// What runs beside an attached session: with a TTY, the initial resize and a SIGWINCH monitor;
/// without one, signal forwarding when `sig_proxy`. Abort the handles when the session ends.
pub async fn spawn_session_helpers(
    c: &Client,
    id: &str,
    tty: bool,
    sig_proxy: bool,
) -> Vec<tokio::task::JoinHandle<()>> {
    if tty {
        resize_now(c, id).await;
        spawn_resize_monitor(c, id).into_iter().collect()
    } else if sig_proxy {
        spawn_sig_proxy(c, id)
    } else {
        Vec::new()
    }
}

pub fn spawn_resize_monitor(c: &Client, id: &str) -> Option<tokio::task::JoinHandle<()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut sig = signal(SignalKind::window_change()).ok()?;
    let (c, id) = (c.clone(), id.to_string());
    Some(tokio::spawn(async move {
        while sig.recv().await.is_some() {
            resize_now(&c, &id).await;
        }
    }))
}

/// Forward SIGINT/SIGTERM/SIGHUP/SIGQUIT to the container (docker's --sig-proxy).
pub fn spawn_sig_proxy(c: &Client, id: &str) -> Vec<tokio::task::JoinHandle<()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let kinds = [
        (SignalKind::interrupt(), "SIGINT"),
        (SignalKind::terminate(), "SIGTERM"),
        (SignalKind::hangup(), "SIGHUP"),
        (SignalKind::quit(), "SIGQUIT"),
    ];
    let mut tasks = Vec::new();
    for (kind, name) in kinds {
        let Ok(mut sig) = signal(kind) else { continue };
        let (c, id) = (c.clone(), id.to_string());
        tasks.push(tokio::spawn(async move {
            while sig.recv().await.is_some() {
                let opts = KillContainerOptionsBuilder::new().signal(name).build();
                let _ = c.docker.kill_container(&id, Some(opts)).await;
            }
        }));
    }
    tasks
}

/// Pump the attach connection until the daemon closes the output side.
pub async fn pump(att: AttachContainerResults, stdin: bool) -> Result<(), CliError> {
    let AttachContainerResults { mut output, input } = att;
    let stdin_task = stdin.then(|| spawn_stdin(input));
    let mut result = Ok(());
    while let Some(item) = output.next().await {
        match item {
            Ok(frame) => {
                if let Err(e) = write_output(frame) {
                    if e.kind() != std::io::ErrorKind::BrokenPipe {
                        result = Err(CliError::new(1, e.to_string()));
                    }
                    break;
                }
            }
            Err(e) => {
                result = Err(CliError::new(1, format!("error reading attach stream: {e}")));
                break;
            }
        }
    }
    if let Some(t) = stdin_task {
        t.abort();
    }
    result
}
