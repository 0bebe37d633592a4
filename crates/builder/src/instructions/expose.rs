//! `EXPOSE port[/proto] ...`.

use berth_image::ContainerConfig;

use crate::expand::{expand_word, Vars};
use crate::{Error, Result};

pub fn expose(cfg: &mut ContainerConfig, ports: &[String], vars: &Vars, escape: char) -> Result<String> {
    let map = cfg.exposed_ports.get_or_insert_with(Default::default);
    let mut shown = Vec::new();
    for p in ports {
        let p = expand_word(p, vars, escape)?;
        let (port, proto) = p.split_once('/').unwrap_or((&p, "tcp"));
        let valid = port.split('-').all(|n| n.parse::<u16>().is_ok());
        if !valid || !matches!(proto, "tcp" | "udp" | "sctp") {
            return Err(Error::InvalidArgument(format!("invalid containerPort: {port}")));
        }
        let key = format!("{port}/{proto}");
        map.insert(key.clone(), serde_json::json!({}));
        shown.push(format!("{key}:{{}}"));
    }
    Ok(format!("EXPOSE map[{}]", shown.join(" ")))
}
