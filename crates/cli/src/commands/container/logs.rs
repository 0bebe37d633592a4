//! `berth container logs` (ContainerLogs).

use bollard::query_parameters::LogsOptionsBuilder;
use futures_util::StreamExt;

use super::stream::write_output;
use crate::client::Client;
use crate::error::{CliError, CmdResult};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Show extra details provided to logs
    #[arg(long = "details")]
    pub details: bool,
    /// Follow log output
    #[arg(short = 'f', long = "follow")]
    pub follow: bool,
    /// Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)
    #[arg(long = "since")]
    pub since: Option<String>,
    /// Number of lines to show from the end of the logs
    #[arg(short = 'n', long = "tail", default_value = "all")]
    pub tail: String,
    /// Show timestamps
    #[arg(short = 't', long = "timestamps")]
    pub timestamps: bool,
    /// Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)
    #[arg(long = "until")]
    pub until: Option<String>,
    #[arg(value_name = "CONTAINER")]
    pub container: String,
}

/// Parse a Go duration like `1h30m`, `42m`, `10s`, `1.5h` into seconds.
pub fn parse_go_duration(s: &str) -> Option<f64> {
    let mut total = 0.0;
    let mut num = String::new();
    let mut chars = s.chars().peekable();
    let mut any = false;
    while let Some(ch) = chars.next() {
        if ch.is_ascii_digit() || ch == '.' {
            num.push(ch);
            continue;
        }
        let mut unit = ch.to_string();
        while let Some(&n) = chars.peek() {
            if n.is_ascii_digit() || n == '.' {
                break;
            }
            unit.push(n);
            chars.next();
        }
        let v: f64 = num.parse().ok()?;
        num.clear();
        let mult = match unit.as_str() {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        total += v * mult;
        any = true;
    }
    (num.is_empty() && any).then_some(total)
}

/// docker's `GetTimestamp`: relative duration, RFC 3339 / date forms, or unix seconds.
pub fn parse_timestamp(value: &str, now: i64) -> Option<i64> {
    if let Some(d) = parse_go_duration(value) {
        return Some(now - d as i64);
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(value) {
        return Some(t.timestamp());
    }
    for f in ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S"] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(value, f) {
            return Some(t.and_utc().timestamp());
        }
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0).map(|t| t.and_utc().timestamp());
    }
    value.split('.').next().and_then(|s| s.parse().ok())
}

pub async fn run(c: &Client, a: Args) -> CmdResult {
    let now = crate::format::units::now_unix();
    let mut opts =
        LogsOptionsBuilder::new().stdout(true).stderr(true).follow(a.follow).timestamps(a.timestamps).tail(&a.tail);
    if let Some(s) = &a.since {
        let t = parse_timestamp(s, now).ok_or_else(|| CliError::new(1, format!("invalid value for \"since\": {s}")))?;
        opts = opts.since(t as i32);
    }
    if let Some(u) = &a.until {
        let t = parse_timestamp(u, now).ok_or_else(|| CliError::new(1, format!("invalid value for \"until\": {u}")))?;
        opts = opts.until(t as i32);
    }
    let mut stream = c.docker.logs(&a.container, Some(opts.build()));
    while let Some(item) = stream.next().await {
        let frame = item?;
        if let Err(e) = write_output(frame) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                break;
            }
            return Err(e.into());
        }
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_timestamps() {
        assert_eq!(parse_go_duration("42m"), Some(2520.0));
        assert_eq!(parse_go_duration("1h30m"), Some(5400.0));
        assert_eq!(parse_go_duration("10"), None);
        assert_eq!(parse_timestamp("10s", 100), Some(90));
        assert_eq!(parse_timestamp("2013-01-02T13:23:37Z", 0), Some(1357133017));
        assert_eq!(parse_timestamp("1357133017.5", 0), Some(1357133017));
    }
}
