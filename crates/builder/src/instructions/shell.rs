//! `SHELL ["executable", "params"]`: the shell for later shell forms.

use berth_image::ContainerConfig;

use crate::{Error, Result};

pub fn shell(cfg: &mut ContainerConfig, argv: &[String]) -> Result<String> {
    if argv.is_empty() {
        return Err(Error::Parse("SHELL requires at least one argument".into()));
    }
    cfg.shell = Some(argv.to_vec());
    Ok(format!("SHELL [{}]", argv.join(" ")))
}
