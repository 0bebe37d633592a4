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

/// docker's `GetTimestamp` (the one `docker events` uses), as whole unix seconds.
pub fn parse_timestamp(value: &str, now: i64) -> Option<i64> {
    let now = chrono::DateTime::from_timestamp(now, 0)?;
    let t = crate::commands::system::events::get_timestamp(value, now).ok()?;
    t.split('.').next()?.parse().ok()
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
        assert_eq!(parse_timestamp("10s", 100), Some(90));
        assert_eq!(parse_timestamp("2013-01-02T13:23:37Z", 0), Some(1357133017));
        assert_eq!(parse_timestamp("1357133017.5", 0), Some(1357133017));
    }
}
