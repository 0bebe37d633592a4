//! Stats (a stream of JSON documents), update, pause and unpause.

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use berth_api_types::models::ContainerUpdateBody;
use berth_api_types::query::containers::StatsQuery;
use berth_engine::containers::stats::StatsOptions;
use futures_util::StreamExt;

use super::query;
use crate::error::ApiError;
use crate::AppState;

pub async fn stats(State(engine): State<AppState>, Path(id): Path<String>, uri: Uri) -> Result<Response, ApiError> {
    let q: StatsQuery = query(&uri)?;
    let docs = engine.container_stats(&id, StatsOptions { stream: q.stream, one_shot: q.one_shot }).await?;
    let body = docs.map(|d| {
        let mut line = serde_json::to_vec(&d).map_err(std::io::Error::other)?;
        line.push(b'\n');
        Ok::<_, std::io::Error>(Bytes::from(line))
    });
    Ok(([(header::CONTENT_TYPE, "application/json")], Body::from_stream(body)).into_response())
}

/// The update body; empty is an empty update.
pub fn parse_update_body(body: &[u8]) -> Result<ContainerUpdateBody, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(ContainerUpdateBody::default());
    }
    let bad = |e: serde_json::Error| ApiError::bad_request(format!("invalid JSON in request body: {e}"));
    let value: serde_json::Value = serde_json::from_slice(body).map_err(bad)?;
    super::check_restart_policy_name(value.pointer("/RestartPolicy/Name"))?;
    serde_json::from_value(value).map_err(bad)
}

pub async fn update(State(engine): State<AppState>, Path(id): Path<String>, body: Bytes) -> Result<Response, ApiError> {
    let body = parse_update_body(&body)?;
    let warnings = engine.container_update(&id, body).await?;
    Ok((StatusCode::OK, Json(serde_json::json!({ "Warnings": warnings }))).into_response())
}

pub async fn pause(State(engine): State<AppState>, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    engine.container_pause(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn unpause(State(engine): State<AppState>, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    engine.container_unpause(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_body_and_stats_query() {
        let b = parse_update_body(br#"{"Memory":134217728,"NanoCpus":500000000,"RestartPolicy":{"Name":"always"}}"#)
            .unwrap();
        assert_eq!((b.memory, b.nano_cpus), (Some(134217728), Some(500000000)));
        assert!(b.restart_policy.is_some());
        assert_eq!(parse_update_body(b"").unwrap(), ContainerUpdateBody::default());
        assert_eq!(parse_update_body(b"{x").unwrap_err().status, StatusCode::BAD_REQUEST);
        let q: StatsQuery = query(&"/x".parse().unwrap()).unwrap();
        assert!(q.stream && !q.one_shot);
        let q: StatsQuery = query(&"/x?stream=0&one-shot=1".parse().unwrap()).unwrap();
        assert!(!q.stream && q.one_shot);
    }
}
