//! One function per Dockerfile instruction. Config-only instructions change the image config
//! and return the text dockerd records in the history (`LABEL ver=1`); `RUN`, `COPY`/`ADD`
//! and `WORKDIR` produce layers through the backend.

pub mod add_url;
pub mod arg;
pub mod cmd;
pub mod copy;
pub mod entrypoint;
pub mod env;
pub mod expose;
pub mod from;
pub mod healthcheck;
pub mod label;
pub mod maintainer;
pub mod onbuild;
pub mod run;
pub mod shell;
pub mod stopsignal;
pub mod user;
pub mod volume;
pub mod workdir;

use berth_image::ImageConfig;

use crate::expand::Vars;
use crate::parse::Cmd;

/// Where a stage is: the image built so far and the build args in scope.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct State {
    /// Image id so far (`""` while a `FROM scratch` stage has no step yet).
    pub image: String,
    pub config: ImageConfig,
    /// Declared build args with a value, in declaration order (shown in RUN history).
    pub args: Vec<(String, String)>,
    /// Predefined proxy args given with `--build-arg` (passed to RUN, never recorded).
    pub hidden_args: Vec<(String, String)>,
}

impl State {
    /// Variables for expansion: build args, overridden by ENV.
    pub fn vars(&self) -> Vars {
        let mut v: Vars = self.args.iter().chain(&self.hidden_args).cloned().collect();
        for e in self.config.config.env.iter().flatten() {
            let (k, val) = e.split_once('=').unwrap_or((e, ""));
            v.insert(k.to_string(), val.to_string());
        }
        v
    }

    /// The `SHELL` for shell forms (`/bin/sh -c` by default).
    pub fn shell(&self) -> Vec<String> {
        self.config
            .config
            .shell
            .clone()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| vec!["/bin/sh".into(), "-c".into()])
    }

    /// The working directory, `/` when unset.
    pub fn workdir(&self) -> String {
        self.config.config.working_dir.clone().filter(|w| !w.is_empty()).unwrap_or_else(|| "/".into())
    }

    /// dockerd's `CreatedBy` for a config-only step: `<shell> #(nop)  <text>`.
    pub fn nop(&self, text: &str) -> String {
        format!("{} #(nop)  {text}", self.shell().join(" "))
    }

    /// `CreatedBy` with one space (`WORKDIR`, `COPY`), as dockerd writes those.
    pub fn nop1(&self, text: &str) -> String {
        format!("{} #(nop) {text}", self.shell().join(" "))
    }
}

/// The argv of a CMD/ENTRYPOINT/RUN: exec form as is, shell form wrapped in the shell.
pub fn argv(cmd: &Cmd, shell: &[String]) -> Vec<String> {
    match cmd {
        Cmd::Exec(v) => v.clone(),
        Cmd::Shell(s) => shell.iter().cloned().chain(std::iter::once(s.clone())).collect(),
    }
}

/// Go's `%q` of a string slice, as dockerd prints `CMD ["/bin/sh" "-c" "x"]` in history.
pub fn go_quoted(v: &[String]) -> String {
    let items: Vec<String> = v.iter().map(|s| serde_json::to_string(s).unwrap_or_default()).collect();
    format!("[{}]", items.join(" "))
}
