//! `berth system df` (SystemDataUsage): the summary table docker prints, or with `-v` one table
//! per object type.

use serde_json::Value;

use crate::client::Client;
use crate::error::CmdResult;
use crate::format::table::{align, ellipsis, short_id};
use crate::format::units::{human_size, human_size_prec, now_unix, since};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Show detailed information on space usage
    #[arg(short = 'v', long = "verbose")]
    pub verbose: bool,
}

fn arr<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key).and_then(|a| a.as_array()).map(Vec::as_slice).unwrap_or(&[])
}

fn int(v: &Value, key: &str) -> i64 {
    v.get(key).and_then(|x| x.as_i64()).unwrap_or(0)
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(|x| x.as_str()).unwrap_or("")
}

/// `size (pct%)` when there is anything at all, as docker's disk usage formatter.
fn reclaimable(reclaim: i64, total: i64) -> String {
    if total > 0 {
        format!("{} ({}%)", human_size(reclaim as f64), reclaim * 100 / total)
    } else {
        human_size(reclaim as f64)
    }
}

/// The summary table: TYPE TOTAL ACTIVE SIZE RECLAIMABLE.
pub fn summary(df: &Value) -> String {
    let mut rows = String::from("TYPE\tTOTAL\tACTIVE\tSIZE\tRECLAIMABLE\n");
    let images = arr(df, "Images");
    let layers = int(df, "LayersSize");
    let active: Vec<&Value> = images.iter().filter(|i| int(i, "Containers") > 0).collect();
    let used: i64 = active
        .iter()
        .filter(|i| int(i, "Size") != -1 && int(i, "SharedSize") != -1)
        .map(|i| int(i, "Size") - int(i, "SharedSize"))
        .sum();
    rows.push_str(&format!(
        "Images\t{}\t{}\t{}\t{}\n",
        images.len(),
        active.len(),
        human_size(layers as f64),
        reclaimable(layers - used, layers)
    ));
    let containers = arr(df, "Containers");
    let is_active = |c: &Value| matches!(text(c, "State"), "running" | "paused" | "restarting");
    let size: i64 = containers.iter().map(|c| int(c, "SizeRw")).sum();
    let idle: i64 = containers.iter().filter(|c| !is_active(c)).map(|c| int(c, "SizeRw")).sum();
    rows.push_str(&format!(
        "Containers\t{}\t{}\t{}\t{}\n",
        containers.len(),
        containers.iter().filter(|c| is_active(c)).count(),
        human_size(size as f64),
        reclaimable(idle, size)
    ));
    let volumes = arr(df, "Volumes");
    let usage = |v: &Value, k: &str| v.get("UsageData").map(|u| int(u, k)).unwrap_or(0);
    let vsize: i64 = volumes.iter().map(|v| usage(v, "Size")).filter(|s| *s > 0).sum();
    let vfree: i64 =
        volumes.iter().filter(|v| usage(v, "RefCount") == 0).map(|v| usage(v, "Size")).filter(|s| *s > 0).sum();
    rows.push_str(&format!(
        "Local Volumes\t{}\t{}\t{}\t{}\n",
        volumes.len(),
        volumes.iter().filter(|v| usage(v, "RefCount") > 0).count(),
        human_size(vsize as f64),
        reclaimable(vfree, vsize)
    ));
    let cache = arr(df, "BuildCache");
    let in_use = |c: &Value| c.get("InUse").and_then(|b| b.as_bool()).unwrap_or(false);
    let csize: i64 = cache
        .iter()
        .filter(|c| !c.get("Shared").and_then(|b| b.as_bool()).unwrap_or(false))
        .map(|c| int(c, "Size"))
        .sum();
    let cfree: i64 = cache.iter().filter(|c| !in_use(c)).map(|c| int(c, "Size")).sum();
    rows.push_str(&format!(
        "Build Cache\t{}\t{}\t{}\t{}\n",
        cache.len(),
        cache.iter().filter(|c| in_use(c)).count(),
        human_size(csize as f64),
        human_size(cfree as f64)
    ));
    align(&rows)
}

/// `repo` and `tag` of an image's first tag, `<none>` for untagged ones.
fn repo_tag(i: &Value) -> (String, String) {
    let first = arr(i, "RepoTags").first().and_then(|t| t.as_str()).filter(|t| *t != "<none>:<none>");
    match first {
        Some(t) => {
            let slash = t.rfind('/').map_or(0, |p| p + 1);
            match t[slash..].rfind(':') {
                Some(p) => (t[..slash + p].to_string(), t[slash + p + 1..].to_string()),
                None => (t.to_string(), "<none>".into()),
            }
        }
        None => ("<none>".into(), "<none>".into()),
    }
}

/// The `-v` tables.
pub fn verbose(df: &Value, now: i64) -> String {
    let mut out = String::from("Images space usage:\n\n");
    let mut t = String::from("REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE\tSHARED SIZE\tUNIQUE SIZE\tCONTAINERS\n");
    for i in arr(df, "Images") {
        let (repo, tag) = repo_tag(i);
        let (size, shared) = (int(i, "Size"), int(i, "SharedSize"));
        t.push_str(&format!(
            "{repo}\t{tag}\t{}\t{}\t{}\t{}\t{}\t{}\n",
            short_id(text(i, "Id")),
            since(int(i, "Created"), now),
            human_size_prec(size as f64, 3),
            human_size(shared as f64),
            human_size((size - shared) as f64),
            int(i, "Containers")
        ));
    }
    out.push_str(&align(&t));
    out.push_str("\nContainers space usage:\n\n");
    let mut t = String::from("CONTAINER ID\tIMAGE\tCOMMAND\tLOCAL VOLUMES\tSIZE\tCREATED\tSTATUS\tNAMES\n");
    for c in arr(df, "Containers") {
        let image = text(c, "Image");
        let image = if image.starts_with("sha256:") { short_id(image) } else { image.to_string() };
        let volumes = arr(c, "Mounts").iter().filter(|m| text(m, "Driver") == "local").count();
        let names: Vec<&str> =
            arr(c, "Names").iter().filter_map(|n| n.as_str()).map(|n| n.trim_start_matches('/')).collect();
        t.push_str(&format!(
            "{}\t{image}\t{:?}\t{volumes}\t{}\t{}\t{}\t{}\n",
            short_id(text(c, "Id")),
            ellipsis(text(c, "Command"), 20),
            human_size(int(c, "SizeRw") as f64),
            since(int(c, "Created"), now),
            text(c, "Status"),
            names.join(",")
        ));
    }
    out.push_str(&align(&t));
    out.push_str("\nLocal Volumes space usage:\n\n");
    let mut t = String::from("VOLUME NAME\tLINKS\tSIZE\n");
    for v in arr(df, "Volumes") {
        let usage = v.get("UsageData").cloned().unwrap_or_default();
        t.push_str(&format!(
            "{}\t{}\t{}\n",
            text(v, "Name"),
            int(&usage, "RefCount"),
            human_size(int(&usage, "Size") as f64)
        ));
    }
    out.push_str(&align(&t));
    let cache = arr(df, "BuildCache");
    let total: i64 = cache.iter().map(|c| int(c, "Size")).sum();
    out.push_str(&format!("\nBuild cache usage: {}\n\n", human_size(total as f64)));
    let mut t = String::from("CACHE ID\tCACHE TYPE\tSIZE\tCREATED\tLAST USED\tUSAGE\tSHARED\n");
    for c in cache {
        let time = |k: &str| {
            chrono::DateTime::parse_from_rfc3339(text(c, k)).map(|d| since(d.timestamp(), now)).unwrap_or_default()
        };
        t.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
            short_id(text(c, "ID")),
            text(c, "Type"),
            human_size(int(c, "Size") as f64),
            time("CreatedAt"),
            time("LastUsedAt"),
            int(c, "UsageCount"),
            c.get("Shared").and_then(|b| b.as_bool()).unwrap_or(false)
        ));
    }
    out.push_str(&align(&t));
    out
}

pub async fn run(c: &Client, a: Args) -> CmdResult {
    let df = c.get_json("/system/df").await?;
    if a.verbose {
        print!("{}", verbose(&df, now_unix()));
    } else {
        print!("{}", summary(&df));
    }
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
