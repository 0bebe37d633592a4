//! Test support, dev-only: [`TestDaemon`] starts the real `berthd` on a temp socket and private
//! roots; [`fixtures`] builds the busybox image offline; [`require_privileged`] gates tests that
//! need root; [`http`] is a tiny blocking client for raw API requests.
//!
//! It is a pure API client: it never links the engine, store or runtime, so the same tests can
//! be pointed at a reference dockerd.

pub mod cgroups;
pub mod daemon;
pub mod fixtures;
pub mod hostnet;
pub mod http;

pub use daemon::TestDaemon;

/// Gate for tests that need root. Without `BERTH_TEST_PRIVILEGED=1` it prints
/// `SKIP <name>: needs root` and returns false; with it set but not root, it panics;
/// with `BERTH_TEST_STRICT=1` a skip is a failure.
pub fn require_privileged(name: &str) -> bool {
    let wanted = std::env::var("BERTH_TEST_PRIVILEGED").is_ok_and(|v| v == "1");
    let strict = std::env::var("BERTH_TEST_STRICT").is_ok_and(|v| v == "1");
    if !wanted {
        assert!(!strict, "{name}: BERTH_TEST_STRICT=1 but BERTH_TEST_PRIVILEGED is not set");
        println!("SKIP {name}: needs root");
        return false;
    }
    assert!(is_root(), "{name}: BERTH_TEST_PRIVILEGED=1 but not running as root");
    true
}

pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("Uid:")).map(|l| l.split_whitespace().nth(1) == Some("0")))
        .unwrap_or(false)
}

/// A short random prefix for the names a test creates.
pub fn unique_prefix(test: &str) -> String {
    let n: u32 = rand::random();
    format!("bt{}{:06x}", test.chars().filter(|c| c.is_ascii_alphanumeric()).take(8).collect::<String>(), n & 0xff_ffff)
        .to_lowercase()
}
