//! A small OCI Distribution Spec registry over the berth content store (`berth registry serve`).
//!
//! Owns the `/v2/` HTTP API: blobs (HEAD/GET with `Range`), uploads (monolithic, chunked,
//! cross-repository mount), manifests by tag and digest (Docker schema2 and OCI media types),
//! tag listing and `_catalog` with `n`/`last` pagination, referrers, `/v1/search` over the
//! catalog (for `docker search`), errors in the spec's JSON
//! shape, optional htpasswd (bcrypt) basic auth and TLS (rustls). Blobs go through
//! [`berth_store::ContentStore`], so a blob is visible only after its digest was verified.
//!
//! Main entry points: [`serve`] (binds and runs), [`router`] (for in-process tests),
//! [`ServeConfig`]. This crate knows nothing of the daemon, images in use or the Engine API.

mod auth;
mod blobs;
mod error;
mod listing;
mod manifests;
mod path;
mod search;
mod send_file;
mod storage;
mod tls;
mod upload;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};

pub use auth::Htpasswd;
pub use error::{Code, RegistryError};
use path::Route;
pub use storage::Storage;

/// Flags of `berth registry serve`.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub addr: SocketAddr,
    pub root: PathBuf,
    pub htpasswd: Option<PathBuf>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
}

/// Shared state of the handlers.
#[derive(Debug)]
pub struct Registry {
    pub storage: Storage,
    pub htpasswd: Option<Htpasswd>,
}

pub(crate) type AppState = Arc<Registry>;

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("opening registry root {path}: {source}")]
    Root {
        path: PathBuf,
        #[source]
        source: RegistryError,
    },
    #[error("reading htpasswd file {path}: {source}")]
    Htpasswd {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("--tls-cert and --tls-key go together")]
    TlsIncomplete,
    #[error("TLS: {0}")]
    Tls(String),
    #[error("listening on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// Opens the storage and builds the router.
pub fn open(root: &std::path::Path, htpasswd: Option<Htpasswd>) -> Result<Router, RegistryError> {
    let storage = Storage::open(root)?;
    Ok(router(Arc::new(Registry { storage, htpasswd })))
}

/// The `/v2/` API over `registry`.
pub fn router(registry: Arc<Registry>) -> Router {
    Router::new()
        .route("/v2", any(base))
        .route("/v2/", any(base))
        .route("/v2/{*rest}", any(dispatch))
        .route("/v1/search", axum::routing::get(search::search))
        .layer(middleware::from_fn_with_state(registry.clone(), auth::require))
        .layer(middleware::from_fn(api_version_header))
        .with_state(registry)
}

/// Binds `config.addr` and serves until the process is stopped.
pub async fn serve(config: ServeConfig) -> Result<(), ServeError> {
    let tls = match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => Some(tls::server_config(cert, key).map_err(ServeError::Tls)?),
        (None, None) => None,
        _ => return Err(ServeError::TlsIncomplete),
    };
    let htpasswd = match &config.htpasswd {
        Some(p) => Some(Htpasswd::load(p).map_err(|source| ServeError::Htpasswd { path: p.clone(), source })?),
        None => None,
    };
    let app = open(&config.root, htpasswd).map_err(|source| ServeError::Root { path: config.root.clone(), source })?;
    let listener =
        TcpListener::bind(config.addr).await.map_err(|source| ServeError::Bind { addr: config.addr, source })?;
    tracing::info!(addr = %config.addr, root = %config.root.display(), tls = tls.is_some(), "registry listening");
    let served = match tls {
        Some(tls) => tls::serve(listener, app, tls).await,
        None => {
            accept_loop(listener, move |tcp, peer| serve_connection(send_file::SendfileStream(tcp), app.clone(), peer))
                .await
        }
    };
    match served {}
}

/// Accepts connections on `listener` until the process ends, each served on its own task by
/// `conn`. Small responses go out at once (TCP_NODELAY), as Go's servers (docker-registry) do.
async fn accept_loop<F, Fut>(listener: TcpListener, conn: F) -> std::convert::Infallible
where
    F: Fn(TcpStream, SocketAddr) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                // Out of file descriptors and the like: wait a little rather than spin.
                tracing::warn!(error = %e, "accepting a connection");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::trace!(error = %e, "TCP_NODELAY");
        }
        tokio::spawn(conn(tcp, peer));
    }
}

/// Serves `app` on one connection, HTTP/1.1 or HTTP/2, until it ends.
async fn serve_connection<I>(io: I, app: Router, peer: SocketAddr)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper_util::service::TowerToHyperService::new(app);
    let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    if let Err(e) = builder.serve_connection_with_upgrades(TokioIo::new(io), service).await {
        tracing::debug!(%peer, error = %e, "connection ended");
    }
}

async fn api_version_header(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    resp.headers_mut().insert("Docker-Distribution-API-Version", HeaderValue::from_static("registry/2.0"));
    resp
}

async fn base() -> Response {
    ([(axum::http::header::CONTENT_TYPE, "application/json")], "{}").into_response()
}

pub(crate) type Pairs = Query<Vec<(String, String)>>;

/// Looks up a query parameter.
pub(crate) fn param<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

async fn dispatch(
    State(reg): State<AppState>,
    method: Method,
    Path(rest): Path<String>,
    Query(q): Pairs,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let route = match path::parse(&rest) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let result = match (route, method) {
        (Route::Catalog, Method::GET) => listing::catalog(&reg, &q),
        (Route::Tags(name), Method::GET) => listing::tags(&reg, &name, &q),
        (Route::Blob(name, d), m @ (Method::GET | Method::HEAD)) => {
            blobs::get(&reg, &name, &d, &headers, m == Method::HEAD).await
        }
        (Route::Blob(name, d), Method::DELETE) => blobs::delete(&reg, &name, &d),
        (Route::UploadStart(name), Method::POST) => blobs::start_upload(&reg, &name, &q, body).await,
        (Route::Upload(name, uuid), Method::PATCH) => blobs::patch_upload(&reg, &name, &uuid, &headers, body).await,
        (Route::Upload(name, uuid), Method::PUT) => blobs::put_upload(&reg, &name, &uuid, &q, body).await,
        (Route::Upload(name, uuid), Method::GET) => blobs::upload_status(&reg, &name, &uuid),
        (Route::Upload(_, uuid), Method::DELETE) => blobs::cancel_upload(&reg, &uuid),
        (Route::Manifest(name, r), m @ (Method::GET | Method::HEAD)) => {
            manifests::get(&reg, &name, &r, m == Method::HEAD)
        }
        (Route::Manifest(name, r), Method::PUT) => manifests::put(&reg, &name, &r, &headers, body).await,
        (Route::Manifest(name, r), Method::DELETE) => manifests::delete(&reg, &name, &r),
        (Route::Referrers(name, d), Method::GET) => manifests::referrers(&reg, &name, &d, &q),
        _ => Err(RegistryError::new(Code::Unsupported, "the operation is unsupported")),
    };
    result.unwrap_or_else(IntoResponse::into_response)
}

/// An empty response with `status` and headers.
pub(crate) fn empty(status: StatusCode, headers: &[(&str, String)]) -> Response {
    let mut resp = (status, Body::empty()).into_response();
    for (k, v) in headers {
        if let (Ok(name), Ok(value)) = (axum::http::HeaderName::try_from(*k), HeaderValue::from_str(v)) {
            resp.headers_mut().insert(name, value);
        }
    }
    resp
}

#[cfg(test)]
mod tests;
