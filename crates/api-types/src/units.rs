//! docker/go-units wording shared by the daemon (the `Status` column dockerd sends) and clients
//! (`CREATED` columns).

use std::time::Duration;

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
