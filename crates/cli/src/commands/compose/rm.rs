//! `berth compose rm`: remove the services' stopped containers.

use super::converge;
use super::lifecycle::{state, targets};
use super::project::{id, name, Global};
use crate::client::Client;
use crate::error::CmdResult;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Don't ask to confirm removal
    #[arg(short = 'f', long = "force")]
    pub force: bool,
    /// Stop the containers, if required, before removing
    #[arg(short = 's', long = "stop")]
    pub stop: bool,
    /// Remove any anonymous volumes attached to containers
    #[arg(short = 'v', long = "volumes")]
    pub volumes: bool,
    #[arg(value_name = "SERVICE")]
    pub services: Vec<String>,
}

pub async fn run(c: &Client, g: &Global, a: Args) -> CmdResult {
    let (_, list) = targets(c, g, &a.services, true).await?;
    if a.stop {
        for ct in list.iter().filter(|ct| state(ct) == "running") {
            converge::stop(c, &id(ct), &name(ct), None).await?;
        }
    }
    let (_, list) = targets(c, g, &a.services, true).await?;
    let removable: Vec<_> = list.iter().filter(|ct| state(ct) != "running").collect();
    if removable.is_empty() {
        eprintln!("No stopped containers");
        return Ok(0);
    }
    for ct in removable {
        converge::remove(c, &id(ct), &name(ct), a.volumes).await?;
    }
    Ok(0)
}
