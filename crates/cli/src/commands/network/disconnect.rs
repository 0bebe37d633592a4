//! `berth network disconnect` (NetworkDisconnect).

use bollard::models::NetworkDisconnectRequest;

use crate::client::Client;
use crate::error::{daemon_message, CliError, CmdResult};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Force the container to disconnect from a network
    #[arg(short = 'f', long = "force")]
    pub force: bool,
    #[arg(value_name = "NETWORK")]
    pub network: String,
    #[arg(value_name = "CONTAINER")]
    pub container: String,
}

pub async fn run(c: &Client, a: Args) -> CmdResult {
    let req = NetworkDisconnectRequest { container: a.container.clone(), force: Some(a.force) };
    c.docker.disconnect_network(&a.network, req).await.map_err(|e| CliError::new(1, daemon_message(&e)))?;
    Ok(0)
}
