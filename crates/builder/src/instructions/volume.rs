//! `VOLUME ["/data"]` / `VOLUME /a /b`.

use berth_image::ContainerConfig;

use crate::expand::{expand_word, Vars};
use crate::{Error, Result};

pub fn volume(cfg: &mut ContainerConfig, paths: &[String], vars: &Vars, escape: char) -> Result<String> {
    let map = cfg.volumes.get_or_insert_with(Default::default);
    let mut shown = Vec::new();
    for p in paths {
        let p = expand_word(p, vars, escape)?;
        if p.trim().is_empty() {
            return Err(Error::InvalidArgument("VOLUME specified can not be an empty string".into()));
        }
        map.insert(p.clone(), serde_json::json!({}));
        shown.push(p);
    }
    Ok(format!("VOLUME [{}]", shown.join(" ")))
}
