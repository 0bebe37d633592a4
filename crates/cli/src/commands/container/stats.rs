//! `berth stats` / `berth container stats` (ContainerStats): docker's table of CPU %, memory,
//! network and block I/O and pids, once (`--no-stream`) or redrawn every second.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bollard::models::ContainerStatsResponse;
use bollard::query_parameters::{ListContainersOptionsBuilder, StatsOptionsBuilder};
use futures_util::StreamExt;
use gotmpl::Value;

use crate::client::Client;
use crate::error::{daemon_message, CliError, CmdResult};
use crate::format::template::{map, str_val, Format};
use crate::format::units::{go_g, human_size_prec};

pub const DEFAULT_TABLE: &str =
    "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}";

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Show all containers (default shows just running)
    #[arg(short = 'a', long = "all")]
    pub all: bool,
    /// Pretty-print images using a Go template
    #[arg(long = "format")]
    pub format: Option<String>,
    /// Disable streaming stats and only pull the first result
    #[arg(long = "no-stream")]
    pub no_stream: bool,
    /// Do not truncate output
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,
    #[arg(value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

const BINARY: [&str; 9] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"];

/// go-units `BytesSize`: binary units, 4 significant digits.
pub fn bytes_size(size: f64) -> String {
    let mut size = size;
    let mut i = 0;
    while size >= 1024.0 && i < BINARY.len() - 1 {
        size /= 1024.0;
        i += 1;
    }
    format!("{}{}", go_g(size, 4), BINARY[i])
}

/// One row, computed as docker's CLI does from a stats document.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Row {
    pub id: String,
    pub name: String,
    pub cpu_percent: f64,
    pub mem_usage: f64,
    pub mem_limit: f64,
    pub mem_percent: f64,
    pub net_rx: f64,
    pub net_tx: f64,
    pub blk_read: f64,
    pub blk_write: f64,
    pub pids: u64,
}

pub fn row(s: &ContainerStatsResponse) -> Row {
    let cpu = s.cpu_stats.clone().unwrap_or_default();
    let pre = s.precpu_stats.clone().unwrap_or_default();
    let total = |c: &bollard::models::ContainerCpuStats| c.cpu_usage.as_ref().and_then(|u| u.total_usage).unwrap_or(0);
    let cpu_delta = total(&cpu) as f64 - total(&pre) as f64;
    let sys_delta = cpu.system_cpu_usage.unwrap_or(0) as f64 - pre.system_cpu_usage.unwrap_or(0) as f64;
    let online = cpu.online_cpus.map(f64::from).filter(|n| *n > 0.0).unwrap_or_else(|| {
        cpu.cpu_usage.as_ref().and_then(|u| u.percpu_usage.as_ref()).map_or(0.0, |p| p.len() as f64)
    });
    let cpu_percent = if sys_delta > 0.0 && cpu_delta > 0.0 { cpu_delta / sys_delta * online * 100.0 } else { 0.0 };
    let mem = s.memory_stats.clone().unwrap_or_default();
    let stats = mem.stats.clone().unwrap_or_default();
    let usage = mem.usage.unwrap_or(0);
    // docker subtracts the page cache: v1 total_inactive_file, v2 inactive_file.
    let cache = stats.get("total_inactive_file").or_else(|| stats.get("inactive_file")).copied().unwrap_or(0);
    let mem_usage = if cache < usage { usage - cache } else { usage } as f64;
    let mem_limit = mem.limit.unwrap_or(0) as f64;
    let mem_percent = if mem_limit > 0.0 { mem_usage / mem_limit * 100.0 } else { 0.0 };
    let (mut net_rx, mut net_tx) = (0.0, 0.0);
    for n in s.networks.iter().flat_map(|m| m.values()) {
        net_rx += n.rx_bytes.unwrap_or(0) as f64;
        net_tx += n.tx_bytes.unwrap_or(0) as f64;
    }
    let (mut blk_read, mut blk_write) = (0.0, 0.0);
    let entries = s.blkio_stats.as_ref().and_then(|b| b.io_service_bytes_recursive.clone()).unwrap_or_default();
    for e in entries {
        match e.op.as_deref().map(str::to_ascii_lowercase).as_deref() {
            Some("read") => blk_read += e.value.unwrap_or(0) as f64,
            Some("write") => blk_write += e.value.unwrap_or(0) as f64,
            _ => {}
        }
    }
    Row {
        id: s.id.clone().unwrap_or_default(),
        name: s.name.clone().unwrap_or_default().trim_start_matches('/').to_string(),
        cpu_percent,
        mem_usage,
        mem_limit,
        mem_percent,
        net_rx,
        net_tx,
        blk_read,
        blk_write,
        pids: s.pids_stats.as_ref().and_then(|p| p.current).unwrap_or(0),
    }
}

fn value(r: &Row, no_trunc: bool) -> Value {
    let id = if no_trunc { r.id.clone() } else { r.id.chars().take(12).collect() };
    map([
        ("ID", str_val(&id)),
        ("Container", str_val(&id)),
        ("Name", str_val(&r.name)),
        ("CPUPerc", str_val(format!("{:.2}%", r.cpu_percent))),
        ("MemUsage", str_val(format!("{} / {}", bytes_size(r.mem_usage), bytes_size(r.mem_limit)))),
        ("MemPerc", str_val(format!("{:.2}%", r.mem_percent))),
        ("NetIO", str_val(format!("{} / {}", human_size_prec(r.net_rx, 3), human_size_prec(r.net_tx, 3)))),
        ("BlockIO", str_val(format!("{} / {}", human_size_prec(r.blk_read, 3), human_size_prec(r.blk_write, 3)))),
        ("PIDs", str_val(r.pids.to_string())),
    ])
}

pub fn header() -> Value {
    map([
        ("ID", str_val("CONTAINER ID")),
        ("Container", str_val("CONTAINER")),
        ("Name", str_val("NAME")),
        ("CPUPerc", str_val("CPU %")),
        ("MemUsage", str_val("MEM USAGE / LIMIT")),
        ("MemPerc", str_val("MEM %")),
        ("NetIO", str_val("NET I/O")),
        ("BlockIO", str_val("BLOCK I/O")),
        ("PIDs", str_val("PIDS")),
    ])
}

async fn targets(c: &Client, a: &Args) -> Result<Vec<String>, CliError> {
    if !a.containers.is_empty() {
        return Ok(a.containers.clone());
    }
    let opts = ListContainersOptionsBuilder::new().all(a.all).build();
    let list = c.docker.list_containers(Some(opts)).await.map_err(|e| CliError::new(1, daemon_message(&e)))?;
    Ok(list.into_iter().filter_map(|s| s.id).collect())
}

pub async fn run(c: &Client, a: Args) -> CmdResult {
    let format = a.format.clone().filter(|f| !f.is_empty()).unwrap_or_else(|| DEFAULT_TABLE.to_string());
    let fmt = Format::parse(&format, DEFAULT_TABLE)?;
    let names = targets(c, &a).await?;
    if a.no_stream {
        let mut rows = Vec::new();
        let mut failed = None;
        for n in &names {
            let opts = StatsOptionsBuilder::new().stream(false).build();
            match c.docker.stats(n, Some(opts)).next().await {
                Some(Ok(s)) => rows.push(value(&row(&s), a.no_trunc)),
                Some(Err(e)) => failed = Some(CliError::new(1, daemon_message(&e))),
                None => {}
            }
        }
        fmt.print(&header(), &rows)?;
        return failed.map_or(Ok(0), Err);
    }
    // Streaming: one subscriber per container; the screen is redrawn every second.
    let latest: Arc<Mutex<HashMap<String, Row>>> = Arc::default();
    let mut tasks = Vec::new();
    for n in names.clone() {
        let (c, latest) = (c.clone(), latest.clone());
        tasks.push(tokio::spawn(async move {
            let opts = StatsOptionsBuilder::new().stream(true).build();
            let mut s = c.docker.stats(&n, Some(opts));
            while let Some(Ok(doc)) = s.next().await {
                latest.lock().unwrap_or_else(|p| p.into_inner()).insert(n.clone(), row(&doc));
            }
        }));
    }
    loop {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        let rows: Vec<Value> = {
            let l = latest.lock().unwrap_or_else(|p| p.into_inner());
            names.iter().filter_map(|n| l.get(n)).map(|r| value(r, a.no_trunc)).collect()
        };
        print!("\x1b[2J\x1b[H");
        fmt.print(&header(), &rows)?;
        if tasks.iter().all(|t| t.is_finished()) {
            return Ok(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_like_docker() {
        assert_eq!(bytes_size(462848.0), "452KiB");
        assert_eq!(bytes_size(25276502016.0), "23.54GiB");
        assert_eq!(bytes_size(64.0 * 1024.0 * 1024.0), "64MiB");
        assert_eq!(bytes_size(0.0), "0B");
    }

    #[test]
    fn row_from_the_reference_document() {
        let golden: ContainerStatsResponse =
            serde_json::from_str(include_str!("../../../../api-types/tests/golden/dockerd/container-stats.json"))
                .unwrap();
        let r = row(&golden);
        let v = value(&r, false);
        let fmt = Format::parse(DEFAULT_TABLE, DEFAULT_TABLE).unwrap();
        let out = fmt.render(&header(), &[v]).unwrap();
        let mut lines = out.lines();
        assert_eq!(
            lines.next().unwrap(),
            "CONTAINER ID   NAME        CPU %     MEM USAGE / LIMIT   MEM %     NET I/O   BLOCK I/O   PIDS"
        );
        let row = lines.next().unwrap();
        assert!(row.starts_with("c6b4791bc7cb   exec-ref1   "), "{row}");
        assert!(row.contains("0B / 0B"), "{row}");
        assert!(row.ends_with("   1"), "{row}");
    }
}
