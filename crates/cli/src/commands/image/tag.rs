//! `berth image tag` (ImageTag).

use bollard::query_parameters::TagImageOptionsBuilder;

use crate::client::Client;
use crate::error::CmdResult;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(value_name = "SOURCE_IMAGE[:TAG]")]
    pub source: String,
    #[arg(value_name = "TARGET_IMAGE[:TAG]")]
    pub target: String,
}

/// Split `repo[:tag]`, defaulting the tag to `latest`.
pub fn repo_tag(r: &str) -> (String, String) {
    match r.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo.to_string(), tag.to_string()),
        _ => (r.to_string(), "latest".to_string()),
    }
}

pub async fn run(c: &Client, a: Args) -> CmdResult {
    let (repo, tag) = repo_tag(&a.target);
    let opts = TagImageOptionsBuilder::new().repo(&repo).tag(&tag).build();
    c.docker.tag_image(&a.source, Some(opts)).await?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn split() {
        assert_eq!(super::repo_tag("a/b:1"), ("a/b".into(), "1".into()));
        assert_eq!(super::repo_tag("localhost:5000/b"), ("localhost:5000/b".into(), "latest".into()));
    }
}
