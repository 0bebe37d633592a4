//! `ENV key=value ...`: sets variables in the config (and for later expansion).

use berth_image::ContainerConfig;

use crate::expand::{key_values, Vars};
use crate::Result;

pub fn env(cfg: &mut ContainerConfig, args: &str, vars: &Vars, escape: char) -> Result<String> {
    let pairs = key_values(args, vars, escape, "ENV")?;
    let env = cfg.env.get_or_insert_with(Vec::new);
    let mut text = String::from("ENV");
    for (k, v) in pairs {
        text.push_str(&format!(" {k}={v}"));
        let entry = format!("{k}={v}");
        match env.iter_mut().find(|e| e.split_once('=').map_or(e.as_str(), |p| p.0) == k) {
            Some(slot) => *slot = entry,
            None => env.push(entry),
        }
    }
    Ok(text)
}
