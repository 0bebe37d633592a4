//! The `filters` query parameter: a JSON map of filter name to values.
//!
//! Clients send `{"label":["a=b"],"status":["running"]}`; old clients send
//! `{"label":{"a=b":true}}`. Both decode to the same [`Filters`].

use std::collections::BTreeMap;

use serde_json::Value;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters(BTreeMap<String, Vec<String>>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    #[error("invalid filter: {0}")]
    Json(String),
    #[error("invalid filter '{0}'")]
    UnknownKey(String),
}

impl Filters {
    /// Parses the raw (already URL-decoded) `filters` value; empty means no filters.
    pub fn parse(raw: &str) -> Result<Filters, FilterError> {
        if raw.trim().is_empty() {
            return Ok(Filters::default());
        }
        let value: Value = serde_json::from_str(raw).map_err(|e| FilterError::Json(e.to_string()))?;
        let Value::Object(map) = value else {
            return Err(FilterError::Json("filters must be a JSON object".into()));
        };
        let mut out = BTreeMap::new();
        for (key, v) in map {
            let values = match v {
                Value::Array(items) => items
                    .into_iter()
                    .map(|i| match i {
                        Value::String(s) => Ok(s),
                        other => Err(FilterError::Json(format!("filter value {other} is not a string"))),
                    })
                    .collect::<Result<Vec<_>, _>>()?,
                Value::Object(set) => {
                    set.into_iter().filter(|(_, on)| on.as_bool().unwrap_or(false)).map(|(k, _)| k).collect()
                }
                Value::String(s) => vec![s],
                other => return Err(FilterError::Json(format!("filter {key}: unexpected {other}"))),
            };
            out.insert(key, values);
        }
        Ok(Filters(out))
    }

    /// Rejects any filter name not in `accepted`, with dockerd's message.
    pub fn validate(&self, accepted: &[&str]) -> Result<(), FilterError> {
        match self.0.keys().find(|k| !accepted.contains(&k.as_str())) {
            Some(k) => Err(FilterError::UnknownKey(k.clone())),
            None => Ok(()),
        }
    }

    pub fn get(&self, key: &str) -> &[String] {
        self.0.get(key).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn contains(&self, key: &str) -> bool {
        self.0.get(key).is_some_and(|v| !v.is_empty())
    }

    pub fn is_empty(&self) -> bool {
        self.0.values().all(Vec::is_empty)
    }

    pub fn remove(&mut self, key: &str) {
        self.0.remove(key);
    }

    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.0.entry(key.into()).or_default().push(value.into());
    }

    /// Serialises back to the modern array form, for clients.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.0).unwrap_or_else(|_| "{}".into())
    }

    /// True when `labels` satisfy every `label` filter (`key` or `key=value`).
    pub fn match_labels(&self, labels: &std::collections::HashMap<String, String>) -> bool {
        self.get("label").iter().all(|f| match f.split_once('=') {
            Some((k, v)) => labels.get(k).is_some_and(|have| have == v),
            None => labels.contains_key(f.as_str()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_forms() {
        let a = Filters::parse(r#"{"label":["a=b"],"status":["running"]}"#).unwrap();
        let b = Filters::parse(r#"{"label":{"a=b":true},"status":{"running":true}}"#).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.get("status"), ["running"]);
        assert!(a.get("name").is_empty());
    }

    #[test]
    fn rejects_garbage_and_unknown_keys() {
        assert!(Filters::parse("{bad").is_err());
        assert!(Filters::parse("[1]").is_err());
        let f = Filters::parse(r#"{"colour":["red"]}"#).unwrap();
        assert_eq!(f.validate(&["label"]).unwrap_err().to_string(), "invalid filter 'colour'");
    }

    #[test]
    fn label_matching() {
        let f = Filters::parse(r#"{"label":["a=b","c"]}"#).unwrap();
        let mut labels = std::collections::HashMap::new();
        labels.insert("a".to_string(), "b".to_string());
        assert!(!f.match_labels(&labels));
        labels.insert("c".to_string(), "x".to_string());
        assert!(f.match_labels(&labels));
    }
}
