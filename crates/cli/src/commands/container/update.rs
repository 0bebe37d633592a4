//! `berth update` / `berth container update` (ContainerUpdate).

use bollard::models::{RestartPolicy, RestartPolicyNameEnum};

use super::opts_resources::ResourceOpts;
use crate::client::Client;
use crate::error::{daemon_message, CliError, CmdResult};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub resources: ResourceOpts,
    /// Restart policy to apply when a container exits
    #[arg(long = "restart")]
    pub restart: Option<String>,
    #[arg(value_name = "CONTAINER", required = true)]
    pub containers: Vec<String>,
}

/// `no`, `always`, `unless-stopped`, `on-failure[:N]`.
pub fn parse_restart(v: &str) -> Result<RestartPolicy, CliError> {
    let (name, count) = v.split_once(':').unwrap_or((v, ""));
    let name = match name {
        "no" | "" => RestartPolicyNameEnum::NO,
        "always" => RestartPolicyNameEnum::ALWAYS,
        "unless-stopped" => RestartPolicyNameEnum::UNLESS_STOPPED,
        "on-failure" => RestartPolicyNameEnum::ON_FAILURE,
        _ => return Err(CliError::new(125, format!("invalid restart policy {v}"))),
    };
    let maximum_retry_count = if count.is_empty() {
        None
    } else {
        Some(count.parse().map_err(|_| CliError::new(125, format!("invalid restart policy {v}")))?)
    };
    Ok(RestartPolicy { name: Some(name), maximum_retry_count })
}

pub async fn run(c: &Client, a: Args) -> CmdResult {
    let mut body = a.resources.to_update()?;
    body.restart_policy = a.restart.as_deref().map(parse_restart).transpose()?;
    let mut failed = false;
    for name in &a.containers {
        match c.docker.update_container(name, body.clone()).await {
            Ok(()) => println!("{name}"),
            Err(e) => {
                eprintln!("{}", daemon_message(&e));
                failed = true;
            }
        }
    }
    if failed {
        return Err(CliError::new(1, "Error: failed to update containers"));
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restart_policies() {
        assert_eq!(parse_restart("always").unwrap().name, Some(RestartPolicyNameEnum::ALWAYS));
        let p = parse_restart("on-failure:3").unwrap();
        assert_eq!((p.name, p.maximum_retry_count), (Some(RestartPolicyNameEnum::ON_FAILURE), Some(3)));
        assert!(parse_restart("sometimes").is_err());
    }
}
