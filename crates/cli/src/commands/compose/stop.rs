//! `berth compose stop`: stop the services' running containers (dependents first).

use super::converge;
use super::lifecycle::{state, targets};
use super::project::{id, name, Global};
use crate::client::Client;
use crate::error::CmdResult;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Specify a shutdown timeout in seconds
    #[arg(short = 't', long = "timeout")]
    pub timeout: Option<i32>,
    #[arg(value_name = "SERVICE")]
    pub services: Vec<String>,
}

pub async fn run(c: &Client, g: &Global, a: Args) -> CmdResult {
    let (_, list) = targets(c, g, &a.services, true).await?;
    for ct in list.iter().filter(|ct| matches!(state(ct), "running" | "paused" | "restarting")) {
        converge::stop(c, &id(ct), &name(ct), a.timeout).await?;
    }
    Ok(0)
}
