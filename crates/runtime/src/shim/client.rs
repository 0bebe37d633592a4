//! berthd's side of the shim: spawn one, reconnect to one, and talk to its control socket.

use std::path::{Path, PathBuf};

use super::protocol::{ExitStatus, ProcessState, ShimConfig};

#[derive(Debug, thiserror::Error)]
pub enum ShimError {
    #[error("failed to start shim for {id}: {message}")]
    Start { id: String, message: String },
    #[error("shim for {id} is not reachable at {path}: {source}")]
    Connect { id: String, path: PathBuf, #[source] source: std::io::Error },
    #[error("shim protocol error: {0}")]
    Protocol(String),
    #[error("shim: {0}")]
    Remote(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// A handle on a running shim, addressed by its state directory.
#[derive(Debug, Clone)]
pub struct ShimClient {
    pub id: String,
    pub state_dir: PathBuf,
}

impl ShimClient {
    /// Writes `shim.json`, spawns `shim_binary` detached (own process group, survives berthd),
    /// and waits until it reports that the container's init process is running (or failed to
    /// start, whose error text comes back as [`ShimError::Start`]). Returns the client and the
    /// init pid.
    pub async fn spawn(shim_binary: &Path, config: &ShimConfig) -> Result<(ShimClient, i32), ShimError> {
        let _ = (shim_binary, config);
        todo!("runtime helper")
    }

    /// A client for an existing shim (used by live restore); does not connect yet.
    pub fn open(id: &str, state_dir: &Path) -> ShimClient {
        ShimClient { id: id.to_string(), state_dir: state_dir.to_path_buf() }
    }

    pub async fn state(&self) -> Result<ProcessState, ShimError> {
        todo!("runtime helper")
    }

    pub async fn signal(&self, signal: i32) -> Result<(), ShimError> {
        let _ = signal;
        todo!("runtime helper")
    }

    pub async fn resize(&self, height: u16, width: u16) -> Result<(), ShimError> {
        let _ = (height, width);
        todo!("runtime helper")
    }

    /// Resolves when the container exits.
    pub async fn wait(&self) -> Result<ExitStatus, ShimError> {
        todo!("runtime helper")
    }

    /// Opens an attach stream (see [`super::protocol`] for the framing).
    pub async fn attach(&self, stdin: bool, stdout: bool, stderr: bool) -> Result<tokio::net::UnixStream, ShimError> {
        let _ = (stdin, stdout, stderr);
        todo!("runtime helper")
    }

    pub async fn shutdown(&self) -> Result<(), ShimError> {
        todo!("runtime helper")
    }

    /// Reads `<state_dir>/exit` if the container has exited (works when the shim is gone).
    pub fn read_exit(state_dir: &Path) -> Option<ExitStatus> {
        let data = std::fs::read(state_dir.join("exit")).ok()?;
        serde_json::from_slice(&data).ok()
    }
}
