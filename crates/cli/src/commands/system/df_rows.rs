//! The template values of `berth system df` (SystemDataUsage), named as the docker CLI's disk
//! usage contexts: one summary row per object type (`Type`, `TotalCount`, `Active`, `Size`,
//! `Reclaimable`), and for `-v` the image, container, volume and build-cache rows of `images`,
//! `ps`, `volume ls` and docker's build-cache formatter.

use gotmpl::Value;
use serde_json::Value as J;

use crate::commands::container::ls as ps;
use crate::commands::image::ls as images;
use crate::commands::volume::ls as volumes;
use crate::format::table::short_id;
use crate::format::template::{map, str_val, value_to_json};
use crate::format::units::{human_size, human_size_prec, since};

pub const DEFAULT_TABLE: &str = "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}";
pub const RAW: &str =
    "type: {{.Type}}\ntotal: {{.TotalCount}}\nactive: {{.Active}}\nsize: {{.Size}}\nreclaimable: {{.Reclaimable}}\n";
pub const IMAGE_TABLE: &str = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}";
pub const CONTAINER_TABLE: &str =
    "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}";
pub const VOLUME_TABLE: &str = "table {{.Name}}\t{{.Links}}\t{{.Size}}";
pub const CACHE_TABLE: &str =
    "table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}";

/// `-v --format raw`: docker's raw formats of each row type, one block per object.
pub const VERBOSE_RAW: &str = "{{range .Images}}type: Image\nrepository: {{ .Repository }}\ntag: {{.Tag}}\n\
digest: {{.Digest}}\nimage_id: {{.ID}}\ncreated_at: {{.CreatedAt}}\nvirtual_size: {{.Size}}\n\n{{end -}}\n\
{{range .Containers}}type: Container\ncontainer_id: {{.ID}}\nimage: {{.Image}}\ncommand: {{.Command}}\n\
created_at: {{.CreatedAt}}\nstate: {{- pad .State 1 0}}\nstatus: {{- pad .Status 1 0}}\nnames: {{.Names}}\n\
labels: {{- pad .Labels 1 0}}\nports: {{- pad .Ports 1 0}}\nsize: {{.Size}}\n\n{{end -}}\n\
{{range .Volumes}}type: Volume\nname: {{.Name}}\ndriver: {{.Driver}}\n\n{{end -}}\n\
{{range .BuildCache}}type: Build Cache\nbuild_cache_id: {{.ID}}\nparent_id: {{.Parent}}\n\
build_cache_type: {{.CacheType}}\ndescription: {{.Description}}\ncreated_at: {{.CreatedAt}}\n\
created_since: {{.CreatedSince}}\nlast_used_at: {{.LastUsedAt}}\nlast_used_since: {{.LastUsedSince}}\n\
usage_count: {{.UsageCount}}\nin_use: {{.InUse}}\nshared: {{.Shared}}\n\n{{end -}}";

pub(crate) fn arr<'a>(v: &'a J, key: &str) -> &'a [J] {
    v.get(key).and_then(|a| a.as_array()).map(Vec::as_slice).unwrap_or(&[])
}

pub(crate) fn int(v: &J, key: &str) -> i64 {
    v.get(key).and_then(|x| x.as_i64()).unwrap_or(0)
}

pub(crate) fn text<'a>(v: &'a J, key: &str) -> &'a str {
    v.get(key).and_then(|x| x.as_str()).unwrap_or("")
}

fn flag(v: &J, key: &str) -> bool {
    v.get(key).and_then(|b| b.as_bool()).unwrap_or(false)
}

/// `size (pct%)` when there is anything at all, as docker's disk usage formatter.
fn reclaimable(reclaim: i64, total: i64) -> String {
    if total > 0 {
        format!("{} ({}%)", human_size(reclaim as f64), reclaim * 100 / total)
    } else {
        human_size(reclaim as f64)
    }
}

fn summary_row(kind: &str, total: usize, active: usize, size: String, reclaim: String) -> Value {
    map([
        ("Type", str_val(kind)),
        ("TotalCount", str_val(total.to_string())),
        ("Active", str_val(active.to_string())),
        ("Size", str_val(size)),
        ("Reclaimable", str_val(reclaim)),
    ])
}

/// Column titles of the summary.
pub fn summary_header() -> Value {
    map([
        ("Type", str_val("TYPE")),
        ("TotalCount", str_val("TOTAL")),
        ("Active", str_val("ACTIVE")),
        ("Size", str_val("SIZE")),
        ("Reclaimable", str_val("RECLAIMABLE")),
    ])
}

/// The four summary rows: images, containers, local volumes, build cache.
pub fn summary_rows(df: &J) -> Vec<Value> {
    let images = arr(df, "Images");
    let layers = int(df, "LayersSize");
    let active: Vec<&J> = images.iter().filter(|i| int(i, "Containers") > 0).collect();
    let used: i64 = active
        .iter()
        .filter(|i| int(i, "Size") != -1 && int(i, "SharedSize") != -1)
        .map(|i| int(i, "Size") - int(i, "SharedSize"))
        .sum();
    let containers = arr(df, "Containers");
    let is_active = |c: &J| matches!(text(c, "State"), "running" | "paused" | "restarting");
    let size: i64 = containers.iter().map(|c| int(c, "SizeRw")).sum();
    let idle: i64 = containers.iter().filter(|c| !is_active(c)).map(|c| int(c, "SizeRw")).sum();
    let vols = arr(df, "Volumes");
    let usage = |v: &J, k: &str| v.get("UsageData").map(|u| int(u, k)).unwrap_or(0);
    let vsize: i64 = vols.iter().map(|v| usage(v, "Size")).filter(|s| *s > 0).sum();
    let vfree: i64 =
        vols.iter().filter(|v| usage(v, "RefCount") == 0).map(|v| usage(v, "Size")).filter(|s| *s > 0).sum();
    let cache = arr(df, "BuildCache");
    let csize = builder_size(df);
    let cfree: i64 = cache.iter().filter(|c| !flag(c, "InUse")).map(|c| int(c, "Size")).sum();
    vec![
        summary_row(
            "Images",
            images.len(),
            active.len(),
            human_size(layers as f64),
            reclaimable(layers - used, layers),
        ),
        summary_row(
            "Containers",
            containers.len(),
            containers.iter().filter(|c| is_active(c)).count(),
            human_size(size as f64),
            reclaimable(idle, size),
        ),
        summary_row(
            "Local Volumes",
            vols.len(),
            vols.iter().filter(|v| usage(v, "RefCount") > 0).count(),
            human_size(vsize as f64),
            reclaimable(vfree, vsize),
        ),
        summary_row(
            "Build Cache",
            cache.len(),
            cache.iter().filter(|c| flag(c, "InUse")).count(),
            human_size(csize as f64),
            human_size(cfree as f64),
        ),
    ]
}

/// The build cache's size: records not shared with others.
pub fn builder_size(df: &J) -> i64 {
    arr(df, "BuildCache").iter().filter(|c| !flag(c, "Shared")).map(|c| int(c, "Size")).sum()
}

/// `repo` and `tag` of an image's first tag, `<none>` for untagged ones.
fn repo_tag(i: &J) -> (String, String) {
    let first = arr(i, "RepoTags").first().and_then(|t| t.as_str()).filter(|t| *t != "<none>:<none>");
    match first {
        Some(t) => {
            let (repo, tag) = images::split_tag(t);
            if tag.is_empty() {
                (repo, "<none>".into())
            } else {
                (repo, tag)
            }
        }
        None => ("<none>".into(), "<none>".into()),
    }
}

/// Go's `time.Time.String()` of an RFC 3339 time, in UTC (`2026-11-22 20:40:30.5 +0000 UTC`).
fn go_time(rfc3339: &str) -> String {
    let Ok(t) = chrono::DateTime::parse_from_rfc3339(rfc3339) else { return String::new() };
    let t = t.with_timezone(&chrono::Utc);
    let nanos = t.timestamp_subsec_nanos();
    let frac = if nanos == 0 { String::new() } else { format!(".{nanos:09}").trim_end_matches('0').to_string() };
    format!("{}{frac} +0000 UTC", t.format("%Y-%m-%d %H:%M:%S"))
}

fn since_rfc3339(rfc3339: &str, now: i64) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339).map(|d| since(d.timestamp(), now)).unwrap_or_default()
}

/// One build-cache record as docker's build-cache formatter shows it.
pub fn cache_row(c: &J, trunc: bool, now: i64) -> Value {
    let mut id = if trunc { short_id(text(c, "ID")) } else { text(c, "ID").to_string() };
    if flag(c, "InUse") {
        id.push('*');
    }
    let parents: Vec<&str> = arr(c, "Parents").iter().filter_map(|p| p.as_str()).collect();
    let parent = if parents.is_empty() { text(c, "Parent").to_string() } else { parents.join(", ") };
    let parent = if trunc { short_id(&parent) } else { parent };
    let last_used = text(c, "LastUsedAt");
    map([
        ("ID", str_val(id)),
        ("Parent", str_val(parent)),
        ("CacheType", str_val(text(c, "Type"))),
        ("Description", str_val(text(c, "Description"))),
        ("Size", str_val(human_size_prec(int(c, "Size") as f64, 3))),
        ("CreatedAt", str_val(go_time(text(c, "CreatedAt")))),
        ("CreatedSince", str_val(since_rfc3339(text(c, "CreatedAt"), now))),
        ("LastUsedAt", str_val(go_time(last_used))),
        ("LastUsedSince", str_val(since_rfc3339(last_used, now))),
        ("UsageCount", str_val(int(c, "UsageCount").to_string())),
        ("InUse", str_val(flag(c, "InUse").to_string())),
        ("Shared", str_val(flag(c, "Shared").to_string())),
    ])
}

pub fn cache_header() -> Value {
    map([
        ("ID", str_val("CACHE ID")),
        ("Parent", str_val("PARENT")),
        ("CacheType", str_val("CACHE TYPE")),
        ("Description", str_val("DESCRIPTION")),
        ("Size", str_val("SIZE")),
        ("CreatedSince", str_val("CREATED")),
        ("LastUsedSince", str_val("LAST USED")),
        ("UsageCount", str_val("USAGE")),
        ("InUse", str_val("IN USE")),
        ("Shared", str_val("SHARED")),
    ])
}

/// The `-v` rows, each list in docker's order (build cache by last use, then id).
pub struct Verbose {
    pub images: Vec<Value>,
    pub containers: Vec<Value>,
    pub volumes: Vec<Value>,
    pub build_cache: Vec<Value>,
}

impl Verbose {
    pub fn new(df: &J, trunc: bool, now: i64) -> Verbose {
        let images = arr(df, "Images")
            .iter()
            .map(|i| {
                let (repo, tag) = repo_tag(i);
                images::row(i, &repo, &tag, "", trunc, now)
            })
            .collect();
        let containers = arr(df, "Containers")
            .iter()
            .map(|c| {
                // docker's disk usage never shows the virtual size.
                let mut c = c.clone();
                if let Some(o) = c.as_object_mut() {
                    o.remove("SizeRootFs");
                }
                ps::row(&c, trunc, now)
            })
            .collect();
        let volumes = arr(df, "Volumes").iter().map(volumes::row).collect();
        let mut cache: Vec<&J> = arr(df, "BuildCache").iter().collect();
        let last_used = |c: &J| chrono::DateTime::parse_from_rfc3339(text(c, "LastUsedAt")).ok();
        cache.sort_by(|a, b| last_used(a).cmp(&last_used(b)).then_with(|| text(a, "ID").cmp(text(b, "ID"))));
        let build_cache = cache.into_iter().map(|c| cache_row(c, trunc, now)).collect();
        Verbose { images, containers, volumes, build_cache }
    }

    /// The value templates see: `.Images`, `.Containers`, `.Volumes`, `.BuildCache`.
    pub fn value(&self) -> Value {
        let list = |rows: &[Value]| Value::List(rows.to_vec().into());
        map([
            ("Images", list(&self.images)),
            ("Containers", list(&self.containers)),
            ("Volumes", list(&self.volumes)),
            ("BuildCache", list(&self.build_cache)),
        ])
    }

    /// `{{json .}}`: the fields in docker's struct order, each row marshalled as docker's row
    /// contexts do (sorted keys, `<`, `>` and `&` escaped).
    pub fn json(&self) -> String {
        let rows = |rows: &[Value]| {
            let items: Vec<String> = rows
                .iter()
                .map(|r| {
                    serde_json::to_string(&value_to_json(r))
                        .unwrap_or_default()
                        .replace('<', "\\u003c")
                        .replace('>', "\\u003e")
                        .replace('&', "\\u0026")
                })
                .collect();
            format!("[{}]", items.join(","))
        };
        format!(
            r#"{{"Images":{},"Containers":{},"Volumes":{},"BuildCache":{}}}"#,
            rows(&self.images),
            rows(&self.containers),
            rows(&self.volumes),
            rows(&self.build_cache)
        )
    }
}
