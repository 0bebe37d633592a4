//! `HEALTHCHECK [--interval=…] CMD …` / `HEALTHCHECK NONE`, stored as dockerd's
//! `Healthcheck` object (durations in nanoseconds).

use berth_image::ContainerConfig;

use crate::parse::Cmd;
use crate::{Error, Result};

pub use berth_api_types::units::parse_go_duration as parse_duration;

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
