//! The legacy top-level fields of a container inspect's `NetworkSettings`, which dockerd still
//! emits beside `Networks` and which the stub model lacks: `IPAddress`, `Gateway`,
//! `IPPrefixLen`, `MacAddress`, `EndpointID` and the IPv6 ones are those of the container's
//! endpoint on the default `bridge` network, empty when it is not on it (user-defined networks
//! only); `Bridge`, `HairpinMode`, the link-local and secondary addresses are always empty.
//! `docker inspect -f '{{.NetworkSettings.IPAddress}}'` reads them.

use serde_json::{json, Map, Value};

/// The endpoint fields copied from `Networks.bridge`, and whether each is a number (empty
/// value 0) or a string (empty value "").
const FROM_BRIDGE: &[(&str, bool)] = &[
    ("EndpointID", false),
    ("Gateway", false),
    ("GlobalIPv6Address", false),
    ("GlobalIPv6PrefixLen", true),
    ("IPAddress", false),
    ("IPPrefixLen", true),
    ("IPv6Gateway", false),
    ("MacAddress", false),
];

/// Adds the legacy fields to `NetworkSettings` (an object) in place; fields already present
/// are kept.
pub fn fill_legacy_network_settings(settings: &mut Value) {
    let bridge: Option<Map<String, Value>> = settings.pointer("/Networks/bridge").and_then(Value::as_object).cloned();
    let Some(o) = settings.as_object_mut() else { return };
    o.entry("Bridge").or_insert(json!(""));
    o.entry("HairpinMode").or_insert(json!(false));
    o.entry("LinkLocalIPv6Address").or_insert(json!(""));
    o.entry("LinkLocalIPv6PrefixLen").or_insert(json!(0));
    o.entry("SecondaryIPAddresses").or_insert(Value::Null);
    o.entry("SecondaryIPv6Addresses").or_insert(Value::Null);
    for (key, number) in FROM_BRIDGE {
        let empty = if *number { json!(0) } else { json!("") };
        let v = bridge.as_ref().and_then(|b| b.get(*key)).filter(|v| !v.is_null()).cloned().unwrap_or(empty);
        o.entry(*key).or_insert(v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_bridge_endpoint_is_copied() {
        let mut v = json!({
            "Ports": {},
            "Networks": {"bridge": {
                "EndpointID": "e1", "Gateway": "172.17.0.1", "IPAddress": "172.17.0.2", "IPPrefixLen": 16,
                "MacAddress": "02:42:ac:11:00:02", "IPv6Gateway": "", "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0,
            }},
        });
        fill_legacy_network_settings(&mut v);
        assert_eq!(v["IPAddress"], "172.17.0.2");
        assert_eq!(v["Gateway"], "172.17.0.1");
        assert_eq!(v["IPPrefixLen"], 16);
        assert_eq!(v["MacAddress"], "02:42:ac:11:00:02");
        assert_eq!(v["EndpointID"], "e1");
        assert_eq!(v["HairpinMode"], false);
        assert!(v.as_object().unwrap().contains_key("SecondaryIPAddresses"));
    }

    #[test]
    fn user_defined_networks_leave_them_empty() {
        let mut v = json!({"Networks": {"front": {"IPAddress": "10.1.0.2", "IPPrefixLen": 24}}});
        fill_legacy_network_settings(&mut v);
        assert_eq!(v["IPAddress"], "");
        assert_eq!(v["IPPrefixLen"], 0);
        assert_eq!(v["Gateway"], "");
        assert_eq!(v["MacAddress"], "");
        // The keys dockerd 20.10 emits (golden capture) are all there.
        let golden: Value =
            serde_json::from_str(include_str!("../tests/golden/dockerd/container-inspect-running.json")).unwrap();
        for key in golden["NetworkSettings"].as_object().unwrap().keys() {
            if !matches!(key.as_str(), "SandboxID" | "SandboxKey" | "Ports" | "Networks") {
                assert!(v.get(key).is_some(), "NetworkSettings.{key}");
            }
        }
    }
}
