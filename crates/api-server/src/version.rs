//! The `/v1.NN/` prefix: strips it before routing, rejects versions outside
//! [`ApiVersion::MIN`, `ApiVersion::CURRENT`] with dockerd's message, hands the negotiated
//! version to handlers as an `Extension<ApiVersion>`, and stamps dockerd's common headers on
//! every response.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use berth_api_types::version::split_version_prefix;
use berth_api_types::ApiVersion;

use crate::error::ApiError;

/// The `Server` header value.
pub const SERVER: &str = concat!("Berth/", env!("CARGO_PKG_VERSION"), " (linux)");

/// Wraps the routed API so the prefix is handled before routing.
pub fn wrap(api: Router) -> Router {
    Router::new().fallback_service(api).layer(middleware::from_fn(negotiate))
}

async fn negotiate(mut req: Request<Body>, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let (prefix, rest) = split_version_prefix(&path);
    let version = match prefix {
        None => ApiVersion::CURRENT,
        Some(v) => match v.parse::<ApiVersion>() {
            Ok(v) => v,
            Err(e) => return with_headers(ApiError::bad_request(e.to_string()).into_response()),
        },
    };
    if let Err(message) = version.check_supported() {
        return with_headers(ApiError::bad_request(message).into_response());
    }
    if prefix.is_some() {
        let mut pq = rest.to_string();
        if let Some(q) = req.uri().query() {
            pq.push('?');
            pq.push_str(q);
        }
        let mut parts = req.uri().clone().into_parts();
        parts.path_and_query = pq.parse().ok();
        if let Ok(uri) = Uri::from_parts(parts) {
            *req.uri_mut() = uri;
        }
    }
    req.extensions_mut().insert(version);
    with_headers(next.run(req).await)
}

fn with_headers(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert("api-version", HeaderValue::from_static(api_version_str()));
    h.insert("docker-experimental", HeaderValue::from_static("false"));
    h.insert("ostype", HeaderValue::from_static("linux"));
    h.insert("server", HeaderValue::from_static(SERVER));
    resp
}

fn api_version_str() -> &'static str {
    static S: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    S.get_or_init(|| ApiVersion::CURRENT.to_string())
}
