//! `berth commit` (ImageCommit): a container's changes as a new image.

use crate::client::{error_body_message, query_escape, read_body, Client};
use crate::error::{CliError, CmdResult};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")
    #[arg(short = 'a', long = "author")]
    pub author: Option<String>,
    /// Apply Dockerfile instruction to the created image
    #[arg(short = 'c', long = "change")]
    pub changes: Vec<String>,
    /// Commit message
    #[arg(short = 'm', long = "message")]
    pub message: Option<String>,
    /// Pause container during commit
    #[arg(short = 'p', long = "pause", default_value_t = true, action = clap::ArgAction::Set)]
    pub pause: bool,
    pub container: String,
    /// REPOSITORY[:TAG]
    pub reference: Option<String>,
}

/// `repo[:tag]` split as docker does (a `:` after the last `/` starts the tag).
pub fn split_reference(r: &str) -> (String, String) {
    match r.rfind(':') {
        Some(i) if !r[i..].contains('/') => (r[..i].to_string(), r[i + 1..].to_string()),
        _ => (r.to_string(), String::new()),
    }
}

pub async fn run(c: &Client, a: Args) -> CmdResult {
    let mut q = vec![format!("container={}", query_escape(&a.container))];
    if let Some(r) = &a.reference {
        let (repo, tag) = split_reference(r);
        q.push(format!("repo={}", query_escape(&repo)));
        if !tag.is_empty() {
            q.push(format!("tag={}", query_escape(&tag)));
        }
    }
    if let Some(m) = &a.message {
        q.push(format!("comment={}", query_escape(m)));
    }
    if let Some(au) = &a.author {
        q.push(format!("author={}", query_escape(au)));
    }
    for ch in &a.changes {
        q.push(format!("changes={}", query_escape(ch)));
    }
    q.push(format!("pause={}", a.pause));
    let path = format!("/commit?{}", q.join("&"));
    let (status, body) = read_body(c.raw(http::Method::POST, &path).await?).await?;
    if !(200..300).contains(&status) {
        return Err(CliError::new(1, format!("Error response from daemon: {}", error_body_message(&body))));
    }
    let v: serde_json::Value =
        serde_json::from_slice(&body).map_err(|e| CliError::new(1, format!("error decoding daemon response: {e}")))?;
    println!("{}", v.get("Id").and_then(|i| i.as_str()).unwrap_or_default());
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_references() {
        assert_eq!(split_reference("a:1"), ("a".into(), "1".into()));
        assert_eq!(split_reference("localhost:5000/a"), ("localhost:5000/a".into(), String::new()));
    }
}
