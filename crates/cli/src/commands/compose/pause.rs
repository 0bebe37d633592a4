//! `berth compose pause` and `unpause`.

use super::lifecycle::{state, targets};
use super::project::{id, name, progress, Global};
use crate::client::Client;
use crate::error::CmdResult;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(value_name = "SERVICE")]
    pub services: Vec<String>,
}

pub async fn pause(c: &Client, g: &Global, a: Args) -> CmdResult {
    let (_, list) = targets(c, g, &a.services, false).await?;
    for ct in list.iter().filter(|ct| state(ct) == "running") {
        c.docker.pause_container(&id(ct)).await?;
        progress("Container", &name(ct), "Paused");
    }
    Ok(0)
}

pub async fn unpause(c: &Client, g: &Global, a: Args) -> CmdResult {
    let (_, list) = targets(c, g, &a.services, false).await?;
    for ct in list.iter().filter(|ct| state(ct) == "paused") {
        c.docker.unpause_container(&id(ct)).await?;
        progress("Container", &name(ct), "Unpaused");
    }
    Ok(0)
}
