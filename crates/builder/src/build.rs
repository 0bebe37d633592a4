//! The build: Dockerfile → the stages the target needs → one step at a time, each looked up
//! in the cache by key (parent image + the step's inputs) before it runs; progress written as
//! dockerd's classic builder writes it (`Step 2/5 : RUN …`, ` ---> Using cache`, ` ---> <id>`).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use berth_api_types::query::images::JsonMessage;
use berth_image::{HistoryEntry, ImageConfig, Platform};
use sha2::{Digest as _, Sha256};

use crate::backend::{BuildBackend, Layer, Progress};
use crate::context::SourceRoot;
use crate::dockerignore::Ignore;
use crate::expand::{expand_word, Vars};
use crate::instructions::{self as ins, State};
use crate::parse::{parse, ArgDecl, Dockerfile, Kind, Stage, Step};
use crate::step_container::StepContainer;
use crate::{Error, Result};

/// What `POST /build` asks for (after the engine validated tags).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BuildOptions {
    /// Path of the Dockerfile inside the context.
    pub dockerfile: String,
    /// Tags to apply, as the client wrote them (shown in `Successfully tagged …`).
    pub tags: Vec<String>,
    /// `--build-arg`: `None` = take the value from the client's environment (already resolved
    /// by the CLI; unset here).
    pub build_args: BTreeMap<String, Option<String>>,
    pub labels: BTreeMap<String, String>,
    pub target: Option<String>,
    pub no_cache: bool,
    pub pull: bool,
    pub rm: bool,
    pub force_rm: bool,
    /// Network of RUN steps (`none` by default).
    pub network: Option<String>,
    pub platform: Option<String>,
    pub quiet: bool,
    pub extra_hosts: Vec<String>,
    /// `--secret id=…`: files the engine wrote for this build, mounted only during RUN steps
    /// that ask for them.
    pub secrets: BTreeMap<String, PathBuf>,
    /// `--cache-from`: images whose layers may stand in for steps (after the local cache).
    pub cache_from: Vec<String>,
    /// Limits of the RUN containers (`--shm-size`, `--memory`, `--cpu-*`).
    pub limits: crate::backend::RunLimits,
    /// A private directory for temporary files of this build.
    pub scratch: PathBuf,
}

/// A running build.
pub struct Builder<'a, B: BuildBackend> {
    pub(crate) backend: &'a B,
    pub(crate) opts: &'a BuildOptions,
    pub(crate) out: &'a Progress,
    /// Where RUN output goes (a closed channel when quiet).
    pub(crate) run_out: Progress,
    pub(crate) context: SourceRoot,
    pub(crate) escape: char,
    pub(crate) step: usize,
    pub(crate) total: usize,
    pub(crate) stage_images: Vec<Option<String>>,
    pub(crate) stage_names: Vec<Option<String>>,
    pub(crate) used_args: BTreeSet<String>,
}

/// The first 12 hex digits of an image or container id.
pub fn short(id: &str) -> &str {
    let h = id.strip_prefix("sha256:").unwrap_or(id);
    &h[..h.len().min(12)]
}

/// Builds the Dockerfile in `context_dir` and returns the image id.
pub async fn build<B: BuildBackend>(
    backend: &B,
    context_dir: &Path,
    opts: &BuildOptions,
    out: &Progress,
) -> Result<String> {
    let name = if opts.dockerfile.is_empty() { "Dockerfile" } else { &opts.dockerfile };
    let text = fs::read_to_string(crate::context::secure_join(context_dir, name))
        .map_err(|_| Error::InvalidArgument(format!("Cannot locate specified Dockerfile: {name}")))?;
    let ignore = fs::read_to_string(context_dir.join(".dockerignore")).map(|t| Ignore::parse(&t)).unwrap_or_default();
    let df = parse(&text)?;
    let (quiet_tx, _) = tokio::sync::mpsc::channel(1);
    let mut b = Builder {
        backend,
        opts,
        out,
        run_out: if opts.quiet { quiet_tx } else { out.clone() },
        context: SourceRoot { root: context_dir.to_path_buf(), ignore: Some(ignore) },
        escape: df.escape,
        step: 0,
        total: 0,
        stage_images: vec![None; df.stages.len()],
        stage_names: df.stages.iter().map(|s| s.name.clone()).collect(),
        used_args: BTreeSet::new(),
    };
    let id = b.run(df).await?;
    let unused: Vec<&String> = opts
        .build_args
        .keys()
        .filter(|k| !b.used_args.contains(*k) && !ins::arg::PREDEFINED.contains(&k.as_str()))
        .collect();
    if !unused.is_empty() {
        let list: Vec<&str> = unused.iter().map(|s| s.as_str()).collect();
        b.say(format!("[Warning] One or more build-args [{}] were not consumed\n", list.join(" "))).await?;
    }
    b.send(JsonMessage { aux: Some(serde_json::json!({ "ID": id })), ..Default::default() }).await?;
    b.say(format!("Successfully built {}\n", short(&id))).await?;
    for t in &opts.tags {
        backend.tag(&id, t).await?;
        b.say(format!("Successfully tagged {t}\n")).await?;
    }
    if opts.quiet {
        out.send(JsonMessage::stream(format!("{id}\n"))).await.map_err(|_| Error::Cancelled)?;
    }
    Ok(id)
}

/// The sha256 cache key of a step: parent image, what the step records, and its other inputs.
pub fn cache_key(parent: &str, created_by: &str, extra: &str) -> String {
    let mut h = Sha256::new();
    h.update(format!("{parent}\n{created_by}\n{extra}").as_bytes());
    hex::encode(h.finalize())
}

/// The stages `target` needs: its base chain and `COPY --from`/`RUN --mount=from` sources.
pub fn needed_stages(df: &Dockerfile, target: usize, meta: &Vars, escape: char) -> Vec<bool> {
    let mut need = vec![false; df.stages.len()];
    let mut todo = vec![target];
    while let Some(i) = todo.pop() {
        if need[i] {
            continue;
        }
        need[i] = true;
        todo.extend(stage_deps(df, i, meta, escape));
    }
    need
}

/// The earlier stages stage `i` uses directly: its base and its `COPY --from` /
/// `RUN --mount=…,from=` sources.
pub fn stage_deps(df: &Dockerfile, i: usize, meta: &Vars, escape: char) -> Vec<usize> {
    let find = |name: &str| -> Option<usize> {
        let lower = name.to_ascii_lowercase();
        df.stages[..i]
            .iter()
            .position(|s| s.name.as_deref() == Some(lower.as_str()))
            .or_else(|| name.parse::<usize>().ok().filter(|j| *j < i))
    };
    let mut deps = Vec::new();
    let base = expand_word(&df.stages[i].base, meta, escape).unwrap_or_default();
    deps.extend(find(&base));
    for s in &df.stages[i].steps {
        let flags: Vec<String> = match &s.kind {
            Kind::Copy { flags, .. } => flags.iter().filter(|(k, _)| k == "from").map(|(_, v)| v.clone()).collect(),
            Kind::Run { flags, .. } => flags
                .iter()
                .filter(|(k, _)| k == "mount")
                .filter_map(|(_, v)| v.split(',').find_map(|kv| kv.strip_prefix("from=")).map(str::to_string))
                .collect(),
            _ => vec![],
        };
        deps.extend(flags.iter().filter_map(|f| find(f)));
    }
    deps.sort_unstable();
    deps.dedup();
    deps
}

impl<B: BuildBackend> Builder<'_, B> {
    pub(crate) async fn send(&self, m: JsonMessage) -> Result<()> {
        self.out.send(m).await.map_err(|_| Error::Cancelled)
    }

    /// A `{"stream": …}` line, unless quiet.
    pub(crate) async fn say(&self, s: impl Into<String>) -> Result<()> {
        if self.opts.quiet {
            return Ok(());
        }
        self.send(JsonMessage::stream(s)).await
    }

    async fn say_step(&mut self, original: &str) -> Result<()> {
        self.step += 1;
        self.say(format!("Step {}/{} : {original}", self.step, self.total)).await?;
        self.say("\n").await
    }

    async fn run(&mut self, mut df: Dockerfile) -> Result<String> {
        let target = match &self.opts.target {
            Some(t) if !t.is_empty() => {
                let lower = t.to_ascii_lowercase();
                df.stages
                    .iter()
                    .position(|s| s.name.as_deref() == Some(lower.as_str()))
                    .ok_or_else(|| Error::InvalidArgument(format!("failed to reach build target {t} in Dockerfile")))?
            }
            _ => df.stages.len() - 1,
        };
        if !self.opts.labels.is_empty() {
            let text: Vec<String> = self
                .opts
                .labels
                .iter()
                .map(|(k, v)| {
                    format!("{}={}", serde_json::Value::from(k.as_str()), serde_json::Value::from(v.as_str()))
                })
                .collect();
            let args = text.join(" ");
            df.stages[target].steps.push(Step { original: format!("LABEL {args}"), kind: Kind::Label(args) });
        }
        self.total = df.meta_args.len() + df.stages[..=target].iter().map(|s| 1 + s.steps.len()).sum::<usize>();
        let mut meta = Vars::new();
        for d in &df.meta_args {
            self.say_step(&decl_text(d)).await?;
            self.used_args.insert(d.name.clone());
            if let Some(v) = ins::arg::value(d, &self.opts.build_args, &meta, self.escape)? {
                meta.insert(d.name.clone(), v);
            }
        }
        let need = needed_stages(&df, target, &meta, self.escape);
        self.run_stages(&df, target, &need, &meta).await
    }

    /// Builds stage `i` from its `FROM` to its last step; returns its image.
    pub(crate) async fn build_stage(&mut self, i: usize, stage: &Stage, meta: &Vars) -> Result<String> {
        self.say_step(&stage.original).await?;
        let base = expand_word(&stage.base, meta, self.escape)?;
        let mut state = ins::from::from(self, i, &base, stage.platform.as_deref(), meta).await?;
        for (k, v) in &self.opts.build_args {
            if let (true, Some(v)) = (ins::arg::PREDEFINED.contains(&k.as_str()), v) {
                state.hidden_args.push((k.clone(), v.clone()));
            }
        }
        let triggers = state.config.config.on_build.take().unwrap_or_default();
        if !triggers.is_empty() {
            let n = triggers.len();
            self.say(format!("# Executing {n} build trigger{}\n", if n == 1 { "" } else { "s" })).await?;
            let text = format!("FROM scratch\n{}\n", triggers.join("\n"));
            let parsed = parse(&text)?;
            for step in &parsed.stages[0].steps {
                self.dispatch(&mut state, step).await?;
            }
        }
        let mut cmd_set = false;
        for step in &stage.steps {
            if matches!(step.kind, Kind::Cmd(_)) {
                cmd_set = true;
            }
            self.say_step(&step.original).await?;
            if let Kind::Entrypoint(c) = &step.kind {
                let mut cfg = state.config.clone();
                let text = ins::entrypoint::entrypoint(&mut cfg.config, c, &state.shell(), cmd_set);
                let created_by = state.nop(&text);
                self.config_step(&mut state, cfg, created_by, None, "").await?;
                continue;
            }
            self.dispatch(&mut state, step).await?;
        }
        if state.image.is_empty() {
            return Err(Error::InvalidArgument("No image was generated. Is your Dockerfile empty?".into()));
        }
        Ok(state.image)
    }

    /// Runs one instruction on `state`.
    async fn dispatch(&mut self, state: &mut State, step: &Step) -> Result<()> {
        let vars = state.vars();
        let esc = self.escape;
        let mut cfg = state.config.clone();
        let c = &mut cfg.config;
        let text = match &step.kind {
            Kind::Run { flags, cmd, heredocs } => return ins::run::run(self, state, flags, cmd, heredocs).await,
            Kind::Copy { add, flags, srcs, heredocs, dest } => {
                return ins::copy::copy(self, state, *add, flags, srcs, heredocs, dest).await
            }
            Kind::Workdir(arg) => return ins::workdir::workdir_step(self, state, arg).await,
            Kind::Arg(decls) => {
                for d in decls {
                    self.used_args.insert(d.name.clone());
                }
                let mut next = state.clone();
                let text = ins::arg::arg(&mut next, decls, &self.opts.build_args, esc)?;
                let created_by = state.nop(&text);
                state.args = next.args;
                state.hidden_args = next.hidden_args;
                let cfg = state.config.clone();
                // As dockerd: the ARG step itself is cached whatever the value; the steps that
                // use the value carry it in their own keys.
                return self.config_step(state, cfg, created_by, None, "").await;
            }
            Kind::Env(a) => ins::env::env(c, a, &vars, esc)?,
            Kind::Label(a) => ins::label::label(c, a, &vars, esc)?,
            Kind::User(a) => ins::user::user(c, a, &vars, esc)?,
            Kind::Cmd(cmd) => ins::cmd::cmd(c, cmd, &state.shell()),
            Kind::Entrypoint(cmd) => ins::entrypoint::entrypoint(c, cmd, &state.shell(), false),
            Kind::Expose(p) => ins::expose::expose(c, p, &vars, esc)?,
            Kind::Volume(p) => ins::volume::volume(c, p, &vars, esc)?,
            Kind::StopSignal(a) => ins::stopsignal::stopsignal(c, a, &vars, esc)?,
            Kind::Shell(v) => ins::shell::shell(c, v)?,
            Kind::Healthcheck { flags, cmd } => ins::healthcheck::healthcheck(c, flags, cmd.as_ref())?,
            Kind::Onbuild(t) => ins::onbuild::onbuild(c, t)?,
            Kind::Maintainer(n) => ins::maintainer::maintainer(&mut cfg, n),
        };
        let created_by = state.nop(&text);
        self.config_step(state, cfg, created_by, None, "").await
    }

    /// The image a step made before (by key, else from `--cache-from` images with the same
    /// parent and history text), unless `--no-cache`.
    pub(crate) async fn cached(&self, key: &str, parent: &str, created_by: &str) -> Option<(String, ImageConfig)> {
        if self.opts.no_cache {
            return None;
        }
        if let Some(hit) = self.backend.cache_get(key).await {
            return Some(hit);
        }
        if self.opts.cache_from.is_empty() || parent.is_empty() {
            return None;
        }
        self.backend.cache_from(&self.opts.cache_from, parent, created_by).await
    }

    /// Moves `state` to a cached image: ` ---> Using cache`, ` ---> <id>`.
    pub(crate) async fn use_cache(&self, state: &mut State, (id, config): (String, ImageConfig)) -> Result<()> {
        self.say(" ---> Using cache\n").await?;
        state.config = config;
        self.say(format!(" ---> {}\n", short(&id))).await?;
        state.image = id;
        Ok(())
    }

    /// Commits `config` (plus a history entry) and `layer` as the next image, through the
    /// cache.
    pub(crate) async fn config_step(
        &self,
        state: &mut State,
        config: ImageConfig,
        created_by: String,
        layer: Option<Layer>,
        key_extra: &str,
    ) -> Result<()> {
        let key = cache_key(&state.image, &created_by, key_extra);
        if let Some(hit) = self.cached(&key, &state.image, &created_by).await {
            return self.use_cache(state, hit).await;
        }
        let layer = layer.unwrap_or(Layer::None);
        let id = self.commit_announced(state, config, created_by, layer).await?;
        self.backend.cache_put(&key, &id).await?;
        self.say(format!(" ---> {}\n", short(&id))).await
    }

    /// [`Self::commit`] for steps dockerd runs in a short-lived container (config-only
    /// steps, `WORKDIR`): ` ---> Running in …` before, `Removing intermediate container …`
    /// after (with `--rm`).
    pub(crate) async fn commit_announced(
        &self,
        state: &mut State,
        config: ImageConfig,
        created_by: String,
        layer: Layer,
    ) -> Result<String> {
        let sc = StepContainer::nop(&state.shell(), &created_by);
        self.say(format!(" ---> Running in {}\n", short(&sc.id))).await?;
        let id = self.commit_in(state, config, created_by, layer, &sc).await?;
        if self.opts.rm || self.opts.force_rm {
            self.say(format!("Removing intermediate container {}\n", short(&sc.id))).await?;
        }
        Ok(id)
    }

    /// Stamps `config` and appends the history entry, then commits through the backend and
    /// moves `state` to the new image.
    pub(crate) async fn commit(
        &self,
        state: &mut State,
        config: ImageConfig,
        created_by: String,
        layer: Layer,
    ) -> Result<String> {
        let sc = StepContainer::nop(&state.shell(), &created_by);
        self.commit_in(state, config, created_by, layer, &sc).await
    }

    /// [`Self::commit`], recording `sc` as the container the step ran in.
    pub(crate) async fn commit_in(
        &self,
        state: &mut State,
        mut config: ImageConfig,
        created_by: String,
        layer: Layer,
        sc: &StepContainer,
    ) -> Result<String> {
        sc.record(&mut config, &state.image);
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
        config.created = Some(now.clone());
        config.history.push(HistoryEntry {
            created: Some(now),
            created_by: Some(created_by),
            empty_layer: layer == Layer::None,
            ..Default::default()
        });
        let id = self.backend.commit(&state.image, config, layer).await?;
        state.config = self.backend.image_config(&id).await?;
        state.image = id.clone();
        Ok(id)
    }

    /// The image of stage `name` (by `AS` name or index) if it was built before `before`.
    pub(crate) fn stage_image(&self, name: &str, before: usize) -> Option<String> {
        let lower = name.to_ascii_lowercase();
        let idx = self.stage_names[..before.min(self.stage_names.len())]
            .iter()
            .position(|n| n.as_deref() == Some(lower.as_str()))
            .or_else(|| name.parse::<usize>().ok().filter(|i| *i < before))?;
        self.stage_images[idx].clone()
    }

    /// The platform an image built from scratch records.
    pub(crate) fn platform(&self) -> Platform {
        self.opts
            .platform
            .as_deref()
            .and_then(|p| {
                let mut it = p.split('/');
                let os = it.next()?.to_string();
                let arch = it.next()?.to_string();
                Some(Platform { os, architecture: arch, variant: it.next().map(str::to_string) })
            })
            .unwrap_or_else(Platform::host)
    }
}

fn decl_text(d: &ArgDecl) -> String {
    match &d.default {
        Some(v) => format!("ARG {}={v}", d.name),
        None => format!("ARG {}", d.name),
    }
}
