//! Create, start, stop, restart, kill, wait, delete, rename, resize.

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use berth_api_types::query::containers::{
    CreateQuery, DeleteQuery, KillQuery, RenameQuery, ResizeQuery, StopQuery, WaitQuery,
};
use berth_engine::containers::{WaitCondition, WaitOutcome};

use super::{parse_create_body, parse_size, parse_timeout, query};
use crate::error::ApiError;
use crate::AppState;

pub async fn create(State(engine): State<AppState>, uri: Uri, body: Bytes) -> Result<Response, ApiError> {
    let q: CreateQuery = query(&uri)?;
    let body = parse_create_body(&body)?;
    let created = engine.container_create(q.name.as_deref(), body).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

pub async fn start(State(engine): State<AppState>, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    engine.container_start(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn stop(State(engine): State<AppState>, Path(id): Path<String>, uri: Uri) -> Result<StatusCode, ApiError> {
    let q: StopQuery = query(&uri)?;
    let t = parse_timeout(q.t.as_deref())?;
    engine.container_stop(&id, t, q.signal.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn restart(State(engine): State<AppState>, Path(id): Path<String>, uri: Uri) -> Result<StatusCode, ApiError> {
    let q: StopQuery = query(&uri)?;
    let t = parse_timeout(q.t.as_deref())?;
    engine.container_restart(&id, t, q.signal.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn kill(State(engine): State<AppState>, Path(id): Path<String>, uri: Uri) -> Result<StatusCode, ApiError> {
    let q: KillQuery = query(&uri)?;
    engine.container_kill(&id, q.signal.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// dockerd's wait body: `Error` is always present (`null` when there is none).
pub fn wait_body(o: &WaitOutcome) -> serde_json::Value {
    let error = match &o.error {
        Some(m) => serde_json::json!({ "Message": m }),
        None => serde_json::Value::Null,
    };
    serde_json::json!({ "Error": error, "StatusCode": o.status_code })
}

/// Headers go out at once; the body when the condition is met (as dockerd does).
pub async fn wait(State(engine): State<AppState>, Path(id): Path<String>, uri: Uri) -> Result<Response, ApiError> {
    let q: WaitQuery = query(&uri)?;
    let condition: WaitCondition = q.condition.as_deref().unwrap_or("").parse()?;
    let done = engine.container_wait(&id, condition)?;
    let body = futures_util::stream::once(async move {
        let mut bytes = serde_json::to_vec(&wait_body(&done.await)).unwrap_or_default();
        bytes.push(b'\n');
        Ok::<_, std::convert::Infallible>(Bytes::from(bytes))
    });
    Ok(([(header::CONTENT_TYPE, "application/json")], Body::from_stream(body)).into_response())
}

pub async fn remove(State(engine): State<AppState>, Path(id): Path<String>, uri: Uri) -> Result<StatusCode, ApiError> {
    let q: DeleteQuery = query(&uri)?;
    engine.container_delete(&id, q.force, q.v).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn rename(State(engine): State<AppState>, Path(id): Path<String>, uri: Uri) -> Result<StatusCode, ApiError> {
    let q: RenameQuery = query(&uri)?;
    engine.container_rename(&id, q.name.as_deref().unwrap_or("")).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn resize(State(engine): State<AppState>, Path(id): Path<String>, uri: Uri) -> Result<StatusCode, ApiError> {
    let q: ResizeQuery = query(&uri)?;
    let (h, w) = parse_size(q.h.as_deref(), q.w.as_deref())?;
    engine.container_resize(&id, h, w).await?;
    Ok(StatusCode::OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_body_always_has_error() {
        let v = wait_body(&WaitOutcome { status_code: 3, error: None });
        assert_eq!(v.to_string(), r#"{"Error":null,"StatusCode":3}"#);
        let v = wait_body(&WaitOutcome { status_code: 127, error: Some("boom".into()) });
        assert_eq!(v.to_string(), r#"{"Error":{"Message":"boom"},"StatusCode":127}"#);
    }
}
