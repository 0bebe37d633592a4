//! docker/go-units wording shared by the daemon (the `Status` column dockerd sends) and clients
//! (`CREATED` columns).

use std::time::Duration;

/// Go's `time.ParseDuration`, in nanoseconds: an optional sign, then one or more decimal numbers
/// each with a unit (`ns`, `us`/`µs`/`μs`, `ms`, `s`, `m`, `h`), e.g. `1h30m`, `1.5s`, `-2m`; a
/// bare `0` is zero, any other bare number is refused. Saturates at `i64` nanoseconds.
pub fn parse_go_duration(s: &str) -> Option<i64> {
    let (neg, mut rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total = 0f64;
    while !rest.is_empty() {
        let num_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let value: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let nanos_per = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += value * nanos_per;
    }
    let nanos = if total >= i64::MAX as f64 { i64::MAX } else { total as i64 };
    Some(if neg { -nanos } else { nanos })
}

/// go-units `HumanDuration`: "Less than a second", "2 minutes", "About an hour", "3 weeks".
pub fn human_duration(d: Duration) -> String {
    let secs = d.as_secs_f64();
    let seconds = secs as i64;
    if seconds < 1 {
        return "Less than a second".into();
    } else if seconds == 1 {
        return "1 second".into();
    } else if seconds < 60 {
        return format!("{seconds} seconds");
    }
    let minutes = (secs / 60.0) as i64;
    if minutes == 1 {
        return "About a minute".into();
    } else if minutes < 60 {
        return format!("{minutes} minutes");
    }
    let hours = (secs / 3600.0 + 0.5) as i64;
    if hours == 1 {
        "About an hour".into()
    } else if hours < 48 {
        format!("{hours} hours")
    } else if hours < 24 * 7 * 2 {
        format!("{} days", hours / 24)
    } else if hours < 24 * 30 * 2 {
        format!("{} weeks", hours / 24 / 7)
    } else if hours < 24 * 365 * 2 {
        format!("{} months", hours / 24 / 30)
    } else {
        format!("{} years", (secs / 3600.0) as i64 / 24 / 365)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn go_durations() {
        assert_eq!(super::parse_go_duration("1h30m"), Some(5_400_000_000_000));
        assert_eq!(super::parse_go_duration("42m"), Some(2_520_000_000_000));
        assert_eq!(super::parse_go_duration("1.5s"), Some(1_500_000_000));
        assert_eq!(super::parse_go_duration("300ms"), Some(300_000_000));
        assert_eq!(super::parse_go_duration("-2m"), Some(-120_000_000_000));
        assert_eq!(super::parse_go_duration("0"), Some(0));
        assert_eq!(super::parse_go_duration("10"), None);
        assert_eq!(super::parse_go_duration("5x"), None);
        assert_eq!(super::parse_go_duration("2026-01-01"), None);
        assert_eq!(super::parse_go_duration(""), None);
    }

    use super::*;

    #[test]
    fn go_units_wording() {
        let s = |n: u64| human_duration(Duration::from_secs(n));
        assert_eq!(human_duration(Duration::from_millis(400)), "Less than a second");
        assert_eq!(s(1), "1 second");
        assert_eq!(s(59), "59 seconds");
        assert_eq!(s(60), "About a minute");
        assert_eq!(s(59 * 60), "59 minutes");
        assert_eq!(s(3600), "About an hour");
        assert_eq!(s(2 * 3600 + 1800), "3 hours");
        assert_eq!(s(3 * 86400), "3 days");
        assert_eq!(s(20 * 86400), "2 weeks");
        assert_eq!(s(90 * 86400), "3 months");
        assert_eq!(s(800 * 86400), "2 years");
    }
}
