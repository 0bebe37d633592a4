//! `MAINTAINER name` (deprecated): sets the image author.

use berth_image::ImageConfig;

pub fn maintainer(cfg: &mut ImageConfig, name: &str) -> String {
    cfg.author = Some(name.to_string());
    format!("MAINTAINER {name}")
}
