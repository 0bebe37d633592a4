//! Hijacked streams for attach (and later exec): the `101 Switching Protocols` answer dockerd
//! gives, and the splice between the upgraded client connection and a shim's attach stream.

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use berth_api_types::ApiVersion;
use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

pub const RAW_STREAM: &str = "application/vnd.docker.raw-stream";
pub const MULTIPLEXED_STREAM: &str = "application/vnd.docker.multiplexed-stream";

/// The stream's media type: raw with a TTY or for clients before API 1.42, multiplexed otherwise.
pub fn content_type(tty: bool, version: ApiVersion) -> &'static str {
    if !tty && version >= ApiVersion::new(1, 42) {
        MULTIPLEXED_STREAM
    } else {
        RAW_STREAM
    }
}

/// `101 Switching Protocols` with `Connection: Upgrade`, `Upgrade: tcp`.
pub fn switching_protocols(content_type: &'static str) -> Response {
    let mut resp = Response::new(Body::empty());
    *resp.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    h.insert(header::UPGRADE, HeaderValue::from_static("tcp"));
    resp
}

/// Copies `backlog` (past output) to the client, then splices client ↔ `live` both ways. When
/// the client half-closes, the write side of `live` is shut down (the shim then closes the
/// container's stdin if it was created with StdinOnce); when `live` ends, the client's
/// connection is closed.
pub async fn splice<C, L>(client: C, backlog: Option<BoxStream<'static, std::io::Result<Bytes>>>, live: Option<L>)
where
    C: AsyncRead + AsyncWrite + Unpin,
    L: AsyncRead + AsyncWrite + Unpin,
{
    let (mut client_rd, mut client_wr) = tokio::io::split(client);
    if let Some(mut backlog) = backlog {
        while let Some(chunk) = backlog.next().await {
            match chunk {
                Ok(b) => {
                    if client_wr.write_all(&b).await.is_err() {
                        return;
                    }
                }
                Err(e) => {
                    tracing::debug!(error = %e, "attach log replay");
                    break;
                }
            }
        }
        let _ = client_wr.flush().await;
    }
    let Some(live) = live else {
        let _ = client_wr.shutdown().await;
        return;
    };
    let (mut live_rd, mut live_wr) = tokio::io::split(live);
    let input = async {
        let _ = tokio::io::copy(&mut client_rd, &mut live_wr).await;
        let _ = live_wr.shutdown().await;
        // Stdin is done; the session lasts until the output ends.
        std::future::pending::<()>().await
    };
    let output = async {
        let _ = tokio::io::copy(&mut live_rd, &mut client_wr).await;
        let _ = client_wr.shutdown().await;
    };
    // Output ending (container exited) ends the session even if the client keeps stdin open.
    tokio::select! {
        _ = input => {}
        _ = output => {}
    }
}

/// Waits for hyper's upgrade of `upgrade` and splices it as [`splice`] does.
pub async fn serve_upgraded<L>(
    upgrade: hyper::upgrade::OnUpgrade,
    backlog: Option<BoxStream<'static, std::io::Result<Bytes>>>,
    live: Option<futures_util::future::BoxFuture<'static, Result<L, berth_engine::Error>>>,
) where
    L: AsyncRead + AsyncWrite + Unpin,
{
    let upgraded = match upgrade.await {
        Ok(u) => TokioIo::new(u),
        Err(e) => {
            tracing::debug!(error = %e, "attach upgrade failed");
            return;
        }
    };
    let live = match live {
        Some(fut) => match fut.await {
            Ok(l) => Some(l),
            Err(e) => {
                tracing::debug!(error = %e, "attach stream unavailable");
                None
            }
        },
        None => None,
    };
    splice(upgraded, backlog, live).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[test]
    fn media_types() {
        assert_eq!(content_type(true, ApiVersion::new(1, 44)), RAW_STREAM);
        assert_eq!(content_type(false, ApiVersion::new(1, 41)), RAW_STREAM);
        assert_eq!(content_type(false, ApiVersion::new(1, 42)), MULTIPLEXED_STREAM);
        let r = switching_protocols(RAW_STREAM);
        assert_eq!(r.status(), StatusCode::SWITCHING_PROTOCOLS);
        assert_eq!(r.headers()[header::UPGRADE], "tcp");
    }

    #[tokio::test]
    async fn splices_both_ways_with_half_close() {
        let (client, mut client_peer) = tokio::io::duplex(64);
        let (live, mut shim_peer) = tokio::io::duplex(64);
        let backlog: BoxStream<'static, std::io::Result<Bytes>> =
            futures_util::stream::iter(vec![Ok(Bytes::from_static(b"old "))]).boxed();
        let task = tokio::spawn(splice(client, Some(backlog), Some(live)));
        client_peer.write_all(b"input").await.unwrap();
        client_peer.shutdown().await.unwrap();
        let mut got = Vec::new();
        shim_peer.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"input", "stdin forwarded and half-closed");
        shim_peer.write_all(b"output").await.unwrap();
        drop(shim_peer);
        let mut out = Vec::new();
        client_peer.read_to_end(&mut out).await.unwrap();
        assert_eq!(out, b"old output");
        task.await.unwrap();
    }
}
