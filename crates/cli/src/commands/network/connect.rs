//! `berth network connect` (NetworkConnect).

use bollard::models::{EndpointIpamConfig, EndpointSettings, NetworkConnectRequest};

use crate::client::Client;
use crate::error::{daemon_message, CliError, CmdResult};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Add network-scoped alias for the container
    #[arg(long = "alias")]
    pub alias: Vec<String>,
    /// IPv4 address (e.g., "172.30.100.104")
    #[arg(long = "ip")]
    pub ip: Option<String>,
    /// Add link to another container
    #[arg(long = "link")]
    pub link: Vec<String>,
    #[arg(value_name = "NETWORK")]
    pub network: String,
    #[arg(value_name = "CONTAINER")]
    pub container: String,
}

pub fn request(a: &Args) -> NetworkConnectRequest {
    NetworkConnectRequest {
        container: a.container.clone(),
        endpoint_config: Some(EndpointSettings {
            aliases: (!a.alias.is_empty()).then(|| a.alias.clone()),
            links: (!a.link.is_empty()).then(|| a.link.clone()),
            ipam_config: a
                .ip
                .as_ref()
                .map(|ip| EndpointIpamConfig { ipv4_address: Some(ip.clone()), ..Default::default() }),
            ..Default::default()
        }),
    }
}

pub async fn run(c: &Client, a: Args) -> CmdResult {
    c.docker.connect_network(&a.network, request(&a)).await.map_err(|e| CliError::new(1, daemon_message(&e)))?;
    Ok(0)
}
