//! `POST /containers/{id}/attach` (ContainerAttach): the log replay (`logs=1`) and a future
//! that opens the shim's attach stream once the container runs (clients attach before start).

use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use tokio::net::UnixStream;

use super::logs::{self, LogOptions};
use super::state::Status;
use crate::{Engine, Error, Result};

pub struct AttachStreams {
    pub tty: bool,
    /// Whether closing the client's stdin should close the container's.
    pub stdin_once: bool,
    /// Past output (`logs=1`), sent before the live stream.
    pub logs: Option<BoxStream<'static, std::io::Result<bytes::Bytes>>>,
    /// The live stream (`stream=1`): stdcopy frames out (raw with a TTY), raw stdin in.
    pub live: Option<BoxFuture<'static, Result<UnixStream>>>,
}

impl Engine {
    pub async fn container_attach(
        &self,
        key: &str,
        stdin: bool,
        stdout: bool,
        stderr: bool,
        logs: bool,
        stream: bool,
    ) -> Result<AttachStreams> {
        let c = self.containers.get(key)?;
        if !c.status().can_attach() {
            return Err(Error::Conflict(format!("You cannot attach to a stopped container, start it first: {}", c.id)));
        }
        let record = c.record();
        self.emit_container(&record, "attach", &[]);
        let tty = record.config.tty;
        let replay = logs.then(|| {
            let opts = LogOptions { stdout, stderr, ..Default::default() };
            logs::stream(c.log_path(), opts, tty, c.subscribe()).body
        });
        let live = stream.then(|| {
            let c = c.clone();
            // Registered now, before the client can send start: `docker run` attaches first.
            let early = (!c.status().is_running()).then(|| {
                let (tx, rx) = tokio::sync::oneshot::channel();
                c.add_pending_attach(tx);
                rx
            });
            let fut: BoxFuture<'static, Result<UnixStream>> = Box::pin(async move {
                if let Some(rx) = early {
                    let removed = c.wait_until(|s| s.removed, None);
                    tokio::select! {
                        got = rx => {
                            let (shim, attached) = got.map_err(|_| Error::no_such_container(&c.id))?;
                            let stream = shim.attach(stdin, stdout, stderr).await;
                            let _ = attached.send(());
                            return Ok(stream?);
                        }
                        _ = removed => return Err(Error::no_such_container(&c.id)),
                    }
                }
                let running = c.wait_until(|s| s.status == Status::Running, None).await;
                if running.is_none_or(|s| s.removed) {
                    return Err(Error::no_such_container(&c.id));
                }
                let shim = c.shim().ok_or_else(|| Error::Conflict(format!("Container {} is not running", c.id)))?;
                Ok(shim.attach(stdin, stdout, stderr).await?)
            });
            fut
        });
        Ok(AttachStreams { tty, stdin_once: record.config.stdin_once, logs: replay, live })
    }
}
