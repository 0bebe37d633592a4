//! System operations: version, info and disk usage (`df`).

mod df;
mod info;
pub(crate) use info::ensure_engine_id;
mod version;

/// Reads a one-line file under /proc (kernel release, hostname), trimmed.
pub(crate) fn read_proc_line(path: &str) -> String {
    std::fs::read_to_string(path).map(|s| s.trim().to_string()).unwrap_or_default()
}
