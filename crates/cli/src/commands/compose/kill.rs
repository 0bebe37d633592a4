//! `berth compose kill`: send a signal to the services' running containers.

use bollard::query_parameters::KillContainerOptionsBuilder;

use super::lifecycle::{state, targets};
use super::project::{id, name, progress, Global};
use crate::client::Client;
use crate::error::CmdResult;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// SIGNAL to send to the container
    #[arg(short = 's', long = "signal", default_value = "SIGKILL")]
    pub signal: String,
    /// Remove containers for services not defined in the Compose file
    #[arg(long = "remove-orphans")]
    pub remove_orphans: bool,
    #[arg(value_name = "SERVICE")]
    pub services: Vec<String>,
}

pub async fn run(c: &Client, g: &Global, a: Args) -> CmdResult {
    let (_, list) = targets(c, g, &a.services, true).await?;
    for ct in list.iter().filter(|ct| state(ct) == "running") {
        progress("Container", &name(ct), "Killing");
        let opts = KillContainerOptionsBuilder::new().signal(&a.signal).build();
        c.docker.kill_container(&id(ct), Some(opts)).await?;
        progress("Container", &name(ct), "Killed");
    }
    Ok(0)
}
