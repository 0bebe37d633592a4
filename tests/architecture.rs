//! The crate dependency rules of ARCHITECTURE.md §3, checked from every crate's Cargo.toml.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// crate folder → workspace crates it may depend on (normal dependencies).
const ALLOWED: &[(&str, &[&str])] = &[
    ("api-types", &[]),
    ("api-server", &["api-types", "engine"]),
    ("engine", &["api-types", "image", "store", "registry", "builder", "runtime", "net", "kernel"]),
    ("image", &[]),
    ("store", &["image", "kernel"]),
    ("registry", &["image", "store"]),
    ("registry-server", &["image", "store"]),
    ("builder", &["image", "api-types"]),
    ("runtime", &["kernel"]),
    ("net", &["kernel"]),
    ("kernel", &[]),
    ("compose", &["api-types"]),
    ("cli", &["api-types", "compose"]),
    ("testkit", &["api-types"]),
];

/// Pure API clients: never the daemon's internals, in any dependency section.
const CLIENTS: &[&str] = &["cli", "compose", "testkit"];
const INTERNALS: &[&str] = &["engine", "store", "runtime", "net", "kernel"];

fn workspace_deps(manifest: &toml::Value, section: &str) -> BTreeSet<String> {
    manifest
        .get(section)
        .and_then(|d| d.as_table())
        .map(|t| t.keys().filter_map(|k| k.strip_prefix("berth-").map(str::to_string)).collect())
        .unwrap_or_default()
}

fn manifests() -> BTreeMap<String, toml::Value> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("crates");
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(&root).expect("crates/ exists") {
        let dir = e.expect("dir entry").path();
        let text = std::fs::read_to_string(dir.join("Cargo.toml")).expect("every crate has a Cargo.toml");
        let name = dir.file_name().expect("name").to_string_lossy().to_string();
        out.insert(name, text.parse::<toml::Value>().expect("valid TOML"));
    }
    out
}

#[test]
fn crate_edges_follow_the_table() {
    let all = manifests();
    assert!(all.contains_key("engine") && all.contains_key("kernel"), "found crates: {:?}", all.keys());
    for (name, manifest) in &all {
        let allowed = ALLOWED
            .iter()
            .find(|(c, _)| c == name)
            .unwrap_or_else(|| panic!("crate {name} is not in ARCHITECTURE.md's table"))
            .1;
        let pkg = manifest["package"]["name"].as_str().expect("package name");
        assert_eq!(pkg, format!("berth-{name}"), "crate folder {name} must be package berth-{name}");
        for dep in workspace_deps(manifest, "dependencies") {
            assert!(
                allowed.contains(&dep.as_str()),
                "berth-{name} may not depend on berth-{dep} (allowed: {allowed:?})"
            );
        }
        if CLIENTS.contains(&name.as_str()) {
            for section in ["dependencies", "dev-dependencies", "build-dependencies"] {
                for dep in workspace_deps(manifest, section) {
                    assert!(
                        !INTERNALS.contains(&dep.as_str()),
                        "{name} is a pure API client but {section} has berth-{dep}"
                    );
                }
            }
        }
    }
}

#[test]
fn only_kernel_allows_unsafe() {
    let root: toml::Value = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
        .expect("root manifest")
        .parse()
        .expect("valid TOML");
    assert_eq!(root["workspace"]["lints"]["rust"]["unsafe_code"].as_str(), Some("deny"));
    for (name, manifest) in manifests() {
        let lints = manifest.get("lints").expect("every crate declares [lints]");
        if name == "kernel" {
            assert_eq!(lints["rust"]["unsafe_code"].as_str(), Some("allow"));
        } else {
            assert_eq!(
                lints.get("workspace").and_then(|w| w.as_bool()),
                Some(true),
                "{name} must use the workspace lints"
            );
        }
    }
}

#[test]
fn unsafe_blocks_carry_safety_comments() {
    let kernel = Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/kernel");
    // `init/` holds the static docker-init that build.rs compiles on its own.
    let mut stack = vec![kernel.join("src"), kernel.join("init")];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).expect("readable") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let text = std::fs::read_to_string(&p).expect("utf-8 source");
            let lines: Vec<&str> = text.lines().collect();
            for (i, l) in lines.iter().enumerate() {
                if l.contains("unsafe {") || l.trim_start().starts_with("unsafe {") {
                    let window = &lines[i.saturating_sub(4)..i];
                    assert!(
                        window.iter().any(|w| w.contains("SAFETY:")) || l.contains("SAFETY:"),
                        "{}:{}: unsafe block without a // SAFETY: comment",
                        p.display(),
                        i + 1
                    );
                }
            }
        }
    }
}
