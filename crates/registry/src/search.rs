//! `docker search` against a registry: its `/v1/search` API (Docker Hub's index and registries
//! that implement it); a registry without it answers 404, reported as dockerd does.

use serde::Deserialize;

use crate::{Credentials, Endpoint, Error, Result};

/// One hit of a registry search.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct SearchHit {
    pub name: String,
    pub description: String,
    pub star_count: i64,
    pub is_official: bool,
    pub is_automated: bool,
}

#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    results: Vec<SearchHit>,
}

/// Searches the registry at `endpoint` for `query`, at most `limit` hits.
pub async fn search(endpoint: &Endpoint, query: &str, limit: usize, creds: &Credentials) -> Result<Vec<SearchHit>> {
    let url = format!("{}/v1/search", endpoint.base());
    let mut req = endpoint.http_client().get(&url).query(&[("q", query.to_string()), ("n", limit.to_string())]);
    if !creds.username.is_empty() {
        req = req.basic_auth(&creds.username, Some(&creds.password));
    }
    let resp = req.send().await.map_err(|source| Error::Http { context: format!("searching {url}"), source })?;
    let status = resp.status();
    if status == reqwest::StatusCode::UNAUTHORIZED {
        return Err(Error::Unauthorized(format!("searching {url}: unauthorized")));
    }
    if !status.is_success() {
        return Err(Error::Unexpected(format!("Unexpected status code {}", status.as_u16())));
    }
    let answer: Answer =
        resp.json().await.map_err(|source| Error::Http { context: format!("decoding the answer of {url}"), source })?;
    Ok(answer.results.into_iter().take(limit).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_decode_with_missing_fields() {
        let a: Answer = serde_json::from_str(r#"{"num_results":1,"results":[{"name":"bb","star_count":3}]}"#).unwrap();
        assert_eq!(a.results, vec![SearchHit { name: "bb".into(), star_count: 3, ..Default::default() }]);
    }
}
