//! `berth inspect`: low-level JSON of containers or images (raw, in the daemon's field order),
//! or a Go template evaluated on the decoded JSON.

use std::io::Write;

use crate::client::{error_body_message, query_escape, Client};
use crate::error::{CliError, CmdResult};
use crate::format::json_indent::indent;
use crate::format::template::{json_to_value, Format};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Format output using a custom template
    #[arg(short = 'f', long = "format")]
    pub format: Option<String>,
    /// Display total file sizes if the type is container
    #[arg(short = 's', long = "size")]
    pub size: bool,
    /// Return JSON for specified type
    #[arg(long = "type")]
    pub r#type: Option<String>,
    #[arg(required = true, value_name = "NAME|ID")]
    pub names: Vec<String>,
}

/// An object kind `inspect` can look up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    Container,
    Image,
    Network,
}

impl Kind {
    fn path(self, name: &str, size: bool) -> String {
        match self {
            Kind::Container => crate::commands::container::inspect::path(name, size),
            Kind::Image => format!("/images/{}/json", query_escape(name)),
            Kind::Network => format!("/networks/{}", query_escape(name)),
        }
    }
}

/// Fetch each name as the first kind that has it, then print docker-style.
pub async fn inspect_objects(
    c: &Client,
    names: &[String],
    format: Option<&str>,
    kinds: &[Kind],
    size: bool,
) -> CmdResult {
    let fmt = match format {
        Some(f) if !f.is_empty() => Some(Format::parse(f, "")?),
        _ => None,
    };
    let mut raws = Vec::new();
    let mut errors = Vec::new();
    for name in names {
        let mut found = None;
        let mut last_err = String::new();
        for kind in kinds {
            let (status, body) = c.raw_get(&kind.path(name, size)).await?;
            if (200..300).contains(&status) {
                found = Some(body);
                break;
            }
            last_err = error_body_message(&body);
            if status != 404 {
                break;
            }
        }
        match found {
            Some(b) => raws.push(b),
            None if kinds.len() > 1 => errors.push(format!("Error: No such object: {name}")),
            None => errors.push(format!("Error response from daemon: {last_err}")),
        }
    }
    let mut out = Vec::new();
    match &fmt {
        None => {
            let joined: Vec<&[u8]> = raws.iter().map(|b| b.trim_ascii()).collect();
            let mut all = b"[".to_vec();
            all.extend(joined.join(&b","[..]));
            all.push(b']');
            out.extend(indent(&all));
            out.push(b'\n');
        }
        Some(f) => {
            for raw in &raws {
                let v: serde_json::Value = serde_json::from_slice(raw)
                    .map_err(|e| CliError::new(1, format!("error decoding response: {e}")))?;
                out.extend(f.execute(&json_to_value(&v))?.into_bytes());
                out.push(b'\n');
            }
        }
    }
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&out)?;
    stdout.flush()?;
    if errors.is_empty() {
        Ok(0)
    } else {
        Err(CliError::new(1, errors.join("\n")))
    }
}

pub async fn run(c: &Client, a: Args) -> CmdResult {
    let kinds: &[Kind] = match a.r#type.as_deref() {
        None | Some("") => &[Kind::Container, Kind::Image],
        Some("container") => &[Kind::Container],
        Some("image") => &[Kind::Image],
        Some("network") => &[Kind::Network],
        Some(t) => return Err(CliError::new(1, format!("\"{t}\" is not a valid value for --type"))),
    };
    inspect_objects(c, &a.names, a.format.as_deref(), kinds, a.size).await
}
