//! `/_ping`, `/version`, `/info`.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use crate::error::ApiError;
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/_ping", get(ping).head(ping)).route("/version", get(version)).route("/info", get(info))
}

/// `GET|HEAD /_ping`: `OK`, with the headers clients negotiate from.
async fn ping(method: Method) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert("builder-version", HeaderValue::from_static("1"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache, no-store, must-revalidate"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    if method == Method::HEAD {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
        return (headers, "").into_response();
    }
    (headers, "OK").into_response()
}

async fn version(State(engine): State<AppState>) -> Result<Response, ApiError> {
    Ok(Json(engine.system_version()).into_response())
}

async fn info(State(engine): State<AppState>) -> Result<Response, ApiError> {
    Ok(Json(engine.system_info().await?).into_response())
}
