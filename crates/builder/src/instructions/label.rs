//! `LABEL key=value ...`.

use berth_image::ContainerConfig;

use crate::expand::{key_values, Vars};
use crate::Result;

pub fn label(cfg: &mut ContainerConfig, args: &str, vars: &Vars, escape: char) -> Result<String> {
    let pairs = key_values(args, vars, escape, "LABEL")?;
    let labels = cfg.labels.get_or_insert_with(Default::default);
    let mut text = String::from("LABEL");
    for (k, v) in pairs {
        text.push_str(&format!(" {k}={v}"));
        labels.insert(k, v);
    }
    Ok(text)
}
