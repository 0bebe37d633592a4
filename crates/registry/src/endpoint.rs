//! How to reach a registry host: plain HTTP, TLS verified against the system roots plus the
//! host's `certs.d` CAs, or TLS without verification, decided as dockerd does.
//!
//! - `<certs_dir>/<host>/*.crt` (dockerd's `/etc/docker/certs.d/<host>/ca.crt`; berthd's is
//!   `certs.d` next to its `daemon.json`) are extra roots for `host`; with them TLS is verified.
//! - Insecure registries (localhost, 127.0.0.0/8, `::1` and daemon.json's
//!   `insecure-registries`, hosts or CIDRs) are tried over HTTPS without verification first and
//!   over plain HTTP when the host does not speak TLS.
//! - Every other registry is HTTPS, verified.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::is_insecure;

/// Daemon-wide registry settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistryConfig {
    /// `insecure-registries`: `host[:port]` names or CIDRs (`10.0.0.0/8`).
    pub insecure: Vec<String>,
    /// The `certs.d` directory, when there is one.
    pub certs_dir: Option<PathBuf>,
    /// `registry-mirrors`: validated URLs ending in `/` (see [`crate::validate_mirror`]).
    pub mirrors: Vec<String>,
}

/// The scheme and TLS settings for one host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub host: String,
    /// `https` or `http`.
    pub scheme: &'static str,
    /// Skip certificate verification (insecure registries over TLS).
    pub accept_invalid_certs: bool,
    /// Extra trusted roots (PEM files' contents).
    pub roots: Vec<Vec<u8>>,
}

/// Whether `ip` lies in `cidr` (`a.b.c.d/n` or an IPv6 prefix).
fn in_cidr(ip: IpAddr, cidr: &str) -> bool {
    let Some((net, bits)) = cidr.split_once('/') else { return false };
    let (Ok(net), Ok(bits)) = (net.parse::<IpAddr>(), bits.parse::<u32>()) else { return false };
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) if bits <= 32 => {
            let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
            u32::from(a) & mask == u32::from(b) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(b)) if bits <= 128 => {
            let mask = if bits == 0 { 0 } else { u128::MAX << (128 - bits) };
            u128::from(a) & mask == u128::from(b) & mask
        }
        _ => false,
    }
}

fn host_ip(host: &str) -> Option<IpAddr> {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(rest),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    name.parse().ok()
}

impl RegistryConfig {
    /// Insecure by default (loopback) or by `insecure-registries`.
    pub fn is_insecure(&self, host: &str) -> bool {
        if is_insecure(host) {
            return true;
        }
        let ip = host_ip(host);
        self.insecure.iter().any(|entry| {
            let entry = entry.trim_start_matches("http://").trim_start_matches("https://").trim_end_matches('/');
            entry == host || ip.is_some_and(|ip| in_cidr(ip, entry))
        })
    }

    /// The PEM contents of `<certs_dir>/<host>/*.crt`, sorted by file name.
    pub fn roots(&self, host: &str) -> Vec<Vec<u8>> {
        let Some(dir) = &self.certs_dir else { return vec![] };
        read_crts(&dir.join(host))
    }

    /// Decides how to reach `host`; probes HTTPS for insecure registries without CAs.
    pub async fn endpoint(&self, host: &str) -> Endpoint {
        let roots = self.roots(host);
        if !roots.is_empty() {
            return Endpoint { host: host.to_string(), scheme: "https", accept_invalid_certs: false, roots };
        }
        if !self.is_insecure(host) {
            return Endpoint { host: host.to_string(), scheme: "https", accept_invalid_certs: false, roots };
        }
        let tls = speaks_tls(host).await;
        Endpoint {
            host: host.to_string(),
            scheme: if tls { "https" } else { "http" },
            accept_invalid_certs: tls,
            roots,
        }
    }
}

fn read_crts(dir: &Path) -> Vec<Vec<u8>> {
    let Ok(entries) = std::fs::read_dir(dir) else { return vec![] };
    let mut files: Vec<PathBuf> =
        entries.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "crt")).collect();
    files.sort();
    files.into_iter().filter_map(|p| std::fs::read(p).ok()).collect()
}

/// True when `https://host/v2/` answers at all (any status) with verification off.
async fn speaks_tls(host: &str) -> bool {
    let Ok(client) =
        reqwest::Client::builder().danger_accept_invalid_certs(true).timeout(Duration::from_secs(5)).build()
    else {
        return false;
    };
    client.get(format!("https://{host}/v2/")).send().await.is_ok()
}

impl Endpoint {
    /// `scheme://host`.
    pub fn base(&self) -> String {
        format!("{}://{}", self.scheme, self.host)
    }

    /// An HTTP client with this endpoint's TLS settings.
    pub fn http_client(&self) -> reqwest::Client {
        let mut b = reqwest::Client::builder().danger_accept_invalid_certs(self.accept_invalid_certs);
        for pem in &self.roots {
            if let Ok(certs) = reqwest::Certificate::from_pem_bundle(pem) {
                for c in certs {
                    b = b.add_root_certificate(c);
                }
            }
        }
        b.build().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insecure_by_name_and_cidr() {
        let c = RegistryConfig {
            insecure: vec!["myreg.local:5000".into(), "10.1.0.0/16".into(), "http://other:80/".into()],
            ..Default::default()
        };
        assert!(c.is_insecure("127.0.0.1:5000"));
        assert!(c.is_insecure("myreg.local:5000"));
        assert!(!c.is_insecure("myreg.local:5001"));
        assert!(c.is_insecure("10.1.2.3:5000"));
        assert!(c.is_insecure("10.1.2.3"));
        assert!(!c.is_insecure("10.2.0.1:5000"));
        assert!(c.is_insecure("other:80"));
        assert!(!c.is_insecure("registry-1.docker.io"));
        assert!(in_cidr("fd00::1".parse().unwrap(), "fd00::/8"));
        assert!(!in_cidr("fe00::1".parse().unwrap(), "fd00::/8"));
    }

    #[tokio::test]
    async fn certs_dir_roots_mean_verified_tls() {
        let dir = tempfile::tempdir().unwrap();
        let host_dir = dir.path().join("reg.example:5000");
        std::fs::create_dir_all(&host_dir).unwrap();
        std::fs::write(host_dir.join("ca.crt"), b"PEM").unwrap();
        std::fs::write(host_dir.join("client.key"), b"KEY").unwrap();
        let c = RegistryConfig { certs_dir: Some(dir.path().to_path_buf()), ..Default::default() };
        let e = c.endpoint("reg.example:5000").await;
        assert_eq!((e.scheme, e.accept_invalid_certs, e.roots.len()), ("https", false, 1));
        let e = c.endpoint("other.example").await;
        assert_eq!((e.scheme, e.accept_invalid_certs, e.roots.len()), ("https", false, 0));
        assert_eq!(e.base(), "https://other.example");
    }
}
