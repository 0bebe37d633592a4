//! Query-string structs, one module per API area, deserialised with `serde` from the URL.
//! Docker booleans arrive as `1`/`true`/`0`/`false`; use [`de_bool`] for them.

pub mod build;
pub mod containers;
pub mod distribution;
pub mod images;
pub mod networks;
pub mod system;
pub mod volumes;

use serde::{Deserialize, Deserializer};

/// Deserialises dockerd's lenient query booleans: `1`, `true`, `True`, `yes` are true; empty,
/// `0`, `false`, `no` are false.
pub fn de_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    let s = String::deserialize(d)?;
    match s.to_ascii_lowercase().as_str() {
        "" | "0" | "false" | "no" | "off" => Ok(false),
        "1" | "true" | "yes" | "on" => Ok(true),
        other => Err(serde::de::Error::custom(format!("invalid boolean value {other:?}"))),
    }
}
