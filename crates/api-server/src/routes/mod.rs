//! Route tables, one module per API area. Each exposes `routes() -> Router<AppState>`.

pub mod build;
pub mod containers;
pub mod disk_usage;
pub mod distribution;
pub mod events;
pub mod exec;
pub mod images;
pub mod networks;
pub mod system;
pub mod volumes;

use axum::http::{StatusCode, Uri};

use crate::error::ApiError;

/// dockerd answers unknown paths with 404 and `page not found`.
pub async fn not_found(uri: Uri) -> ApiError {
    tracing::debug!(%uri, "no route");
    ApiError::new(StatusCode::NOT_FOUND, "page not found")
}
