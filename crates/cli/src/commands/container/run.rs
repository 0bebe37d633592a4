//! `berth run` / `berth container run`: create (pulling if needed), attach, start, stream,
//! wait, and exit with the container's status.

use bollard::query_parameters::StartContainerOptions;

use super::create::{create_with_pull, run_error};
use super::opts::ContainerOpts;
use super::stream::{self, Streams};
use super::wait::PendingWait;
use crate::client::Client;
use crate::error::{daemon_message, CliError, CmdResult};

#[derive(clap::Args, Debug)]
#[command(disable_help_flag = true)]
pub struct Args {
    /// Run container in background and print container ID
    #[arg(short = 'd', long = "detach")]
    pub detach: bool,
    /// Proxy received signals to the process
    #[arg(long = "sig-proxy", default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub sig_proxy: bool,
    #[command(flatten)]
    pub opts: ContainerOpts,
}

/// docker's exit status for a failed start: 127 not found, 126 not executable, else 125.
pub fn start_error_code(msg: &str) -> i32 {
    if msg.contains("executable file not found")
        || msg.contains("no such file or directory")
        || msg.contains("system cannot find the file specified")
    {
        127
    } else if msg.contains("permission denied") || msg.contains("is a directory") {
        126
    } else {
        125
    }
}

pub async fn run(c: &Client, a: Args) -> CmdResult {
    let config = a.opts.to_config(a.detach).map_err(|e| run_error("run", &e.msg, 125))?;
    let tty = a.opts.tty;
    let streams = Streams {
        stdin: config.attach_stdin.unwrap_or(false),
        stdout: config.attach_stdout.unwrap_or(false),
        stderr: config.attach_stderr.unwrap_or(false),
    };
    if tty && streams.stdin && !crate::term::stdin_is_tty() {
        return Err(CliError::new(1, "the input device is not a TTY"));
    }
    let id = create_with_pull(c, a.opts.name.as_deref(), config, "run").await?;

    if a.detach {
        start(c, &id).await?;
        println!("{id}");
        return Ok(0);
    }

    let attached = if streams.stdin || streams.stdout || streams.stderr {
        Some(stream::attach(c, &id, streams).await.map_err(|e| run_error("run", &e.msg, 125))?)
    } else {
        None
    };
    let condition = if a.opts.rm { "removed" } else { "next-exit" };
    let waiter = PendingWait::register(c, &id, condition).await.map_err(|e| run_error("run", &e.msg, 125))?;

    let raw = if tty && streams.stdin { crate::term::RawMode::enable() } else { None };
    if let Err(e) = start(c, &id).await {
        drop(raw);
        return Err(e);
    }
    let tasks = stream::spawn_session_helpers(c, &id, tty, a.sig_proxy).await;
    let pumped = match attached {
        Some(att) => stream::pump(att, streams.stdin).await,
        None => Ok(()),
    };
    drop(raw);
    for t in tasks {
        t.abort();
    }
    pumped?;
    let status = waiter.status().await?;
    Ok(status as i32)
}

async fn start(c: &Client, id: &str) -> Result<(), CliError> {
    c.docker.start_container(id, None::<StartContainerOptions>).await.map_err(|e| {
        let msg = daemon_message(&e);
        run_error("run", &msg, start_error_code(&msg))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_codes() {
        assert_eq!(start_error_code(r#"exec: "nonexist": executable file not found in $PATH"#), 127);
        assert_eq!(start_error_code(r#"exec: "/etc": permission denied: unknown"#), 126);
        assert_eq!(start_error_code("cgroup failure"), 125);
    }
}
