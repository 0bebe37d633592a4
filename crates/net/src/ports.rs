//! Published ports: the `HostConfig.PortBindings` / `-P` request turned into a plan of
//! (protocol, host address, host port or random, container port).

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PortError {
    #[error("invalid port specification: {0:?}")]
    Invalid(String),
    #[error("invalid IP address: {0}")]
    InvalidIp(String),
}

/// One port to publish; `host_port` 0 = a random free port.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PortRequest {
    pub proto: String,
    pub port: u16,
    pub host_ip: Option<Ipv4Addr>,
    pub host_port: u16,
}

/// `80/tcp` → (80, "tcp"); a missing protocol is tcp.
pub fn parse_key(key: &str) -> Result<(u16, String), PortError> {
    let (p, proto) = key.split_once('/').unwrap_or((key, "tcp"));
    let port = p.parse::<u16>().map_err(|_| PortError::Invalid(key.to_string()))?;
    if !matches!(proto, "tcp" | "udp" | "sctp") || port == 0 {
        return Err(PortError::Invalid(key.to_string()));
    }
    Ok((port, proto.to_string()))
}

/// The ports to publish: every binding of `bindings` (`"80/tcp" → [(HostIp, HostPort)]`), and with
/// `publish_all` every `exposed` port that has no binding, on a random port.
pub fn plan(
    bindings: &BTreeMap<String, Vec<(String, String)>>,
    exposed: &[String],
    publish_all: bool,
) -> Result<Vec<PortRequest>, PortError> {
    let mut out = Vec::new();
    for (key, list) in bindings {
        let (port, proto) = parse_key(key)?;
        for (ip, hp) in list {
            let host_ip = match ip.as_str() {
                "" | "0.0.0.0" => None,
                "::" => continue,
                s => Some(s.parse::<Ipv4Addr>().map_err(|_| PortError::InvalidIp(s.to_string()))?),
            };
            let host_port = match hp.as_str() {
                "" => 0,
                s => s.parse::<u16>().map_err(|_| PortError::Invalid(format!("{s}:{key}")))?,
            };
            out.push(PortRequest { proto: proto.clone(), port, host_ip, host_port });
        }
    }
    if publish_all {
        for key in exposed {
            if bindings.contains_key(key) {
                continue;
            }
            let (port, proto) = parse_key(key)?;
            out.push(PortRequest { proto, port, host_ip: None, host_port: 0 });
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_bindings_and_publish_all() {
        let b = BTreeMap::from([
            ("80/tcp".to_string(), vec![("127.0.0.1".to_string(), "8080".to_string())]),
            ("53/udp".to_string(), vec![(String::new(), String::new())]),
        ]);
        let p = plan(&b, &["80/tcp".into(), "9000/tcp".into()], true).unwrap();
        assert_eq!(
            p,
            vec![
                PortRequest { proto: "tcp".into(), port: 80, host_ip: Some(Ipv4Addr::LOCALHOST), host_port: 8080 },
                PortRequest { proto: "tcp".into(), port: 9000, host_ip: None, host_port: 0 },
                PortRequest { proto: "udp".into(), port: 53, host_ip: None, host_port: 0 },
            ]
        );
        assert!(parse_key("x/tcp").is_err());
        assert_eq!(parse_key("81").unwrap(), (81, "tcp".into()));
    }
}
