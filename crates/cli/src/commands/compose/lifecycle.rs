//! What `start`, `stop`, `restart`, `kill`, `pause`, `unpause` share: the project's
//! service containers selected by service name, in dependency order.

use berth_compose::labels;
use serde_json::Value as J;

use super::project::{check_services, containers, label, load_or_name, of_services, Global};
use crate::client::Client;
use crate::error::CliError;

/// The project's service containers of `services` (all when empty); `reverse` puts
/// dependents first (for stopping).
pub async fn targets(c: &Client, g: &Global, services: &[String], reverse: bool) -> Result<(String, Vec<J>), CliError> {
    let project = load_or_name(g)?;
    if !project.services.is_empty() {
        check_services(&project, services)?;
    }
    let order = berth_compose::graph::order(&project).unwrap_or_default();
    let mut list = of_services(containers(c, &project.name, true, Some(false)).await?, services);
    list.sort_by_key(|ct| {
        let svc = label(ct, labels::SERVICE);
        let pos = order.iter().position(|s| *s == svc).unwrap_or(usize::MAX);
        let num: u32 = label(ct, labels::NUMBER).parse().unwrap_or(0);
        (pos, num)
    });
    if reverse {
        list.reverse();
    }
    Ok((project.name, list))
}

pub fn state(ct: &J) -> &str {
    ct.get("State").and_then(J::as_str).unwrap_or_default()
}
