//! `berth volume ...` verbs.

pub mod create;
pub mod inspect;
pub mod ls;
pub mod prune;
pub mod rm;

use std::collections::HashMap;

/// `--filter k=v` flags as the API's filter map.
pub fn filter_map(items: &[String]) -> HashMap<String, Vec<String>> {
    let mut m: HashMap<String, Vec<String>> = HashMap::new();
    for f in items {
        let (k, v) = f.split_once('=').unwrap_or((f.as_str(), ""));
        m.entry(k.to_string()).or_default().push(v.to_string());
    }
    m
}
