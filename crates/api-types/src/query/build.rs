//! `POST /build` extras that the Docker API lacks. `X-Berth-Build-Secrets` carries
//! `--secret id=…` values for `RUN --mount=type=secret` as base64url (no padding) of a JSON
//! object `{"<id>": "<base64 of the secret bytes>"}`. Headers are not logged and never reach
//! the image: the engine mounts each secret read-only at `/run/secrets/<id>` during the RUN
//! steps that ask for it.

use std::collections::BTreeMap;

use base64::Engine as _;

pub const SECRETS_HEADER: &str = "X-Berth-Build-Secrets";

/// Encodes secrets for [`SECRETS_HEADER`].
pub fn encode_secrets(secrets: &BTreeMap<String, Vec<u8>>) -> String {
    let b = base64::engine::general_purpose::STANDARD;
    let m: BTreeMap<&str, String> = secrets.iter().map(|(k, v)| (k.as_str(), b.encode(v))).collect();
    let json = serde_json::to_vec(&m).unwrap_or_default();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
}

/// Decodes [`SECRETS_HEADER`]; an error says what is wrong.
pub fn decode_secrets(header: &str) -> Result<BTreeMap<String, Vec<u8>>, String> {
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header.trim().trim_end_matches('='))
        .map_err(|e| format!("invalid {SECRETS_HEADER} header: {e}"))?;
    let m: BTreeMap<String, String> =
        serde_json::from_slice(&json).map_err(|e| format!("invalid {SECRETS_HEADER} header: {e}"))?;
    m.into_iter()
        .map(|(k, v)| {
            base64::engine::general_purpose::STANDARD
                .decode(v)
                .map(|d| (k, d))
                .map_err(|e| format!("invalid {SECRETS_HEADER} header: {e}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_round_trip() {
        let s: BTreeMap<String, Vec<u8>> = [("tok".to_string(), b"s3cr\0t".to_vec())].into();
        assert_eq!(decode_secrets(&encode_secrets(&s)).unwrap(), s);
        assert!(decode_secrets("%%").is_err());
    }
}
