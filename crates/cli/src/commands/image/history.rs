//! `berth image history` (ImageHistory).

use gotmpl::Value;
use serde_json::Value as J;

use crate::client::{query_escape, Client};
use crate::error::CmdResult;
use crate::format::table::{ellipsis, short_id};
use crate::format::template::{map, str_val, Format};
use crate::format::units::{human_size_prec, now_unix, since};

pub const DEFAULT_TABLE: &str = "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}";
/// With `-H=false` docker shows the absolute time under CREATED AT.
pub const NON_HUMAN_TABLE: &str = "table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}";

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Format output using a custom template
    #[arg(long = "format")]
    pub format: Option<String>,
    /// Print sizes and dates in human readable format
    #[arg(short = 'H', long = "human", default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    pub human: bool,
    /// Don't truncate output
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,
    /// Only show image IDs
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
    #[arg(value_name = "IMAGE")]
    pub image: String,
}

fn rfc3339(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0).map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string()).unwrap_or_default()
}

pub fn row(h: &J, trunc: bool, human: bool, now: i64) -> Value {
    let id = h.get("Id").and_then(J::as_str).unwrap_or_default();
    let created = h.get("Created").and_then(J::as_i64).unwrap_or(0);
    let size = h.get("Size").and_then(J::as_i64).unwrap_or(0);
    let created_by = h.get("CreatedBy").and_then(J::as_str).unwrap_or_default().replace('\t', " ");
    map([
        ("ID", str_val(if trunc && id != "<missing>" { short_id(id) } else { id.to_string() })),
        (
            "CreatedSince",
            str_val(match (human, created) {
                (true, 0) => "N/A".to_string(),
                (true, _) => since(created, now),
                (false, _) => rfc3339(created),
            }),
        ),
        ("CreatedAt", str_val(rfc3339(created))),
        ("CreatedBy", str_val(if trunc { ellipsis(&created_by, 45) } else { created_by })),
        ("Size", str_val(if human { human_size_prec(size as f64, 3) } else { size.to_string() })),
        ("Comment", str_val(h.get("Comment").and_then(J::as_str).unwrap_or_default())),
    ])
}

pub fn header() -> Value {
    map([
        ("ID", str_val("IMAGE")),
        ("CreatedSince", str_val("CREATED")),
        ("CreatedAt", str_val("CREATED AT")),
        ("CreatedBy", str_val("CREATED BY")),
        ("Size", str_val("SIZE")),
        ("Comment", str_val("COMMENT")),
    ])
}

pub async fn run(c: &Client, a: Args) -> CmdResult {
    let format = match (&a.format, a.quiet) {
        (_, true) => "{{.ID}}".to_string(),
        (Some(f), false) if !f.is_empty() => f.clone(),
        _ if !a.human => NON_HUMAN_TABLE.to_string(),
        _ => DEFAULT_TABLE.to_string(),
    };
    let fmt = Format::parse_rows(&format, DEFAULT_TABLE)?;
    let list = c.get_json(&format!("/images/{}/history", query_escape(&a.image))).await?;
    let now = now_unix();
    let rows: Vec<Value> = list.as_array().into_iter().flatten().map(|h| row(h, !a.no_trunc, a.human, now)).collect();
    fmt.print(&header(), &rows)?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        a: Args,
    }

    #[test]
    fn human_flag() {
        assert!(T::try_parse_from(["h", "busybox"]).unwrap().a.human);
        assert!(!T::try_parse_from(["h", "-H=false", "busybox"]).unwrap().a.human);
        assert!(!T::try_parse_from(["h", "--human=false", "busybox"]).unwrap().a.human);
    }

    #[test]
    fn history_row() {
        let h = serde_json::json!({"Id": "<missing>", "Created": 0, "CreatedBy": "/bin/sh -c #(nop)\tCMD [\"sh\"] and a very long tail here",
            "Size": 0, "Comment": ""});
        let f = Format::parse(NON_HUMAN_TABLE, DEFAULT_TABLE).unwrap();
        let out = f.render(&header(), &[row(&h, true, false, 0)]).unwrap();
        assert_eq!(
            out,
            "IMAGE       CREATED AT             CREATED BY                                      SIZE      COMMENT\n\
             <missing>   1970-01-01T00:00:00Z   /bin/sh -c #(nop) CMD [\"sh\"] and a very long…   0         \n"
        );
    }
}
