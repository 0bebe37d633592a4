//! `berth compose ls`: the projects with containers on this daemon.

use std::collections::BTreeMap;

use berth_compose::labels;

use super::project::label;
use crate::client::{query_escape, Client};
use crate::error::CmdResult;
use crate::format::table::align;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Show all stopped Compose projects
    #[arg(short = 'a', long = "all")]
    pub all: bool,
    /// Only display project names
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
    /// Format the output. Values: [table | json]
    #[arg(long = "format", default_value = "table")]
    pub format: String,
}

/// `running(2)`, `exited(1), running(1)`: Compose's project status.
pub fn status(states: &BTreeMap<String, usize>) -> String {
    states.iter().map(|(s, n)| format!("{s}({n})")).collect::<Vec<_>>().join(", ")
}

pub async fn run(c: &Client, a: Args) -> CmdResult {
    let filters = serde_json::json!({ "label": { labels::PROJECT: true } });
    let list = c.get_json(&format!("/containers/json?all=1&filters={}", query_escape(&filters.to_string()))).await?;
    let mut projects: BTreeMap<String, (BTreeMap<String, usize>, String)> = BTreeMap::new();
    for ct in list.as_array().cloned().unwrap_or_default() {
        let p = label(&ct, labels::PROJECT);
        let state = ct.get("State").and_then(|s| s.as_str()).unwrap_or_default().to_string();
        let entry = projects.entry(p).or_default();
        *entry.0.entry(state).or_default() += 1;
        entry.1 = label(&ct, labels::CONFIG_FILES);
    }
    projects.retain(|_, (states, _)| a.all || states.contains_key("running"));
    if a.quiet {
        projects.keys().for_each(|p| println!("{p}"));
        return Ok(0);
    }
    if a.format == "json" {
        let rows: Vec<_> = projects
            .iter()
            .map(|(n, (s, f))| serde_json::json!({"Name": n, "Status": status(s), "ConfigFiles": f}))
            .collect();
        println!("{}", serde_json::Value::Array(rows));
        return Ok(0);
    }
    let mut text = String::from("NAME\tSTATUS\tCONFIG FILES\n");
    for (n, (s, f)) in &projects {
        text.push_str(&format!("{n}\t{}\t{f}\n", status(s)));
    }
    print!("{}", align(&text));
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_status() {
        let m = BTreeMap::from([("running".to_string(), 2), ("exited".to_string(), 1)]);
        assert_eq!(status(&m), "exited(1), running(2)");
    }
}
