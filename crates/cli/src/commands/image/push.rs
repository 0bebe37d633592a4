//! `berth push` (ImagePush): upload an image to a registry with credentials from
//! `~/.docker/config.json`.

use bollard::auth::DockerCredentials;
use bollard::query_parameters::PushImageOptionsBuilder;
use futures_util::StreamExt;

use crate::client::Client;
use crate::error::{CliError, CmdResult};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Push all tags of an image to the repository
    #[arg(short = 'a', long = "all-tags")]
    pub all_tags: bool,
    /// Suppress verbose output
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
    /// Image name: NAME[:TAG]
    pub image: String,
}

/// The registry host of an image name, as keys of `config.json`'s `auths`.
pub fn registry_of(name: &str) -> String {
    match name.split_once('/') {
        Some((first, _)) if first.contains('.') || first.contains(':') || first == "localhost" => first.to_string(),
        _ => "https://index.docker.io/v1/".to_string(),
    }
}

/// Stored credentials (`auths.<host>.auth`) for the registry of `name`.
pub fn credentials_for(name: &str) -> Option<DockerCredentials> {
    let home = std::env::var_os("DOCKER_CONFIG")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".docker")))?;
    let config: serde_json::Value = serde_json::from_slice(&std::fs::read(home.join("config.json")).ok()?).ok()?;
    let host = registry_of(name);
    let auth = config.get("auths")?.get(&host)?.get("auth")?.as_str()?.to_string();
    Some(DockerCredentials { auth: Some(auth), serveraddress: Some(host), ..Default::default() })
}

pub async fn run(c: &Client, a: Args) -> CmdResult {
    let (name, tag, _) = super::pull::split_reference(&a.image);
    if tag.contains(':') {
        return Err(CliError::new(1, "cannot push a digest reference"));
    }
    let tag = if a.all_tags { String::new() } else { tag };
    let opts = PushImageOptionsBuilder::new().tag(&tag).build();
    let mut stream = c.docker.push_image(&name, Some(opts), credentials_for(&name));
    while let Some(msg) = stream.next().await {
        let info = msg?;
        if let Some(e) = info.error_detail.and_then(|e| e.message) {
            return Err(CliError::new(1, e));
        }
        if a.quiet {
            continue;
        }
        if let Some(s) = info.status {
            println!("{s}");
        }
    }
    if a.quiet {
        println!("{}", a.image);
    }
    Ok(0)
}
