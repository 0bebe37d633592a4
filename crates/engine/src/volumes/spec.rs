//! Parsing and validating a container's mount requests (`HostConfig.Binds` = `-v`,
//! `HostConfig.Mounts` = `--mount`, `HostConfig.Tmpfs` = `--tmpfs`, `Config.Volumes`) into the
//! persisted [`MountPoint`]s, with dockerd's error messages. Pure: no filesystem access except
//! where noted, so it is unit-tested without root.

use std::collections::BTreeMap;

use berth_api_types::models::{Mount, MountBindOptionsPropagationEnum};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MountKind {
    Bind,
    Volume,
    Tmpfs,
}

impl MountKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MountKind::Bind => "bind",
            MountKind::Volume => "volume",
            MountKind::Tmpfs => "tmpfs",
        }
    }
}

/// One mount of a container, as persisted in its record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MountPoint {
    pub kind: MountKind,
    pub destination: String,
    /// Host path (bind), volume name (volume; empty until an anonymous volume is made), or empty.
    #[serde(default)]
    pub source: String,
    pub rw: bool,
    /// dockerd's `Mode` (the `-v` mode string as given).
    #[serde(default)]
    pub mode: String,
    #[serde(default)]
    pub propagation: String,
    /// Copy the image's content at `destination` into a new volume (not `nocopy`).
    #[serde(default)]
    pub copy: bool,
    /// `-v /host:/dst`: a missing host path is created as a directory.
    #[serde(default)]
    pub create_source: bool,
    #[serde(default)]
    pub anonymous: bool,
    /// Filesystem data for tmpfs (`size=64m`, `mode=1777`).
    #[serde(default)]
    pub tmpfs_options: Vec<String>,
    /// False for `HostConfig.Tmpfs` entries, which dockerd leaves out of `.Mounts`.
    #[serde(default = "yes")]
    pub listed: bool,
    /// Labels and driver options for a volume this mount creates (`--mount volume-opt=`).
    #[serde(default)]
    pub volume_labels: BTreeMap<String, String>,
    #[serde(default)]
    pub volume_options: BTreeMap<String, String>,
}

fn yes() -> bool {
    true
}

impl MountPoint {
    fn new(kind: MountKind, destination: &str) -> MountPoint {
        MountPoint {
            kind,
            destination: clean(destination),
            source: String::new(),
            rw: true,
            mode: String::new(),
            propagation: String::new(),
            copy: kind == MountKind::Volume,
            create_source: false,
            anonymous: false,
            tmpfs_options: Vec::new(),
            listed: true,
            volume_labels: BTreeMap::new(),
            volume_options: BTreeMap::new(),
        }
    }
}

const PROPAGATIONS: [&str; 6] = ["private", "rprivate", "shared", "rshared", "slave", "rslave"];
const DEFAULT_PROPAGATION: &str = "rprivate";

fn invalid(msg: impl Into<String>) -> Error {
    Error::InvalidArgument(msg.into())
}

/// Lexically cleans an absolute path (`//a/./b/` → `/a/b`).
pub fn clean(p: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    format!("/{}", parts.join("/"))
}

fn check_destination(dst: &str, ctx: impl Fn(String) -> String) -> Result<()> {
    if !dst.starts_with('/') {
        return Err(invalid(ctx(format!("invalid mount path: '{dst}' mount path must be absolute"))));
    }
    if clean(dst) == "/" {
        return Err(invalid("invalid specification: destination can't be '/'"));
    }
    Ok(())
}

/// dockerd's local volume name check, with its message.
pub fn check_volume_name(name: &str) -> Result<()> {
    if super::store::valid_name(name) {
        return Ok(());
    }
    Err(invalid(format!(
        "create {name}: \"{name}\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path"
    )))
}

/// One `-v`/`HostConfig.Binds` entry: `src:dst[:mode]`.
pub fn parse_bind(spec: &str) -> Result<MountPoint> {
    let bad = || invalid(format!("invalid volume specification: '{spec}'"));
    let parts: Vec<&str> = spec.split(':').collect();
    let (src, dst, mode) = match parts.as_slice() {
        [s, d] => (*s, *d, ""),
        [s, d, m] => (*s, *d, *m),
        _ => return Err(bad()),
    };
    if src.is_empty() || dst.is_empty() {
        return Err(bad());
    }
    let kind = if src.starts_with('/') { MountKind::Bind } else { MountKind::Volume };
    check_destination(dst, |m| {
        format!("invalid volume specification: '{spec}': invalid mount config for type \"{}\": {m}", kind.as_str())
    })?;
    let mut mp = MountPoint::new(kind, dst);
    mp.mode = mode.to_string();
    let (mut rw_seen, mut prop_seen) = (false, false);
    for m in mode.split(',').filter(|m| !m.is_empty()) {
        match m {
            "ro" | "rw" if !rw_seen => {
                rw_seen = true;
                mp.rw = m == "rw";
            }
            "z" | "Z" | "consistent" | "cached" | "delegated" => {}
            "nocopy" if kind == MountKind::Volume => mp.copy = false,
            p if PROPAGATIONS.contains(&p) && kind == MountKind::Bind && !prop_seen => {
                prop_seen = true;
                mp.propagation = p.to_string();
            }
            _ => return Err(invalid(format!("invalid mode: {mode}"))),
        }
    }
    match kind {
        MountKind::Bind => {
            mp.source = clean(src);
            mp.create_source = true;
            if mp.propagation.is_empty() {
                mp.propagation = DEFAULT_PROPAGATION.into();
            }
        }
        _ => {
            check_volume_name(src)?;
            mp.source = src.to_string();
        }
    }
    Ok(mp)
}

/// Docker's tmpfs size rendering (`1048576` → `size=1m`).
fn tmpfs_size(bytes: i64) -> String {
    for (suffix, div) in [("g", 1i64 << 30), ("m", 1 << 20), ("k", 1 << 10)] {
        if bytes % div == 0 {
            return format!("size={}{suffix}", bytes / div);
        }
    }
    format!("size={bytes}")
}

/// One `--mount`/`HostConfig.Mounts` entry. Does not check that a bind source exists.
pub fn parse_mount(m: &Mount) -> Result<MountPoint> {
    let typ = m.typ.as_ref().map(|t| t.to_string()).unwrap_or_default();
    let err = |msg: &str| invalid(format!("invalid mount config for type \"{typ}\": {msg}"));
    let kind = match typ.as_str() {
        "bind" => MountKind::Bind,
        "volume" => MountKind::Volume,
        "tmpfs" => MountKind::Tmpfs,
        _ => return Err(err("mount type unknown")),
    };
    let target = m.target.clone().unwrap_or_default();
    if target.is_empty() {
        return Err(err("field Target must not be empty"));
    }
    check_destination(&target, |msg| format!("invalid mount config for type \"{typ}\": {msg}"))?;
    let source = m.source.clone().unwrap_or_default();
    let mut mp = MountPoint::new(kind, &target);
    mp.rw = !m.read_only.unwrap_or(false);
    if kind != MountKind::Bind && m.bind_options.is_some() {
        return Err(err("field BindOptions must not be specified"));
    }
    if kind != MountKind::Volume && m.volume_options.is_some() {
        return Err(err("field VolumeOptions must not be specified"));
    }
    if kind != MountKind::Tmpfs && m.tmpfs_options.is_some() {
        return Err(err("field TmpfsOptions must not be specified"));
    }
    match kind {
        MountKind::Bind => {
            if source.is_empty() {
                return Err(err("field Source must not be empty"));
            }
            if !source.starts_with('/') {
                return Err(err(&format!("invalid mount path: '{source}' mount path must be absolute")));
            }
            mp.source = clean(&source);
            let prop = m.bind_options.as_ref().and_then(|b| b.propagation);
            mp.propagation = match prop {
                None | Some(MountBindOptionsPropagationEnum::EMPTY) => DEFAULT_PROPAGATION.into(),
                Some(p) => p.to_string(),
            };
        }
        MountKind::Volume => {
            if !source.is_empty() {
                check_volume_name(&source)?;
            }
            mp.source = source;
            mp.anonymous = mp.source.is_empty();
            // dockerd reports `--mount` volumes with the SELinux label mode "z".
            mp.mode = "z".into();
            if let Some(vo) = &m.volume_options {
                mp.copy = !vo.no_copy.unwrap_or(false);
                mp.volume_labels = vo.labels.clone().unwrap_or_default().into_iter().collect();
                if let Some(dc) = &vo.driver_config {
                    if dc.name.as_deref().is_some_and(|n| !n.is_empty() && n != "local") {
                        return Err(invalid(format!(
                            "error while mounting volume with options: plugin \"{}\" not found",
                            dc.name.as_deref().unwrap_or("")
                        )));
                    }
                    mp.volume_options = dc.options.clone().unwrap_or_default().into_iter().collect();
                }
            }
        }
        MountKind::Tmpfs => {
            if !source.is_empty() {
                return Err(err("field Source must not be specified"));
            }
            if let Some(t) = &m.tmpfs_options {
                match t.size_bytes {
                    Some(s) if s < 0 => return Err(err("invalid tmpfs size")),
                    Some(s) if s > 0 => mp.tmpfs_options.push(tmpfs_size(s)),
                    _ => {}
                }
                if let Some(mode) = t.mode.filter(|m| *m != 0) {
                    mp.tmpfs_options.push(format!("mode={mode:o}"));
                }
            }
        }
    }
    Ok(mp)
}

/// One `--tmpfs`/`HostConfig.Tmpfs` entry: destination and comma-separated options.
pub fn parse_tmpfs(dst: &str, options: &str) -> Result<MountPoint> {
    check_destination(dst, |m| m)?;
    let mut mp = MountPoint::new(MountKind::Tmpfs, dst);
    mp.listed = false;
    for o in options.split(',').map(str::trim).filter(|o| !o.is_empty()) {
        match o {
            "ro" => mp.rw = false,
            "rw" => mp.rw = true,
            o => mp.tmpfs_options.push(o.to_string()),
        }
    }
    Ok(mp)
}

/// `--volumes-from` entry: `container[:ro|rw]` → (container, rw override).
pub fn parse_volumes_from(spec: &str) -> Result<(String, Option<bool>)> {
    match spec.split_once(':') {
        None => Ok((spec.to_string(), None)),
        Some((c, "ro")) => Ok((c.to_string(), Some(false))),
        Some((c, "rw")) => Ok((c.to_string(), Some(true))),
        Some((_, m)) => Err(invalid(format!("invalid mode: {m}"))),
    }
}

/// Everything the client asked for, before volumes-from and `Config.Volumes` are merged in:
/// binds, then mounts, then tmpfs, with dockerd's duplicate check.
pub fn parse_requested(
    binds: &[String],
    mounts: &[Mount],
    tmpfs: &BTreeMap<String, String>,
) -> Result<Vec<MountPoint>> {
    let mut out: Vec<MountPoint> = Vec::new();
    let all = binds
        .iter()
        .map(|b| parse_bind(b))
        .chain(mounts.iter().map(parse_mount))
        .chain(tmpfs.iter().map(|(d, o)| parse_tmpfs(d, o)));
    for mp in all {
        let mp = mp?;
        if out.iter().any(|o| o.destination == mp.destination) {
            return Err(invalid(format!("Duplicate mount point: {}", mp.destination)));
        }
        out.push(mp);
    }
    Ok(out)
}

/// An anonymous volume for a `Config.Volumes` (or image `VOLUME`) path.
pub fn anonymous(dst: &str) -> Result<MountPoint> {
    check_destination(dst, |m| format!("invalid volume specification: '{dst}': {m}"))?;
    let mut mp = MountPoint::new(MountKind::Volume, dst);
    mp.anonymous = true;
    Ok(mp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_api_types::models::{MountBindOptions, MountTmpfsOptions, MountVolumeOptions};

    #[test]
    fn binds_like_dockerd() {
        let b = parse_bind("/host/./dir:/data:ro").unwrap();
        assert_eq!((b.kind, b.source.as_str(), b.destination.as_str()), (MountKind::Bind, "/host/dir", "/data"));
        assert!(!b.rw && b.create_source);
        assert_eq!((b.mode.as_str(), b.propagation.as_str()), ("ro", "rprivate"));
        let v = parse_bind("vol1:/data:nocopy").unwrap();
        assert_eq!((v.kind, v.source.as_str(), v.copy, v.rw), (MountKind::Volume, "vol1", false, true));
        assert!(!parse_bind("v1:/x:Z,ro").unwrap().rw);
        assert_eq!(parse_bind("/a:/x:rshared").unwrap().propagation, "rshared");
        assert_eq!(parse_bind("relative:/x:bad").unwrap_err().to_string(), "invalid mode: bad");
        assert_eq!(parse_bind("vol:/x:rshared").unwrap_err().to_string(), "invalid mode: rshared");
        assert_eq!(parse_bind("/a:/x:nocopy").unwrap_err().to_string(), "invalid mode: nocopy");
        assert_eq!(parse_bind("/a:/x:ro,rw").unwrap_err().to_string(), "invalid mode: ro,rw");
        assert_eq!(
            parse_bind("/x:relative").unwrap_err().to_string(),
            "invalid volume specification: '/x:relative': invalid mount config for type \"bind\": invalid mount path: 'relative' mount path must be absolute"
        );
        assert_eq!(parse_bind("a:b:c:d").unwrap_err().to_string(), "invalid volume specification: 'a:b:c:d'");
        assert!(parse_bind("x/y:/d").unwrap_err().to_string().starts_with("create x/y: \"x/y\" includes invalid"));
        assert_eq!(parse_bind("/a:/").unwrap_err().to_string(), "invalid specification: destination can't be '/'");
    }

    #[test]
    fn mounts_like_dockerd() {
        let m = |t: &str| Mount { typ: Some(t.parse().unwrap()), target: Some("/x".into()), ..Default::default() };
        assert_eq!(
            parse_mount(&Mount { source: Some("foo".into()), ..m("tmpfs") }).unwrap_err().to_string(),
            "invalid mount config for type \"tmpfs\": field Source must not be specified"
        );
        assert_eq!(
            parse_mount(&m("bind")).unwrap_err().to_string(),
            "invalid mount config for type \"bind\": field Source must not be empty"
        );
        let t = parse_mount(&Mount {
            tmpfs_options: Some(MountTmpfsOptions {
                size_bytes: Some(1 << 20),
                mode: Some(0o1770),
                ..Default::default()
            }),
            ..m("tmpfs")
        })
        .unwrap();
        assert_eq!(t.tmpfs_options, ["size=1m", "mode=1770"]);
        assert!(t.listed);
        let v = parse_mount(&Mount {
            read_only: Some(true),
            volume_options: Some(MountVolumeOptions { no_copy: Some(true), ..Default::default() }),
            ..m("volume")
        })
        .unwrap();
        assert!(v.anonymous && !v.copy && !v.rw);
        let b = parse_mount(&Mount {
            source: Some("/tmp".into()),
            bind_options: Some(MountBindOptions {
                propagation: Some(MountBindOptionsPropagationEnum::RSLAVE),
                ..Default::default()
            }),
            ..m("bind")
        })
        .unwrap();
        assert_eq!((b.propagation.as_str(), b.create_source), ("rslave", false));
        assert_eq!(
            parse_mount(&Mount { bind_options: Some(MountBindOptions::default()), ..m("volume") })
                .unwrap_err()
                .to_string(),
            "invalid mount config for type \"volume\": field BindOptions must not be specified"
        );
    }

    #[test]
    fn tmpfs_duplicates_and_volumes_from() {
        let t = parse_tmpfs("/run", "rw,size=64m").unwrap();
        assert_eq!((t.rw, t.listed), (true, false));
        assert_eq!(t.tmpfs_options, ["size=64m"]);
        assert_eq!(
            parse_tmpfs("relative", "").unwrap_err().to_string(),
            "invalid mount path: 'relative' mount path must be absolute"
        );
        let e = parse_requested(&["/a:/x".into(), "/b:/x/".into()], &[], &BTreeMap::new()).unwrap_err();
        assert_eq!(e.to_string(), "Duplicate mount point: /x");
        assert_eq!(parse_volumes_from("c1:ro").unwrap(), ("c1".to_string(), Some(false)));
        assert_eq!(parse_volumes_from("c1").unwrap(), ("c1".to_string(), None));
        assert!(parse_volumes_from("c1:zz").is_err());
        assert!(anonymous("/data").unwrap().anonymous);
    }
}
