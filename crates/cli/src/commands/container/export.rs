//! `berth export` (ContainerExport): the container's filesystem as a tar, to `-o FILE` or
//! stdout (never a terminal).

use crate::client::Client;
use crate::error::{CliError, CmdResult};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Write to a file, instead of STDOUT
    #[arg(short = 'o', long = "output")]
    pub output: Option<String>,
    #[arg(value_name = "CONTAINER")]
    pub container: String,
}

pub async fn run(c: &Client, a: Args) -> CmdResult {
    if a.output.is_none() && crate::term::stdout_is_tty() {
        return Err(CliError::new(1, "cowardly refusing to save to a terminal. Use the -o flag or redirect"));
    }
    let stream = c.docker.export_container(&a.container);
    crate::tar_output::write_tar(stream, a.output.as_deref(), "failed to export container").await
}
