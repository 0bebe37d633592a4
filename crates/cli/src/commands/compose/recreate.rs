//! Recreating a service's container the way Docker Compose v2 does: stop the old one, rename
//! it to `<shortid>_<name>`, create the new one under the original name, and only then remove
//! the old one — so a failed create leaves the old container (renamed) in place.

use berth_compose::container::Overrides;
use berth_compose::model::{Project, Service};
use bollard::query_parameters::{RemoveContainerOptionsBuilder, RenameContainerOptionsBuilder};
use serde_json::Value as J;

use super::converge::{create, stop};
use super::project::progress;
use crate::client::Client;
use crate::error::{is_not_found, CliError};

/// Compose's temporary name for a container being replaced.
pub fn temporary_name(id: &str, name: &str) -> String {
    format!("{}_{name}", id.get(..12).unwrap_or(id))
}

/// Replace container `id` (named `name`, replica `number`) of `svc`; returns the new (id, name).
pub async fn recreate(
    c: &Client,
    project: &Project,
    svc: &Service,
    (id, name, number): (&str, &str, u32),
    timeout: Option<i32>,
    all: &[J],
) -> Result<(String, String), CliError> {
    progress("Container", name, "Recreate");
    stop(c, id, name, timeout.or(svc.stop_grace_period.map(|t| t as i32))).await?;
    let opts = RenameContainerOptionsBuilder::new().name(&temporary_name(id, name)).build();
    c.docker.rename_container(id, opts).await.map_err(CliError::daemon)?;
    let created = create(c, project, svc, number, &Overrides::default(), all).await?;
    match c.docker.remove_container(id, Some(RemoveContainerOptionsBuilder::new().build())).await {
        Ok(()) => {}
        Err(e) if is_not_found(&e) => {}
        Err(e) => return Err(CliError::daemon(e)),
    }
    progress("Container", name, "Recreated");
    Ok(created)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_names_are_compose_s() {
        let id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        assert_eq!(temporary_name(id, "demo-web-1"), "0123456789ab_demo-web-1");
        assert_eq!(temporary_name("abc", "x"), "abc_x");
    }
}
