//! Serving the router on unix sockets and TCP, with HTTP upgrades (attach/exec hijack) and
//! graceful shutdown.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, UnixListener};
use tokio::sync::watch;

/// Where to listen, parsed from `-H`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListenAddr {
    Unix(std::path::PathBuf),
    Tcp(String),
}

impl ListenAddr {
    /// Parses docker's `-H` forms: `unix:///path`, `/path`, `tcp://host:port`, `fd://` is refused.
    pub fn parse(s: &str) -> Result<ListenAddr, String> {
        if let Some(p) = s.strip_prefix("unix://") {
            return Ok(ListenAddr::Unix(p.into()));
        }
        if let Some(a) = s.strip_prefix("tcp://") {
            let a = if a.contains(':') { a.to_string() } else { format!("{a}:2375") };
            return Ok(ListenAddr::Tcp(a));
        }
        if s.starts_with('/') {
            return Ok(ListenAddr::Unix(s.into()));
        }
        Err(format!("invalid host address {s:?}: use unix:///path or tcp://host:port"))
    }
}

/// Binds a unix socket with mode 0660 (group `berth` when that group exists), replacing a
/// stale socket file.
pub fn bind_unix(path: &Path) -> std::io::Result<UnixListener> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let listener = UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))?;
    if let Some(gid) = group_id("berth") {
        std::os::unix::fs::chown(path, None, Some(gid))?;
    }
    Ok(listener)
}

fn group_id(name: &str) -> Option<u32> {
    let groups = std::fs::read_to_string("/etc/group").ok()?;
    groups.lines().find_map(|l| {
        let mut f = l.split(':');
        (f.next()? == name).then_some(())?;
        f.next()?;
        f.next()?.parse().ok()
    })
}

pub enum Listener {
    Unix(UnixListener),
    Tcp(TcpListener),
}

/// Serves `app` on every listener until `shutdown` flips to true, then lets in-flight requests
/// finish (hijacked streams are not waited for).
pub async fn serve(app: Router, listeners: Vec<Listener>, mut shutdown: watch::Receiver<bool>) {
    let graceful = GracefulShutdown::new();
    let (conn_tx, mut conn_rx) = tokio::sync::mpsc::channel::<Conn>(64);
    for l in listeners {
        let tx = conn_tx.clone();
        tokio::spawn(async move {
            loop {
                let conn = match &l {
                    Listener::Unix(u) => u.accept().await.map(|(s, _)| Conn::Unix(s)),
                    Listener::Tcp(t) => t.accept().await.map(|(s, _)| Conn::Tcp(s)),
                };
                match conn {
                    Ok(c) => {
                        if tx.send(c).await.is_err() {
                            return;
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    }
                }
            }
        });
    }
    drop(conn_tx);
    loop {
        tokio::select! {
            conn = conn_rx.recv() => {
                let Some(conn) = conn else { break };
                let service = TowerToHyperService::new(app.clone());
                let builder = auto::Builder::new(TokioExecutor::new());
                match conn {
                    Conn::Unix(s) => {
                        let c = builder.serve_connection_with_upgrades(TokioIo::new(s), service).into_owned();
                        let c = graceful.watch(c);
                        tokio::spawn(async move { let _ = c.await; });
                    }
                    Conn::Tcp(s) => {
                        let c = builder.serve_connection_with_upgrades(TokioIo::new(s), service).into_owned();
                        let c = graceful.watch(c);
                        tokio::spawn(async move { let _ = c.await; });
                    }
                }
            }
            _ = shutdown.changed() => break,
        }
    }
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), graceful.shutdown()).await;
}

enum Conn {
    Unix(tokio::net::UnixStream),
    Tcp(tokio::net::TcpStream),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_host_flags() {
        assert_eq!(
            ListenAddr::parse("unix:///run/berth/berth.sock").unwrap(),
            ListenAddr::Unix("/run/berth/berth.sock".into())
        );
        assert_eq!(ListenAddr::parse("tcp://127.0.0.1").unwrap(), ListenAddr::Tcp("127.0.0.1:2375".into()));
        assert!(ListenAddr::parse("ftp://x").is_err());
    }
}
