//! `berth network ...` verbs.

pub mod connect;
pub mod create;
pub mod disconnect;
pub mod inspect;
pub mod ls;
pub mod prune;
pub mod rm;

use std::collections::HashMap;

/// `k=v` flags (`--label`, `--opt`) as a map; a bare `k` has an empty value.
pub fn kv_map(items: &[String]) -> HashMap<String, String> {
    items
        .iter()
        .map(|i| i.split_once('=').map_or((i.clone(), String::new()), |(k, v)| (k.to_string(), v.to_string())))
        .collect()
}
