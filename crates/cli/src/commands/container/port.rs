//! `berth container port` (from ContainerInspect's `NetworkSettings.Ports`).

use crate::client::{query_escape, Client};
use crate::error::{CliError, CmdResult};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(value_name = "CONTAINER")]
    pub container: String,
    /// PRIVATE_PORT[/PROTO]
    #[arg(value_name = "PRIVATE_PORT[/PROTO]")]
    pub port: Option<String>,
}

pub async fn run(c: &Client, a: Args) -> CmdResult {
    let doc = c.get_json(&format!("/containers/{}/json", query_escape(&a.container))).await?;
    let ports = &doc["NetworkSettings"]["Ports"];
    match &a.port {
        None => print!("{}", render_all(ports)),
        Some(p) => {
            let key = if p.contains('/') { p.clone() } else { format!("{p}/tcp") };
            let lines = bindings(&ports[key.as_str()]);
            if lines.is_empty() {
                return Err(CliError::new(1, format!("Error: No public port '{key}' published for {}", a.container)));
            }
            for l in lines {
                println!("{l}");
            }
        }
    }
    Ok(0)
}

/// `HostIp:HostPort` of each binding, IPv6 addresses in brackets, as docker prints them.
fn bindings(list: &serde_json::Value) -> Vec<String> {
    list.as_array()
        .map(|bs| {
            bs.iter()
                .map(|b| {
                    let ip = b["HostIp"].as_str().unwrap_or("");
                    let port = b["HostPort"].as_str().unwrap_or("");
                    let ip = if ip.is_empty() { "0.0.0.0" } else { ip };
                    if ip.contains(':') {
                        format!("[{ip}]:{port}")
                    } else {
                        format!("{ip}:{port}")
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Every published port, sorted by port number then protocol: `80/tcp -> 127.0.0.1:8080`.
fn render_all(ports: &serde_json::Value) -> String {
    let mut keys: Vec<&String> = ports.as_object().map(|m| m.keys().collect()).unwrap_or_default();
    keys.sort_by_key(|k| {
        let (n, proto) = k.split_once('/').unwrap_or((k, ""));
        (n.parse::<u32>().unwrap_or(0), proto.to_string())
    });
    let mut out = String::new();
    for k in keys {
        for b in bindings(&ports[k.as_str()]) {
            out.push_str(&format!("{k} -> {b}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_docker_port() {
        let ports = serde_json::json!({
            "8080/tcp": [{"HostIp": "127.0.0.1", "HostPort": "18080"}],
            "53/udp": [{"HostIp": "0.0.0.0", "HostPort": "5353"}, {"HostIp": "::", "HostPort": "5353"}],
            "9000/tcp": null
        });
        assert_eq!(render_all(&ports), "53/udp -> 0.0.0.0:5353\n53/udp -> [::]:5353\n8080/tcp -> 127.0.0.1:18080\n");
        assert_eq!(bindings(&ports["8080/tcp"]), ["127.0.0.1:18080"]);
        assert!(bindings(&ports["9000/tcp"]).is_empty());
    }
}
