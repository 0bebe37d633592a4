//! `berth container create` (ContainerCreate), with docker's pull-on-missing behaviour.

use bollard::models::ContainerCreateBody;
use bollard::query_parameters::{CreateContainerOptionsBuilder, CreateImageOptionsBuilder};
use futures_util::StreamExt;

use super::opts::{with_default_tag, ContainerOpts};
use crate::client::Client;
use crate::error::{daemon_message, is_not_found, CliError, CmdResult};

#[derive(clap::Args, Debug)]
#[command(disable_help_flag = true)]
pub struct Args {
    #[command(flatten)]
    pub opts: ContainerOpts,
}

/// Format a run/create failure like docker: `docker: <err>\n\nRun '... --help' ...`, 125.
pub fn run_error(cmd: &str, msg: &str, code: i32) -> CliError {
    CliError::new(code, format!("berth: {msg}\n\nRun 'berth {cmd} --help' for more information"))
}

/// `POST /images/create?fromImage=…&tag=…`, printing progress lines on stderr.
pub async fn pull(c: &Client, image: &str) -> Result<(), String> {
    let full = with_default_tag(image);
    let (name, tag) = match full.split_once('@') {
        Some((n, d)) => (n.to_string(), d.to_string()),
        None => match full.rsplit_once(':') {
            Some((n, t)) if !t.contains('/') => (n.to_string(), t.to_string()),
            _ => (full.clone(), "latest".to_string()),
        },
    };
    let opts = CreateImageOptionsBuilder::new().from_image(&name).tag(&tag).build();
    let mut stream = c.docker.create_image(Some(opts), None, None);
    while let Some(msg) = stream.next().await {
        match msg {
            Ok(info) => {
                if let Some(status) = info.status {
                    match info.id {
                        Some(id) if !id.is_empty() => eprintln!("{id}: {status}"),
                        _ => eprintln!("{status}"),
                    }
                }
            }
            Err(e) => return Err(daemon_message(&e)),
        }
    }
    Ok(())
}

/// Create the container, pulling the image first when the daemon does not have it.
/// Returns the new id; errors are already formatted for run/create (exit 125).
pub async fn create_with_pull(
    c: &Client,
    name: Option<&str>,
    config: ContainerCreateBody,
    cmd: &str,
) -> Result<String, CliError> {
    let image = config.image.clone().unwrap_or_default();
    let mut opts = CreateContainerOptionsBuilder::new();
    if let Some(n) = name {
        opts = opts.name(n);
    }
    let opts = opts.build();
    let first = c.docker.create_container(Some(opts.clone()), config.clone()).await;
    let resp = match first {
        Ok(r) => r,
        Err(e)
            if is_not_found(&e)
                && crate::error::server_message(&e).unwrap_or("").to_ascii_lowercase().contains("no such image") =>
        {
            eprintln!("Unable to find image '{}' locally", with_default_tag(&image));
            pull(c, &image).await.map_err(|m| run_error(cmd, &m, 125))?;
            c.docker.create_container(Some(opts), config).await.map_err(|e| run_error(cmd, &daemon_message(&e), 125))?
        }
        Err(e) => return Err(run_error(cmd, &daemon_message(&e), 125)),
    };
    for w in &resp.warnings {
        eprintln!("WARNING: {w}");
    }
    Ok(resp.id)
}

pub async fn run(c: &Client, a: Args) -> CmdResult {
    let config = a.opts.to_config(true).map_err(|e| run_error("create", &e.msg, 125))?;
    let id = create_with_pull(c, a.opts.name.as_deref(), config, "create").await?;
    println!("{id}");
    Ok(0)
}
