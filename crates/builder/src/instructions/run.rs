//! `RUN [--mount=…] [--network=…] cmd`: a step container on the current image whose
//! writable layer becomes the next layer. Mounts: `type=cache` (persistent directory per id),
//! `type=secret` (a read-only file at `/run/secrets/<id>`, never in a layer), `type=bind`
//! (from the context, or with `from=` from a stage or image mounted for the step; read-only
//! unless `rw`, and `rw` writes are discarded), `type=tmpfs`.

use super::{argv, State};
use crate::backend::{BuildBackend, Layer, RunMount, RunSpec};
use crate::build::{cache_key, short, Builder};
use crate::parse::{Cmd, HereDoc};
use crate::step_container::StepContainer;
use crate::{Error, Result};

/// One `--mount=` value, parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MountFlag {
    pub kind: String,
    pub target: String,
    pub id: String,
    pub source: String,
    pub from: String,
    pub required: bool,
    pub rw: bool,
}

pub fn parse_mount(v: &str) -> Result<MountFlag> {
    let mut m = MountFlag { kind: "bind".into(), ..Default::default() };
    for kv in v.split(',') {
        let (k, val) = kv.split_once('=').unwrap_or((kv, "true"));
        match k.trim() {
            "type" => m.kind = val.to_string(),
            "target" | "dst" | "destination" => m.target = val.to_string(),
            "id" => m.id = val.to_string(),
            "source" | "src" => m.source = val.to_string(),
            "from" => m.from = val.to_string(),
            "required" => m.required = val == "true",
            "rw" | "readwrite" => m.rw = val == "true",
            "ro" | "readonly" => m.rw = val != "true",
            "sharing" | "mode" | "uid" | "gid" | "size" | "env" => {}
            other => return Err(Error::Parse(format!("unexpected key '{other}' in '{kv}'"))),
        }
    }
    match m.kind.as_str() {
        "secret" => {
            if m.id.is_empty() {
                m.id = m.target.rsplit('/').next().unwrap_or_default().to_string();
            }
            if m.id.is_empty() {
                return Err(Error::Parse("secret mount needs an id or a target".into()));
            }
            if m.target.is_empty() {
                m.target = format!("/run/secrets/{}", m.id);
            }
        }
        "cache" | "bind" | "tmpfs" => {
            if m.target.is_empty() {
                return Err(Error::Parse(format!("mount type={} requires a target", m.kind)));
            }
            if m.kind == "cache" && m.id.is_empty() {
                m.id = m.target.clone();
            }
        }
        other => return Err(Error::Parse(format!("unsupported mount type \"{other}\""))),
    }
    Ok(m)
}

/// `cat <<EOF > x` → `EOF` (the delimiter of the first heredoc, quotes removed).
fn heredoc_delimiter(line: &str) -> Option<String> {
    let rest = &line[line.find("<<")? + 2..];
    let rest = rest.strip_prefix('-').unwrap_or(rest);
    let word: String = rest.trim_start().chars().take_while(|c| !c.is_whitespace()).collect();
    let w = word.trim_matches(|c| c == '"' || c == '\'').to_string();
    (!w.is_empty()).then_some(w)
}

/// The argv of the step.
pub fn command(cmd: &Cmd, heredocs: &[HereDoc], shell: &[String]) -> Vec<String> {
    match cmd {
        Cmd::Shell(s) if !heredocs.is_empty() => {
            let first = s.lines().next().unwrap_or("").trim();
            let bare = first.starts_with("<<") && first.split_whitespace().count() == 1;
            let script = if bare {
                heredocs[0].body.clone()
            } else {
                let delim = heredoc_delimiter(first).unwrap_or_else(|| "EOF".into());
                format!("{first}\n{}{delim}", heredocs[0].body)
            };
            shell.iter().cloned().chain(std::iter::once(script)).collect()
        }
        other => argv(other, shell),
    }
}

pub async fn run<B: BuildBackend>(
    b: &mut Builder<'_, B>,
    state: &mut State,
    flags: &[(String, String)],
    cmd: &Cmd,
    heredocs: &[HereDoc],
) -> Result<()> {
    if state.image.is_empty() {
        return Err(Error::InvalidArgument("RUN needs a base image: this stage is FROM scratch with no files".into()));
    }
    let args = command(cmd, heredocs, &state.shell());
    let mut network =
        b.opts.network.clone().filter(|n| !n.is_empty() && n != "default").unwrap_or_else(|| "none".into());
    let mut mounts = Vec::new();
    let mut described = Vec::new();
    let mut from_mounts = Vec::new();
    for (k, v) in flags {
        match k.as_str() {
            "mount" => {
                let m = parse_mount(v)?;
                described.push(format!("{}:{}:{}:{}:{}:{}", m.kind, m.target, m.id, m.source, m.from, m.rw));
                if m.kind == "bind" && !m.from.is_empty() {
                    let image = match b.stage_image(&m.from, b.stage_names.len()) {
                        Some(id) => id,
                        None => b.backend.resolve_image(&m.from, false, None, &b.run_out).await?.0,
                    };
                    // The key carries the image the files come from, not just its name.
                    described.push(image.clone());
                    from_mounts.push((m, image));
                    continue;
                }
                if let Some(rm) = resolve_mount(b, &m)? {
                    mounts.push(rm);
                }
            }
            "network" => {
                network = match v.as_str() {
                    "default" | "" => network,
                    "none" | "host" => v.clone(),
                    other => return Err(Error::InvalidArgument(format!("unsupported network mode \"{other}\""))),
                }
            }
            "security" => {}
            other => return Err(Error::Parse(format!("Unknown flag: {other}"))),
        }
    }
    // dockerd's `|<n> K=V… <argv>` when build args are in scope (history and container_config).
    let recorded_cmd: Vec<String> = if state.args.is_empty() {
        args.clone()
    } else {
        let kv = state.args.iter().map(|(k, v)| format!("{k}={v}"));
        std::iter::once(format!("|{}", state.args.len())).chain(kv).chain(args.iter().cloned()).collect()
    };
    let created_by = recorded_cmd.join(" ");
    let hidden: Vec<String> = state.hidden_args.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let extra = format!("{}\n{network}\n{}", described.join("\n"), hidden.join("\n"));
    let key = cache_key(&state.image, &created_by, &extra);
    if let Some(hit) = b.cached(&key, &state.image, &created_by).await {
        return b.use_cache(state, hit).await;
    }
    let mut env = state.config.config.env.clone().unwrap_or_default();
    for (k, v) in state.args.iter().chain(&state.hidden_args) {
        if !env.iter().any(|e| e.split_once('=').map_or(e.as_str(), |p| p.0) == k) {
            env.push(format!("{k}={v}"));
        }
    }
    let mut mounted = Vec::new();
    for (m, image) in &from_mounts {
        let r = match b.backend.mount_image(image).await {
            Ok(mi) => {
                let source = crate::context::secure_join(&mi.root, &crate::dockerignore::clean(&m.source));
                mounted.push(mi);
                if source.exists() {
                    Ok(RunMount::Bind { source, target: m.target.clone(), readonly: !m.rw })
                } else {
                    Err(Error::InvalidArgument(format!("bind mount source {} not found in {}", m.source, m.from)))
                }
            }
            Err(e) => Err(e),
        };
        match r {
            Ok(rm) => mounts.push(rm),
            Err(e) => {
                for mi in &mounted {
                    b.backend.unmount_image(mi).await;
                }
                return Err(e);
            }
        }
    }
    let spec = RunSpec {
        image: state.image.clone(),
        args: args.clone(),
        env,
        user: state.config.config.user.clone().unwrap_or_default(),
        workdir: state.workdir(),
        network,
        mounts: mounts.clone(),
        extra_hosts: b.opts.extra_hosts.clone(),
        limits: b.opts.limits.clone(),
    };
    let ran = b.backend.run(spec, &b.run_out).await;
    for mi in &mounted {
        b.backend.unmount_image(mi).await;
    }
    let (container, code) = ran?;
    if code != 0 {
        if b.opts.force_rm {
            let _ = b.backend.remove_container(&container).await;
        }
        return Err(Error::RunFailed { command: args.join(" "), code });
    }
    let drop_paths = mounts.iter().map(|m| m.target().trim_start_matches('/').to_string()).collect();
    let cfg = state.config.clone();
    let sc = StepContainer::run(&container, recorded_cmd);
    let layer = Layer::Container { id: container.clone(), drop_paths };
    let committed = b.commit_in(state, cfg, created_by, layer, &sc).await;
    if b.opts.rm || b.opts.force_rm || committed.is_err() {
        if committed.is_ok() {
            b.say(format!("Removing intermediate container {}\n", short(&container))).await?;
        }
        b.backend.remove_container(&container).await?;
    }
    let id = committed?;
    b.backend.cache_put(&key, &id).await?;
    b.say(format!(" ---> {}\n", short(&id))).await
}

fn resolve_mount<B: BuildBackend>(b: &Builder<'_, B>, m: &MountFlag) -> Result<Option<RunMount>> {
    Ok(Some(match m.kind.as_str() {
        "secret" => match b.opts.secrets.get(&m.id) {
            Some(path) => RunMount::Bind { source: path.clone(), target: m.target.clone(), readonly: true },
            None if m.required => return Err(Error::InvalidArgument(format!("secret {} not found", m.id))),
            None => return Ok(None),
        },
        "cache" => {
            RunMount::Bind { source: b.backend.cache_mount_dir(&m.id)?, target: m.target.clone(), readonly: false }
        }
        "tmpfs" => RunMount::Tmpfs { target: m.target.clone() },
        _ => {
            let rel = crate::dockerignore::clean(&m.source);
            let source = crate::context::secure_join(&b.context.root, &rel);
            if !source.exists() {
                return Err(Error::InvalidArgument(format!(
                    "bind mount source {} not found in the build context",
                    m.source
                )));
            }
            RunMount::Bind { source, target: m.target.clone(), readonly: !m.rw }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mounts_and_heredocs() {
        let m = parse_mount("type=secret,id=tok").unwrap();
        assert_eq!((m.target.as_str(), m.id.as_str()), ("/run/secrets/tok", "tok"));
        let m = parse_mount("type=cache,target=/root/.cache").unwrap();
        assert_eq!(m.id, "/root/.cache");
        assert!(parse_mount("type=bogus,target=/x").is_err());
        let sh = vec!["/bin/sh".to_string(), "-c".to_string()];
        let hd = [HereDoc { expand: true, body: "echo hi\n".into() }];
        assert_eq!(command(&Cmd::Shell("<<EOF".into()), &hd, &sh)[2], "echo hi\n");
        assert_eq!(command(&Cmd::Shell("cat <<EOF > /x".into()), &hd, &sh)[2], "cat <<EOF > /x\necho hi\nEOF");
    }
}
