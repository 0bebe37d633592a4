//! End-to-end tests: the real `berthd` (via `berth_testkit::TestDaemon`) driven by the real
//! docker CLI, by bollard and by `berth`. They need root: without `BERTH_TEST_PRIVILEGED=1`
//! each prints `SKIP <name>: needs root`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod api;
mod archive;
mod build;
mod build_options;
mod build_prune;
mod build_sources;
mod build_stages;
mod cli;
mod cli_format;
mod compose;
mod compose_converge;
mod compose_refdockerd;
mod containers;
mod disk_usage;
mod docker_cli;
mod exec_fast;
mod exec_start;
mod exec_stats;
mod images;
mod lifecycle;
mod networks;
mod networks_dns;
mod networks_legacy;
mod prune;
mod registry;
mod registry_auth;
mod registry_mirror;
mod registry_peers;
mod restart_race;
mod security;
mod signals;
mod start_failure;
mod userns;
mod volumes;

use std::process::{Command, Output, Stdio};

use berth_testkit::TestDaemon;

/// A daemon with busybox loaded, or `None` when privileged tests are skipped.
pub fn daemon(test: &str) -> Option<TestDaemon> {
    if !berth_testkit::require_privileged(test) {
        return None;
    }
    let d = TestDaemon::start().unwrap_or_else(|e| panic!("{test}: starting berthd: {e:#}"));
    d.load_busybox();
    Some(d)
}

/// Runs a command to completion with no stdin and returns its output.
pub fn output(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null()).output().unwrap_or_else(|e| panic!("running {cmd:?}: {e}"))
}

/// Runs a command that must succeed; returns its stdout.
pub fn ok(cmd: &mut Command) -> String {
    let out = output(cmd);
    assert!(
        out.status.success(),
        "{cmd:?} failed with {}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Polls `f` until it returns true or `secs` pass.
pub fn eventually(secs: u64, mut f: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while std::time::Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    false
}
