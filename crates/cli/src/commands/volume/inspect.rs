//! `berth volume inspect` (VolumeInspect).

use crate::client::Client;
use crate::error::{daemon_message, CmdResult};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(required = true, value_name = "VOLUME")]
    pub names: Vec<String>,
}

pub async fn run(c: &Client, a: Args) -> CmdResult {
    let mut out = Vec::new();
    let mut failed = false;
    for n in &a.names {
        match c.docker.inspect_volume(n).await {
            Ok(v) => out.push(v),
            Err(e) => {
                eprintln!("{}", daemon_message(&e));
                failed = true;
            }
        }
    }
    println!("{}", serde_json::to_string_pretty(&out).unwrap_or_else(|_| "[]".into()));
    Ok(if failed { 1 } else { 0 })
}
