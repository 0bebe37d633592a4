//! berthd's side of the shim: spawn one, reconnect to one, and talk to its control socket.

use std::path::{Path, PathBuf};

use super::protocol::{ExecRequest, ExitStatus, ProcessState, Request, Response, ShimConfig};

#[derive(Debug, thiserror::Error)]
pub enum ShimError {
    #[error("failed to start shim for {id}: {message}")]
    Start { id: String, message: String },
    #[error("shim for {id} is not reachable at {path}: {source}")]
    Connect {
        id: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("shim protocol error: {0}")]
    Protocol(String),
    /// The shim closed the connection before answering: it is exiting.
    #[error("shim closed the connection")]
    Closed,
    /// The container's process has already exited (answer to a signal).
    #[error("container {0} is not running")]
    NotRunning(String),
    #[error("shim: {0}")]
    Remote(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl ShimError {
    /// Whether the error says that the container's process has exited or its shim is gone or
    /// going (socket missing or refused, connection reset or closed before the answer): the
    /// container is not running, which is not a failure for kill, stop or `rm -f`.
    pub fn is_gone(&self) -> bool {
        use std::io::ErrorKind as K;
        let gone_io = |e: &std::io::Error| {
            matches!(
                e.kind(),
                K::NotFound
                    | K::ConnectionRefused
                    | K::ConnectionReset
                    | K::ConnectionAborted
                    | K::BrokenPipe
                    | K::UnexpectedEof
            )
        };
        match self {
            ShimError::Closed | ShimError::NotRunning(_) => true,
            ShimError::Connect { source, .. } => gone_io(source),
            ShimError::Io(e) => gone_io(e),
            // A shim of an earlier build answers a signal after the exit with this text.
            ShimError::Remote(m) => m.ends_with("is not running"),
            _ => false,
        }
    }
}

/// Reads one response line (without its newline) and nothing after it, which belongs to the
/// stream that follows: looks at what has arrived (`MSG_PEEK`) and takes up to the newline.
async fn read_line(conn: &mut tokio::net::UnixStream) -> Result<Vec<u8>, ShimError> {
    use std::os::fd::AsRawFd;
    use tokio::io::AsyncReadExt;
    let fd = conn.as_raw_fd();
    let mut raw = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        conn.readable().await?;
        let peek = || nix::sys::socket::recv(fd, &mut buf, nix::sys::socket::MsgFlags::MSG_PEEK).map_err(Into::into);
        let n = match conn.try_io(tokio::io::Interest::READABLE, peek) {
            Ok(0) => return Err(ShimError::Closed),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e.into()),
        };
        let end = buf[..n].iter().position(|b| *b == b'\n');
        let take = end.map_or(n, |i| i + 1);
        let start = raw.len();
        raw.resize(start + take, 0);
        conn.read_exact(&mut raw[start..]).await?;
        if end.is_some() {
            raw.pop();
            return Ok(raw);
        }
    }
}

/// A handle on a running shim, addressed by its state directory.
#[derive(Debug, Clone)]
pub struct ShimClient {
    pub id: String,
    pub state_dir: PathBuf,
}

impl ShimClient {
    /// Writes `shim.json`, spawns `shim_binary` detached (own session and process group,
    /// survives berthd), and waits until it reports that the container's init process is
    /// running (or failed to start, whose error text comes back as [`ShimError::Start`]).
    /// Returns the client and the init pid. A task reaps the shim when it exits.
    pub async fn spawn(shim_binary: &Path, config: &ShimConfig) -> Result<(ShimClient, i32), ShimError> {
        use tokio::io::AsyncBufReadExt;
        let start_err = |message: String| ShimError::Start { id: config.id.clone(), message };
        std::fs::create_dir_all(&config.state_dir)?;
        let cfg_path = config.state_dir.join("shim.json");
        let json = serde_json::to_vec_pretty(config).map_err(|e| ShimError::Protocol(e.to_string()))?;
        super::server::write_atomic(&cfg_path, &json)?;
        let log = std::fs::OpenOptions::new().create(true).append(true).open(config.state_dir.join("shim.log"))?;
        // The shim calls setsid() itself, which also gives it its own process group.
        let mut child = tokio::process::Command::new(shim_binary)
            .arg(&cfg_path)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::from(log))
            .spawn()
            .map_err(|e| start_err(format!("spawning {}: {e}", shim_binary.display())))?;
        let stdout = child.stdout.take().ok_or_else(|| start_err("shim has no stdout".into()))?;
        tokio::spawn(async move {
            let _ = child.wait().await;
        });
        let mut line = String::new();
        tokio::io::BufReader::new(stdout).read_line(&mut line).await?;
        if line.trim().is_empty() {
            let log = std::fs::read_to_string(config.state_dir.join("shim.log")).unwrap_or_default();
            let tail = log.lines().last().unwrap_or("shim exited without reporting").to_string();
            return Err(start_err(tail));
        }
        let v: serde_json::Value =
            serde_json::from_str(&line).map_err(|e| ShimError::Protocol(format!("{e}: {line:?}")))?;
        if v["ok"] == true {
            let pid = v["pid"].as_i64().ok_or_else(|| ShimError::Protocol(format!("no pid in {line:?}")))?;
            Ok((ShimClient::open(&config.id, &config.state_dir), pid as i32))
        } else {
            Err(start_err(v["message"].as_str().unwrap_or("unknown error").to_string()))
        }
    }

    /// A client for an existing shim (used by live restore); does not connect yet.
    pub fn open(id: &str, state_dir: &Path) -> ShimClient {
        ShimClient { id: id.to_string(), state_dir: state_dir.to_path_buf() }
    }

    fn sock_path(&self) -> PathBuf {
        self.state_dir.join("ctl.sock")
    }

    async fn connect(&self) -> Result<tokio::net::UnixStream, ShimError> {
        let path = self.sock_path();
        let connect = async {
            let short = super::sockpath::SocketPath::new(&self.state_dir, "ctl.sock")?;
            tokio::net::UnixStream::connect(short.path()).await
        };
        connect.await.map_err(|source| ShimError::Connect { id: self.id.clone(), path, source })
    }

    /// Sends one request and reads one response line; returns the stream for attach.
    async fn call(&self, req: &Request) -> Result<(Response, tokio::net::UnixStream), ShimError> {
        use tokio::io::AsyncWriteExt;
        let mut conn = self.connect().await?;
        let mut line = serde_json::to_vec(req).map_err(|e| ShimError::Protocol(e.to_string()))?;
        line.push(b'\n');
        conn.write_all(&line).await?;
        let raw = read_line(&mut conn).await?;
        let resp = String::from_utf8_lossy(&raw);
        let resp: Response = serde_json::from_str(&resp).map_err(|e| ShimError::Protocol(format!("{e}: {resp:?}")))?;
        if let Response::Error { message } = resp {
            return Err(ShimError::Remote(message));
        }
        Ok((resp, conn))
    }

    async fn call_ok(&self, req: &Request) -> Result<(), ShimError> {
        match self.call(req).await?.0 {
            Response::Ok => Ok(()),
            other => Err(ShimError::Protocol(format!("unexpected response {other:?}"))),
        }
    }

    pub async fn state(&self) -> Result<ProcessState, ShimError> {
        match self.call(&Request::State).await {
            Ok((Response::State(s), _)) => Ok(s),
            Ok((other, _)) => Err(ShimError::Protocol(format!("unexpected response {other:?}"))),
            Err(e @ ShimError::Connect { .. }) => {
                // The shim is gone: report what it left behind.
                let exit = Self::read_exit(&self.state_dir).ok_or(e)?;
                let pid = std::fs::read_to_string(self.state_dir.join("pid"))
                    .ok()
                    .and_then(|p| p.trim().parse().ok())
                    .unwrap_or(0);
                Ok(ProcessState { pid, exit: Some(exit) })
            }
            Err(e) => Err(e),
        }
    }

    /// Runs the process of a container spawned with `hold_start`.
    pub async fn start(&self) -> Result<(), ShimError> {
        self.call_ok(&Request::Start).await
    }

    /// Signals the container's init; [`ShimError::NotRunning`] once it has exited (see
    /// [`ShimError::is_gone`] for the other ways a shim that is exiting answers).
    pub async fn signal(&self, signal: i32) -> Result<(), ShimError> {
        match self.call(&Request::Signal { signal }).await?.0 {
            Response::Ok => Ok(()),
            Response::Exited(_) => Err(ShimError::NotRunning(self.id.clone())),
            other => Err(ShimError::Protocol(format!("unexpected response {other:?}"))),
        }
    }

    pub async fn resize(&self, height: u16, width: u16) -> Result<(), ShimError> {
        self.call_ok(&Request::Resize { height, width }).await
    }

    /// Resolves when the container exits.
    pub async fn wait(&self) -> Result<ExitStatus, ShimError> {
        match self.call(&Request::Wait).await {
            Ok((Response::Exited(s), _)) => Ok(s),
            Ok((other, _)) => Err(ShimError::Protocol(format!("unexpected response {other:?}"))),
            Err(e) => {
                // The shim exits right after answering waiters; read what it recorded.
                if let Some(s) = Self::read_exit(&self.state_dir) {
                    return Ok(s);
                }
                Err(e)
            }
        }
    }

    /// Follows the shim's events (see [`Request::Subscribe`]).
    pub async fn subscribe(&self) -> Result<ShimEvents, ShimError> {
        match self.call(&Request::Subscribe).await? {
            (Response::Ok, conn) => Ok(ShimEvents { conn }),
            (other, _) => Err(ShimError::Protocol(format!("unexpected response {other:?}"))),
        }
    }

    /// Opens an attach stream (see [`super::protocol`] for the framing).
    pub async fn attach(&self, stdin: bool, stdout: bool, stderr: bool) -> Result<tokio::net::UnixStream, ShimError> {
        let (resp, conn) = self.call(&Request::Attach { stdin, stdout, stderr }).await?;
        if resp != Response::Ok {
            return Err(ShimError::Protocol(format!("unexpected response {resp:?}")));
        }
        Ok(conn)
    }

    /// Starts an exec'd process; returns its pid and, unless `req.detach`, its stdio stream
    /// (framed as an attach stream; it closes once the process has exited).
    pub async fn exec(&self, req: ExecRequest) -> Result<(i32, tokio::net::UnixStream), ShimError> {
        match self.call(&Request::Exec(req)).await? {
            (Response::State(s), conn) => Ok((s.pid, conn)),
            (other, _) => Err(ShimError::Protocol(format!("unexpected response {other:?}"))),
        }
    }

    /// Pid and exit status of an exec'd process.
    pub async fn exec_state(&self, exec_id: &str) -> Result<ProcessState, ShimError> {
        match self.call(&Request::ExecState { exec_id: exec_id.to_string() }).await? {
            (Response::State(s), _) => Ok(s),
            (other, _) => Err(ShimError::Protocol(format!("unexpected response {other:?}"))),
        }
    }

    pub async fn exec_resize(&self, exec_id: &str, height: u16, width: u16) -> Result<(), ShimError> {
        self.call_ok(&Request::ExecResize { exec_id: exec_id.to_string(), height, width }).await
    }

    pub async fn shutdown(&self) -> Result<(), ShimError> {
        self.call_ok(&Request::Shutdown).await
    }

    /// Reads `<state_dir>/exit` if the container has exited (works when the shim is gone).
    pub fn read_exit(state_dir: &Path) -> Option<ExitStatus> {
        let data = std::fs::read(state_dir.join("exit")).ok()?;
        serde_json::from_slice(&data).ok()
    }
}

/// The event stream of [`ShimClient::subscribe`].
#[derive(Debug)]
pub struct ShimEvents {
    conn: tokio::net::UnixStream,
}

impl ShimEvents {
    /// The next event: [`Response::ExecExited`], or [`Response::Exited`] (the last one).
    pub async fn next(&mut self) -> Result<Response, ShimError> {
        let raw = read_line(&mut self.conn).await?;
        let line = String::from_utf8_lossy(&raw);
        serde_json::from_str(&line).map_err(|e| ShimError::Protocol(format!("{e}: {line:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn reads_the_line_and_leaves_the_stream() {
        let (mut ours, mut shim) = tokio::net::UnixStream::pair().expect("pair");
        shim.write_all(b"{\"status\":").await.expect("write");
        let writer = tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            shim.write_all(b"\"ok\"}\n\x01\x00\x00\x00\x00\x00\x00\x02hi").await.expect("write");
        });
        assert_eq!(read_line(&mut ours).await.expect("line"), b"{\"status\":\"ok\"}");
        writer.await.expect("writer");
        let mut rest = Vec::new();
        ours.read_to_end(&mut rest).await.expect("rest");
        assert_eq!(rest, b"\x01\x00\x00\x00\x00\x00\x00\x02hi");
        let (mut ours, shim) = tokio::net::UnixStream::pair().expect("pair");
        drop(shim);
        assert!(matches!(read_line(&mut ours).await, Err(ShimError::Closed)));
    }

    #[test]
    fn gone_shims() {
        let io = |k: std::io::ErrorKind| std::io::Error::from(k);
        let connect = |k| ShimError::Connect { id: "c".into(), path: PathBuf::from("/x/ctl.sock"), source: io(k) };
        assert!(connect(std::io::ErrorKind::NotFound).is_gone());
        assert!(connect(std::io::ErrorKind::ConnectionRefused).is_gone());
        assert!(connect(std::io::ErrorKind::ConnectionReset).is_gone());
        assert!(!connect(std::io::ErrorKind::PermissionDenied).is_gone());
        assert!(ShimError::Io(io(std::io::ErrorKind::ConnectionReset)).is_gone());
        assert!(ShimError::Io(io(std::io::ErrorKind::BrokenPipe)).is_gone());
        assert!(!ShimError::Io(io(std::io::ErrorKind::InvalidData)).is_gone());
        assert!(ShimError::Closed.is_gone() && ShimError::NotRunning("c".into()).is_gone());
        assert!(ShimError::Remote("container c is not running".into()).is_gone());
        assert!(!ShimError::Remote("invalid signal: 99".into()).is_gone());
        assert!(!ShimError::Protocol("bad".into()).is_gone());
    }
}
