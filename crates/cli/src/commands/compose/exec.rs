//! `berth compose exec`: run a command in a running service container.

use super::project::{check_services, containers, id, label, load_project, Global};
use crate::client::Client;
use crate::commands::container::exec as ct_exec;
use crate::error::{CliError, CmdResult};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Detached mode: Run command in the background
    #[arg(short = 'd', long = "detach")]
    pub detach: bool,
    /// Set environment variables
    #[arg(short = 'e', long = "env")]
    pub env: Vec<String>,
    /// Index of the container if service has multiple replicas
    #[arg(long = "index", default_value_t = 1)]
    pub index: u32,
    /// Disable pseudo-TTY allocation. By default `compose exec` allocates a TTY
    #[arg(short = 'T', long = "no-TTY")]
    pub no_tty: bool,
    /// Give extended privileges to the process
    #[arg(long = "privileged")]
    pub privileged: bool,
    /// Run the command as this user
    #[arg(short = 'u', long = "user")]
    pub user: Option<String>,
    /// Path to workdir directory for this command
    #[arg(short = 'w', long = "workdir")]
    pub workdir: Option<String>,
    #[arg(value_name = "SERVICE")]
    pub service: String,
    #[arg(value_name = "COMMAND", required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

pub async fn run(c: &Client, g: &Global, a: Args) -> CmdResult {
    let project = load_project(g)?;
    check_services(&project, std::slice::from_ref(&a.service))?;
    let list = containers(c, &project.name, false, Some(false)).await?;
    let target = list
        .iter()
        .find(|ct| {
            label(ct, berth_compose::labels::SERVICE) == a.service
                && label(ct, berth_compose::labels::NUMBER) == a.index.to_string()
        })
        .ok_or_else(|| CliError::new(1, format!("service \"{}\" is not running", a.service)))?;
    let tty = !a.no_tty && crate::term::stdin_is_tty();
    let args = ct_exec::Args {
        detach: a.detach,
        detach_keys: None,
        env: a.env,
        env_file: Vec::new(),
        interactive: !a.detach,
        privileged: a.privileged,
        tty,
        user: a.user,
        workdir: a.workdir,
        container: id(target),
        command: a.command,
    };
    ct_exec::run(c, args).await
}
