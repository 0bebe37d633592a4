//! `berth volume create` (VolumeCreate).

use bollard::models::VolumeCreateRequest;

use crate::client::Client;
use crate::error::{daemon_message, CliError, CmdResult};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Specify volume driver name
    #[arg(short = 'd', long = "driver", default_value = "local")]
    pub driver: String,
    /// Set metadata for a volume
    #[arg(long = "label")]
    pub label: Vec<String>,
    /// Set driver specific options
    #[arg(short = 'o', long = "opt")]
    pub opt: Vec<String>,
    #[arg(value_name = "VOLUME")]
    pub name: Option<String>,
}

pub async fn run(c: &Client, a: Args) -> CmdResult {
    let kv = |items: &[String]| {
        items
            .iter()
            .map(|i| i.split_once('=').map_or((i.clone(), String::new()), |(k, v)| (k.to_string(), v.to_string())))
            .collect()
    };
    let req = VolumeCreateRequest {
        name: a.name.clone(),
        driver: Some(a.driver.clone()),
        driver_opts: Some(kv(&a.opt)),
        labels: Some(kv(&a.label)),
        ..Default::default()
    };
    let v = c.docker.create_volume(req).await.map_err(|e| CliError::new(1, daemon_message(&e)))?;
    println!("{}", v.name);
    Ok(0)
}
