//! `GET /images/search` (ImageSearch): asks the registry named by the term (Docker Hub's index
//! by default) through its `/v1/search` API, then applies dockerd's filters (`is-official`,
//! `is-automated`, `stars`).

use berth_api_types::query::distribution::ImageSearchResult;
use berth_api_types::query::images::AuthConfig;
use berth_api_types::Filters;

use super::auth::{credentials, registry_err};
use crate::{Engine, Error, Result};

const ACCEPTED: &[&str] = &["is-automated", "is-official", "stars"];

/// The registry host to ask and the query: `127.0.0.1:5000/bb` → (`127.0.0.1:5000`, `bb`);
/// `busybox` → (`index.docker.io`, `busybox`).
pub(crate) fn split_term(term: &str) -> (&str, &str) {
    match term.split_once('/') {
        Some((first, rest)) if first.contains('.') || first.contains(':') || first == "localhost" => {
            if first == "docker.io" {
                ("index.docker.io", rest)
            } else {
                (first, rest)
            }
        }
        _ => ("index.docker.io", term),
    }
}

/// The filters as predicates: (`is-official`, `is-automated`, minimum stars).
fn parse_filters(f: &Filters) -> Result<(Option<bool>, Option<bool>, i64)> {
    if let Err(e) = f.validate(ACCEPTED) {
        return Err(Error::InvalidArgument(match e {
            berth_api_types::filters::FilterError::UnknownKey(k) => format!("Invalid filter '{k}'"),
            other => other.to_string(),
        }));
    }
    let flag = |key: &str| -> Result<Option<bool>> {
        match f.get(key).last() {
            None => Ok(None),
            Some(v) => match v.to_ascii_lowercase().as_str() {
                "1" | "true" => Ok(Some(true)),
                "0" | "false" => Ok(Some(false)),
                _ => Err(Error::InvalidArgument(format!("Invalid filter '{key}={v}'"))),
            },
        }
    };
    let mut stars = 0;
    for v in f.get("stars") {
        let n: i64 = v.parse().map_err(|_| Error::InvalidArgument(format!("Invalid filter 'stars={v}'")))?;
        stars = stars.max(n);
    }
    Ok((flag("is-official")?, flag("is-automated")?, stars))
}

impl Engine {
    pub async fn image_search(
        &self,
        term: &str,
        limit: Option<i64>,
        filters: &Filters,
        auth: &AuthConfig,
    ) -> Result<Vec<ImageSearchResult>> {
        let (official, automated, stars) = parse_filters(filters)?;
        let limit = limit.unwrap_or(25);
        if !(1..=100).contains(&limit) {
            return Err(Error::InvalidArgument("Limit is not between 1 and 100".into()));
        }
        let (index, query) = split_term(term);
        let endpoint = self.config.registry.endpoint(index).await;
        let hits =
            berth_registry::search(&endpoint, query, limit as usize, &credentials(auth)).await.map_err(registry_err)?;
        Ok(hits
            .into_iter()
            .filter(|h| official.is_none_or(|o| h.is_official == o))
            .filter(|h| automated.is_none_or(|a| h.is_automated == a))
            .filter(|h| h.star_count >= stars)
            .map(|h| ImageSearchResult {
                description: h.description,
                is_automated: h.is_automated,
                is_official: h.is_official,
                name: h.name,
                star_count: h.star_count,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_name_their_registry() {
        assert_eq!(split_term("busybox"), ("index.docker.io", "busybox"));
        assert_eq!(split_term("library/busybox"), ("index.docker.io", "library/busybox"));
        assert_eq!(split_term("127.0.0.1:5000/bb"), ("127.0.0.1:5000", "bb"));
        assert_eq!(split_term("localhost/a/b"), ("localhost", "a/b"));
        assert_eq!(split_term("docker.io/busybox"), ("index.docker.io", "busybox"));
    }

    #[test]
    fn filters_like_dockerd() {
        let f = |s: &str| Filters::parse(s).unwrap();
        assert_eq!(parse_filters(&f(r#"{"stars":["3"],"is-official":["true"]}"#)).unwrap(), (Some(true), None, 3));
        assert_eq!(parse_filters(&f(r#"{"bogus":["1"]}"#)).unwrap_err().to_string(), "Invalid filter 'bogus'");
        assert_eq!(parse_filters(&f(r#"{"stars":["x"]}"#)).unwrap_err().to_string(), "Invalid filter 'stars=x'");
        assert!(parse_filters(&f(r#"{"is-official":["maybe"]}"#)).is_err());
    }
}
