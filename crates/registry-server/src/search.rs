//! `GET /v1/search?q=&n=&page=`: the Docker registry search API (what `docker search` asks a
//! registry), answered from the catalog: repositories whose name contains the query.

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::error::{Code, RegistryError};
use crate::{param, AppState, Pairs};

/// The page of `names` matching `q`: (page size, page, total, names on the page).
pub(crate) fn matches(names: Vec<String>, q: &str, n: usize, page: usize) -> (usize, Vec<String>) {
    let q = q.to_ascii_lowercase();
    let hits: Vec<String> = names.into_iter().filter(|r| q.is_empty() || r.contains(&q)).collect();
    let total = hits.len();
    (total, hits.into_iter().skip((page - 1) * n).take(n).collect())
}

pub async fn search(State(reg): State<AppState>, Query(q): Pairs) -> Response {
    let query = param(&q, "q").unwrap_or("").to_string();
    let parse = |key: &str, default: usize| -> Result<usize, RegistryError> {
        match param(&q, key) {
            None | Some("") => Ok(default),
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|x| *x > 0)
                .ok_or_else(|| RegistryError::new(Code::SizeInvalid, format!("invalid {key}: {v}"))),
        }
    };
    let (n, page) = match (parse("n", 25), parse("page", 1)) {
        (Ok(n), Ok(p)) => (n.min(100), p),
        (Err(e), _) | (_, Err(e)) => return e.into_response(),
    };
    let names = match reg.storage.catalog() {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let (total, page_names) = matches(names, &query, n, page);
    let results: Vec<serde_json::Value> = page_names
        .into_iter()
        .map(|name| {
            serde_json::json!({
                "name": name, "description": "", "star_count": 0, "is_official": false, "is_automated": false,
            })
        })
        .collect();
    let body = serde_json::json!({
        "num_pages": total.div_ceil(n).max(1), "num_results": total, "page_size": n, "page": page,
        "query": query, "results": results,
    });
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_of_matching_names() {
        let names = vec!["a/bb".to_string(), "bb".into(), "cc".into(), "xbbx".into()];
        assert_eq!(matches(names.clone(), "bb", 2, 1), (3, vec!["a/bb".to_string(), "bb".into()]));
        assert_eq!(matches(names.clone(), "BB", 2, 2), (3, vec!["xbbx".to_string()]));
        assert_eq!(matches(names, "", 10, 1).0, 4);
    }
}
