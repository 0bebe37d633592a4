//! `GET /events` wire types: [`EventMessage`] exactly as dockerd writes it (one JSON object per
//! line, with the legacy `status`/`id`/`from` fields for container and image events), the query
//! struct, and the `since`/`until` timestamp format (`<seconds>[.<nanoseconds>]`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One event, in dockerd's field order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventMessage {
    /// Legacy: the action, for container and image events only.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub status: String,
    /// Legacy: the actor id, for container and image events only.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    /// Legacy: the container's image, for container events only.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub from: String,
    #[serde(rename = "Type")]
    pub typ: String,
    #[serde(rename = "Action")]
    pub action: String,
    #[serde(rename = "Actor")]
    pub actor: EventActor,
    pub scope: String,
    pub time: i64,
    #[serde(rename = "timeNano")]
    pub time_nano: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventActor {
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(rename = "Attributes", default)]
    pub attributes: BTreeMap<String, String>,
}

/// `GET /events` query.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct EventsQuery {
    pub since: Option<String>,
    pub until: Option<String>,
    pub filters: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("strconv.ParseInt: parsing \"{0}\": invalid syntax")]
pub struct TimestampError(pub String);

/// Parses `<seconds>[.<fraction>]` (what docker clients send for `since`/`until`) into nanoseconds
/// since the epoch; the fraction is read as digits of a second, as moby's `ParseTimestamps`.
pub fn parse_timestamp(s: &str) -> Result<i64, TimestampError> {
    let (secs, frac) = s.split_once('.').unwrap_or((s, ""));
    let bad = || TimestampError(secs.to_string());
    let secs: i64 = secs.parse().map_err(|_| bad())?;
    if !frac.chars().all(|c| c.is_ascii_digit()) || frac.len() > 9 {
        return Err(bad());
    }
    let nanos: i64 = if frac.is_empty() { 0 } else { format!("{frac:0<9}").parse().map_err(|_| bad())? };
    secs.checked_mul(1_000_000_000).and_then(|n| n.checked_add(nanos)).ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_shape_matches_dockerd() {
        let golden = r#"{"status":"die","id":"54eb","from":"busybox","Type":"container","Action":"die","Actor":{"ID":"54eb","Attributes":{"exitCode":"3","image":"busybox","name":"lc-ev1"}},"scope":"local","time":1795369835,"timeNano":1795369835033285182}"#;
        let m: EventMessage = serde_json::from_str(golden).unwrap();
        assert_eq!(serde_json::to_string(&m).unwrap(), golden);
        let vol = r#"{"Type":"volume","Action":"create","Actor":{"ID":"v","Attributes":{"driver":"local"}},"scope":"local","time":1,"timeNano":1000000000}"#;
        let m: EventMessage = serde_json::from_str(vol).unwrap();
        assert_eq!(serde_json::to_string(&m).unwrap(), vol);
    }

    #[test]
    fn timestamps() {
        assert_eq!(parse_timestamp("1700000000").unwrap(), 1_700_000_000_000_000_000);
        assert_eq!(parse_timestamp("1700000000.5").unwrap(), 1_700_000_000_500_000_000);
        assert_eq!(parse_timestamp("1700000000.000000001").unwrap(), 1_700_000_000_000_000_001);
        assert!(parse_timestamp("yesterday").is_err());
        assert!(parse_timestamp("1.x").is_err());
        assert_eq!(parse_timestamp("x").unwrap_err().to_string(), "strconv.ParseInt: parsing \"x\": invalid syntax");
    }
}
