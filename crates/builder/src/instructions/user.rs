//! `USER name[:group]`.

use berth_image::ContainerConfig;

use crate::expand::{expand_word, Vars};
use crate::{Error, Result};

pub fn user(cfg: &mut ContainerConfig, arg: &str, vars: &Vars, escape: char) -> Result<String> {
    let u = expand_word(arg.trim(), vars, escape)?;
    if u.is_empty() {
        return Err(Error::Parse("USER requires exactly one argument".into()));
    }
    cfg.user = Some(u.clone());
    Ok(format!("USER {u}"))
}
