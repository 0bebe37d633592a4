//! `berth image ls` / `berth images` (ImageList).

use gotmpl::Value;
use serde_json::Value as J;

use crate::client::{filters_json, query_escape, Client};
use crate::commands::container::ls::go_time_string;
use crate::error::CmdResult;
use crate::format::table::short_id;
use crate::format::template::{map, str_val, Format};
use crate::format::units::{human_size, human_size_prec, now_unix, since};

pub const DEFAULT_TABLE: &str = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";
pub const DIGEST_TABLE: &str = "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Show all images (default hides intermediate images)
    #[arg(short = 'a', long = "all")]
    pub all: bool,
    /// Show digests
    #[arg(long = "digests")]
    pub digests: bool,
    /// Filter output based on conditions provided
    #[arg(short = 'f', long = "filter")]
    pub filter: Vec<String>,
    /// Format output using a custom template
    #[arg(long = "format")]
    pub format: Option<String>,
    /// Don't truncate output
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,
    /// Only show image IDs
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
    #[arg(value_name = "REPOSITORY[:TAG]")]
    pub reference: Option<String>,
}

/// docker.io/library/x → x, docker.io/u/x → u/x.
pub fn familiar(name: &str) -> String {
    let n = name.strip_prefix("docker.io/").unwrap_or(name);
    n.strip_prefix("library/").unwrap_or(n).to_string()
}

/// Split `repo:tag` (the tag never contains `/`).
pub fn split_tag(r: &str) -> (String, String) {
    match r.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (familiar(repo), tag.to_string()),
        _ => (familiar(r), String::new()),
    }
}

fn strings(v: &J, k: &str) -> Vec<String> {
    v.get(k)
        .and_then(J::as_array)
        .map(|a| a.iter().filter_map(J::as_str).map(str::to_string).collect())
        .unwrap_or_default()
}

/// docker's rows for one image: one per tag (× digest with --digests), then digest-only repos.
pub fn image_rows(img: &J, digests: bool) -> Vec<(String, String, String)> {
    let tags = strings(img, "RepoTags");
    let dgs = strings(img, "RepoDigests");
    let dangling = (tags.is_empty() && dgs.is_empty()) || (tags == ["<none>:<none>"] && dgs == ["<none>@<none>"]);
    if dangling {
        return vec![("<none>".into(), "<none>".into(), "<none>".into())];
    }
    let mut repo_tags: Vec<(String, Vec<String>)> = Vec::new();
    for t in &tags {
        let (repo, tag) = split_tag(t);
        if tag.is_empty() || repo == "<none>" {
            continue;
        }
        match repo_tags.iter_mut().find(|(r, _)| *r == repo) {
            Some((_, v)) => v.push(tag),
            None => repo_tags.push((repo, vec![tag])),
        }
    }
    let mut repo_digests: Vec<(String, Vec<String>)> = Vec::new();
    for d in &dgs {
        let Some((repo, dg)) = d.split_once('@') else { continue };
        let repo = familiar(repo);
        if repo == "<none>" {
            continue;
        }
        match repo_digests.iter_mut().find(|(r, _)| *r == repo) {
            Some((_, v)) => v.push(dg.to_string()),
            None => repo_digests.push((repo, vec![dg.to_string()])),
        }
    }
    repo_tags.sort();
    let mut rows = Vec::new();
    for (repo, tags) in repo_tags {
        let pos = repo_digests.iter().position(|(r, _)| *r == repo);
        let ds = pos.map(|p| repo_digests.remove(p).1).unwrap_or_default();
        for tag in tags {
            if !digests || ds.is_empty() {
                rows.push((repo.clone(), tag.clone(), "<none>".into()));
            } else {
                for d in &ds {
                    rows.push((repo.clone(), tag.clone(), d.clone()));
                }
            }
        }
    }
    for (repo, ds) in repo_digests {
        if digests {
            for d in ds {
                rows.push((repo.clone(), "<none>".into(), d));
            }
        } else {
            rows.push((repo, "<none>".into(), String::new()));
        }
    }
    rows
}

pub fn row(img: &J, repo: &str, tag: &str, digest: &str, trunc: bool, now: i64) -> Value {
    let id = img.get("Id").and_then(J::as_str).unwrap_or_default();
    let created = img.get("Created").and_then(J::as_i64).unwrap_or(0);
    let num = |k: &str| img.get(k).and_then(J::as_i64).unwrap_or(0);
    let size = human_size_prec(num("Size") as f64, 3);
    let containers = match num("Containers") {
        -1 => "N/A".to_string(),
        n => n.to_string(),
    };
    map([
        ("ID", str_val(if trunc { short_id(id) } else { id.to_string() })),
        ("Repository", str_val(repo)),
        ("Tag", str_val(tag)),
        ("Digest", str_val(digest)),
        ("CreatedSince", str_val(since(created, now))),
        ("CreatedAt", str_val(go_time_string(created))),
        ("Size", str_val(&size)),
        ("VirtualSize", str_val(human_size(num("Size") as f64))),
        (
            "SharedSize",
            str_val(match num("SharedSize") {
                -1 => "N/A".into(),
                n => human_size(n as f64),
            }),
        ),
        (
            "UniqueSize",
            str_val(match num("SharedSize") {
                -1 => "N/A".into(),
                n => human_size((num("Size") - n) as f64),
            }),
        ),
        ("Containers", str_val(containers)),
    ])
}

pub fn header() -> Value {
    map([
        ("ID", str_val("IMAGE ID")),
        ("Repository", str_val("REPOSITORY")),
        ("Tag", str_val("TAG")),
        ("Digest", str_val("DIGEST")),
        ("CreatedSince", str_val("CREATED")),
        ("CreatedAt", str_val("CREATED AT")),
        ("Size", str_val("SIZE")),
        ("VirtualSize", str_val("VIRTUAL SIZE")),
        ("SharedSize", str_val("SHARED SIZE")),
        ("UniqueSize", str_val("UNIQUE SIZE")),
        ("Containers", str_val("CONTAINERS")),
    ])
}

pub async fn run(c: &Client, a: Args) -> CmdResult {
    let format = match (&a.format, a.quiet) {
        (_, true) => "{{.ID}}".to_string(),
        (Some(f), false) if !f.is_empty() => f.clone(),
        _ if a.digests => DIGEST_TABLE.to_string(),
        _ => DEFAULT_TABLE.to_string(),
    };
    let default = if a.digests { DIGEST_TABLE } else { DEFAULT_TABLE };
    let fmt = Format::parse_rows(&format, default)?;
    let mut filters = a.filter.clone();
    if let Some(r) = &a.reference {
        filters.push(format!("reference={r}"));
    }
    let mut path = format!("/images/json?all={}", if a.all { 1 } else { 0 });
    if a.digests || format.contains(".Digest") {
        path.push_str("&digests=1");
    }
    if let Some(f) = filters_json(&filters)? {
        path.push_str(&format!("&filters={}", query_escape(&f)));
    }
    let list = c.get_json(&path).await?;
    let now = now_unix();
    let show_digests = a.digests || format.contains(".Digest");
    let mut rows = Vec::new();
    for img in list.as_array().into_iter().flatten() {
        for (repo, tag, digest) in image_rows(img, show_digests) {
            rows.push(row(img, &repo, &tag, &digest, !a.no_trunc, now));
        }
    }
    fmt.print(&header(), &rows)?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rows_like_docker() {
        let img = json!({"Id": "sha256:0659f457d999aaaa", "RepoTags": ["busybox:latest", "busybox:1", "docker.io/library/x:y"],
            "RepoDigests": ["busybox@sha256:d1"], "Created": 0, "Size": 1990000});
        assert_eq!(
            image_rows(&img, false),
            vec![
                ("busybox".into(), "latest".into(), "<none>".into()),
                ("busybox".into(), "1".into(), "<none>".into()),
                ("x".into(), "y".into(), "<none>".into())
            ]
        );
        assert_eq!(image_rows(&img, true)[0].2, "sha256:d1");
        let dangling = json!({"Id": "sha256:ab", "RepoTags": null, "RepoDigests": null});
        assert_eq!(image_rows(&dangling, false), vec![("<none>".into(), "<none>".into(), "<none>".into())]);
        let fmt = Format::parse(DEFAULT_TABLE, DEFAULT_TABLE).unwrap();
        let r = row(&img, "busybox", "latest", "<none>", true, 1_776_000_000);
        assert_eq!(
            fmt.render(&header(), &[r]).unwrap(),
            "REPOSITORY   TAG       IMAGE ID       CREATED        SIZE\nbusybox      latest    0659f457d999   56 years ago   1.99MB\n"
        );
    }
}
