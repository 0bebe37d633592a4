//! `-v`, `--mount`, `--tmpfs` of run/create, parsed as the docker CLI does before they reach
//! the daemon (which validates the rest).

use std::collections::HashMap;

use bollard::models::{Mount, MountBindOptions, MountTmpfsOptions, MountVolumeOptions, MountVolumeOptionsDriverConfig};

use crate::error::CliError;

fn bad(msg: impl Into<String>) -> CliError {
    CliError::new(125, msg.into())
}

/// `-v` entries: `/path` alone is an anonymous volume (`Config.Volumes`), the rest are binds.
pub fn split_volumes(items: &[String]) -> Result<(Vec<String>, Vec<String>), CliError> {
    let (mut binds, mut volumes) = (Vec::new(), Vec::new());
    for v in items {
        if v.is_empty() || v.starts_with(':') {
            return Err(bad(format!(
                "invalid argument \"{v}\" for \"-v, --volume\" flag: invalid spec: {v}: empty section between colons"
            )));
        }
        if v.contains(':') {
            binds.push(v.clone());
        } else {
            volumes.push(v.clone());
        }
    }
    Ok((binds, volumes))
}

fn parse_bool(key: &str, v: &str) -> Result<bool, CliError> {
    match v.to_ascii_lowercase().as_str() {
        "" | "1" | "true" => Ok(true),
        "0" | "false" => Ok(false),
        _ => Err(bad(format!("invalid argument \"{v}\" for \"--mount\" flag: invalid value for {key}: {v}"))),
    }
}

/// Docker's human sizes for `tmpfs-size` (`64m`, `1g`, bytes).
pub fn parse_size(s: &str) -> Option<i64> {
    let s = s.trim().to_ascii_lowercase();
    let s = s.strip_suffix('b').unwrap_or(&s);
    let (num, mult) = match s.chars().last()? {
        'k' => (&s[..s.len() - 1], 1i64 << 10),
        'm' => (&s[..s.len() - 1], 1 << 20),
        'g' => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    num.parse::<f64>().ok().map(|n| (n * mult as f64) as i64)
}

/// One `--mount` value: `type=…,src=…,dst=…,readonly,volume-opt=k=v,tmpfs-size=…`.
pub fn parse_mount(spec: &str) -> Result<Mount, CliError> {
    let mut m = Mount::default();
    let (mut vol, mut tmp, mut bind) =
        (MountVolumeOptions::default(), MountTmpfsOptions::default(), MountBindOptions::default());
    let (mut has_vol, mut has_tmp, mut has_bind) = (false, false, false);
    let mut driver_opts: HashMap<String, String> = HashMap::new();
    let mut labels: HashMap<String, String> = HashMap::new();
    for field in spec.split(',').filter(|f| !f.is_empty()) {
        let (k, v) = field.split_once('=').unwrap_or((field, ""));
        match k.to_ascii_lowercase().as_str() {
            "type" => {
                m.typ = Some(v.parse().map_err(|_| {
                    bad(format!("invalid argument \"{spec}\" for \"--mount\" flag: invalid mount type: {v}"))
                })?)
            }
            "source" | "src" => m.source = Some(v.to_string()),
            "target" | "dst" | "destination" => m.target = Some(v.to_string()),
            "readonly" | "ro" => m.read_only = Some(parse_bool(k, v)?),
            "consistency" => m.consistency = Some(v.to_string()),
            "bind-propagation" => {
                has_bind = true;
                bind.propagation = Some(v.parse().map_err(|_| {
                    bad(format!("invalid argument \"{spec}\" for \"--mount\" flag: invalid propagation mode: {v}"))
                })?);
            }
            "volume-nocopy" => {
                has_vol = true;
                vol.no_copy = Some(parse_bool(k, v)?);
            }
            "volume-driver" => {
                has_vol = true;
                vol.driver_config.get_or_insert_with(MountVolumeOptionsDriverConfig::default).name =
                    Some(v.to_string());
            }
            "volume-opt" => {
                has_vol = true;
                let (ok, ov) = v.split_once('=').unwrap_or((v, ""));
                driver_opts.insert(ok.to_string(), ov.to_string());
            }
            "volume-label" => {
                has_vol = true;
                let (lk, lv) = v.split_once('=').unwrap_or((v, ""));
                labels.insert(lk.to_string(), lv.to_string());
            }
            "tmpfs-size" => {
                has_tmp = true;
                tmp.size_bytes = Some(parse_size(v).ok_or_else(|| {
                    bad(format!("invalid argument \"{spec}\" for \"--mount\" flag: invalid value for tmpfs-size: {v}"))
                })?);
            }
            "tmpfs-mode" => {
                has_tmp = true;
                tmp.mode = Some(i64::from_str_radix(v, 8).map_err(|_| {
                    bad(format!("invalid argument \"{spec}\" for \"--mount\" flag: invalid value for tmpfs-mode: {v}"))
                })?);
            }
            _ => {
                return Err(bad(format!(
                    "invalid argument \"{spec}\" for \"--mount\" flag: unexpected key '{k}' in '{field}'"
                )))
            }
        }
    }
    if m.typ.is_none() {
        return Err(bad(format!("invalid argument \"{spec}\" for \"--mount\" flag: type is required")));
    }
    if m.target.is_none() {
        return Err(bad(format!("invalid argument \"{spec}\" for \"--mount\" flag: target is required")));
    }
    if !driver_opts.is_empty() {
        vol.driver_config.get_or_insert_with(MountVolumeOptionsDriverConfig::default).options = Some(driver_opts);
    }
    if !labels.is_empty() {
        vol.labels = Some(labels);
    }
    m.volume_options = has_vol.then_some(vol);
    m.tmpfs_options = has_tmp.then_some(tmp);
    m.bind_options = has_bind.then_some(bind);
    Ok(m)
}

/// `--tmpfs /path[:opts]` entries as `HostConfig.Tmpfs`.
pub fn parse_tmpfs(items: &[String]) -> HashMap<String, String> {
    items
        .iter()
        .map(|t| match t.split_once(':') {
            Some((p, o)) => (p.to_string(), o.to_string()),
            None => (t.clone(), String::new()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_docker() {
        let (b, v) = split_volumes(&["/anon".into(), "n:/d:ro".into()]).unwrap();
        assert_eq!((b, v), (vec!["n:/d:ro".to_string()], vec!["/anon".to_string()]));
        let m = parse_mount("type=volume,src=v,dst=/d,readonly,volume-opt=type=tmpfs,volume-nocopy").unwrap();
        assert_eq!(m.read_only, Some(true));
        let vo = m.volume_options.unwrap();
        assert_eq!(vo.no_copy, Some(true));
        assert_eq!(vo.driver_config.unwrap().options.unwrap()["type"], "tmpfs");
        let t = parse_mount("type=tmpfs,dst=/t,tmpfs-size=64m,tmpfs-mode=1770").unwrap();
        let to = t.tmpfs_options.unwrap();
        assert_eq!((to.size_bytes, to.mode), (Some(64 << 20), Some(0o1770)));
        assert!(parse_mount("type=bind,src=/a,dst=/b,bind-propagation=rslave").unwrap().bind_options.is_some());
        assert!(parse_mount("type=volume").is_err());
        assert!(parse_mount("type=volume,dst=/x,foo=bar").is_err());
        assert_eq!(parse_tmpfs(&["/run:size=64m".into()])["/run"], "size=64m");
    }
}
