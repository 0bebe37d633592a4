//! `berth info` (SystemInfo): the main fields in docker's layout.

use serde_json::Value as J;

use crate::client::Client;
use crate::error::CmdResult;
use crate::format::template::{json_to_value, Format};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Format output using a custom template
    #[arg(short = 'f', long = "format")]
    pub format: Option<String>,
}

fn s(v: &J, k: &str) -> String {
    match v.pointer(k) {
        Some(J::String(s)) => s.clone(),
        Some(J::Null) | None => String::new(),
        Some(o) => o.to_string(),
    }
}

fn list(v: &J, k: &str) -> Vec<String> {
    v.pointer(k)
        .and_then(J::as_array)
        .map(|a| a.iter().map(|x| x.as_str().map(str::to_string).unwrap_or_else(|| x.to_string())).collect())
        .unwrap_or_default()
}

/// Go's `units.BytesSize` (binary units, precision 4).
fn bytes_size(n: f64) -> String {
    const U: [&str; 9] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"];
    let (mut n, mut i) = (n, 0);
    while n >= 1024.0 && i < U.len() - 1 {
        n /= 1024.0;
        i += 1;
    }
    format!("{}{}", crate::format::units::go_g(n, 4), U[i])
}

/// Render the server section like `docker info`.
pub fn render(i: &J) -> String {
    let mut o = String::new();
    let mut line = |t: String| {
        o.push_str(&t);
        o.push('\n');
    };
    line("Client:".into());
    line(format!(" Version:    {}", env!("CARGO_PKG_VERSION")));
    line(" Context:    default".into());
    line(" Debug Mode: false".into());
    line(String::new());
    line("Server:".into());
    line(format!(" Containers: {}", s(i, "/Containers")));
    line(format!("  Running: {}", s(i, "/ContainersRunning")));
    line(format!("  Paused: {}", s(i, "/ContainersPaused")));
    line(format!("  Stopped: {}", s(i, "/ContainersStopped")));
    line(format!(" Images: {}", s(i, "/Images")));
    line(format!(" Server Version: {}", s(i, "/ServerVersion")));
    line(format!(" Storage Driver: {}", s(i, "/Driver")));
    if let Some(st) = i.get("DriverStatus").and_then(J::as_array) {
        for kv in st {
            if let Some([k, v]) = kv.as_array().map(|a| a.as_slice()) {
                line(format!("  {}: {}", k.as_str().unwrap_or(""), v.as_str().unwrap_or("")));
            }
        }
    }
    line(format!(" Logging Driver: {}", s(i, "/LoggingDriver")));
    line(format!(" Cgroup Driver: {}", s(i, "/CgroupDriver")));
    line(format!(" Cgroup Version: {}", s(i, "/CgroupVersion")));
    line(" Plugins:".into());
    line(format!("  Volume: {}", list(i, "/Plugins/Volume").join(" ")));
    line(format!("  Network: {}", list(i, "/Plugins/Network").join(" ")));
    line(format!("  Log: {}", list(i, "/Plugins/Log").join(" ")));
    line(format!(" Swarm: {}", s(i, "/Swarm/LocalNodeState")));
    let mut runtimes: Vec<String> =
        i.get("Runtimes").and_then(J::as_object).map(|m| m.keys().cloned().collect()).unwrap_or_default();
    runtimes.sort();
    line(format!(" Runtimes: {}", runtimes.join(" ")));
    line(format!(" Default Runtime: {}", s(i, "/DefaultRuntime")));
    line(format!(" Kernel Version: {}", s(i, "/KernelVersion")));
    line(format!(" Operating System: {}", s(i, "/OperatingSystem")));
    line(format!(" OSType: {}", s(i, "/OSType")));
    line(format!(" Architecture: {}", s(i, "/Architecture")));
    line(format!(" CPUs: {}", s(i, "/NCPU")));
    let mem = i.get("MemTotal").and_then(J::as_f64).unwrap_or(0.0);
    line(format!(" Total Memory: {}", bytes_size(mem)));
    line(format!(" Name: {}", s(i, "/Name")));
    line(format!(" ID: {}", s(i, "/ID")));
    line(format!(" Docker Root Dir: {}", s(i, "/DockerRootDir")));
    line(format!(" Debug Mode: {}", s(i, "/Debug")));
    line(format!(" Experimental: {}", s(i, "/ExperimentalBuild")));
    line(format!(" Live Restore Enabled: {}", s(i, "/LiveRestoreEnabled")));
    o
}

pub async fn run(c: &Client, a: Args) -> CmdResult {
    let info = c.get_json("/info").await?;
    if let Some(f) = a.format.as_deref().filter(|f| !f.is_empty()) {
        let fmt = Format::parse(f, "")?;
        println!("{}", fmt.execute(&json_to_value(&info))?);
        return Ok(0);
    }
    print!("{}", render(&info));
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_sizes() {
        assert_eq!(bytes_size(25_275_000_000.0), "23.54GiB");
    }
}
