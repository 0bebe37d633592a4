//! Registry mirrors (`registry-mirrors` in daemon.json, `--registry-mirror`), as dockerd:
//! pulls of Docker Hub images try each mirror in order, then Docker Hub itself; pushes never
//! go to a mirror.
//!
//! A mirror is an `http://` or `https://` URL with no path, query, fragment or credentials;
//! it is kept with a trailing `/` (`http://127.0.0.1:5000/`), as dockerd reports it.
//! `http://` mirrors are reached over plain HTTP; `https://` mirrors over TLS, verified against
//! the system roots and the mirror host's `certs.d` CAs, or unverified when the host is an
//! insecure registry.

use crate::endpoint::{Endpoint, RegistryConfig};

/// Checks a mirror URL as dockerd's `ValidateMirror` does; returns it normalised with a
/// trailing `/`, or dockerd's error message.
pub fn validate_mirror(value: &str) -> Result<String, String> {
    let url = reqwest::Url::parse(value).ok();
    // `notaurl` has no scheme: dockerd says `unsupported scheme ""`.
    let scheme = url.as_ref().map_or(String::new(), |u| u.scheme().to_string());
    let Some(url) = url.filter(|_| scheme == "http" || scheme == "https") else {
        return Err(format!("invalid mirror: unsupported scheme {scheme:?} in {value:?}"));
    };
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("invalid mirror: no host in {value:?}"));
    }
    if (url.path() != "" && url.path() != "/") || url.query().is_some() || url.fragment().is_some() {
        return Err(format!("invalid mirror: path, query, or fragment at end of the URI {value:?}"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        let mut shown = url.clone();
        let _ = shown.set_password(Some("xxxxx"));
        let shown = shown.as_str().trim_end_matches('/').to_string();
        return Err(format!("invalid mirror: username/password not allowed in URI {shown:?}"));
    }
    Ok(format!("{}/", value.trim_end_matches('/')))
}

/// `host[:port]` of a validated mirror URL.
fn mirror_host(mirror: &str) -> Option<String> {
    let url = reqwest::Url::parse(mirror).ok()?;
    let host = url.host_str()?;
    Some(match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    })
}

impl RegistryConfig {
    /// How to reach `mirror` (a validated URL): its scheme decides plain HTTP or TLS.
    pub fn mirror_endpoint(&self, mirror: &str) -> Option<Endpoint> {
        let host = mirror_host(mirror)?;
        if mirror.starts_with("http://") {
            return Some(Endpoint { host, scheme: "http", accept_invalid_certs: false, roots: vec![] });
        }
        let roots = self.roots(&host);
        let accept_invalid_certs = roots.is_empty() && self.is_insecure(&host);
        Some(Endpoint { host, scheme: "https", accept_invalid_certs, roots })
    }

    /// The endpoints a pull from `domain` tries, in order: for `docker.io`, each mirror and
    /// then Docker Hub; for any other registry, that registry alone.
    pub async fn pull_endpoints(&self, domain: &str) -> Vec<Endpoint> {
        let mut out = Vec::new();
        if domain == "docker.io" {
            out.extend(self.mirrors.iter().filter_map(|m| self.mirror_endpoint(m)));
        }
        out.push(self.endpoint(crate::registry_host(domain)).await);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirrors_are_validated_as_dockerd_does() {
        assert_eq!(validate_mirror("http://127.0.0.1:5000").unwrap(), "http://127.0.0.1:5000/");
        assert_eq!(validate_mirror("https://m.example/").unwrap(), "https://m.example/");
        // The messages are dockerd 20.10's.
        assert_eq!(
            validate_mirror("ftp://x.example").unwrap_err(),
            r#"invalid mirror: unsupported scheme "ftp" in "ftp://x.example""#
        );
        assert_eq!(validate_mirror("notaurl").unwrap_err(), r#"invalid mirror: unsupported scheme "" in "notaurl""#);
        assert_eq!(
            validate_mirror("http://x.example/path").unwrap_err(),
            r#"invalid mirror: path, query, or fragment at end of the URI "http://x.example/path""#
        );
        assert!(validate_mirror("http://x.example/?a=1").is_err());
        assert!(validate_mirror("http://x.example/#f").is_err());
        assert_eq!(
            validate_mirror("http://u:p@x.example").unwrap_err(),
            r#"invalid mirror: username/password not allowed in URI "http://u:xxxxx@x.example""#
        );
    }

    #[tokio::test]
    async fn docker_hub_pulls_try_mirrors_first() {
        let c = RegistryConfig {
            mirrors: vec!["http://127.0.0.1:5999/".into(), "https://m.example:5000/".into()],
            insecure: vec!["m.example:5000".into()],
            ..Default::default()
        };
        let e = c.pull_endpoints("docker.io").await;
        let got: Vec<_> = e.iter().map(|e| (e.base(), e.accept_invalid_certs)).collect();
        assert_eq!(
            got,
            [
                ("http://127.0.0.1:5999".to_string(), false),
                ("https://m.example:5000".to_string(), true),
                ("https://registry-1.docker.io".to_string(), false),
            ]
        );
        // Other registries never go through a mirror.
        let e = c.pull_endpoints("quay.io").await;
        assert_eq!(e.iter().map(Endpoint::base).collect::<Vec<_>>(), ["https://quay.io"]);
        // A verified https mirror when it is not insecure.
        let c = RegistryConfig { mirrors: vec!["https://m.example/".into()], ..Default::default() };
        let e = c.mirror_endpoint("https://m.example/").unwrap();
        assert_eq!((e.base(), e.accept_invalid_certs), ("https://m.example".to_string(), false));
    }
}
