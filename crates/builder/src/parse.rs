//! Dockerfile text → stages of steps, with `parse-dockerfile` doing the tokenising (directives,
//! flags, JSON forms, heredocs). Arguments stay unexpanded here: expansion needs the build
//! args and ENV in scope, which only the build knows.

use parse_dockerfile::{Command, HealthcheckArguments, Instruction, JsonOrStringArray, Source};

use crate::Error;

/// A parsed Dockerfile.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Dockerfile {
    /// The `# escape=` directive (default `\`).
    pub escape: char,
    /// `ARG`s before the first `FROM` (usable in `FROM` lines).
    pub meta_args: Vec<ArgDecl>,
    pub stages: Vec<Stage>,
}

/// `ARG name[=default]`, unexpanded.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ArgDecl {
    pub name: String,
    pub default: Option<String>,
}

/// One `FROM` and the steps after it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Stage {
    /// The `AS` name, lowercased.
    pub name: Option<String>,
    /// The image, unexpanded (`${BASE}`, `busybox`, `scratch`, or an earlier stage's name).
    pub base: String,
    pub platform: Option<String>,
    /// The `FROM` line as written (for `Step n/N : …`).
    pub original: String,
    pub steps: Vec<Step>,
}

/// One instruction after `FROM`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Step {
    /// The logical line as written (continuations joined), for `Step n/N : …`.
    pub original: String,
    pub kind: Kind,
}

/// Exec form (`["a","b"]`) or shell form (`a b`, run with the image's `SHELL`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub enum Cmd {
    Exec(Vec<String>),
    Shell(String),
}

/// A here-document: its body and whether variables in it are expanded (unquoted delimiter).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HereDoc {
    pub expand: bool,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub enum Kind {
    Run { flags: Vec<(String, String)>, cmd: Cmd, heredocs: Vec<HereDoc> },
    Copy { add: bool, flags: Vec<(String, String)>, srcs: Vec<String>, heredocs: Vec<HereDoc>, dest: String },
    Env(String),
    Label(String),
    Arg(Vec<ArgDecl>),
    Workdir(String),
    User(String),
    Cmd(Cmd),
    Entrypoint(Cmd),
    Expose(Vec<String>),
    Volume(Vec<String>),
    StopSignal(String),
    Shell(Vec<String>),
    Healthcheck { flags: Vec<(String, String)>, cmd: Option<Cmd> },
    Onbuild(String),
    Maintainer(String),
}

impl Kind {
    /// The instruction keyword, upper case.
    pub fn keyword(&self) -> &'static str {
        match self {
            Kind::Run { .. } => "RUN",
            Kind::Copy { add: true, .. } => "ADD",
            Kind::Copy { .. } => "COPY",
            Kind::Env(_) => "ENV",
            Kind::Label(_) => "LABEL",
            Kind::Arg(_) => "ARG",
            Kind::Workdir(_) => "WORKDIR",
            Kind::User(_) => "USER",
            Kind::Cmd(_) => "CMD",
            Kind::Entrypoint(_) => "ENTRYPOINT",
            Kind::Expose(_) => "EXPOSE",
            Kind::Volume(_) => "VOLUME",
            Kind::StopSignal(_) => "STOPSIGNAL",
            Kind::Shell(_) => "SHELL",
            Kind::Healthcheck { .. } => "HEALTHCHECK",
            Kind::Onbuild(_) => "ONBUILD",
            Kind::Maintainer(_) => "MAINTAINER",
        }
    }
}

/// Parses a Dockerfile; errors read like dockerd's (`dockerfile parse error line N: …`).
pub fn parse(text: &str) -> Result<Dockerfile, Error> {
    let d = parse_dockerfile::parse(text).map_err(|e| Error::Parse(format!("dockerfile parse error: {e}")))?;
    let escape = d.parser_directives.escape.as_ref().map_or('\\', |e| e.value.value);
    let starts: Vec<usize> = d.instructions.iter().map(keyword_start).collect();
    let mut meta_args = Vec::new();
    let mut stages: Vec<Stage> = Vec::new();
    let mut early: Option<String> = None;
    for (i, ins) in d.instructions.iter().enumerate() {
        let end = starts.get(i + 1).copied().unwrap_or(text.len());
        let original = logical_line(&text[starts[i]..end], escape);
        let args = original.split_once(char::is_whitespace).map_or("", |(_, a)| a.trim_start()).to_string();
        if let Instruction::From(f) = ins {
            let platform = f
                .options
                .iter()
                .find(|o| o.name.value == "platform")
                .and_then(|o| o.value.as_ref())
                .map(|v| v.value.to_string());
            stages.push(Stage {
                name: f.as_.as_ref().map(|(_, n)| n.value.to_ascii_lowercase()),
                base: f.image.value.to_string(),
                platform,
                original,
                steps: vec![],
            });
            continue;
        }
        let kind = convert(ins, &args, escape)?;
        match stages.last_mut() {
            Some(stage) => stage.steps.push(Step { original, kind }),
            None => match kind {
                Kind::Arg(decls) => meta_args.extend(decls),
                other => {
                    early.get_or_insert_with(|| {
                        format!(
                            "Please provide a source image with `from` prior to {}",
                            other.keyword().to_ascii_lowercase()
                        )
                    });
                }
            },
        }
    }
    if stages.is_empty() {
        return Err(Error::Parse("no build stage in current context".into()));
    }
    if let Some(e) = early {
        return Err(Error::Parse(e));
    }
    Ok(Dockerfile { escape, meta_args, stages })
}

fn keyword_start(i: &Instruction<'_>) -> usize {
    match i {
        Instruction::Add(x) => x.add.span.start,
        Instruction::Arg(x) => x.arg.span.start,
        Instruction::Cmd(x) => x.cmd.span.start,
        Instruction::Copy(x) => x.copy.span.start,
        Instruction::Entrypoint(x) => x.entrypoint.span.start,
        Instruction::Env(x) => x.env.span.start,
        Instruction::Expose(x) => x.expose.span.start,
        Instruction::From(x) => x.from.span.start,
        Instruction::Healthcheck(x) => x.healthcheck.span.start,
        Instruction::Label(x) => x.label.span.start,
        Instruction::Maintainer(x) => x.maintainer.span.start,
        Instruction::Onbuild(x) => x.onbuild.span.start,
        Instruction::Run(x) => x.run.span.start,
        Instruction::Shell(x) => x.shell.span.start,
        Instruction::Stopsignal(x) => x.stopsignal.span.start,
        Instruction::User(x) => x.user.span.start,
        Instruction::Volume(x) => x.volume.span.start,
        Instruction::Workdir(x) => x.workdir.span.start,
        _ => 0,
    }
}

/// The instruction's first logical line: lines ending in the escape character are joined to
/// the next (comment and blank lines inside a continuation are dropped), as dockerd prints it.
pub fn logical_line(raw: &str, escape: char) -> String {
    let mut out = String::new();
    let mut first = true;
    for line in raw.lines() {
        let trimmed = line.trim();
        if !first && (trimmed.is_empty() || trimmed.starts_with('#')) {
            continue;
        }
        let line = if first { line.trim_start() } else { line };
        first = false;
        let t = line.trim_end();
        match t.strip_suffix(escape) {
            Some(head) => out.push_str(head),
            None => {
                out.push_str(t);
                break;
            }
        }
    }
    out
}

fn flags(opts: &[parse_dockerfile::Flag<'_>]) -> Vec<(String, String)> {
    opts.iter()
        .map(|f| (f.name.value.to_string(), f.value.as_ref().map(|v| v.value.to_string()).unwrap_or_default()))
        .collect()
}

/// Drops leading `--flag[=value]` words from a shell-form argument string.
fn strip_flags(args: &str) -> String {
    let mut rest = args.trim_start();
    while rest.starts_with("--") {
        rest = rest.split_once(char::is_whitespace).map_or("", |(_, r)| r).trim_start();
    }
    rest.to_string()
}

fn command(c: &Command<'_>, args: &str) -> Cmd {
    match c {
        Command::Exec(v) => Cmd::Exec(v.value.iter().map(|s| s.value.to_string()).collect()),
        _ => Cmd::Shell(args.to_string()),
    }
}

fn heredocs(h: &[parse_dockerfile::HereDoc<'_>]) -> Vec<HereDoc> {
    h.iter().map(|h| HereDoc { expand: h.expand, body: h.value.to_string() }).collect()
}

fn arg_decls(args: &str, escape: char) -> Result<Vec<ArgDecl>, Error> {
    let words = crate::expand::split_words(args, escape)?;
    if words.is_empty() {
        return Err(Error::Parse("ARG requires at least one argument".into()));
    }
    Ok(words
        .into_iter()
        .map(|w| match w.split_once('=') {
            Some((k, v)) => ArgDecl { name: k.to_string(), default: Some(v.to_string()) },
            None => ArgDecl { name: w, default: None },
        })
        .collect())
}

fn convert(ins: &Instruction<'_>, args: &str, escape: char) -> Result<Kind, Error> {
    Ok(match ins {
        Instruction::Run(r) => {
            let cmd = command(&r.arguments, &strip_flags(args));
            Kind::Run { flags: flags(&r.options), cmd, heredocs: heredocs(&r.here_docs) }
        }
        Instruction::Copy(c) => copy_kind(false, flags(&c.options), &c.src, c.dest.value.to_string()),
        Instruction::Add(c) => copy_kind(true, flags(&c.options), &c.src, c.dest.value.to_string()),
        Instruction::Env(_) => Kind::Env(args.to_string()),
        Instruction::Label(_) => Kind::Label(args.to_string()),
        Instruction::Arg(_) => Kind::Arg(arg_decls(args, escape)?),
        Instruction::Workdir(w) => Kind::Workdir(w.arguments.value.to_string()),
        Instruction::User(u) => Kind::User(u.arguments.value.to_string()),
        Instruction::Cmd(c) => Kind::Cmd(command(&c.arguments, args)),
        Instruction::Entrypoint(e) => Kind::Entrypoint(command(&e.arguments, args)),
        Instruction::Expose(e) => Kind::Expose(e.arguments.iter().map(|s| s.value.to_string()).collect()),
        Instruction::Volume(v) => Kind::Volume(match &v.arguments {
            JsonOrStringArray::Json(j) => j.value.iter().map(|s| s.value.to_string()).collect(),
            JsonOrStringArray::String(s) => s.iter().map(|s| s.value.to_string()).collect(),
        }),
        Instruction::Stopsignal(s) => Kind::StopSignal(s.arguments.value.to_string()),
        Instruction::Shell(s) => Kind::Shell(s.arguments.iter().map(|s| s.value.to_string()).collect()),
        Instruction::Healthcheck(h) => Kind::Healthcheck {
            flags: flags(&h.options),
            cmd: match &h.arguments {
                HealthcheckArguments::Cmd { arguments, .. } => {
                    let after_cmd = args.split_once("CMD").map_or(args, |(_, r)| r).trim_start();
                    Some(command(arguments, after_cmd))
                }
                _ => None,
            },
        },
        Instruction::Onbuild(_) => Kind::Onbuild(args.to_string()),
        Instruction::Maintainer(m) => Kind::Maintainer(m.name.value.to_string()),
        _ => return Err(Error::Parse("unknown instruction".into())),
    })
}

fn copy_kind(add: bool, flags: Vec<(String, String)>, src: &[Source<'_>], dest: String) -> Kind {
    let mut srcs = Vec::new();
    let mut docs = Vec::new();
    for s in src {
        match s {
            Source::Path(p) => srcs.push(p.value.to_string()),
            Source::HereDoc(h) => docs.push(HereDoc { expand: h.expand, body: h.value.to_string() }),
            _ => {}
        }
    }
    Kind::Copy { add, flags, srcs, heredocs: docs, dest }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_continuations() {
        assert_eq!(logical_line("RUN echo a && \\\n    echo b\n", '\\'), "RUN echo a &&     echo b");
        assert_eq!(logical_line("RUN a \\\n# c\n\n  b\nCMD x", '\\'), "RUN a   b");
        assert_eq!(logical_line("RUN a `\n b", '`'), "RUN a  b");
    }
}
