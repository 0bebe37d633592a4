//! Disk usage and reclaiming it: `GET /system/df` (SystemDataUsage) and `POST /images/prune`
//! (ImagePrune).

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use berth_api_types::query::system::DfTypes;
use berth_api_types::{ApiVersion, Filters};

use crate::error::ApiError;
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/system/df", get(system_df)).route("/images/prune", post(image_prune))
}

type Pairs = Query<Vec<(String, String)>>;

/// The `filters` query parameter, parsed (empty when absent).
fn filters(pairs: &[(String, String)]) -> Result<Filters, ApiError> {
    let raw = pairs.iter().find(|(k, _)| k == "filters").map(|(_, v)| v.as_str()).unwrap_or("");
    Filters::parse(raw).map_err(|e| ApiError::bad_request(e.to_string()))
}

/// `GET /system/df[?type=image&type=…]`
async fn system_df(
    State(engine): State<AppState>,
    v: Option<Extension<ApiVersion>>,
    Query(pairs): Pairs,
) -> Result<Response, ApiError> {
    let types: Vec<String> = pairs.iter().filter(|(k, _)| k == "type").map(|(_, v)| v.clone()).collect();
    let types = DfTypes::parse(&types).map_err(ApiError::bad_request)?;
    let old = v.map(|Extension(v)| v).unwrap_or(ApiVersion::CURRENT) < ApiVersion::new(1, 44);
    Ok(Json(engine.system_df(types, old).await?).into_response())
}

/// `POST /images/prune?filters=…`
async fn image_prune(State(engine): State<AppState>, Query(pairs): Pairs) -> Result<Response, ApiError> {
    let f = filters(&pairs)?;
    Ok(Json(engine.image_prune(&f).await?).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_from_query() {
        let q = vec![("filters".to_string(), r#"{"dangling":["false"]}"#.to_string())];
        assert_eq!(filters(&q).unwrap().get("dangling"), ["false"]);
        assert!(filters(&[]).unwrap().is_empty());
        assert!(filters(&[("filters".into(), "{bad".into())]).is_err());
    }
}
