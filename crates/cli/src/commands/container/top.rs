//! `berth container top` (ContainerTop).

use std::io::Write;

use bollard::query_parameters::TopOptionsBuilder;

use crate::client::Client;
use crate::error::{daemon_message, CliError, CmdResult};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(value_name = "CONTAINER")]
    pub container: String,
    /// ps options (default -ef)
    #[arg(value_name = "ps OPTIONS", trailing_var_arg = true, allow_hyphen_values = true)]
    pub ps_args: Vec<String>,
}

pub async fn run(c: &Client, a: Args) -> CmdResult {
    let opts = TopOptionsBuilder::new().ps_args(&a.ps_args.join(" ")).build();
    let top =
        c.docker.top_processes(&a.container, Some(opts)).await.map_err(|e| CliError::new(1, daemon_message(&e)))?;
    let mut out = Vec::new();
    render(&mut out, top.titles.as_deref().unwrap_or_default(), top.processes.as_deref().unwrap_or_default())?;
    std::io::stdout().write_all(&out)?;
    Ok(0)
}

/// docker's layout: a tabwriter with minimum width 20 and padding 3.
fn render(out: &mut Vec<u8>, titles: &[String], rows: &[Vec<String>]) -> std::io::Result<()> {
    // Go counts the padding inside the minimum width; this tabwriter adds it on top.
    let mut tw = tabwriter::TabWriter::new(out).minwidth(17).padding(3);
    writeln!(tw, "{}", titles.join("\t"))?;
    for r in rows {
        writeln!(tw, "{}", r.join("\t"))?;
    }
    tw.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_docker_top_layout() {
        let mut out = Vec::new();
        let titles = ["UID", "PID", "CMD"].map(String::from);
        render(&mut out, &titles, &[vec!["root".into(), "1430".into(), "sleep 30".into()]]).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "UID                 PID                 CMD\nroot                1430                sleep 30\n"
        );
    }
}
