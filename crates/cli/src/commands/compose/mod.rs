//! `berth compose`: multi-container applications from compose files. The model, merging,
//! interpolation and converge plan are `berth_compose`'s; these commands load the project
//! and carry the plan out through the Engine API, so they work against berthd and dockerd.

pub mod build;
pub mod config;
pub mod converge;
pub mod down;
pub mod exec;
pub mod images;
pub mod inject;
pub mod kill;
pub mod lifecycle;
pub mod logs;
pub mod logstream;
pub mod ls;
pub mod pause;
pub mod port;
pub mod project;
pub mod ps;
pub mod pull;
pub mod push;
pub mod recreate;
pub mod restart;
pub mod rm;
pub mod run;
pub mod start;
pub mod stop;
pub mod top;
pub mod up;
pub mod version;

use clap::Subcommand;

use crate::client::Client;
use crate::error::{CliError, CmdResult};
use project::Global;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub cmd: ComposeCmd,
}

#[derive(Subcommand, Debug)]
pub enum ComposeCmd {
    /// Create and start containers
    Up(up::Args),
    /// Stop and remove containers, networks
    Down(down::Args),
    /// List containers
    Ps(ps::Args),
    /// View output from containers
    Logs(logs::Args),
    /// Parse, resolve and render compose file in canonical format
    #[command(visible_alias = "convert")]
    Config(config::Args),
    /// Run a one-off command on a service
    Run(run::Args),
    /// Execute a command in a running container
    Exec(exec::Args),
    /// Start services
    Start(start::Args),
    /// Stop services
    Stop(stop::Args),
    /// Restart service containers
    Restart(restart::Args),
    /// Removes stopped service containers
    Rm(rm::Args),
    /// Force stop service containers
    Kill(kill::Args),
    /// Pause services
    Pause(pause::Args),
    /// Unpause services
    Unpause(pause::Args),
    /// Display the running processes
    Top(top::Args),
    /// Print the public port for a port binding
    Port(port::Args),
    /// List images used by the created containers
    Images(images::Args),
    /// List running compose projects
    Ls(ls::Args),
    /// Pull service images
    Pull(pull::Args),
    /// Build or rebuild services
    Build(build::Args),
    /// Push service images
    Push(push::Args),
    /// Show the Docker Compose version information
    Version(version::Args),
}

impl Args {
    /// Whether the command needs a daemon connection at all.
    pub fn needs_daemon(&self) -> bool {
        !matches!(self.cmd, ComposeCmd::Config(_) | ComposeCmd::Version(_))
    }
}

/// Commands that run without a daemon (`config`, `version`).
pub fn run_offline(a: Args) -> CmdResult {
    match a.cmd {
        ComposeCmd::Config(x) => config::run(&a.global, x),
        ComposeCmd::Version(x) => version::run(x),
        _ => Err(CliError::new(1, "this command needs a daemon")),
    }
}

pub async fn run(c: &Client, a: Args) -> CmdResult {
    let g = a.global;
    match a.cmd {
        ComposeCmd::Up(x) => up::run(c, &g, x).await,
        ComposeCmd::Down(x) => down::run(c, &g, x).await,
        ComposeCmd::Ps(x) => ps::run(c, &g, x).await,
        ComposeCmd::Logs(x) => logs::run(c, &g, x).await,
        ComposeCmd::Run(x) => run::run(c, &g, x).await,
        ComposeCmd::Exec(x) => exec::run(c, &g, x).await,
        ComposeCmd::Start(x) => start::run(c, &g, x).await,
        ComposeCmd::Stop(x) => stop::run(c, &g, x).await,
        ComposeCmd::Restart(x) => restart::run(c, &g, x).await,
        ComposeCmd::Rm(x) => rm::run(c, &g, x).await,
        ComposeCmd::Kill(x) => kill::run(c, &g, x).await,
        ComposeCmd::Pause(x) => pause::pause(c, &g, x).await,
        ComposeCmd::Unpause(x) => pause::unpause(c, &g, x).await,
        ComposeCmd::Top(x) => top::run(c, &g, x).await,
        ComposeCmd::Port(x) => port::run(c, &g, x).await,
        ComposeCmd::Images(x) => images::run(c, &g, x).await,
        ComposeCmd::Ls(x) => ls::run(c, x).await,
        ComposeCmd::Pull(x) => pull::run(c, &g, x).await,
        ComposeCmd::Build(x) => build::run(c, &g, x).await,
        ComposeCmd::Push(x) => push::run(c, &g, x).await,
        ComposeCmd::Config(x) => config::run(&g, x),
        ComposeCmd::Version(x) => version::run(x),
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use crate::cli::{Cli, Cmd};

    fn parse(args: &[&str]) -> super::Args {
        let mut full = vec!["berth", "compose"];
        full.extend_from_slice(args);
        match Cli::try_parse_from(&full).unwrap_or_else(|e| panic!("{args:?}: {e}")).cmd {
            Cmd::Compose(a) => a,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn command_lines() {
        let a = parse(&[
            "-f",
            "a.yaml",
            "-f",
            "b.yaml",
            "-p",
            "proj",
            "--profile",
            "dbg",
            "up",
            "-d",
            "--scale",
            "web=3",
            "web",
        ]);
        assert_eq!(a.global.files.len(), 2);
        assert_eq!(a.global.project_name.as_deref(), Some("proj"));
        let super::ComposeCmd::Up(up) = a.cmd else { panic!("not up") };
        assert!(up.detach);
        assert_eq!(up.scale, vec!["web=3"]);
        assert_eq!(up.services, vec!["web"]);

        let super::ComposeCmd::Run(r) = parse(&["run", "--rm", "-T", "-e", "A=1", "db", "sh", "-c", "echo -n x"]).cmd
        else {
            panic!("not run")
        };
        assert!(r.rm && r.no_tty);
        assert_eq!(r.command, vec!["sh", "-c", "echo -n x"]);
        let super::ComposeCmd::Logs(l) = parse(&["logs", "-f", "--tail", "5", "web"]).cmd else { panic!("not logs") };
        assert!(l.follow);
        assert_eq!(l.tail, "5");
        let super::ComposeCmd::Exec(e) = parse(&["exec", "-T", "-u", "root", "web", "ls", "-la"]).cmd else {
            panic!("not exec")
        };
        assert_eq!(e.command, vec!["ls", "-la"]);
        for args in
            [&["down", "-v", "--rmi", "all"][..], &["ps", "-a", "--format", "json"], &["config", "--services"], &["ls"]]
        {
            parse(args);
        }
        assert!(!parse(&["config"]).needs_daemon());
        assert!(parse(&["ps"]).needs_daemon());
    }
}
