//! The command tree: docker's groups (`container`, `image`, `system`) and top-level aliases.

use clap::{CommandFactory, Parser, Subcommand};

use crate::commands::{builder, container, image, network, registry, system, volume};

#[derive(Parser, Debug)]
#[command(
    name = "berth",
    about = "A self-sufficient runtime for containers",
    disable_version_flag = true,
    subcommand_required = true,
    arg_required_else_help = true
)]
pub struct Cli {
    /// Daemon socket to connect to
    #[arg(short = 'H', long = "host")]
    pub host: Option<String>,
    #[command(subcommand)]
    pub cmd: Cmd,
}

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Manage containers
    #[command(subcommand)]
    Container(ContainerCmd),
    /// Manage images
    #[command(subcommand)]
    Image(ImageCmd),
    /// Manage Docker
    #[command(subcommand)]
    System(SystemCmd),
    /// Manage volumes
    #[command(subcommand)]
    Volume(VolumeCmd),
    /// Manage networks
    #[command(subcommand)]
    Network(NetworkCmd),

    /// Create and run a new container from an image
    Run(container::run::Args),
    /// Create a new container
    Create(container::create::Args),
    /// Start one or more stopped containers
    Start(container::start::Args),
    /// Stop one or more running containers
    Stop(container::stop::Args),
    /// Kill one or more running containers
    Kill(container::kill::Args),
    /// Restart one or more containers
    Restart(container::restart::Args),
    /// Remove one or more containers
    Rm(container::rm::Args),
    /// List containers
    Ps(container::ls::Args),
    /// Fetch the logs of a container
    Logs(container::logs::Args),
    /// Attach local standard input, output, and error streams to a running container
    Attach(container::attach::Args),
    /// Copy files/folders between a container and the local filesystem
    Cp(container::cp::Args),
    /// Export a container's filesystem as a tar archive
    Export(container::export::Args),
    /// Block until one or more containers stop, then print their exit codes
    Wait(container::wait::Args),
    /// Display the running processes of a container
    Top(container::top::Args),
    /// Execute a command in a running container
    Exec(container::exec::Args),
    /// Display a live stream of container(s) resource usage statistics
    Stats(container::stats::Args),
    /// Update configuration of one or more containers
    Update(container::update::Args),
    /// Pause all processes within one or more containers
    Pause(container::pause::Args),
    /// Unpause all processes within one or more containers
    Unpause(container::pause::Args),
    /// List port mappings or a specific mapping for the container
    Port(container::port::Args),
    /// Rename a container
    Rename(container::rename::Args),
    /// Return low-level information on Docker objects
    Inspect(system::inspect::Args),

    /// Build an image from a Dockerfile
    Build(image::build::Args),
    /// Manage builds
    #[command(subcommand)]
    Builder(BuilderCmd),
    /// Create a new image from a container's changes
    Commit(container::commit::Args),
    /// List images
    Images(image::ls::Args),
    /// Import the contents from a tarball to create a filesystem image
    Import(image::import::Args),
    /// Load an image from a tar archive or STDIN
    Load(image::load::Args),
    /// Download an image from a registry
    Pull(image::pull::Args),
    /// Upload an image to a registry
    Push(image::push::Args),
    /// Save one or more images to a tar archive (streamed to STDOUT by default)
    Save(image::save::Args),
    /// Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE
    Tag(image::tag::Args),
    /// Remove one or more images
    Rmi(image::rm::Args),
    /// Show the history of an image
    History(image::history::Args),

    /// Search Docker Hub for images
    Search(image::search::Args),
    /// Authenticate to a registry
    Login(registry::login::Args),
    /// Log out from a registry
    Logout(registry::logout::Args),
    /// Show the Docker version information
    Version(system::version::Args),
    /// Display system-wide information
    Info(system::info::Args),
    /// Docker Compose
    Compose(crate::commands::compose::Args),
    /// Get real time events from the server
    Events(system::events::Args),
}

#[derive(Subcommand, Debug)]
pub enum ContainerCmd {
    /// Create and run a new container from an image
    Run(container::run::Args),
    /// Create a new container
    Create(container::create::Args),
    /// Start one or more stopped containers
    Start(container::start::Args),
    /// Stop one or more running containers
    Stop(container::stop::Args),
    /// Kill one or more running containers
    Kill(container::kill::Args),
    /// Restart one or more containers
    Restart(container::restart::Args),
    /// Remove one or more containers
    #[command(visible_alias = "remove")]
    Rm(container::rm::Args),
    /// List containers
    #[command(visible_aliases = ["ps", "list"])]
    Ls(container::ls::Args),
    /// Fetch the logs of a container
    Logs(container::logs::Args),
    /// Display detailed information on one or more containers
    Inspect(container::inspect::Args),
    /// Attach local standard input, output, and error streams to a running container
    Attach(container::attach::Args),
    /// Copy files/folders between a container and the local filesystem
    Cp(container::cp::Args),
    /// Export a container's filesystem as a tar archive
    Export(container::export::Args),
    /// Block until one or more containers stop, then print their exit codes
    Wait(container::wait::Args),
    /// Display the running processes of a container
    Top(container::top::Args),
    /// Execute a command in a running container
    Exec(container::exec::Args),
    /// Display a live stream of container(s) resource usage statistics
    Stats(container::stats::Args),
    /// Update configuration of one or more containers
    Update(container::update::Args),
    /// Pause all processes within one or more containers
    Pause(container::pause::Args),
    /// Unpause all processes within one or more containers
    Unpause(container::pause::Args),
    /// List port mappings or a specific mapping for the container
    Port(container::port::Args),
    /// Rename a container
    Rename(container::rename::Args),
    /// Create a new image from a container's changes
    Commit(container::commit::Args),
    /// Remove all stopped containers
    Prune(container::prune::Args),
}

#[derive(Subcommand, Debug)]
#[allow(clippy::large_enum_variant)] // parsed once per process; boxing buys nothing
pub enum BuilderCmd {
    /// Build an image from a Dockerfile
    Build(image::build::Args),
    /// Remove build cache
    Prune(builder::prune::Args),
}

#[derive(Subcommand, Debug)]
pub enum ImageCmd {
    /// Build an image from a Dockerfile
    Build(image::build::Args),
    /// List images
    #[command(visible_alias = "list")]
    Ls(image::ls::Args),
    /// Import the contents from a tarball to create a filesystem image
    Import(image::import::Args),
    /// Load an image from a tar archive or STDIN
    Load(image::load::Args),
    /// Download an image from a registry
    Pull(image::pull::Args),
    /// Upload an image to a registry
    Push(image::push::Args),
    /// Save one or more images to a tar archive (streamed to STDOUT by default)
    Save(image::save::Args),
    /// Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE
    Tag(image::tag::Args),
    /// Remove one or more images
    #[command(visible_alias = "remove")]
    Rm(image::rm::Args),
    /// Show the history of an image
    History(image::history::Args),
    /// Display detailed information on one or more images
    Inspect(image::inspect::Args),
    /// Remove unused images
    Prune(image::prune::Args),
}

#[derive(Subcommand, Debug)]
pub enum NetworkCmd {
    /// Connect a container to a network
    Connect(network::connect::Args),
    /// Create a network
    Create(network::create::Args),
    /// Disconnect a container from a network
    Disconnect(network::disconnect::Args),
    /// Display detailed information on one or more networks
    Inspect(network::inspect::Args),
    /// List networks
    #[command(visible_alias = "list")]
    Ls(network::ls::Args),
    /// Remove all unused networks
    Prune(network::prune::Args),
    /// Remove one or more networks
    #[command(visible_alias = "remove")]
    Rm(network::rm::Args),
}

#[derive(Subcommand, Debug)]
pub enum VolumeCmd {
    /// Create a volume
    Create(volume::create::Args),
    /// Display detailed information on one or more volumes
    Inspect(volume::inspect::Args),
    /// List volumes
    #[command(visible_alias = "list")]
    Ls(volume::ls::Args),
    /// Remove all unused local volumes
    Prune(volume::prune::Args),
    /// Remove one or more volumes
    #[command(visible_alias = "remove")]
    Rm(volume::rm::Args),
}

#[derive(Subcommand, Debug)]
pub enum SystemCmd {
    /// Show docker disk usage
    Df(system::df::Args),
    /// Get real time events from the server
    Events(system::events::Args),
    /// Display system-wide information
    Info(system::info::Args),
    /// Remove unused data
    Prune(system::prune::Args),
}

/// The command tree with docker's help layout: usage first, then the description, then
/// options (and commands), as `docker <cmd> --help` prints them.
pub fn command() -> clap::Command {
    fn docker_layout(cmd: clap::Command) -> clap::Command {
        let template = if cmd.get_subcommands().next().is_some() {
            "Usage:  {usage}\n\n{about}\n\nCommands:\n{subcommands}\n\nOptions:\n{options}{after-help}"
        } else {
            "Usage:  {usage}\n\n{about}\n\nOptions:\n{options}{after-help}"
        };
        cmd.help_template(template).mut_subcommands(docker_layout)
    }
    docker_layout(Cli::command())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_tree_is_consistent() {
        Cli::command().debug_assert();
        command().debug_assert();
    }

    #[test]
    fn help_has_dockers_layout() {
        let help = |args: &[&str]| command().try_get_matches_from(args).expect_err("help exits").to_string();
        let stop = help(&["berth", "stop", "--help"]);
        assert!(
            stop.starts_with(
                "Usage:  berth stop [OPTIONS] <CONTAINER>...\n\nStop one or more running containers\n\nOptions:\n"
            ),
            "{stop}"
        );
        let root = help(&["berth", "--help"]);
        assert!(
            root.starts_with(
                "Usage:  berth [OPTIONS] <COMMAND>\n\nA self-sufficient runtime for containers\n\nCommands:\n"
            ),
            "{root}"
        );
    }

    #[test]
    fn aliases_parse() {
        for args in [
            vec!["berth", "ps", "-a"],
            vec!["berth", "container", "ls", "-aq"],
            vec!["berth", "container", "ps"],
            vec!["berth", "images"],
            vec!["berth", "image", "list"],
            vec!["berth", "rmi", "-f", "x"],
            vec!["berth", "image", "remove", "x"],
            vec!["berth", "-H", "unix:///x", "run", "-it", "--rm", "busybox", "sh", "-c", "exit 3"],
            vec!["berth", "history", "-H=false", "busybox"],
            vec!["berth", "stop", "-t", "1", "a", "b"],
        ] {
            Cli::try_parse_from(&args).unwrap_or_else(|e| panic!("{args:?}: {e}"));
        }
    }
}
