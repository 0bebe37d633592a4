//! `POST /containers/prune` (ContainerPrune).

use axum::extract::State;
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use axum::Json;
use berth_api_types::Filters;
use serde::Deserialize;

use super::query;
use crate::error::ApiError;
use crate::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct PruneQuery {
    pub filters: Option<String>,
}

/// The `filters` query parameter, parsed (empty when absent).
pub fn parse_filters(q: &PruneQuery) -> Result<Filters, ApiError> {
    Filters::parse(q.filters.as_deref().unwrap_or("")).map_err(|e| ApiError::bad_request(e.to_string()))
}

/// `POST /containers/prune?filters=…`
pub async fn prune(State(engine): State<AppState>, uri: Uri) -> Result<Response, ApiError> {
    let f = parse_filters(&query::<PruneQuery>(&uri)?)?;
    Ok(Json(engine.container_prune(&f).await?).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_from_query() {
        let q = PruneQuery { filters: Some(r#"{"label":["a=b"]}"#.into()) };
        assert_eq!(parse_filters(&q).unwrap().get("label"), ["a=b"]);
        assert!(parse_filters(&PruneQuery::default()).unwrap().is_empty());
        assert!(parse_filters(&PruneQuery { filters: Some("{bad".into()) }).is_err());
    }
}
