//! The per-container files bind-mounted into `/etc`: `hostname`, `hosts`, `resolv.conf`.
//! Generation is pure; [`write_all`] writes them under a directory it is given.

use std::path::Path;

use crate::{Error, Result};

pub const DEFAULT_HOSTS: &str = "127.0.0.1\tlocalhost\n\
::1\tlocalhost ip6-localhost ip6-loopback\n\
fe00::0\tip6-localnet\n\
ff00::0\tip6-mcastprefix\n\
ff02::1\tip6-allnodes\n\
ff02::2\tip6-allrouters\n";

/// Docker's resolv.conf for a container: the host's, without localhost (`127.x`) nameservers
/// (unreachable from the container's network namespace); Google's public DNS when none remain.
pub fn resolv_conf(host: &str) -> String {
    let mut out = String::new();
    let mut nameservers = 0;
    for line in host.lines() {
        let mut words = line.split_whitespace();
        if words.next() == Some("nameserver") {
            let addr = words.next().unwrap_or("");
            if addr.starts_with("127.") || addr.is_empty() {
                continue;
            }
            nameservers += 1;
        }
        out.push_str(line);
        out.push('\n');
    }
    if nameservers == 0 {
        out.push_str("nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
    }
    out
}

/// Writes `hostname`, `hosts` and `resolv.conf` into `dir`, reading the host's resolv.conf from
/// `host_resolv` (missing file = empty).
pub fn write_all(dir: &Path, hostname: &str, host_resolv: &Path) -> Result<()> {
    let host = std::fs::read_to_string(host_resolv).unwrap_or_default();
    let write = |name: &str, data: String| {
        let p = dir.join(name);
        std::fs::write(&p, data).map_err(|e| Error::io(format!("writing {}", p.display()), e))
    };
    write("hostname", format!("{hostname}\n"))?;
    write("hosts", DEFAULT_HOSTS.to_string())?;
    write("resolv.conf", resolv_conf(&host))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_localhost_nameservers() {
        let r = resolv_conf("# c\nnameserver 127.0.0.53\nnameserver 10.0.0.2\nsearch lan\n");
        assert_eq!(r, "# c\nnameserver 10.0.0.2\nsearch lan\n");
    }

    #[test]
    fn falls_back_to_google() {
        let r = resolv_conf("nameserver 127.0.0.1\noptions edns0\n");
        assert_eq!(r, "options edns0\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n");
        assert_eq!(resolv_conf(""), "nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
    }

    #[test]
    fn writes_files() {
        let d = tempfile::tempdir().unwrap();
        let host = d.path().join("host-resolv");
        std::fs::write(&host, "nameserver 1.1.1.1\n").unwrap();
        write_all(d.path(), "abc", &host).unwrap();
        assert_eq!(std::fs::read_to_string(d.path().join("hostname")).unwrap(), "abc\n");
        assert!(std::fs::read_to_string(d.path().join("hosts")).unwrap().starts_with("127.0.0.1\tlocalhost"));
        assert_eq!(std::fs::read_to_string(d.path().join("resolv.conf")).unwrap(), "nameserver 1.1.1.1\n");
    }
}
