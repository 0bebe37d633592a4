//! API version negotiation: the `/v1.NN/` prefix and the supported range.

use std::fmt;
use std::str::FromStr;

/// An Engine API version such as `1.47`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ApiVersion {
    pub major: u16,
    pub minor: u16,
}

impl ApiVersion {
    /// The newest version berthd speaks (what `/version` reports as `ApiVersion`).
    pub const CURRENT: ApiVersion = ApiVersion { major: 1, minor: 50 };
    /// The oldest version berthd accepts (`MinAPIVersion`).
    pub const MIN: ApiVersion = ApiVersion { major: 1, minor: 24 };

    pub const fn new(major: u16, minor: u16) -> Self {
        ApiVersion { major, minor }
    }

    /// Checks a client's requested version against the supported range, with dockerd's messages.
    pub fn check_supported(self) -> Result<(), String> {
        if self > Self::CURRENT {
            return Err(format!(
                "client version {self} is too new. Maximum supported API version is {}",
                Self::CURRENT
            ));
        }
        if self < Self::MIN {
            return Err(format!(
                "client version {self} is too old. Minimum supported API version is {}, please upgrade your client to a newer version",
                Self::MIN
            ));
        }
        Ok(())
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid API version {0:?}")]
pub struct ParseVersionError(pub String);

impl FromStr for ApiVersion {
    type Err = ParseVersionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseVersionError(s.to_string());
        let (major, minor) = s.split_once('.').ok_or_else(err)?;
        Ok(ApiVersion { major: major.parse().map_err(|_| err())?, minor: minor.parse().map_err(|_| err())? })
    }
}

/// Splits a request path into its optional `/vX.Y` prefix and the rest, e.g.
/// `/v1.41/containers/json` → `(Some("1.41"), "/containers/json")`.
pub fn split_version_prefix(path: &str) -> (Option<&str>, &str) {
    if let Some(rest) = path.strip_prefix("/v") {
        let end = rest.find('/').unwrap_or(rest.len());
        let candidate = &rest[..end];
        if !candidate.is_empty() && candidate.chars().all(|c| c.is_ascii_digit() || c == '.') {
            let tail = &rest[end..];
            return (Some(candidate), if tail.is_empty() { "/" } else { tail });
        }
    }
    (None, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_orders() {
        let v: ApiVersion = "1.41".parse().unwrap();
        assert_eq!(v, ApiVersion::new(1, 41));
        assert!(ApiVersion::new(1, 9) < ApiVersion::new(1, 10));
        assert!("1".parse::<ApiVersion>().is_err());
        assert!("1.x".parse::<ApiVersion>().is_err());
    }

    #[test]
    fn range_messages_match_dockerd() {
        assert_eq!(
            ApiVersion::new(1, 99).check_supported().unwrap_err(),
            "client version 1.99 is too new. Maximum supported API version is 1.50"
        );
        assert!(ApiVersion::new(1, 12).check_supported().unwrap_err().starts_with("client version 1.12 is too old."));
        assert!(ApiVersion::new(1, 41).check_supported().is_ok());
    }

    #[test]
    fn splits_prefix() {
        assert_eq!(split_version_prefix("/v1.41/containers/json"), (Some("1.41"), "/containers/json"));
        assert_eq!(split_version_prefix("/_ping"), (None, "/_ping"));
        assert_eq!(split_version_prefix("/v1.41"), (Some("1.41"), "/"));
        assert_eq!(split_version_prefix("/volumes"), (None, "/volumes"));
    }
}
