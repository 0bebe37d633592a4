//! `ARG name[=default]`: declares build args for the stage; `--build-arg` values win over
//! defaults. Proxy args are predefined (usable without `ARG`, never recorded in history).

use std::collections::BTreeMap;

use super::State;
use crate::expand::{expand_word, Vars};
use crate::parse::ArgDecl;
use crate::Result;

/// Build args dockerd accepts without an `ARG` line.
pub const PREDEFINED: &[&str] = &[
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "FTP_PROXY",
    "ftp_proxy",
    "NO_PROXY",
    "no_proxy",
    "ALL_PROXY",
    "all_proxy",
];

/// The value of a declared arg: the `--build-arg` one, else the expanded default.
pub fn value(
    d: &ArgDecl,
    build_args: &BTreeMap<String, Option<String>>,
    vars: &Vars,
    escape: char,
) -> Result<Option<String>> {
    if let Some(Some(v)) = build_args.get(&d.name) {
        return Ok(Some(v.clone()));
    }
    match &d.default {
        Some(def) => Ok(Some(expand_word(def, vars, escape)?)),
        None => Ok(None),
    }
}

/// Declares `decls` in `state`; returns the history text (`ARG V=def`, as written).
pub fn arg(
    state: &mut State,
    decls: &[ArgDecl],
    build_args: &BTreeMap<String, Option<String>>,
    escape: char,
) -> Result<String> {
    let mut shown = Vec::new();
    for d in decls {
        let vars = state.vars();
        let v = value(d, build_args, &vars, escape)?;
        state.args.retain(|(k, _)| k != &d.name);
        state.hidden_args.retain(|(k, _)| k != &d.name);
        if let Some(v) = v {
            state.args.push((d.name.clone(), v));
        }
        shown.push(match &d.default {
            Some(def) => format!("{}={def}", d.name),
            None => d.name.clone(),
        });
    }
    Ok(format!("ARG {}", shown.join(" ")))
}
