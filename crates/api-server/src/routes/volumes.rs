//! Routes of the volumes area: list, create, inspect, delete, prune.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use berth_api_types::models::VolumeCreateRequest;
use berth_api_types::query::volumes::{DeleteQuery, ListQuery, PruneQuery};
use berth_api_types::Filters;

use super::containers::query;
use crate::error::ApiError;
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/volumes", get(list))
        .route("/volumes/create", post(create))
        .route("/volumes/prune", post(prune))
        .route("/volumes/{name}", get(inspect).delete(remove))
}

/// The `filters` parameter, 400 when malformed.
pub fn parse_filters(raw: Option<&str>) -> Result<Filters, ApiError> {
    Filters::parse(raw.unwrap_or("")).map_err(|e| ApiError::bad_request(e.to_string()))
}

/// The create body; empty means all defaults (a random name).
pub fn parse_create(body: &[u8]) -> Result<VolumeCreateRequest, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(VolumeCreateRequest::default());
    }
    serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("invalid JSON in request body: {e}")))
}

async fn list(State(engine): State<AppState>, uri: Uri) -> Result<Response, ApiError> {
    let q: ListQuery = query(&uri)?;
    let filters = parse_filters(q.filters.as_deref())?;
    Ok(Json(engine.volume_list(&filters)?).into_response())
}

async fn create(State(engine): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let req = parse_create(&body)?;
    Ok((StatusCode::CREATED, Json(engine.volume_create(req)?)).into_response())
}

async fn inspect(State(engine): State<AppState>, Path(name): Path<String>) -> Result<Response, ApiError> {
    Ok(Json(engine.volume_inspect(&name)?).into_response())
}

async fn remove(State(engine): State<AppState>, Path(name): Path<String>, uri: Uri) -> Result<StatusCode, ApiError> {
    let q: DeleteQuery = query(&uri)?;
    engine.volume_delete(&name, q.force)?;
    Ok(StatusCode::NO_CONTENT)
}

async fn prune(State(engine): State<AppState>, uri: Uri) -> Result<Response, ApiError> {
    let q: PruneQuery = query(&uri)?;
    let filters = parse_filters(q.filters.as_deref())?;
    Ok(Json(engine.volume_prune(&filters)?).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bodies_and_filters() {
        assert_eq!(parse_create(b"").unwrap(), VolumeCreateRequest::default());
        let r = parse_create(br#"{"Name":"v1","Labels":{"a":"b"},"DriverOpts":{"type":"tmpfs"}}"#).unwrap();
        assert_eq!(r.name.as_deref(), Some("v1"));
        assert_eq!(r.driver_opts.unwrap()["type"], "tmpfs");
        assert_eq!(parse_create(b"{bad").unwrap_err().status, StatusCode::BAD_REQUEST);
        assert!(parse_filters(Some(r#"{"dangling":["true"]}"#)).unwrap().contains("dangling"));
        assert!(parse_filters(Some("{")).is_err());
    }
}
