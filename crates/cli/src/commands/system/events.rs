//! `berth events` (SystemEvents): streams `GET /events` and prints each event as docker does
//! (`<time> <type> <action> <id> (k=v, ...)`), or through `--format`.

use std::io::Write;

use berth_api_types::events::EventMessage;
use chrono::{DateTime, Local, NaiveDate, NaiveDateTime, TimeZone, Utc};
use http_body_util::BodyExt;

use crate::client::{error_body_message, filters_json, query_escape, Client};
use crate::error::{CliError, CmdResult};
use crate::format::template::{json_to_value, Format};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Filter output based on conditions provided
    #[arg(short = 'f', long = "filter")]
    pub filter: Vec<String>,
    /// Format the output using the given Go template
    #[arg(long = "format")]
    pub format: Option<String>,
    /// Show all events created since timestamp
    #[arg(long)]
    pub since: Option<String>,
    /// Stream events until this timestamp
    #[arg(long)]
    pub until: Option<String>,
}

/// Go's `time.ParseDuration` as a chrono duration.
pub fn parse_go_duration(s: &str) -> Option<chrono::Duration> {
    berth_api_types::units::parse_go_duration(s).map(chrono::Duration::nanoseconds)
}

/// docker's `timetypes.GetTimestamp`: a Go duration (relative to `now`), an RFC 3339 time or
/// date (local time when no zone is given), or a Unix timestamp, into `<secs>[.<nanos>]`.
pub fn get_timestamp(value: &str, now: DateTime<Utc>) -> Result<String, CliError> {
    if value != "0" {
        if let Some(d) = parse_go_duration(value) {
            return Ok((now - d).timestamp().to_string());
        }
    }
    let bad = || CliError::new(125, format!("failed to parse value as time or duration: \"{value}\""));
    if !value.contains('-') {
        let (secs, frac) = value.split_once('.').unwrap_or((value, ""));
        if secs.parse::<i64>().is_ok() && frac.chars().all(|c| c.is_ascii_digit()) {
            return Ok(value.to_string());
        }
        return Err(bad());
    }
    let t: DateTime<Utc> = if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        t.with_timezone(&Utc)
    } else {
        let naive = ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H"]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(value, f).ok())
            .or_else(|| NaiveDate::parse_from_str(value, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0)))
            .ok_or_else(bad)?;
        Local.from_local_datetime(&naive).single().ok_or_else(bad)?.with_timezone(&Utc)
    };
    Ok(format!("{}.{:09}", t.timestamp(), t.timestamp_subsec_nanos()))
}

/// Go's `RFC3339NanoFixed` in local time (`Z` for UTC).
fn fixed_time(nanos: i64) -> String {
    let t = Local.timestamp_nanos(nanos);
    let s = t.format("%Y-%m-%dT%H:%M:%S%.9f").to_string();
    if t.offset().local_minus_utc() == 0 {
        s + "Z"
    } else {
        s + &t.format("%:z").to_string()
    }
}

/// docker's default event line.
pub fn render_line(m: &EventMessage) -> String {
    let mut out = String::new();
    if m.time_nano != 0 {
        out.push_str(&fixed_time(m.time_nano));
        out.push(' ');
    } else if m.time != 0 {
        out.push_str(&fixed_time(m.time.saturating_mul(1_000_000_000)));
        out.push(' ');
    }
    out.push_str(&format!("{} {} {}", m.typ, m.action, m.actor.id));
    if !m.actor.attributes.is_empty() {
        let attrs: Vec<String> = m.actor.attributes.iter().map(|(k, v)| format!("{k}={v}")).collect();
        out.push_str(&format!(" ({})", attrs.join(", ")));
    }
    out
}

/// The request path for `args` at time `now`.
pub fn request_path(args: &Args, now: DateTime<Utc>) -> Result<String, CliError> {
    let mut q = Vec::new();
    if let Some(s) = args.since.as_deref().filter(|s| !s.is_empty()) {
        q.push(format!("since={}", query_escape(&get_timestamp(s, now)?)));
    }
    if let Some(u) = args.until.as_deref().filter(|s| !s.is_empty()) {
        q.push(format!("until={}", query_escape(&get_timestamp(u, now)?)));
    }
    if let Some(f) = filters_json(&args.filter)? {
        q.push(format!("filters={}", query_escape(&f)));
    }
    Ok(if q.is_empty() { "/events".into() } else { format!("/events?{}", q.join("&")) })
}

pub async fn run(c: &Client, args: Args) -> CmdResult {
    let path = request_path(&args, Utc::now())?;
    let format = args.format.as_deref().filter(|f| !f.is_empty()).map(|f| Format::parse(f, "")).transpose()?;
    let resp = c.raw(http::Method::GET, &path).await?;
    let status = resp.status().as_u16();
    let mut body = resp.into_body();
    if !(200..300).contains(&status) {
        let bytes = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
        return Err(CliError::new(1, format!("Error response from daemon: {}", error_body_message(&bytes))));
    }
    let mut pending: Vec<u8> = Vec::new();
    let stdout = std::io::stdout();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| CliError::new(1, format!("error reading events: {e}")))?;
        let Ok(data) = frame.into_data() else { continue };
        pending.extend_from_slice(&data);
        while let Some(nl) = pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = pending.drain(..=nl).collect();
            let text = String::from_utf8_lossy(&line);
            if text.trim().is_empty() {
                continue;
            }
            let out = match &format {
                Some(f) => {
                    let v: serde_json::Value = serde_json::from_str(text.trim())
                        .map_err(|e| CliError::new(1, format!("error decoding event: {e}")))?;
                    f.execute(&json_to_value(&v))?
                }
                None => {
                    let m: EventMessage = serde_json::from_str(text.trim())
                        .map_err(|e| CliError::new(1, format!("error decoding event: {e}")))?;
                    render_line(&m)
                }
            };
            let mut lock = stdout.lock();
            // A closed stdout (e.g. `| head`) ends the command quietly, as docker does.
            if writeln!(lock, "{out}").and_then(|()| lock.flush()).is_err() {
                return Ok(0);
            }
        }
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("10m"), Some(chrono::Duration::minutes(10)));
        assert_eq!(parse_go_duration("1h30m"), Some(chrono::Duration::minutes(90)));
        assert_eq!(parse_go_duration("1.5s"), Some(chrono::Duration::milliseconds(1500)));
        assert_eq!(parse_go_duration("300ms"), Some(chrono::Duration::milliseconds(300)));
        assert_eq!(parse_go_duration("10"), None);
        assert_eq!(parse_go_duration("2026-01-01"), None);
    }

    #[test]
    fn timestamps_like_docker() {
        let now = DateTime::parse_from_rfc3339("2026-01-01T00:10:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(get_timestamp("10m", now).unwrap(), "1767225600");
        assert_eq!(get_timestamp("1767225600.5", now).unwrap(), "1767225600.5");
        assert_eq!(get_timestamp("0", now).unwrap(), "0");
        assert_eq!(get_timestamp("2026-01-01T00:00:00Z", now).unwrap(), "1767225600.000000000");
        assert_eq!(get_timestamp("2026-01-01T01:00:00+01:00", now).unwrap(), "1767225600.000000000");
        assert!(get_timestamp("yesterday", now).is_err());
        assert!(get_timestamp("2026-13-01", now).is_err());
    }

    #[test]
    fn default_line() {
        let m: EventMessage = serde_json::from_str(
            r#"{"status":"die","id":"ab","from":"busybox","Type":"container","Action":"die","Actor":{"ID":"ab","Attributes":{"name":"x","exitCode":"3"}},"scope":"local","time":1,"timeNano":1000000001}"#,
        )
        .unwrap();
        let line = render_line(&m);
        assert!(line.ends_with(" container die ab (exitCode=3, name=x)"), "{line}");
        assert!(line.contains(".000000001"), "{line}");
    }

    #[test]
    fn path() {
        let now = Utc::now();
        let a = Args { filter: vec!["type=container".into()], format: None, since: Some("5".into()), until: None };
        assert_eq!(
            request_path(&a, now).unwrap(),
            "/events?since=5&filters=%7B%22type%22%3A%7B%22container%22%3Atrue%7D%7D"
        );
        let a = Args { filter: vec![], format: None, since: None, until: None };
        assert_eq!(request_path(&a, now).unwrap(), "/events");
    }
}
