//! `HEALTHCHECK [--interval=…] CMD …` / `HEALTHCHECK NONE`, stored as dockerd's
//! `Healthcheck` object (durations in nanoseconds).

use berth_image::ContainerConfig;

use crate::parse::Cmd;
use crate::{Error, Result};

/// Go's `time.ParseDuration` for the units a healthcheck uses (`ns us ms s m h`).
pub fn parse_duration(s: &str) -> Option<i64> {
    let mut total = 0f64;
    let mut rest = s;
    if rest == "0" {
        return Some(0);
    }
    while !rest.is_empty() {
        let n = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let num: f64 = rest[..n].parse().ok()?;
        rest = &rest[n..];
        let u = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let mult = match &rest[..u] {
            "ns" => 1.0,
            "us" | "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        total += num * mult;
        rest = &rest[u..];
    }
    Some(total as i64)
}

pub fn healthcheck(cfg: &mut ContainerConfig, flags: &[(String, String)], c: Option<&Cmd>) -> Result<String> {
    let Some(c) = c else {
        cfg.healthcheck = Some(serde_json::json!({ "Test": ["NONE"] }));
        return Ok("HEALTHCHECK NONE".into());
    };
    let test: Vec<String> = match c {
        Cmd::Exec(v) => std::iter::once("CMD".to_string()).chain(v.iter().cloned()).collect(),
        Cmd::Shell(s) => vec!["CMD-SHELL".into(), s.clone()],
    };
    let mut hc = serde_json::json!({ "Test": test });
    for (k, v) in flags {
        let field = match k.as_str() {
            "interval" => "Interval",
            "timeout" => "Timeout",
            "start-period" => "StartPeriod",
            "start-interval" => "StartInterval",
            "retries" => {
                let n: i64 = v.parse().map_err(|_| Error::InvalidArgument(format!("invalid retries: {v}")))?;
                hc["Retries"] = n.into();
                continue;
            }
            other => return Err(Error::Parse(format!("Unknown flag: {other}"))),
        };
        let d = parse_duration(v).ok_or_else(|| Error::InvalidArgument(format!("time: invalid duration \"{v}\"")))?;
        hc[field] = d.into();
    }
    cfg.healthcheck = Some(hc.clone());
    Ok(format!("HEALTHCHECK &{{{}}}", hc["Test"]))
}
