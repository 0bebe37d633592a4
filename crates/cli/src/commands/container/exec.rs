//! `berth exec` / `berth container exec` (ContainerExec + ExecStart + ExecInspect).

use bollard::exec::{CreateExecOptions, ResizeExecOptions, StartExecOptions, StartExecResults};

use super::opts::{parse_env, read_lines};
use super::stream;
use crate::client::Client;
use crate::error::{daemon_message, CliError, CmdResult};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Detached mode: run command in the background
    #[arg(short = 'd', long = "detach")]
    pub detach: bool,
    /// Override the key sequence for detaching a container
    #[arg(long = "detach-keys")]
    pub detach_keys: Option<String>,
    /// Set environment variables
    #[arg(short = 'e', long = "env")]
    pub env: Vec<String>,
    /// Read in a file of environment variables
    #[arg(long = "env-file")]
    pub env_file: Vec<String>,
    /// Keep STDIN open even if not attached
    #[arg(short = 'i', long = "interactive")]
    pub interactive: bool,
    /// Give extended privileges to the command
    #[arg(long = "privileged")]
    pub privileged: bool,
    /// Allocate a pseudo-TTY
    #[arg(short = 't', long = "tty")]
    pub tty: bool,
    /// Username or UID (format: <name|uid>[:<group|gid>])
    #[arg(short = 'u', long = "user")]
    pub user: Option<String>,
    /// Working directory inside the container
    #[arg(short = 'w', long = "workdir")]
    pub workdir: Option<String>,
    #[arg(value_name = "CONTAINER")]
    pub container: String,
    #[arg(value_name = "COMMAND", required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

fn daemon_err(e: &bollard::errors::Error) -> CliError {
    CliError::new(1, daemon_message(e))
}

pub async fn run(c: &Client, a: Args) -> CmdResult {
    let mut env_items = Vec::new();
    for f in &a.env_file {
        env_items.extend(read_lines(f)?);
    }
    env_items.extend(a.env.iter().cloned());
    let env = parse_env(&env_items, |k| std::env::var(k).ok());
    let attach = !a.detach;
    let opts = CreateExecOptions::<String> {
        attach_stdin: Some(a.interactive && attach),
        attach_stdout: Some(attach),
        attach_stderr: Some(attach),
        tty: Some(a.tty),
        detach_keys: a.detach_keys.clone(),
        env: (!env.is_empty()).then_some(env),
        cmd: Some(a.command.clone()),
        privileged: Some(a.privileged),
        user: a.user.clone(),
        working_dir: a.workdir.clone(),
    };
    let created = c.docker.create_exec(&a.container, opts).await.map_err(|e| daemon_err(&e))?;
    let id = created.id;
    let start = StartExecOptions { detach: a.detach, tty: a.tty, output_capacity: None };
    match c.docker.start_exec(&id, Some(start)).await.map_err(|e| daemon_err(&e))? {
        StartExecResults::Detached => Ok(0),
        StartExecResults::Attached { output, input } => {
            let raw = if a.tty && a.interactive { crate::term::RawMode::enable() } else { None };
            let resizer = if a.tty { Some(spawn_resize(c, &id).await) } else { None };
            let att = bollard::container::AttachContainerResults { output, input };
            let pumped = stream::pump(att, a.interactive).await;
            drop(raw);
            if let Some(t) = resizer.flatten() {
                t.abort();
            }
            pumped?;
            let info = c.docker.inspect_exec(&id).await.map_err(|e| daemon_err(&e))?;
            Ok(info.exit_code.unwrap_or(0) as i32)
        }
    }
}

/// Sends the local terminal size now and on every SIGWINCH.
async fn spawn_resize(c: &Client, id: &str) -> Option<tokio::task::JoinHandle<()>> {
    async fn resize(c: &Client, id: &str) {
        if let Some((h, w)) = crate::term::size() {
            let _ = c.docker.resize_exec(id, ResizeExecOptions { height: h, width: w }).await;
        }
    }
    resize(c, id).await;
    use tokio::signal::unix::{signal, SignalKind};
    let mut sig = signal(SignalKind::window_change()).ok()?;
    let (c, id) = (c.clone(), id.to_string());
    Some(tokio::spawn(async move {
        while sig.recv().await.is_some() {
            resize(&c, &id).await;
        }
    }))
}
