//! `berth network ls` (NetworkList).

use gotmpl::Value;
use serde_json::Value as J;

use crate::client::{filters_json, query_escape, Client};
use crate::commands::container::ls::{go_time_string, joined_labels};
use crate::error::CmdResult;
use crate::format::table::short_id;
use crate::format::template::{map, str_val, Format};

pub const DEFAULT_TABLE: &str = "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}";

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Provide filter values (e.g. "driver=bridge")
    #[arg(short = 'f', long = "filter")]
    pub filter: Vec<String>,
    /// Format output using a custom template
    #[arg(long = "format")]
    pub format: Option<String>,
    /// Do not truncate the output
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,
    /// Only display network IDs
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
}

fn s(v: &J, k: &str) -> String {
    v.get(k).and_then(J::as_str).unwrap_or_default().to_string()
}

/// One row with docker's field names.
pub fn row(n: &J, trunc: bool) -> Value {
    let id = s(n, "Id");
    let created = chrono::DateTime::parse_from_rfc3339(&s(n, "Created")).map(|d| d.timestamp()).unwrap_or(0);
    let b = |k: &str| n.get(k).and_then(J::as_bool).unwrap_or(false).to_string();
    map([
        ("ID", str_val(if trunc { short_id(&id) } else { id })),
        ("Name", str_val(s(n, "Name"))),
        ("Driver", str_val(s(n, "Driver"))),
        ("Scope", str_val(s(n, "Scope"))),
        ("IPv6", str_val(b("EnableIPv6"))),
        ("Internal", str_val(b("Internal"))),
        ("Labels", str_val(joined_labels(n.get("Labels")))),
        ("CreatedAt", str_val(go_time_string(created))),
    ])
}

pub fn header() -> Value {
    map([
        ("ID", str_val("NETWORK ID")),
        ("Name", str_val("NAME")),
        ("Driver", str_val("DRIVER")),
        ("Scope", str_val("SCOPE")),
        ("IPv6", str_val("IPV6")),
        ("Internal", str_val("INTERNAL")),
        ("Labels", str_val("LABELS")),
        ("CreatedAt", str_val("CREATED AT")),
    ])
}

pub async fn run(c: &Client, a: Args) -> CmdResult {
    let format = match (&a.format, a.quiet) {
        (_, true) => "{{.ID}}".to_string(),
        (Some(f), false) if !f.is_empty() => f.clone(),
        _ => DEFAULT_TABLE.to_string(),
    };
    let fmt = Format::parse_rows(&format, DEFAULT_TABLE)?;
    let mut path = "/networks".to_string();
    if let Some(f) = filters_json(&a.filter)? {
        path.push_str(&format!("?filters={}", query_escape(&f)));
    }
    let list = c.get_json(&path).await?;
    let mut nets: Vec<J> = list.as_array().cloned().unwrap_or_default();
    nets.sort_by_key(|n| s(n, "Name"));
    let rows: Vec<Value> = nets.iter().map(|n| row(n, !a.no_trunc)).collect();
    fmt.print(&header(), &rows)?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn table_like_docker() {
        let n = json!({"Id": "0123456789abcdef0123", "Name": "front", "Driver": "bridge", "Scope": "local",
            "Internal": true, "Labels": {"b": "2", "a": "1"}, "Created": "2024-01-02T03:04:05.5Z"});
        let fmt = Format::parse_rows(DEFAULT_TABLE, DEFAULT_TABLE).unwrap();
        let out = fmt.render(&header(), &[row(&n, true)]).unwrap();
        assert_eq!(out, "NETWORK ID     NAME      DRIVER    SCOPE\n0123456789ab   front     bridge    local\n");
        let fmt = Format::parse_rows("{{.Name}} {{.Internal}} {{.Labels}} {{.CreatedAt}}", DEFAULT_TABLE).unwrap();
        assert_eq!(
            fmt.render(&header(), &[row(&n, false)]).unwrap(),
            "front true a=1,b=2 2024-01-02 03:04:05 +0000 UTC\n"
        );
    }
}
