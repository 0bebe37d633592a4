//! `berth pull` (ImageCreate with `fromImage`): download an image from a registry, printing
//! dockerd's progress lines.

use bollard::query_parameters::CreateImageOptionsBuilder;
use futures_util::StreamExt;

use crate::client::Client;
use crate::error::CmdResult;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Set platform if server is multi-platform capable
    #[arg(long)]
    pub platform: Option<String>,
    /// Suppress verbose output
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
    /// Image name: NAME[:TAG|@DIGEST]
    pub image: String,
}

/// Splits `name[:tag|@digest]` into the `fromImage` and `tag` parameters, defaulting to `latest`.
pub fn split_reference(image: &str) -> (String, String, bool) {
    if let Some((name, digest)) = image.split_once('@') {
        return (name.to_string(), digest.to_string(), false);
    }
    let slash = image.rfind('/').map_or(0, |i| i + 1);
    match image[slash..].rfind(':') {
        Some(i) => (image[..slash + i].to_string(), image[slash + i + 1..].to_string(), false),
        None => (image.to_string(), "latest".to_string(), true),
    }
}

pub async fn run(c: &Client, a: Args) -> CmdResult {
    let (name, tag, defaulted) = split_reference(&a.image);
    if defaulted && !a.quiet {
        println!("Using default tag: latest");
    }
    let mut opts = CreateImageOptionsBuilder::new().from_image(&name).tag(&tag);
    if let Some(p) = &a.platform {
        opts = opts.platform(p);
    }
    let creds = crate::commands::registry::config::credentials_for(&name);
    let mut stream = c.docker.create_image(Some(opts.build()), None, creds);
    while let Some(msg) = stream.next().await {
        let info = msg?;
        if a.quiet {
            continue;
        }
        match (info.id, info.status) {
            (Some(id), Some(s)) if !s.starts_with("Pulling from") => println!("{id}: {s}"),
            (Some(id), Some(s)) => println!("{id}: {s}"),
            (None, Some(s)) => println!("{s}"),
            _ => {}
        }
    }
    let sep = if tag.contains(':') { '@' } else { ':' };
    println!("{name}{sep}{tag}");
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_references() {
        assert_eq!(split_reference("busybox"), ("busybox".into(), "latest".into(), true));
        assert_eq!(split_reference("127.0.0.1:5000/bb:1"), ("127.0.0.1:5000/bb".into(), "1".into(), false));
        assert_eq!(split_reference("127.0.0.1:5000/bb"), ("127.0.0.1:5000/bb".into(), "latest".into(), true));
        assert_eq!(split_reference("a@sha256:00"), ("a".into(), "sha256:00".into(), false));
    }
}
