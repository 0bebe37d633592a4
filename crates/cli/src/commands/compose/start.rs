//! `berth compose start`: start the services' existing containers.

use super::converge;
use super::lifecycle::{state, targets};
use super::project::{id, name, Global};
use crate::client::Client;
use crate::error::CmdResult;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(value_name = "SERVICE")]
    pub services: Vec<String>,
}

pub async fn run(c: &Client, g: &Global, a: Args) -> CmdResult {
    let (_, list) = targets(c, g, &a.services, false).await?;
    for ct in list.iter().filter(|ct| state(ct) != "running") {
        converge::start(c, &id(ct), &name(ct)).await?;
    }
    Ok(0)
}
