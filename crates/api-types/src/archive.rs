//! `docker cp` wire types: the `X-Docker-Container-Path-Stat` header of
//! `GET`/`HEAD /containers/{id}/archive` (base64 of [`ContainerPathStat`] as JSON), and Go's
//! `os.FileMode` bits, which dockerd sends as the stat's `mode`.

use base64::Engine as _;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

/// The header carrying the stat of the archived path.
pub const PATH_STAT_HEADER: &str = "X-Docker-Container-Path-Stat";

/// Go `os.FileMode` type bits.
pub const MODE_DIR: u32 = 1 << 31;
pub const MODE_SYMLINK: u32 = 1 << 27;
pub const MODE_DEVICE: u32 = 1 << 26;
pub const MODE_NAMED_PIPE: u32 = 1 << 25;
pub const MODE_SOCKET: u32 = 1 << 24;
pub const MODE_SETUID: u32 = 1 << 23;
pub const MODE_SETGID: u32 = 1 << 22;
pub const MODE_CHAR_DEVICE: u32 = 1 << 21;
pub const MODE_STICKY: u32 = 1 << 20;

/// `types.ContainerPathStat`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerPathStat {
    pub name: String,
    pub size: i64,
    /// Go `os.FileMode` (see [`go_file_mode`]).
    pub mode: u32,
    #[serde(with = "rfc3339_nano")]
    pub mtime: DateTime<Utc>,
    /// For a symlink: its target fully resolved inside the container, as an absolute path.
    #[serde(rename = "linkTarget")]
    pub link_target: String,
}

impl ContainerPathStat {
    pub fn is_dir(&self) -> bool {
        self.mode & MODE_DIR != 0
    }

    pub fn is_symlink(&self) -> bool {
        self.mode & MODE_SYMLINK != 0
    }

    /// The header value: base64 (standard alphabet, padded) of the JSON.
    pub fn to_header(&self) -> String {
        // Serialising a struct of strings and integers cannot fail.
        let json = serde_json::to_vec(self).unwrap_or_default();
        base64::engine::general_purpose::STANDARD.encode(json)
    }

    pub fn from_header(value: &str) -> Option<ContainerPathStat> {
        let json = base64::engine::general_purpose::STANDARD.decode(value.trim()).ok()?;
        serde_json::from_slice(&json).ok()
    }
}

/// Converts a Unix `st_mode` into Go's `os.FileMode`.
pub fn go_file_mode(st_mode: u32) -> u32 {
    let mut m = st_mode & 0o777;
    m |= match st_mode & 0o170000 {
        0o060000 => MODE_DEVICE,
        0o020000 => MODE_DEVICE | MODE_CHAR_DEVICE,
        0o040000 => MODE_DIR,
        0o010000 => MODE_NAMED_PIPE,
        0o120000 => MODE_SYMLINK,
        0o140000 => MODE_SOCKET,
        _ => 0,
    };
    if st_mode & 0o4000 != 0 {
        m |= MODE_SETUID;
    }
    if st_mode & 0o2000 != 0 {
        m |= MODE_SETGID;
    }
    if st_mode & 0o1000 != 0 {
        m |= MODE_STICKY;
    }
    m
}

/// Go's `time.RFC3339Nano` (trailing zeros of the fraction dropped, `Z` for UTC).
mod rfc3339_nano {
    use super::*;

    pub fn serialize<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        let text = t.to_rfc3339_opts(SecondsFormat::Nanos, true);
        let text = match text.split_once('.') {
            Some((head, frac)) => {
                let digits = frac.trim_end_matches('Z').trim_end_matches('0');
                if digits.is_empty() {
                    format!("{head}Z")
                } else {
                    format!("{head}.{digits}Z")
                }
            }
            None => text,
        };
        s.serialize_str(&text)
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let s = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&s).map(|t| t.with_timezone(&Utc)).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_dockerd_header() {
        // From dockerd 20.10 for /bin/sh in busybox.
        let h = "eyJuYW1lIjoic2giLCJzaXplIjoxNCwibW9kZSI6MTM0MjE4MjM5LCJtdGltZSI6IjE5NzAtMDEtMDFUMDA6MDA6MDBaIiwibGlua1RhcmdldCI6Ii9iaW4vYnVzeWJveCJ9";
        let s = ContainerPathStat::from_header(h).unwrap();
        assert_eq!(s.name, "sh");
        assert!(s.is_symlink());
        assert_eq!(s.link_target, "/bin/busybox");
        assert_eq!(s.to_header(), h);
    }

    #[test]
    fn nanosecond_mtime_and_modes() {
        let t = DateTime::parse_from_rfc3339("2026-11-22T17:51:51.883972639Z").unwrap().with_timezone(&Utc);
        let s = ContainerPathStat {
            name: "etc".into(),
            size: 4096,
            mode: go_file_mode(0o040755),
            mtime: t,
            link_target: String::new(),
        };
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(
            json,
            r#"{"name":"etc","size":4096,"mode":2147484141,"mtime":"2026-11-22T17:51:51.883972639Z","linkTarget":""}"#
        );
        assert_eq!(go_file_mode(0o100640), 0o640);
        assert_eq!(go_file_mode(0o120777), 134218239);
        assert_eq!(go_file_mode(0o041777), MODE_DIR | MODE_STICKY | 0o777);
        assert_eq!(go_file_mode(0o020666), MODE_DEVICE | MODE_CHAR_DEVICE | 0o666);
    }
}
