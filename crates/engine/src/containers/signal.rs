//! Signal names and numbers as dockerd accepts them (`KILL`, `SIGKILL`, `9`, `SIGRTMIN+3`).

use crate::{Error, Result};

const SIGNALS: &[(&str, i32)] = &[
    ("ABRT", 6),
    ("ALRM", 14),
    ("BUS", 7),
    ("CHLD", 17),
    ("CLD", 17),
    ("CONT", 18),
    ("FPE", 8),
    ("HUP", 1),
    ("ILL", 4),
    ("INT", 2),
    ("IO", 29),
    ("IOT", 6),
    ("KILL", 9),
    ("PIPE", 13),
    ("POLL", 29),
    ("PROF", 27),
    ("PWR", 30),
    ("QUIT", 3),
    ("SEGV", 11),
    ("STKFLT", 16),
    ("STOP", 19),
    ("SYS", 31),
    ("TERM", 15),
    ("TRAP", 5),
    ("TSTP", 20),
    ("TTIN", 21),
    ("TTOU", 22),
    ("URG", 23),
    ("USR1", 10),
    ("USR2", 12),
    ("VTALRM", 26),
    ("WINCH", 28),
    ("XCPU", 24),
    ("XFSZ", 25),
];

const SIGRTMIN: i32 = 34;
const SIGRTMAX: i32 = 64;

pub const SIGKILL: i32 = 9;
pub const SIGTERM: i32 = 15;

/// Parses a signal; `Invalid signal: <s>` (400) for names that do not exist, dockerd's
/// `The linux daemon does not support signal <n>` for numbers out of range.
pub fn parse(s: &str) -> Result<i32> {
    let t = s.trim();
    if let Ok(n) = t.parse::<i32>() {
        if n <= 0 || n > SIGRTMAX {
            return Err(Error::InvalidArgument(format!("The linux daemon does not support signal {n}")));
        }
        return Ok(n);
    }
    let upper = t.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    if let Some((_, n)) = SIGNALS.iter().find(|(k, _)| *k == name) {
        return Ok(*n);
    }
    let rt = |base: i32, off: &str, sign: i32| -> Option<i32> {
        let o: i32 = if off.is_empty() { 0 } else { off.parse().ok()? };
        let n = base + sign * o;
        (SIGRTMIN..=SIGRTMAX).contains(&n).then_some(n)
    };
    let parsed = if let Some(off) = name.strip_prefix("RTMIN") {
        off.strip_prefix('+').map_or_else(|| if off.is_empty() { Some(SIGRTMIN) } else { None }, |o| rt(SIGRTMIN, o, 1))
    } else if let Some(off) = name.strip_prefix("RTMAX") {
        off.strip_prefix('-')
            .map_or_else(|| if off.is_empty() { Some(SIGRTMAX) } else { None }, |o| rt(SIGRTMAX, o, -1))
    } else {
        None
    };
    parsed.ok_or_else(|| Error::InvalidArgument(format!("Invalid signal: {s}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers() {
        assert_eq!(parse("KILL").unwrap(), 9);
        assert_eq!(parse("SIGKILL").unwrap(), 9);
        assert_eq!(parse("sigterm").unwrap(), 15);
        assert_eq!(parse("HUP").unwrap(), 1);
        assert_eq!(parse("9").unwrap(), 9);
        assert_eq!(parse("SIGRTMIN+3").unwrap(), 37);
        assert_eq!(parse("RTMAX-1").unwrap(), 63);
        assert_eq!(parse("BOGUS").unwrap_err().to_string(), "Invalid signal: BOGUS");
        assert_eq!(parse("999").unwrap_err().to_string(), "The linux daemon does not support signal 999");
        assert!(parse("0").is_err());
        assert!(parse("RTMIN+99").is_err());
    }
}
