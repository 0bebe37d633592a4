//! `FROM image|stage|scratch [AS name]`: the stage's starting state. The child config keeps
//! the base's runtime config but not its ONBUILD triggers (run by the build instead) nor the
//! legacy fields dockerd writes per image.

use berth_image::{ImageConfig, RootFs};

use super::State;
use crate::backend::BuildBackend;
use crate::build::{short, Builder};
use crate::expand::Vars;
use crate::Result;

pub async fn from<B: BuildBackend>(
    b: &mut Builder<'_, B>,
    index: usize,
    base: &str,
    platform: Option<&str>,
    _meta: &Vars,
) -> Result<State> {
    let mut state = State::default();
    if base.eq_ignore_ascii_case("scratch") {
        let p = b.platform();
        state.config = ImageConfig {
            architecture: p.architecture,
            os: p.os,
            variant: p.variant,
            rootfs: RootFs::default(),
            ..Default::default()
        };
        state.config.config.env = None;
        return Ok(state);
    }
    let (id, mut config) = match b.stage_image(base, index) {
        Some(id) => {
            let c = b.backend.image_config(&id).await?;
            (id, c)
        }
        None => {
            let platform = platform.or(b.opts.platform.as_deref());
            b.backend.resolve_image(base, b.opts.pull, platform, &b.run_out).await?
        }
    };
    config.extra.clear();
    b.say(format!(" ---> {}\n", short(&id))).await?;
    state.image = id;
    state.config = config;
    Ok(state)
}
