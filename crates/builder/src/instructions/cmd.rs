//! `CMD`: the default command (exec form, or shell form wrapped in the current SHELL).

use berth_image::ContainerConfig;

use super::{argv, go_quoted};
use crate::parse::Cmd;

pub fn cmd(cfg: &mut ContainerConfig, c: &Cmd, shell: &[String]) -> String {
    let v = argv(c, shell);
    let text = format!("CMD {}", go_quoted(&v));
    cfg.cmd = Some(v);
    text
}
