//! `berth image save` (ImageGetAll): a tar of the images to `-o FILE` or stdout.

use crate::client::Client;
use crate::error::{CliError, CmdResult};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Write to a file, instead of STDOUT
    #[arg(short = 'o', long = "output")]
    pub output: Option<String>,
    #[arg(required = true, value_name = "IMAGE")]
    pub images: Vec<String>,
}

pub async fn run(c: &Client, a: Args) -> CmdResult {
    if a.output.is_none() && crate::term::stdout_is_tty() {
        return Err(CliError::new(1, "Cowardly refusing to save to a terminal. Use the -o flag or redirect"));
    }
    let names: Vec<&str> = a.images.iter().map(String::as_str).collect();
    let stream = c.docker.export_images(&names);
    crate::tar_output::write_tar(stream, a.output.as_deref(), "failed to save image: invalid output path").await
}
