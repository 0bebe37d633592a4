//! `berth image import` (ImageCreate with fromSrc): a rootfs tarball from a file, URL or `-`.

use bollard::query_parameters::CreateImageOptionsBuilder;
use futures_util::StreamExt;
use tokio_util::io::ReaderStream;

use crate::client::Client;
use crate::error::{CliError, CmdResult};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Apply Dockerfile instruction to the created image
    #[arg(short = 'c', long = "change")]
    pub change: Vec<String>,
    /// Set commit message for imported image
    #[arg(short = 'm', long = "message")]
    pub message: Option<String>,
    /// Set platform if server is multi-platform capable
    #[arg(long = "platform")]
    pub platform: Option<String>,
    #[arg(value_name = "file|URL|-")]
    pub source: String,
    #[arg(value_name = "REPOSITORY[:TAG]")]
    pub reference: Option<String>,
}

pub async fn run(c: &Client, a: Args) -> CmdResult {
    let is_url = a.source.starts_with("http://") || a.source.starts_with("https://");
    let mut opts =
        CreateImageOptionsBuilder::new().from_src(if is_url { &a.source } else { "-" }).changes(a.change.clone());
    if let Some(r) = &a.reference {
        let (repo, tag) = match r.rsplit_once(':') {
            Some((repo, tag)) if !tag.contains('/') => (repo.to_string(), tag.to_string()),
            _ => (r.clone(), String::new()),
        };
        opts = opts.repo(&repo);
        if !tag.is_empty() {
            opts = opts.tag(&tag);
        }
    }
    if let Some(m) = &a.message {
        opts = opts.message(m);
    }
    if let Some(p) = &a.platform {
        opts = opts.platform(p);
    }
    let body = if is_url {
        None
    } else {
        let reader: Box<dyn tokio::io::AsyncRead + Unpin + Send> = if a.source == "-" {
            Box::new(tokio::io::stdin())
        } else {
            Box::new(
                tokio::fs::File::open(&a.source)
                    .await
                    .map_err(|e| CliError::new(1, format!("open {}: {e}", a.source)))?,
            )
        };
        Some(bollard::body_try_stream(ReaderStream::new(reader)))
    };
    let mut stream = c.docker.create_image(Some(opts.build()), body, None);
    while let Some(msg) = stream.next().await {
        let info = msg?;
        if let Some(s) = info.status {
            println!("{s}");
        }
    }
    Ok(0)
}
