//! `ONBUILD <instruction>`: recorded in the config, run by builds that use this image as base.

use berth_image::ContainerConfig;

use crate::{Error, Result};

pub fn onbuild(cfg: &mut ContainerConfig, trigger: &str) -> Result<String> {
    let word = trigger.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
    match word.as_str() {
        "" => return Err(Error::Parse("ONBUILD requires at least one argument".into())),
        "ONBUILD" => return Err(Error::Parse("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed".into())),
        "FROM" | "MAINTAINER" => return Err(Error::Parse(format!("{word} isn't allowed as an ONBUILD trigger"))),
        _ => {}
    }
    cfg.on_build.get_or_insert_with(Vec::new).push(trigger.to_string());
    Ok(format!("ONBUILD {trigger}"))
}
