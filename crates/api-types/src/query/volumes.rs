//! Query strings and bodies of the volumes endpoints.

use serde::Deserialize;

use super::de_bool;

/// `GET /volumes`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ListQuery {
    pub filters: Option<String>,
}

/// `DELETE /volumes/{name}`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct DeleteQuery {
    #[serde(default, deserialize_with = "de_bool")]
    pub force: bool,
}

/// `POST /volumes/prune`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct PruneQuery {
    pub filters: Option<String>,
}
