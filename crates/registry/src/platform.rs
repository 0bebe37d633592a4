//! Choosing a manifest from a manifest list / OCI index for a platform.

use berth_image::{Descriptor, Index, Platform};

/// The best descriptor of `index` for `want`: exact os/arch/variant, then os/arch with any
/// variant (an `arm64` host takes `arm64/v8`), skipping attestation manifests (`unknown/unknown`).
pub fn select_platform<'a>(index: &'a Index, want: &Platform) -> Option<&'a Descriptor> {
    let candidates = || index.manifests.iter().filter_map(|d| d.platform.as_ref().map(|p| (d, p)));
    candidates()
        .find(|(_, p)| p.os == want.os && p.architecture == want.architecture && p.variant == want.variant)
        .or_else(|| {
            candidates().find(|(_, p)| {
                p.os == want.os
                    && p.architecture == want.architecture
                    && (want.variant.is_none() || p.variant.is_none())
            })
        })
        .map(|(d, _)| d)
}

/// Parses `os/arch[/variant]` (the `platform` query parameter).
pub fn parse_platform(s: &str) -> Option<Platform> {
    let mut parts = s.split('/');
    let os = parts.next().filter(|p| !p.is_empty())?;
    let arch = parts.next().filter(|p| !p.is_empty())?;
    let variant = parts.next().map(str::to_string);
    if parts.next().is_some() {
        return None;
    }
    Some(Platform { os: os.to_string(), architecture: arch.to_string(), variant })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> Index {
        let entry = |arch: &str, variant: Option<&str>, hex: char| {
            serde_json::json!({
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": format!("sha256:{}", hex.to_string().repeat(64)),
                "size": 1,
                "platform": {"os": if arch == "unknown" {"unknown"} else {"linux"}, "architecture": arch, "variant": variant},
            })
        };
        serde_json::from_value(serde_json::json!({
            "schemaVersion": 2,
            "manifests": [entry("unknown", None, 'e'), entry("arm", Some("v7"), 'a'), entry("arm64", Some("v8"), 'b'), entry("amd64", None, 'c')],
        }))
        .unwrap()
    }

    #[test]
    fn selects_by_os_arch_and_variant() {
        let idx = index();
        let pick =
            |s: &str| select_platform(&idx, &parse_platform(s).unwrap()).map(|d| d.digest.hex()[..1].to_string());
        assert_eq!(pick("linux/amd64").as_deref(), Some("c"));
        assert_eq!(pick("linux/arm64").as_deref(), Some("b"));
        assert_eq!(pick("linux/arm/v7").as_deref(), Some("a"));
        assert_eq!(pick("linux/arm/v6"), None);
        assert_eq!(pick("linux/s390x"), None);
        assert!(parse_platform("linux").is_none());
    }
}
