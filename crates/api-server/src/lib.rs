//! The Docker Engine API over HTTP: an axum router on a unix socket (or TCP).
//!
//! Owns the route table (`routes/<area>.rs`), the `/v1.NN/` prefix and version negotiation
//! ([`version`]), hijacked attach/exec streams, streaming bodies, and **the one** mapping from
//! engine error kinds to HTTP status codes ([`error`]). Handlers parse the request (pure), make one
//! engine call, and serialise the answer; they hold no state of their own.

pub mod error;
pub mod hijack;
pub mod routes;
pub mod serve;
pub mod version;

use std::sync::Arc;

use axum::Router;
use berth_engine::Engine;

pub use error::ApiError;

/// State every handler receives.
pub type AppState = Arc<Engine>;

/// The whole API: routes of every area, wrapped in the version-prefix layer.
pub fn router(engine: Arc<Engine>) -> Router {
    let api = Router::new()
        .merge(routes::system::routes())
        .merge(routes::events::routes())
        .merge(routes::containers::routes())
        .merge(routes::exec::routes())
        .merge(routes::images::routes())
        .merge(routes::build::routes())
        .merge(routes::distribution::routes())
        .merge(routes::disk_usage::routes())
        .merge(routes::networks::routes())
        .merge(routes::volumes::routes())
        .fallback(routes::not_found)
        .with_state(engine);
    version::wrap(api)
}
