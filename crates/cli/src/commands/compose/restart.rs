//! `berth compose restart`: restart the services' containers.

use bollard::query_parameters::RestartContainerOptionsBuilder;

use super::lifecycle::targets;
use super::project::{id, load_or_name, name, progress, Global};
use crate::client::Client;
use crate::error::CmdResult;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Specify a shutdown timeout in seconds
    #[arg(short = 't', long = "timeout")]
    pub timeout: Option<i32>,
    /// Don't restart dependent services
    #[arg(long = "no-deps")]
    pub no_deps: bool,
    #[arg(value_name = "SERVICE")]
    pub services: Vec<String>,
}

pub async fn run(c: &Client, g: &Global, a: Args) -> CmdResult {
    let mut services = a.services.clone();
    if !a.no_deps && !services.is_empty() {
        // Dependents declared with `depends_on.<svc>.restart: true` restart too, after it.
        let project = load_or_name(g)?;
        services.extend(berth_compose::graph::restart_dependents(&project, &a.services));
    }
    let (_, list) = targets(c, g, &services, false).await?;
    for ct in &list {
        progress("Container", &name(ct), "Restarting");
        let mut opts = RestartContainerOptionsBuilder::new();
        if let Some(t) = a.timeout {
            opts = opts.t(t);
        }
        c.docker.restart_container(&id(ct), Some(opts.build())).await?;
        progress("Container", &name(ct), "Started");
    }
    Ok(0)
}
