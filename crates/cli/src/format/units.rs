//! docker/go-units: `HumanDuration`, `HumanSizeWithPrecision`, and Go's `%g` verb.

use std::time::Duration;

pub use berth_api_types::units::human_duration;

/// "N units ago" for a unix timestamp, measured from `now` (unix seconds).
pub fn since(created: i64, now: i64) -> String {
    let d = Duration::from_secs(now.saturating_sub(created).max(0) as u64);
    format!("{} ago", human_duration(d))
}

/// Current unix time in seconds.
pub fn now_unix() -> i64 {
    chrono::Utc::now().timestamp()
}

const DECIMAL: [&str; 9] = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];

/// go-units `HumanSizeWithPrecision(size, precision)` with decimal (1000) units.
pub fn human_size_prec(size: f64, precision: usize) -> String {
    let mut size = size;
    let mut i = 0;
    while size >= 1000.0 && i < DECIMAL.len() - 1 {
        size /= 1000.0;
        i += 1;
    }
    format!("{}{}", go_g(size, precision), DECIMAL[i])
}

/// go-units `HumanSize` (precision 4).
pub fn human_size(size: f64) -> String {
    human_size_prec(size, 4)
}

/// Go's `fmt.Sprintf("%.*g", prec, v)`.
pub fn go_g(v: f64, prec: usize) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let p = prec.max(1);
    let sci = format!("{:.*e}", p - 1, v);
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if exp < -4 || exp >= p as i32 {
        let mant = trim_zeros(mant);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mant}e{sign}{:02}", exp.abs())
    } else {
        let decimals = (p as i32 - 1 - exp).max(0) as usize;
        trim_zeros(&format!("{v:.decimals$}")).to_string()
    }
}

fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// Go's `%v` for a float64 (shortest representation, `e+21` style for large exponents).
pub fn go_float(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e21 {
        format!("{}", v as i64)
    } else {
        let s = format!("{v}");
        if s.len() > 21 {
            go_g(v, 17)
        } else {
            s
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn durations() {
        assert_eq!(human_duration(Duration::from_millis(400)), "Less than a second");
        assert_eq!(human_duration(d(1)), "1 second");
        assert_eq!(human_duration(d(59)), "59 seconds");
        assert_eq!(human_duration(d(60)), "About a minute");
        assert_eq!(human_duration(d(119)), "About a minute");
        assert_eq!(human_duration(d(120)), "2 minutes");
        assert_eq!(human_duration(d(3599)), "59 minutes");
        assert_eq!(human_duration(d(3600)), "About an hour");
        assert_eq!(human_duration(d(5400)), "2 hours");
        assert_eq!(human_duration(d(47 * 3600)), "47 hours");
        assert_eq!(human_duration(d(48 * 3600)), "2 days");
        assert_eq!(human_duration(d(14 * 24 * 3600)), "2 weeks");
        assert_eq!(human_duration(d(60 * 24 * 3600)), "2 months");
        assert_eq!(human_duration(d(2 * 365 * 24 * 3600)), "2 years");
        assert_eq!(since(0, 1_776_000_000), "56 years ago");
    }

    #[test]
    fn sizes() {
        assert_eq!(human_size_prec(0.0, 3), "0B");
        assert_eq!(human_size_prec(999.0, 3), "999B");
        assert_eq!(human_size_prec(1000.0, 3), "1kB");
        assert_eq!(human_size_prec(1_990_000.0, 3), "1.99MB");
        assert_eq!(human_size_prec(4_261_234.0, 3), "4.26MB");
        assert_eq!(human_size_prec(77_800_000.0, 3), "77.8MB");
        assert_eq!(human_size_prec(999_600.0, 3), "1e+03kB");
        assert_eq!(human_size(1_234_567.0), "1.235MB");
        assert_eq!(human_size_prec(2_500_000_000.0, 3), "2.5GB");
    }

    #[test]
    fn go_g_format() {
        assert_eq!(go_g(100.0, 3), "100");
        assert_eq!(go_g(0.00001234, 3), "1.23e-05");
        assert_eq!(go_g(12.5, 3), "12.5");
        assert_eq!(go_float(1234.0), "1234");
        assert_eq!(go_float(0.5), "0.5");
    }
}
