//! Logs (a streaming body) and attach (an HTTP upgrade spliced with the shim's stream).

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use berth_api_types::query::containers::{AttachQuery, LogsQuery};
use berth_api_types::ApiVersion;

use super::{parse_logs, query};
use crate::error::ApiError;
use crate::hijack;
use crate::AppState;

pub async fn logs(
    State(engine): State<AppState>,
    Path(id): Path<String>,
    version: Option<Extension<ApiVersion>>,
    uri: axum::http::Uri,
) -> Result<Response, ApiError> {
    let q: LogsQuery = query(&uri)?;
    let opts = parse_logs(&q)?;
    let stream = engine.container_logs(&id, opts).await?;
    let version = version.map_or(ApiVersion::CURRENT, |v| v.0);
    let ct = hijack::content_type(stream.tty, version);
    Ok(([(header::CONTENT_TYPE, ct)], Body::from_stream(stream.body)).into_response())
}

pub async fn attach(
    State(engine): State<AppState>,
    Path(id): Path<String>,
    version: Option<Extension<ApiVersion>>,
    mut req: Request,
) -> Result<Response, ApiError> {
    let q: AttachQuery = query(req.uri())?;
    let streams = engine.container_attach(&id, q.stdin, q.stdout, q.stderr, q.logs, q.stream).await?;
    let version = version.map_or(ApiVersion::CURRENT, |v| v.0);
    let ct = hijack::content_type(streams.tty, version);
    let upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(hijack::serve_upgraded(upgrade, streams.logs, streams.live));
    Ok(hijack::switching_protocols(ct))
}
