//! Relative paths in an `include`d file, or in a service taken from another file by
//! `extends: {file: ...}`, are relative to *that* file's directory (compose-spec), not to the
//! project directory. Before such a file is merged into the project, its relative paths are
//! made absolute against its own directory; the project's own paths stay relative until the
//! typed model resolves them against the project directory.

use std::path::Path;

use crate::units::absolute;
use crate::yaml::{Node, Value};

/// Rebase every path-valued key of one file: services, and top-level secrets/configs `file`.
pub fn rebase_file(root: &mut Node, dir: &Path) {
    let Value::Map(top) = &mut root.value else { return };
    for (key, section) in top.iter_mut() {
        let Value::Map(items) = &mut section.value else { continue };
        match key.as_str() {
            "services" => items.iter_mut().for_each(|(_, svc)| rebase_service(svc, dir)),
            "secrets" | "configs" => {
                for (_, obj) in items.iter_mut() {
                    if let Some(f) = entry(obj, "file") {
                        rebase_path(f, dir);
                    }
                }
            }
            _ => {}
        }
    }
}

/// Rebase the path-valued keys of one service: `build` (context), `env_file`, bind-mount
/// sources in `volumes`, and `extends.file`.
pub fn rebase_service(svc: &mut Node, dir: &Path) {
    let Value::Map(entries) = &mut svc.value else { return };
    for (key, node) in entries.iter_mut() {
        match key.as_str() {
            "build" => match &mut node.value {
                Value::Str(_) => rebase_path(node, dir),
                Value::Map(m) => match m.iter_mut().find(|(k, _)| k == "context") {
                    Some((_, c)) => rebase_path(c, dir),
                    // A build without a context builds the file's own directory.
                    None => m.push(("context".into(), Node::str(dir.display().to_string()))),
                },
                _ => {}
            },
            "env_file" => match &mut node.value {
                Value::Str(_) => rebase_path(node, dir),
                Value::Seq(items) => {
                    for item in items.iter_mut() {
                        match entry(item, "path") {
                            Some(p) => rebase_path(p, dir),
                            None => rebase_path(item, dir),
                        }
                    }
                }
                _ => {}
            },
            "volumes" => {
                let Value::Seq(items) = &mut node.value else { continue };
                for item in items.iter_mut() {
                    rebase_volume(item, dir);
                }
            }
            "extends" => {
                if let Some(f) = entry(node, "file") {
                    rebase_path(f, dir);
                }
            }
            _ => {}
        }
    }
}

/// Short syntax `./data:/data[:ro]` or long syntax `{type: bind, source: ./data}`.
fn rebase_volume(item: &mut Node, dir: &Path) {
    if let Value::Str(spec) = &item.value {
        if let Some((src, rest)) = spec.split_once(':') {
            if src.starts_with('.') {
                item.value = Value::Str(format!("{}:{rest}", absolute(src, dir)));
            }
        }
        return;
    }
    let is_bind = item.get("type").and_then(Node::scalar_string).as_deref() == Some("bind");
    if is_bind {
        if let Some(src) = entry(item, "source") {
            rebase_path(src, dir);
        }
    }
}

fn entry<'a>(node: &'a mut Node, key: &str) -> Option<&'a mut Node> {
    let Value::Map(m) = &mut node.value else { return None };
    m.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// A relative path becomes absolute against `dir`; absolute and `~` paths are kept.
fn rebase_path(node: &mut Node, dir: &Path) {
    if let Value::Str(p) = &node.value {
        if !p.starts_with('/') && !p.starts_with('~') && !p.contains("://") {
            node.value = Value::Str(absolute(p, dir));
        }
    }
}
