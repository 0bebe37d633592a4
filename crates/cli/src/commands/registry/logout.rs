//! `berth logout`: forget the credentials stored for a registry (no daemon call, as docker).

use super::config;
use crate::error::CmdResult;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Registry server (default: Docker Hub)
    pub server: Option<String>,
}

pub fn run(a: Args) -> CmdResult {
    let server = config::server_key(a.server.as_deref());
    if config::erase(&server)? {
        println!("Removing login credentials for {server}");
    } else {
        println!("Not logged in to {server}");
    }
    Ok(0)
}
