//! `berth compose rm`: remove the services' stopped containers.

use super::converge;
use super::lifecycle::{state, targets};
use super::project::{id, name, Global};
use crate::client::Client;
use crate::error::{CliError, CmdResult};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Don't ask to confirm removal
    #[arg(short = 'f', long = "force")]
    pub force: bool,
    /// Stop the containers, if required, before removing
    #[arg(short = 's', long = "stop")]
    pub stop: bool,
    /// Remove any anonymous volumes attached to containers
    #[arg(short = 'v', long = "volumes")]
    pub volumes: bool,
    #[arg(value_name = "SERVICE")]
    pub services: Vec<String>,
}

pub async fn run(c: &Client, g: &Global, a: Args) -> CmdResult {
    let (_, list) = targets(c, g, &a.services, true).await?;
    if a.stop {
        for ct in list.iter().filter(|ct| state(ct) == "running") {
            converge::stop(c, &id(ct), &name(ct), None).await?;
        }
    }
    let (_, list) = targets(c, g, &a.services, true).await?;
    let removable: Vec<_> = list.iter().filter(|ct| state(ct) != "running").collect();
    if removable.is_empty() {
        eprintln!("No stopped containers");
        return Ok(0);
    }
    let names: Vec<String> = removable.iter().map(|ct| name(ct)).collect();
    let msg = format!("Going to remove {}", names.join(", "));
    if a.force {
        println!("{msg}");
    } else if !confirm(&msg, &mut std::io::stdin().lock(), &mut std::io::stdout())? {
        return Ok(0);
    }
    for ct in removable {
        converge::remove(c, &id(ct), &name(ct), a.volumes).await?;
    }
    Ok(0)
}

/// Compose's confirmation: `y`, `yes`, `1`, `t`, `true` (any case) confirm; anything else,
/// or end of input, declines.
fn confirm(msg: &str, input: &mut impl std::io::BufRead, out: &mut impl std::io::Write) -> Result<bool, CliError> {
    let io = |e: std::io::Error| CliError::new(1, e.to_string());
    write!(out, "{msg}\nAre you sure? [yN] ").map_err(io)?;
    out.flush().map_err(io)?;
    let mut line = String::new();
    input.read_line(&mut line).map_err(io)?;
    Ok(matches!(line.trim().to_lowercase().as_str(), "y" | "yes" | "1" | "t" | "true"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confirmation_defaults_to_no() {
        for (answer, want) in
            [("y\n", true), ("YES\n", true), ("true", true), ("n\n", false), ("", false), ("x\n", false)]
        {
            let mut out = Vec::new();
            let got = confirm("Going to remove p-web-1", &mut answer.as_bytes(), &mut out).unwrap();
            assert_eq!(got, want, "answer {answer:?}");
            assert_eq!(String::from_utf8(out).unwrap(), "Going to remove p-web-1\nAre you sure? [yN] ");
        }
    }
}
