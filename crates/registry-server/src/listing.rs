//! `GET /v2/<name>/tags/list` and `GET /v2/_catalog`, with `n`/`last` pagination and a `Link`
//! header to the next page.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::error::{Code, RegistryError, Result};
use crate::{param, AppState};

/// A page of names and, when more follow, the `(n, last)` of the next page.
pub(crate) type Page = (Vec<String>, Option<(usize, String)>);

/// The page of sorted `items` after `last`, at most `n` long, and whether more follow.
pub(crate) fn page(items: Vec<String>, q: &[(String, String)]) -> Result<Page> {
    let n = match param(q, "n") {
        Some(s) => {
            Some(s.parse::<usize>().map_err(|_| RegistryError::new(Code::SizeInvalid, format!("invalid n: {s}")))?)
        }
        None => None,
    };
    let mut rest: Vec<String> = match param(q, "last") {
        Some(last) => items.into_iter().filter(|i| i.as_str() > last).collect(),
        None => items,
    };
    match n {
        Some(n) if rest.len() > n => {
            rest.truncate(n);
            let last = rest.last().cloned().unwrap_or_default();
            Ok((rest, Some((n, last))))
        }
        _ => Ok((rest, None)),
    }
}

fn json_page(path: &str, body: serde_json::Value, next: Option<(usize, String)>) -> Response {
    let mut resp = (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response();
    if let Some((n, last)) = next {
        if let Ok(v) = format!("<{path}?last={last}&n={n}>; rel=\"next\"").parse() {
            resp.headers_mut().insert(header::LINK, v);
        }
    }
    resp
}

pub fn tags(reg: &AppState, name: &str, q: &[(String, String)]) -> Result<Response> {
    let (tags, next) = page(reg.storage.tags(name)?, q)?;
    Ok(json_page(&format!("/v2/{name}/tags/list"), serde_json::json!({ "name": name, "tags": tags }), next))
}

pub fn catalog(reg: &AppState, q: &[(String, String)]) -> Result<Response> {
    let (repos, next) = page(reg.storage.catalog()?, q)?;
    Ok(json_page("/v2/_catalog", serde_json::json!({ "repositories": repos }), next))
}
