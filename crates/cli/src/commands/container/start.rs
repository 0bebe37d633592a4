//! `berth container start` (ContainerStart), with `-a` attach and `-i` stdin.

use bollard::query_parameters::{InspectContainerOptions, StartContainerOptions};

use super::stream::{self, Streams};
use super::wait::PendingWait;
use crate::client::Client;
use crate::error::{daemon_message, CliError, CmdResult};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Attach STDOUT/STDERR and forward signals
    #[arg(short = 'a', long = "attach")]
    pub attach: bool,
    /// Attach container's STDIN
    #[arg(short = 'i', long = "interactive")]
    pub interactive: bool,
    #[arg(required = true, value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

pub async fn run(c: &Client, a: Args) -> CmdResult {
    if !(a.attach || a.interactive) {
        return super::rm::for_each(&a.containers, |name| async move {
            c.docker.start_container(&name, None::<StartContainerOptions>).await
        })
        .await;
    }
    if a.containers.len() > 1 {
        return Err(CliError::new(1, "you cannot start and attach multiple containers at once"));
    }
    let name = &a.containers[0];
    let info = c.docker.inspect_container(name, None::<InspectContainerOptions>).await?;
    let id = info.id.clone().unwrap_or_else(|| name.clone());
    let cfg = info.config.unwrap_or_default();
    let tty = cfg.tty.unwrap_or(false);
    let streams = Streams { stdin: a.interactive && cfg.open_stdin.unwrap_or(false), stdout: true, stderr: true };
    let att = stream::attach(c, &id, streams).await?;
    let waiter = PendingWait::register(c, &id, "next-exit").await?;
    let raw = if tty && streams.stdin { crate::term::RawMode::enable() } else { None };
    c.docker
        .start_container(&id, None::<StartContainerOptions>)
        .await
        .map_err(|e| CliError::new(1, daemon_message(&e)))?;
    let tasks = stream::spawn_session_helpers(c, &id, tty, true).await;
    let pumped = stream::pump(att, streams.stdin).await;
    drop(raw);
    for t in tasks {
        t.abort();
    }
    pumped?;
    Ok(waiter.status().await? as i32)
}
