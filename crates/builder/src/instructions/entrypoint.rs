//! `ENTRYPOINT`: also clears a CMD inherited from the base image, as dockerd does.

use berth_image::ContainerConfig;

use super::{argv, go_quoted};
use crate::parse::Cmd;

pub fn entrypoint(cfg: &mut ContainerConfig, c: &Cmd, shell: &[String], cmd_set_in_stage: bool) -> String {
    let v = argv(c, shell);
    let text = format!("ENTRYPOINT {}", go_quoted(&v));
    cfg.entrypoint = Some(v);
    if !cmd_set_in_stage {
        cfg.cmd = None;
    }
    text
}
