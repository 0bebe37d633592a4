//! `berth container ls` / `berth ps` (ContainerList).

use gotmpl::Value;
use serde_json::Value as J;

use crate::client::{filters_json, query_escape, Client};
use crate::error::CmdResult;
use crate::format::table::{ellipsis, short_id};
use crate::format::template::{map, str_val, Format};
use crate::format::units::{human_size_prec, now_unix, since};

pub const DEFAULT_TABLE: &str =
    "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}";

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Show all containers (default shows just running)
    #[arg(short = 'a', long = "all")]
    pub all: bool,
    /// Filter output based on conditions provided
    #[arg(short = 'f', long = "filter")]
    pub filter: Vec<String>,
    /// Format output using a custom template
    #[arg(long = "format")]
    pub format: Option<String>,
    /// Show n last created containers (includes all states)
    #[arg(short = 'n', long = "last", default_value_t = -1, allow_hyphen_values = true)]
    pub last: i32,
    /// Show the latest created container (includes all states)
    #[arg(short = 'l', long = "latest")]
    pub latest: bool,
    /// Don't truncate output
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,
    /// Only display container IDs
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
    /// Display total file sizes
    #[arg(short = 's', long = "size")]
    pub size: bool,
}

fn s(v: &J, k: &str) -> String {
    v.get(k).and_then(J::as_str).unwrap_or_default().to_string()
}

fn i(v: &J, k: &str) -> i64 {
    v.get(k).and_then(J::as_i64).unwrap_or(0)
}

/// Go's `net.JoinHostPort`.
fn join_host_port(ip: &str, port: i64) -> String {
    if ip.contains(':') {
        format!("[{ip}]:{port}")
    } else {
        format!("{ip}:{port}")
    }
}

/// docker's `DisplayablePorts`: sorted, consecutive ports grouped into ranges.
pub fn displayable_ports(ports: &[J]) -> String {
    let mut ports: Vec<(i64, String, i64, String)> =
        ports.iter().map(|p| (i(p, "PrivatePort"), s(p, "IP"), i(p, "PublicPort"), s(p, "Type"))).collect();
    ports.sort();
    let mut groups: Vec<(String, i64, i64)> = Vec::new();
    let mut result = Vec::new();
    let mut host_mappings = Vec::new();
    for (private, ip, public, typ) in ports {
        let mut key = typ.clone();
        if !ip.is_empty() {
            if public != private {
                host_mappings.push(format!("{}->{private}/{typ}", join_host_port(&ip, public)));
                continue;
            }
            key = format!("{ip}/{typ}");
        }
        match groups.iter_mut().find(|g| g.0 == key) {
            None => groups.push((key, private, private)),
            Some(g) if private == g.2 + 1 => g.2 = private,
            Some(g) => {
                result.push(form_group(&g.0, g.1, g.2));
                g.1 = private;
                g.2 = private;
            }
        }
    }
    for g in &groups {
        result.push(form_group(&g.0, g.1, g.2));
    }
    result.extend(host_mappings);
    result.join(", ")
}

fn form_group(key: &str, start: i64, last: i64) -> String {
    let (ip, typ) = match key.rsplit_once('/') {
        Some((ip, t)) => (ip, t),
        None => ("", key),
    };
    let mut group = start.to_string();
    if start != last {
        group = format!("{group}-{last}");
    }
    if !ip.is_empty() {
        group = format!("{ip}:{group}->{group}");
    }
    format!("{group}/{typ}")
}

/// The image column: short id when the image is an id, digests dropped unless --no-trunc.
fn image_col(image: &str, image_id: &str, trunc: bool) -> String {
    if image.is_empty() {
        return "<no image>".into();
    }
    if !trunc {
        return image.to_string();
    }
    if short_id(image_id) == short_id(image) {
        return short_id(image);
    }
    match image.split_once('@') {
        Some((name, _)) => name.to_string(),
        None => image.to_string(),
    }
}

/// Go's `time.Unix(t, 0).String()` in UTC.
pub fn go_time_string(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| d.format("%Y-%m-%d %H:%M:%S +0000 UTC").to_string())
        .unwrap_or_default()
}

/// Sorted `k=v` pairs joined with commas (docker's `.Labels`).
pub fn joined_labels(labels: Option<&J>) -> String {
    let mut kv: Vec<String> = labels
        .and_then(J::as_object)
        .map(|m| m.iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default())).collect())
        .unwrap_or_default();
    kv.sort();
    kv.join(",")
}

/// One `ps` row with docker's field names.
pub fn row(c: &J, trunc: bool, now: i64) -> Value {
    let id = s(c, "Id");
    let mut names: Vec<String> = c
        .get("Names")
        .and_then(J::as_array)
        .map(|a| a.iter().filter_map(J::as_str).map(|n| n.trim_start_matches('/').to_string()).collect())
        .unwrap_or_default();
    if trunc {
        if let Some(n) = names.iter().find(|n| !n.contains('/')) {
            names = vec![n.clone()];
        }
    }
    let mut command = s(c, "Command");
    if trunc {
        command = ellipsis(&command, 20);
    }
    let created = i(c, "Created");
    let srw = human_size_prec(i(c, "SizeRw") as f64, 3);
    let size = if i(c, "SizeRootFs") > 0 {
        format!("{srw} (virtual {})", human_size_prec(i(c, "SizeRootFs") as f64, 3))
    } else {
        srw
    };
    let mounts: Vec<J> = c.get("Mounts").and_then(J::as_array).cloned().unwrap_or_default();
    let mount_names: Vec<String> = mounts
        .iter()
        .map(|m| {
            let n = if s(m, "Name").is_empty() { s(m, "Source") } else { s(m, "Name") };
            if trunc {
                ellipsis(&n, 15)
            } else {
                n
            }
        })
        .collect();
    let local = mounts.iter().filter(|m| s(m, "Driver") == "local").count();
    let mut networks: Vec<String> = c
        .pointer("/NetworkSettings/Networks")
        .and_then(J::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    networks.sort();
    let ports: Vec<J> = c.get("Ports").and_then(J::as_array).cloned().unwrap_or_default();
    map([
        ("ID", str_val(if trunc { short_id(&id) } else { id })),
        ("Image", str_val(image_col(&s(c, "Image"), &s(c, "ImageID"), trunc))),
        ("Command", str_val(serde_json::to_string(&command).unwrap_or_default())),
        ("CreatedAt", str_val(go_time_string(created))),
        ("RunningFor", str_val(since(created, now))),
        ("Ports", str_val(displayable_ports(&ports))),
        ("State", str_val(s(c, "State"))),
        ("Status", str_val(s(c, "Status"))),
        ("Size", str_val(size)),
        ("Names", str_val(names.join(","))),
        ("Labels", str_val(joined_labels(c.get("Labels")))),
        ("Mounts", str_val(mount_names.join(","))),
        ("Networks", str_val(networks.join(","))),
        ("LocalVolumes", str_val(local.to_string())),
        // docker 28 emits `"Platform": null` in `{{json .}}`.
        ("Platform", Value::Nil),
    ])
}

/// Column titles for `table` formats.
pub fn header() -> Value {
    map([
        ("ID", str_val("CONTAINER ID")),
        ("Image", str_val("IMAGE")),
        ("Command", str_val("COMMAND")),
        ("CreatedAt", str_val("CREATED AT")),
        ("RunningFor", str_val("CREATED")),
        ("Ports", str_val("PORTS")),
        ("State", str_val("STATE")),
        ("Status", str_val("STATUS")),
        ("Size", str_val("SIZE")),
        ("Names", str_val("NAMES")),
        ("Labels", str_val("LABELS")),
        ("Mounts", str_val("MOUNTS")),
        ("Networks", str_val("NETWORKS")),
        ("LocalVolumes", str_val("LOCAL VOLUMES")),
    ])
}

pub async fn run(c: &Client, a: Args) -> CmdResult {
    let format = match (&a.format, a.quiet) {
        (_, true) => "{{.ID}}".to_string(),
        (Some(f), false) if !f.is_empty() => f.clone(),
        _ if a.size => format!("{DEFAULT_TABLE}\t{{{{.Size}}}}"),
        _ => DEFAULT_TABLE.to_string(),
    };
    let size = a.size || (a.format.is_some() && format.contains(".Size"));
    let fmt = Format::parse_rows(&format, DEFAULT_TABLE)?;
    let limit = if a.latest { 1 } else { a.last };
    let mut path = format!("/containers/json?all={}", if a.all { 1 } else { 0 });
    if limit > 0 {
        path.push_str(&format!("&limit={limit}"));
    }
    if size {
        path.push_str("&size=1");
    }
    if let Some(f) = filters_json(&a.filter)? {
        path.push_str(&format!("&filters={}", query_escape(&f)));
    }
    let list = c.get_json(&path).await?;
    let now = now_unix();
    let rows: Vec<Value> =
        list.as_array().map(|l| l.iter().map(|ct| row(ct, !a.no_trunc, now)).collect()).unwrap_or_default();
    fmt.print(&header(), &rows)?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ports_grouping() {
        let ports = vec![
            json!({"PrivatePort": 80, "Type": "tcp"}),
            json!({"PrivatePort": 81, "Type": "tcp"}),
            json!({"PrivatePort": 53, "Type": "udp"}),
            json!({"IP": "0.0.0.0", "PrivatePort": 443, "PublicPort": 8443, "Type": "tcp"}),
            json!({"IP": "::", "PrivatePort": 443, "PublicPort": 8443, "Type": "tcp"}),
        ];
        assert_eq!(displayable_ports(&ports), "53/udp, 80-81/tcp, 0.0.0.0:8443->443/tcp, [::]:8443->443/tcp");
    }

    #[test]
    fn table_row() {
        let c = json!({
            "Id": "0123456789abcdef0123", "Names": ["/web", "/other/alias"], "Image": "busybox",
            "ImageID": "sha256:aaaa", "Command": "sh -c 'sleep 1000; echo done'", "Created": 100,
            "Status": "Up 2 minutes", "State": "running", "Ports": [], "Labels": {"b": "2", "a": "1"}
        });
        let fmt = Format::parse(DEFAULT_TABLE, DEFAULT_TABLE).unwrap();
        let out = fmt.render(&header(), &[row(&c, true, 220)]).unwrap();
        assert_eq!(
            out,
            "CONTAINER ID   IMAGE     COMMAND                  CREATED         STATUS         PORTS     NAMES\n\
             0123456789ab   busybox   \"sh -c 'sleep 1000; …\"   2 minutes ago   Up 2 minutes             web\n"
        );
        let f = Format::parse(r#"{{.Labels}} {{.Label "b"}} {{.CreatedAt}}"#, "").unwrap();
        assert_eq!(f.execute(&row(&c, true, 220)).unwrap(), "a=1,b=2 2 1970-01-01 00:01:40 +0000 UTC");
    }

    #[test]
    fn image_column() {
        assert_eq!(image_col("sha256:0659f457d999aaa", "sha256:0659f457d999aaa", true), "0659f457d999");
        assert_eq!(image_col("busybox@sha256:abc", "sha256:x", true), "busybox");
        assert_eq!(image_col("busybox@sha256:abc", "sha256:x", false), "busybox@sha256:abc");
    }
}
