//! `berth container attach` (ContainerAttach).

use bollard::query_parameters::InspectContainerOptions;

use super::stream::{self, Streams};
use super::wait::PendingWait;
use crate::client::Client;
use crate::error::{CliError, CmdResult};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Do not attach STDIN
    #[arg(long = "no-stdin")]
    pub no_stdin: bool,
    /// Proxy all received signals to the process
    #[arg(long = "sig-proxy", default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub sig_proxy: bool,
    /// Override the key sequence for detaching a container
    #[arg(long = "detach-keys")]
    pub detach_keys: Option<String>,
    #[arg(value_name = "CONTAINER")]
    pub container: String,
}

pub async fn run(c: &Client, a: Args) -> CmdResult {
    let info = c.docker.inspect_container(&a.container, None::<InspectContainerOptions>).await?;
    let id = info.id.clone().unwrap_or_else(|| a.container.clone());
    let state = info.state.unwrap_or_default();
    if !state.running.unwrap_or(false) {
        return Err(CliError::new(1, "You cannot attach to a stopped container, start it first"));
    }
    if state.paused.unwrap_or(false) {
        return Err(CliError::new(1, "You cannot attach to a paused container, unpause it first"));
    }
    let cfg = info.config.unwrap_or_default();
    let tty = cfg.tty.unwrap_or(false);
    let streams = Streams { stdin: !a.no_stdin && cfg.open_stdin.unwrap_or(false), stdout: true, stderr: true };
    let att = stream::attach(c, &id, streams).await?;
    let waiter = PendingWait::register(c, &id, "not-running").await.ok();
    let raw = if tty && streams.stdin { crate::term::RawMode::enable() } else { None };
    let tasks = stream::spawn_session_helpers(c, &id, tty, a.sig_proxy).await;
    let pumped = stream::pump(att, streams.stdin).await;
    drop(raw);
    for t in tasks {
        t.abort();
    }
    pumped?;
    match waiter {
        Some(w) => Ok(w.status().await? as i32),
        None => Ok(0),
    }
}
