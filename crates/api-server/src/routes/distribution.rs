//! Registry distribution: pull (`POST /images/create?fromImage=`, dispatched from the images
//! routes), push (`POST /images/{name}/push`), login (`POST /auth`) and search
//! (`GET /images/search`). Pull and push answer
//! with dockerd's JSON message stream; a failure before the first message is a plain HTTP error.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use berth_api_types::query::images::{AuthConfig, AuthResponse, ImagePushQuery, JsonMessage};
use berth_api_types::Filters;
use berth_engine::images::{PullRequest, PushRequest};
use berth_engine::Engine;
use tokio::sync::mpsc;

use crate::error::ApiError;
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/auth", post(auth)).route("/images/search", get(search))
}

/// `GET /images/search?term=…&limit=…&filters=…`
async fn search(
    State(engine): State<AppState>,
    Query(pairs): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let get = |k: &str| pairs.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
    let term = get("term").unwrap_or("");
    let limit = match get("limit").filter(|l| !l.is_empty()) {
        Some(l) => Some(l.parse::<i64>().map_err(|_| ApiError::bad_request(format!("invalid limit: {l}")))?),
        None => None,
    };
    let filters = Filters::parse(get("filters").unwrap_or("")).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let auth = registry_auth(&headers)?;
    Ok(Json(engine.image_search(term, limit, &filters, &auth).await?).into_response())
}

/// Credentials from `X-Registry-Auth` (none when absent).
pub(crate) fn registry_auth(headers: &HeaderMap) -> Result<AuthConfig, ApiError> {
    match headers.get("X-Registry-Auth").and_then(|v| v.to_str().ok()) {
        Some(v) => AuthConfig::from_header(v).map_err(ApiError::bad_request),
        None => Ok(AuthConfig::default()),
    }
}

/// Runs `op` in a task and streams its messages; if it fails before sending anything, answers
/// with the error instead.
async fn progress<F, Fut>(engine: Arc<Engine>, op: F) -> Result<Response, ApiError>
where
    F: FnOnce(Arc<Engine>, mpsc::Sender<JsonMessage>) -> Fut,
    Fut: std::future::Future<Output = berth_engine::Result<()>> + Send + 'static,
{
    let (tx, mut rx) = mpsc::channel::<JsonMessage>(256);
    let task = tokio::spawn(op(engine, tx));
    let Some(first) = rx.recv().await else {
        task.await.map_err(|e| ApiError::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))??;
        return Ok(([(header::CONTENT_TYPE, "application/json")], "").into_response());
    };
    let stream = futures_util::stream::unfold((Some(first), rx, Some(task)), |(pending, mut rx, task)| async move {
        if let Some(m) = pending {
            return Some((line(&m), (None, rx, task)));
        }
        if let Some(m) = rx.recv().await {
            return Some((line(&m), (None, rx, task)));
        }
        let task = task?;
        let err = match task.await {
            Ok(Ok(())) => return None,
            Ok(Err(e)) => e.to_string(),
            Err(e) => e.to_string(),
        };
        tracing::warn!(error = %err, "image transfer failed");
        Some((line(&JsonMessage::error(err)), (None, rx, None)))
    });
    Ok(([(header::CONTENT_TYPE, "application/json")], Body::from_stream(stream)).into_response())
}

fn line(m: &JsonMessage) -> Result<String, std::convert::Infallible> {
    let mut s = serde_json::to_string(m).unwrap_or_default();
    s.push_str("\r\n");
    Ok(s)
}

/// `POST /images/create?fromImage=…&tag=…&platform=…`
pub(crate) async fn pull(engine: AppState, req: PullRequest) -> Result<Response, ApiError> {
    progress(engine, move |e, tx| async move { e.image_pull(req, tx).await }).await
}

/// `POST /images/{name}/push?tag=…`
pub(crate) async fn push(
    engine: AppState,
    name: &str,
    q: ImagePushQuery,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let req = PushRequest { name: name.to_string(), tag: q.tag, auth: registry_auth(headers)? };
    progress(engine, move |e, tx| async move { e.image_push(req, tx).await }).await
}

/// `POST /auth`
async fn auth(State(engine): State<AppState>, Json(config): Json<AuthConfig>) -> Result<Response, ApiError> {
    let token = engine.system_auth(&config).await?;
    Ok(Json(AuthResponse { status: "Login Succeeded".into(), identity_token: token }).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_auth_header_is_optional_and_checked() {
        let mut h = HeaderMap::new();
        assert_eq!(registry_auth(&h).unwrap(), AuthConfig::default());
        h.insert("X-Registry-Auth", "eyJ1c2VybmFtZSI6ImEiLCJwYXNzd29yZCI6ImIifQ".parse().unwrap());
        let a = registry_auth(&h).unwrap();
        assert_eq!((a.username.as_str(), a.password.as_str()), ("a", "b"));
        h.insert("X-Registry-Auth", "%%%".parse().unwrap());
        assert!(registry_auth(&h).is_err());
    }
}
