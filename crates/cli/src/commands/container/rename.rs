//! `berth container rename` (ContainerRename).

use bollard::query_parameters::RenameContainerOptionsBuilder;

use crate::client::Client;
use crate::error::{CliError, CmdResult};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(value_name = "CONTAINER")]
    pub container: String,
    #[arg(value_name = "NEW_NAME")]
    pub new_name: String,
}

pub async fn run(c: &Client, a: Args) -> CmdResult {
    let (old, new) = (a.container.trim(), a.new_name.trim());
    if old.is_empty() || new.is_empty() {
        return Err(CliError::new(1, "Error: Neither old nor new names may be empty"));
    }
    let opts = RenameContainerOptionsBuilder::new().name(new).build();
    c.docker.rename_container(old, opts).await.map_err(|e| {
        let msg = crate::error::daemon_message(&e);
        CliError::new(1, format!("{msg}\nError: failed to rename container named {old}"))
    })?;
    Ok(0)
}
