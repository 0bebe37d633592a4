//! Compose's small value syntaxes: ports, volume mounts, durations, byte sizes.

use crate::model::{Mount, MountType, Port};

/// Parse a short-syntax port: `[HOST_IP:][HOST_PORT[-END]:]CONTAINER_PORT[-END][/PROTO]`.
/// Ranges expand to one [`Port`] per port. Errors are the message after the key path.
pub fn parse_port(spec: &str) -> Result<Vec<Port>, String> {
    let bad = || format!("invalid port \"{spec}\"");
    let (rest, proto) = match spec.rsplit_once('/') {
        Some((r, p)) if matches!(p, "tcp" | "udp" | "sctp") => (r, p.to_string()),
        Some(_) => return Err(bad()),
        None => (spec, "tcp".to_string()),
    };
    // An IPv6 host IP is written in brackets: [::1]:80:80.
    let (host_ip, rest) = if let Some(r) = rest.strip_prefix('[') {
        let (ip, after) = r.split_once(']').ok_or_else(bad)?;
        (Some(ip.to_string()), after.strip_prefix(':').ok_or_else(bad)?)
    } else {
        let parts: Vec<&str> = rest.split(':').collect();
        match parts.len() {
            3 => (Some(parts[0].to_string()), &rest[parts[0].len() + 1..]),
            1 | 2 => (None, rest),
            _ => return Err(bad()),
        }
    };
    let (published, target) = match rest.split_once(':') {
        Some((p, t)) => (Some(p), t),
        None => (None, rest),
    };
    let range = |s: &str| -> Result<(u16, u16), String> {
        let (a, b) = s.split_once('-').unwrap_or((s, s));
        let a: u16 = a.parse().map_err(|_| bad())?;
        let b: u16 = b.parse().map_err(|_| bad())?;
        if b < a || a == 0 {
            return Err(bad());
        }
        Ok((a, b))
    };
    let (t0, t1) = range(target)?;
    let published = match published.filter(|p| !p.is_empty()) {
        Some(p) => Some(range(p)?),
        None => None,
    };
    if let Some((p0, p1)) = published {
        if p1 - p0 != t1 - t0 && p0 != p1 {
            return Err(bad());
        }
    }
    Ok((t0..=t1)
        .enumerate()
        .map(|(i, t)| Port {
            target: t,
            published: published.map(|(p0, p1)| if p0 == p1 { p0.to_string() } else { (p0 + i as u16).to_string() }),
            host_ip: host_ip.clone().filter(|h| !h.is_empty()),
            protocol: proto.clone(),
        })
        .collect())
}

/// Parse a short-syntax volume: `TARGET`, `SOURCE:TARGET[:MODE]`. Bind sources (starting with
/// `/`, `.` or `~`) are made absolute against `base_dir`.
pub fn parse_volume(spec: &str, base_dir: &std::path::Path) -> Result<Mount, String> {
    let bad = || format!("invalid volume specification \"{spec}\"");
    let parts: Vec<&str> = spec.split(':').collect();
    let (source, target, mode) = match parts.as_slice() {
        [t] => (None, *t, None),
        [s, t] => (Some(*s), *t, None),
        [s, t, m] => (Some(*s), *t, Some(*m)),
        _ => return Err(bad()),
    };
    if target.is_empty() || !target.starts_with('/') {
        return Err(bad());
    }
    let mut read_only = false;
    if let Some(m) = mode {
        for opt in m.split(',') {
            match opt {
                "ro" => read_only = true,
                "rw" | "z" | "Z" | "nocopy" | "rprivate" | "private" | "rshared" | "shared" | "rslave" | "slave"
                | "cached" | "delegated" | "consistent" => {}
                _ => return Err(bad()),
            }
        }
    }
    let Some(source) = source.filter(|s| !s.is_empty()) else {
        return Ok(Mount { kind: MountType::Volume, source: None, target: target.into(), read_only, tmpfs_size: None });
    };
    if source.starts_with('/') || source.starts_with('.') || source.starts_with('~') {
        return Ok(Mount {
            kind: MountType::Bind,
            source: Some(absolute(source, base_dir)),
            target: target.into(),
            read_only,
            tmpfs_size: None,
        });
    }
    Ok(Mount {
        kind: MountType::Volume,
        source: Some(source.into()),
        target: target.into(),
        read_only,
        tmpfs_size: None,
    })
}

/// A host path from a compose file, made absolute against `base_dir` (`~` is `$HOME`).
pub fn absolute(path: &str, base_dir: &std::path::Path) -> String {
    if let Some(rest) = path.strip_prefix('~') {
        let home = std::env::var("HOME").unwrap_or_default();
        return format!("{home}{rest}");
    }
    let joined = base_dir.join(path);
    // Lexically clean `.` and `..` as Compose does (filepath.Abs).
    let mut out = std::path::PathBuf::new();
    for c in joined.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out.to_string_lossy().into_owned()
}

/// Parse a Go-style duration (`1m30s`, `500ms`, `10s`, `2h`) into nanoseconds.
pub fn parse_duration(s: &str) -> Option<i64> {
    berth_api_types::units::parse_go_duration(s.trim())
}

/// Format nanoseconds as Go's `time.Duration` prints them: `1s`, `1m30s`, `500ms`, `1h0m0s`.
pub fn format_duration(ns: i64) -> String {
    if ns == 0 {
        return "0s".into();
    }
    let neg = if ns < 0 { "-" } else { "" };
    let ns = ns.unsigned_abs();
    if ns < 1_000 {
        return format!("{neg}{ns}ns");
    }
    if ns < 1_000_000 {
        return format!("{neg}{}µs", trim_float(ns as f64 / 1e3));
    }
    if ns < 1_000_000_000 {
        return format!("{neg}{}ms", trim_float(ns as f64 / 1e6));
    }
    let secs = ns as f64 / 1e9;
    let h = (secs / 3600.0).floor();
    let m = ((secs - h * 3600.0) / 60.0).floor();
    let s = secs - h * 3600.0 - m * 60.0;
    match (h > 0.0, m > 0.0) {
        (true, _) => format!("{neg}{h}h{m}m{}s", trim_float(s)),
        (false, true) => format!("{neg}{m}m{}s", trim_float(s)),
        _ => format!("{neg}{}s", trim_float(s)),
    }
}

fn trim_float(v: f64) -> String {
    let s = format!("{v:.9}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

/// Parse a byte size (`512m`, `1g`, `1024`, `2kb`) into bytes.
pub fn parse_bytes(s: &str) -> Option<i64> {
    let s = s.trim().to_ascii_lowercase();
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let v: f64 = num.parse().ok()?;
    let mult: f64 = match unit.trim() {
        "" | "b" => 1.0,
        "k" | "kb" | "kib" => 1024.0,
        "m" | "mb" | "mib" => 1024.0 * 1024.0,
        "g" | "gb" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "t" | "tb" | "tib" => 1024f64.powi(4),
        _ => return None,
    };
    Some((v * mult) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn port(t: u16, p: Option<&str>, ip: Option<&str>, proto: &str) -> Port {
        Port { target: t, published: p.map(Into::into), host_ip: ip.map(Into::into), protocol: proto.into() }
    }

    #[test]
    fn ports() {
        assert_eq!(parse_port("80").unwrap(), vec![port(80, None, None, "tcp")]);
        assert_eq!(parse_port("8080:80").unwrap(), vec![port(80, Some("8080"), None, "tcp")]);
        assert_eq!(
            parse_port("127.0.0.1:8080:80/udp").unwrap(),
            vec![port(80, Some("8080"), Some("127.0.0.1"), "udp")]
        );
        assert_eq!(parse_port("127.0.0.1::80").unwrap(), vec![port(80, None, Some("127.0.0.1"), "tcp")]);
        assert_eq!(parse_port("[::1]:81:80").unwrap(), vec![port(80, Some("81"), Some("::1"), "tcp")]);
        assert_eq!(
            parse_port("9000-9001:80-81").unwrap(),
            vec![port(80, Some("9000"), None, "tcp"), port(81, Some("9001"), None, "tcp")]
        );
        assert_eq!(parse_port("80:x").unwrap_err(), "invalid port \"80:x\"");
        assert!(parse_port("80/foo").is_err());
        assert!(parse_port("1:2:3:4").is_err());
        assert!(parse_port("70000").is_err());
    }

    #[test]
    fn volumes() {
        let base = Path::new("/proj");
        let v = parse_volume("data:/data", base).unwrap();
        assert_eq!(
            (v.kind, v.source.as_deref(), v.target.as_str(), v.read_only),
            (MountType::Volume, Some("data"), "/data", false)
        );
        let v = parse_volume("./site:/www:ro", base).unwrap();
        assert_eq!((v.kind, v.source.as_deref(), v.read_only), (MountType::Bind, Some("/proj/site"), true));
        let v = parse_volume("../x:/x", base).unwrap();
        assert_eq!(v.source.as_deref(), Some("/x"));
        let v = parse_volume("/cache", base).unwrap();
        assert_eq!((v.kind, v.source), (MountType::Volume, None));
        assert!(parse_volume("data:rel", base).is_err());
        assert!(parse_volume("a:/b:bogus", base).is_err());
    }

    #[test]
    fn durations_and_sizes() {
        assert_eq!(parse_duration("1m30s"), Some(90_000_000_000));
        assert_eq!(parse_duration("500ms"), Some(500_000_000));
        assert_eq!(parse_duration("1.5s"), Some(1_500_000_000));
        assert_eq!(parse_duration("10"), None);
        assert_eq!(parse_duration("5x"), None);
        assert_eq!(format_duration(90_000_000_000), "1m30s");
        assert_eq!(format_duration(500_000_000), "500ms");
        assert_eq!(format_duration(1_500_000_000), "1.5s");
        assert_eq!(format_duration(3_600_000_000_000), "1h0m0s");
        assert_eq!(parse_bytes("512m"), Some(512 * 1024 * 1024));
        assert_eq!(parse_bytes("1g"), Some(1 << 30));
        assert_eq!(parse_bytes("1024"), Some(1024));
        assert_eq!(parse_bytes("1q"), None);
    }
}
