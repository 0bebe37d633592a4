//! `STOPSIGNAL signal`.

use berth_image::ContainerConfig;

use crate::expand::{expand_word, Vars};
use crate::{Error, Result};

pub fn stopsignal(cfg: &mut ContainerConfig, arg: &str, vars: &Vars, escape: char) -> Result<String> {
    let s = expand_word(arg.trim(), vars, escape)?;
    let name = s.trim_start_matches("SIG");
    let numeric = s.parse::<u32>().is_ok_and(|n| n > 0 && n < 65);
    if !numeric && (name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '-')) {
        return Err(Error::InvalidArgument(format!("Invalid signal: {s}")));
    }
    cfg.stop_signal = Some(s.clone());
    Ok(format!("STOPSIGNAL {s}"))
}
