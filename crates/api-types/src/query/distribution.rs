//! Wire shapes of `GET /images/search` (ImageSearch), in dockerd's key order.

use serde::{Deserialize, Serialize};

/// One search hit. `is_automated` is deprecated and always false, but dockerd still sends it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImageSearchResult {
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub is_automated: bool,
    #[serde(default)]
    pub is_official: bool,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub star_count: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_order_matches_dockerd() {
        let r = ImageSearchResult { name: "bb".into(), ..Default::default() };
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"description":"","is_automated":false,"is_official":false,"name":"bb","star_count":0}"#
        );
    }
}
