//! Query strings and bodies of the networks endpoints.

use serde::Deserialize;

/// `GET /networks` and `POST /networks/prune`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ListQuery {
    pub filters: Option<String>,
}
