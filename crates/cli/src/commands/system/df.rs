//! `berth system df` (SystemDataUsage): the summary table docker prints, or with `-v` one table
//! per object type; `--format` as the docker CLI (`table`, `table TEMPLATE`, `json`, `raw`, or a
//! Go template over the rows of `df_rows`).

use serde_json::Value;

use super::df_rows::{self as rows, Verbose};
use crate::client::Client;
use crate::commands::container::ls as ps;
use crate::commands::image::ls as images;
use crate::commands::volume::ls as volumes;
use crate::error::CmdResult;
use crate::format::template::{preprocess, Format};
use crate::format::units::{human_size, now_unix};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Format output using a custom template: 'table', 'table TEMPLATE', 'json', 'raw' or a Go
    /// template
    #[arg(long = "format")]
    pub format: Option<String>,
    /// Show detailed information on space usage
    #[arg(short = 'v', long = "verbose")]
    pub verbose: bool,
}

/// The summary with `format` (`table` when empty), as `docker system df --format`.
pub fn summary_with(df: &Value, format: &str) -> Result<String, crate::error::CliError> {
    let format = match format {
        "" | "table" => rows::DEFAULT_TABLE,
        "raw" => rows::RAW,
        f => f,
    };
    Format::parse_rows(format, rows::DEFAULT_TABLE)?.render(&rows::summary_header(), &rows::summary_rows(df))
}

/// The summary table: TYPE TOTAL ACTIVE SIZE RECLAIMABLE.
pub fn summary(df: &Value) -> String {
    // The default format always parses and renders.
    summary_with(df, "table").unwrap_or_default()
}

/// One `-v` section: its default table over its rows.
fn section(table: &str, header: &gotmpl::Value, rows: &[gotmpl::Value]) -> Result<String, crate::error::CliError> {
    Format::parse_rows(table, table)?.render(header, rows)
}

/// `-v` with `format`: docker's four tables for `table` (or nothing), else the template over
/// `.Images`, `.Containers`, `.Volumes` and `.BuildCache`, printed without a final newline.
pub fn verbose_with(df: &Value, format: &str, now: i64) -> Result<String, crate::error::CliError> {
    let format = if format.is_empty() { "table" } else { format };
    // docker truncates ids for any format starting with "table".
    let v = Verbose::new(df, format.starts_with("table"), now);
    if format == "table" {
        let mut out = String::from("Images space usage:\n\n");
        out.push_str(&section(rows::IMAGE_TABLE, &images::header(), &v.images)?);
        out.push_str("\nContainers space usage:\n\n");
        out.push_str(&section(rows::CONTAINER_TABLE, &ps::header(), &v.containers)?);
        out.push_str("\nLocal Volumes space usage:\n\n");
        out.push_str(&section(rows::VOLUME_TABLE, &volumes::header(), &v.volumes)?);
        out.push_str(&format!("\nBuild cache usage: {}\n\n", human_size(rows::builder_size(df) as f64)));
        out.push_str(&section(rows::CACHE_TABLE, &rows::cache_header(), &v.build_cache)?);
        return Ok(out);
    }
    let format = if format == "raw" { rows::VERBOSE_RAW } else { format };
    if preprocess(format, "").1 == "{{json .}}" {
        return Ok(v.json());
    }
    Format::parse_rows(format, "")?.execute(&v.value())
}

/// The `-v` tables.
pub fn verbose(df: &Value, now: i64) -> String {
    // The default tables always parse and render.
    verbose_with(df, "table", now).unwrap_or_default()
}

pub async fn run(c: &Client, a: Args) -> CmdResult {
    let df = c.get_json("/system/df").await?;
    let format = a.format.unwrap_or_default();
    let out = if a.verbose { verbose_with(&df, &format, now_unix())? } else { summary_with(&df, &format)? };
    print!("{out}");
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference dockerd's answer and what `docker system df` printed for it.
    #[test]
    fn summary_matches_docker() {
        let df = serde_json::json!({
            "LayersSize": 1987095,
            "Images": [
                {"Containers":0,"Id":"sha256:b3","RepoTags":["<none>:<none>"],"SharedSize":1987075,"Size":1987081},
                {"Containers":14,"Id":"sha256:06","RepoTags":["busybox:latest"],"SharedSize":1987075,"Size":1987075},
            ],
            "Containers": [
                {"State":"running","SizeRw":0},{"State":"created","SizeRw":9},{"State":"exited"},
            ],
            "Volumes": [{"Name":"arcvol","UsageData":{"RefCount":1,"Size":0}}],
            "BuildCache": null,
        });
        let want = "TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE\n\
                    Images          2         1         1.987MB   1.987MB (100%)\n\
                    Containers      3         1         9B        9B (100%)\n\
                    Local Volumes   1         1         0B        0B\n\
                    Build Cache     0         0         0B        0B\n";
        assert_eq!(summary(&df), want);
    }

    #[test]
    fn verbose_image_rows() {
        let df = serde_json::json!({
            "Images": [{"Containers":2,"Created":0,"Id":"sha256:0659f457d9992692cc7a37a25c5381727a1f3e58d332e90764e2d5488c51db50",
                        "RepoTags":["busybox:latest"],"SharedSize":1987075,"Size":1987075}],
            "Containers": [], "Volumes": [],
        });
        let out = verbose(&df, 1_795_369_890);
        assert!(
            out.contains(
                "busybox      latest    0659f457d999   56 years ago   1.99MB    1.987MB       0B            2\n"
            ),
            "{out}"
        );
        assert!(
            out.ends_with(
                "\nBuild cache usage: 0B\n\nCACHE ID   CACHE TYPE   SIZE      CREATED   LAST USED   USAGE     SHARED\n"
            ),
            "{out}"
        );
    }
}
