//! Exec routes: `POST /containers/{id}/exec` (ContainerExec), `POST /exec/{id}/start`
//! (ExecStart, hijacked like attach unless detached), `POST /exec/{id}/resize` (ExecResize),
//! `GET /exec/{id}/json` (ExecInspect).

use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use berth_api_types::models::{ExecConfig, ExecStartConfig};
use berth_api_types::query::containers::ResizeQuery;
use berth_api_types::ApiVersion;
use berth_engine::exec::ExecSettings;
use tokio::io::AsyncWriteExt;

use super::containers::{parse_size, query};
use crate::error::ApiError;
use crate::{hijack, AppState};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/containers/{id}/exec", post(create))
        .route("/exec/{id}/start", post(start))
        .route("/exec/{id}/resize", post(resize))
        .route("/exec/{id}/json", get(inspect))
}

fn bad_json(e: serde_json::Error) -> ApiError {
    ApiError::bad_request(format!("invalid JSON in request body: {e}"))
}

/// The ExecConfig body (`Cmd` may be a string, as Docker's strslice allows).
pub fn parse_exec_config(body: &[u8]) -> Result<ExecSettings, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("No exec command specified"));
    }
    let mut value: serde_json::Value = serde_json::from_slice(body).map_err(bad_json)?;
    if let Some(serde_json::Value::String(s)) = value.get("Cmd") {
        let one = serde_json::Value::Array(vec![serde_json::Value::String(s.clone())]);
        value["Cmd"] = one;
    }
    let c: ExecConfig = serde_json::from_value(value).map_err(bad_json)?;
    let console_size = match c.console_size.as_deref() {
        None | Some([0, 0]) => None,
        Some([h, w]) => Some((u16::try_from(*h).unwrap_or(u16::MAX), u16::try_from(*w).unwrap_or(u16::MAX))),
        Some(_) => return Err(ApiError::bad_request("ConsoleSize must be [height, width]")),
    };
    Ok(ExecSettings {
        attach_stdin: c.attach_stdin.unwrap_or(false),
        attach_stdout: c.attach_stdout.unwrap_or(false),
        attach_stderr: c.attach_stderr.unwrap_or(false),
        detach_keys: c.detach_keys.unwrap_or_default(),
        tty: c.tty.unwrap_or(false),
        console_size,
        env: c.env.unwrap_or_default(),
        cmd: c.cmd.unwrap_or_default(),
        privileged: c.privileged.unwrap_or(false),
        user: c.user.unwrap_or_default(),
        working_dir: c.working_dir.unwrap_or_default(),
    })
}

pub async fn create(State(engine): State<AppState>, Path(id): Path<String>, body: Bytes) -> Result<Response, ApiError> {
    let settings = parse_exec_config(&body)?;
    let exec_id = engine.exec_create(&id, settings).await?;
    Ok((StatusCode::CREATED, Json(serde_json::json!({ "Id": exec_id }))).into_response())
}

/// The ExecStartConfig body; empty means attached.
pub fn parse_start_config(body: &[u8]) -> Result<ExecStartConfig, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(ExecStartConfig::default());
    }
    serde_json::from_slice(body).map_err(bad_json)
}

pub async fn start(
    State(engine): State<AppState>,
    Path(id): Path<String>,
    version: Option<Extension<ApiVersion>>,
    mut req: Request,
) -> Result<Response, ApiError> {
    // dockerd hijacks the connection either way; without `Upgrade: tcp` it answers 200 instead
    // of 101 and the output follows as the response body.
    let upgrading = req.headers().contains_key(axum::http::header::UPGRADE);
    // Taken before the body is read; it resolves only once we answer 101.
    let upgrade = hyper::upgrade::on(&mut req);
    let body =
        axum::body::to_bytes(req.into_body(), 1 << 20).await.map_err(|e| ApiError::bad_request(e.to_string()))?;
    let cfg = parse_start_config(&body)?;
    let detach = cfg.detach.unwrap_or(false);
    let session = engine.exec_start(&id, detach).await?;
    if detach {
        return match session.run.await {
            Ok(_) => Ok(StatusCode::OK.into_response()),
            Err(message) => Err(ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, message)),
        };
    }
    let version = version.map_or(ApiVersion::CURRENT, |v| v.0);
    let ct = hijack::content_type(session.tty, version);
    let tty = session.tty;
    if !upgrading {
        return Ok(plain_start(session, ct).await);
    }
    tokio::spawn(async move {
        let upgraded = match upgrade.await {
            Ok(u) => hyper_util::rt::TokioIo::new(u),
            Err(e) => {
                tracing::debug!(error = %e, "exec upgrade failed");
                return;
            }
        };
        match session.run.await {
            Ok(live) => hijack::splice(upgraded, None, live).await,
            Err(message) => {
                // As dockerd: the error goes into the stream, and the exit code is 126.
                let text = format!("{message}\r\n");
                let mut client = upgraded;
                let bytes = if tty { text.into_bytes() } else { frame(1, text.as_bytes()) };
                let _ = client.write_all(&bytes).await;
                let _ = client.shutdown().await;
            }
        }
    });
    Ok(hijack::switching_protocols(ct))
}

/// ExecStart without an upgrade: runs the process and answers 200 with its output (stdcopy
/// frames, or raw with a TTY) as the body, which ends when the process has exited. There is no
/// stdin on such a connection (its request body was the start config).
async fn plain_start(session: berth_engine::exec::ExecSession, content_type: &'static str) -> Response {
    let body = match session.run.await {
        Ok(Some(live)) => {
            let (output, mut input) = tokio::io::split(live);
            let _ = input.shutdown().await;
            axum::body::Body::from_stream(tokio_util::io::ReaderStream::new(output))
        }
        Ok(None) => axum::body::Body::empty(),
        Err(message) => {
            let text = format!("{message}\r\n");
            axum::body::Body::from(if session.tty { text.into_bytes() } else { frame(1, text.as_bytes()) })
        }
    };
    let mut resp = Response::new(body);
    resp.headers_mut().insert(axum::http::header::CONTENT_TYPE, axum::http::HeaderValue::from_static(content_type));
    resp
}

fn frame(stream: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![stream, 0, 0, 0];
    f.extend_from_slice(&u32::try_from(payload.len()).unwrap_or(u32::MAX).to_be_bytes());
    f.extend_from_slice(payload);
    f
}

pub async fn resize(
    State(engine): State<AppState>,
    Path(id): Path<String>,
    uri: axum::http::Uri,
) -> Result<StatusCode, ApiError> {
    let q: ResizeQuery = query(&uri)?;
    let (h, w) = parse_size(q.h.as_deref(), q.w.as_deref())?;
    engine.exec_resize(&id, h, w).await?;
    Ok(StatusCode::OK)
}

pub async fn inspect(
    State(engine): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let resp = engine.exec_inspect(&id).await?;
    let mut v =
        serde_json::to_value(&resp).map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    // dockerd always sends ExitCode: null until the process has exited.
    if let Some(o) = v.as_object_mut() {
        o.entry("ExitCode").or_insert(serde_json::Value::Null);
    }
    Ok(Json(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_config() {
        let s = parse_exec_config(
            br#"{"Cmd":["sh","-c","id"],"User":"nobody","Env":["A=1"],"WorkingDir":"/tmp","Tty":true,"AttachStdin":true,"ConsoleSize":[24,80]}"#,
        )
        .unwrap();
        assert_eq!(s.cmd, ["sh", "-c", "id"]);
        assert_eq!((s.user.as_str(), s.working_dir.as_str(), s.tty, s.attach_stdin), ("nobody", "/tmp", true, true));
        assert_eq!(s.console_size, Some((24, 80)));
        assert_eq!(parse_exec_config(br#"{"Cmd":"true"}"#).unwrap().cmd, ["true"]);
        assert_eq!(parse_exec_config(b"").unwrap_err().message, "No exec command specified");
        assert_eq!(parse_exec_config(b"{x").unwrap_err().status, StatusCode::BAD_REQUEST);
        assert!(parse_exec_config(br#"{"Cmd":["x"],"ConsoleSize":[1]}"#).is_err());
    }

    #[test]
    fn start_config() {
        assert_eq!(parse_start_config(b"").unwrap().detach, None);
        assert_eq!(parse_start_config(br#"{"Detach":true,"Tty":false}"#).unwrap().detach, Some(true));
        assert!(parse_start_config(b"[").is_err());
    }
}
