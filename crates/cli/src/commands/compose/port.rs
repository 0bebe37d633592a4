//! `berth compose port`: the public address a service's private port is published on.

use serde_json::Value as J;

use super::project::{check_services, containers, label, load_project, Global};
use crate::client::Client;
use crate::error::{CliError, CmdResult};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Index of the container if service has multiple replicas
    #[arg(long = "index", default_value_t = 1)]
    pub index: u32,
    /// tcp or udp
    #[arg(long = "protocol", default_value = "tcp")]
    pub protocol: String,
    #[arg(value_name = "SERVICE")]
    pub service: String,
    #[arg(value_name = "PRIVATE_PORT")]
    pub port: u16,
}

pub async fn run(c: &Client, g: &Global, a: Args) -> CmdResult {
    let project = load_project(g)?;
    check_services(&project, std::slice::from_ref(&a.service))?;
    let list = containers(c, &project.name, false, Some(false)).await?;
    let ct = list
        .iter()
        .find(|ct| {
            label(ct, berth_compose::labels::SERVICE) == a.service
                && label(ct, berth_compose::labels::NUMBER) == a.index.to_string()
        })
        .ok_or_else(|| CliError::new(1, format!("service \"{}\" is not running", a.service)))?;
    let ports = ct.get("Ports").and_then(J::as_array).cloned().unwrap_or_default();
    let found = ports.iter().find(|p| {
        p.get("PrivatePort").and_then(J::as_u64) == Some(u64::from(a.port))
            && p.get("Type").and_then(J::as_str) == Some(a.protocol.as_str())
            && p.get("PublicPort").is_some()
    });
    match found {
        Some(p) => {
            let ip = p.get("IP").and_then(J::as_str).unwrap_or("0.0.0.0");
            let public = p.get("PublicPort").and_then(J::as_u64).unwrap_or(0);
            println!("{ip}:{public}");
            Ok(0)
        }
        None => Err(CliError::new(
            1,
            format!("no port {}/{} for container {}", a.port, a.protocol, super::project::name(ct)),
        )),
    }
}
