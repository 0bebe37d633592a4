//! Image references with Docker's normalisation.
//!
//! `busybox` → `docker.io/library/busybox:latest`, `user/app` → `docker.io/user/app:latest`,
//! `localhost:5000/a/b:t` keeps its registry, `name@sha256:…` is pinned by digest. The familiar
//! form (`busybox:latest`, `user/app:v1`) is what dockerd shows in `RepoTags`.

use std::fmt;
use std::str::FromStr;

use crate::Digest;

pub const DEFAULT_DOMAIN: &str = "docker.io";
pub const OFFICIAL_PREFIX: &str = "library/";
pub const DEFAULT_TAG: &str = "latest";

/// A normalised reference: registry domain, repository path, optional tag and digest.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Reference {
    domain: String,
    path: String,
    tag: Option<String>,
    digest: Option<Digest>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    #[error("invalid reference format")]
    Format,
    #[error("invalid reference format: repository name must be lowercase")]
    Uppercase,
    #[error("repository name must have at least one component")]
    Empty,
    #[error("invalid tag format")]
    Tag,
    #[error("invalid repository name ({0}), cannot specify 64-byte hexadecimal strings")]
    HexName(String),
}

impl Reference {
    /// Parses and normalises; a reference with neither tag nor digest gets no tag (see
    /// [`Reference::with_default_tag`]).
    pub fn parse(s: &str) -> Result<Reference, ReferenceError> {
        if s.is_empty() {
            return Err(ReferenceError::Empty);
        }
        let (name, digest) = match s.split_once('@') {
            Some((n, d)) => (n, Some(d.parse::<Digest>().map_err(|_| ReferenceError::Format)?)),
            None => (s, None),
        };
        let last_slash = name.rfind('/').map(|i| i + 1).unwrap_or(0);
        let (name, tag) = match name[last_slash..].rfind(':') {
            Some(i) => (&name[..last_slash + i], Some(&name[last_slash + i + 1..])),
            None => (name, None),
        };
        if let Some(t) = tag {
            if !valid_tag(t) {
                return Err(ReferenceError::Format);
            }
        }
        let (domain, path) = split_domain(name);
        if path.is_empty() || domain.is_empty() {
            return Err(ReferenceError::Format);
        }
        if path.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(ReferenceError::Uppercase);
        }
        if !path.split('/').all(valid_component) || !valid_domain(&domain) {
            return Err(ReferenceError::Format);
        }
        if name.len() > 255 {
            return Err(ReferenceError::Format);
        }
        Ok(Reference { domain, path, tag: tag.map(str::to_string), digest })
    }

    /// Like [`Reference::parse`], and refuses 64-hex names (they would shadow image ids), as
    /// `docker tag` / `import` do.
    pub fn parse_repository_name(s: &str) -> Result<Reference, ReferenceError> {
        if Digest::from_hex(s).is_ok() {
            return Err(ReferenceError::HexName(s.to_string()));
        }
        Reference::parse(s)
    }

    /// Adds `:latest` when the reference has neither tag nor digest.
    pub fn with_default_tag(mut self) -> Reference {
        if self.tag.is_none() && self.digest.is_none() {
            self.tag = Some(DEFAULT_TAG.to_string());
        }
        self
    }

    /// Replaces the tag (validated) and drops any digest.
    pub fn with_tag(&self, tag: &str) -> Result<Reference, ReferenceError> {
        if !valid_tag(tag) {
            return Err(ReferenceError::Tag);
        }
        Ok(Reference { domain: self.domain.clone(), path: self.path.clone(), tag: Some(tag.to_string()), digest: None })
    }

    pub fn domain(&self) -> &str {
        &self.domain
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// `docker.io/library/busybox`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.domain, self.path)
    }

    /// `busybox`, `user/app`, `localhost:5000/a/b`.
    pub fn familiar_name(&self) -> String {
        if self.domain == DEFAULT_DOMAIN {
            self.path.strip_prefix(OFFICIAL_PREFIX).unwrap_or(&self.path).to_string()
        } else {
            self.name()
        }
    }

    /// `busybox:latest`, `busybox@sha256:…`: the form dockerd shows to users.
    pub fn familiar(&self) -> String {
        let mut s = self.familiar_name();
        push_suffix(&mut s, self.tag.as_deref(), self.digest.as_ref());
        s
    }

    /// True when `pattern` (docker's `reference` filter: `busybox`, `busy*:lat*`) matches.
    pub fn matches_pattern(&self, pattern: &str) -> bool {
        let (pname, ptag) = match pattern.rsplit_once(':') {
            Some((n, t)) if !t.contains('/') => (n, Some(t)),
            _ => (pattern, None),
        };
        let name_ok = glob(pname, &self.familiar_name()) || glob(pname, &self.name());
        let tag_ok = match ptag {
            None => true,
            Some(t) => self.tag.as_deref().is_some_and(|have| glob(t, have)),
        };
        name_ok && tag_ok
    }
}

fn push_suffix(s: &mut String, tag: Option<&str>, digest: Option<&Digest>) {
    if let Some(t) = tag {
        s.push(':');
        s.push_str(t);
    }
    if let Some(d) = digest {
        s.push('@');
        s.push_str(&d.to_string());
    }
}

impl fmt::Display for Reference {
    /// The fully qualified form: `docker.io/library/busybox:latest`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = self.name();
        push_suffix(&mut s, self.tag.as_deref(), self.digest.as_ref());
        f.write_str(&s)
    }
}

impl FromStr for Reference {
    type Err = ReferenceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Reference::parse(s)
    }
}

fn split_domain(name: &str) -> (String, String) {
    let (domain, rest) = match name.split_once('/') {
        Some((first, rest)) if first.contains('.') || first.contains(':') || first == "localhost" => {
            (first.to_string(), rest.to_string())
        }
        Some(_) => (DEFAULT_DOMAIN.to_string(), name.to_string()),
        None => (DEFAULT_DOMAIN.to_string(), name.to_string()),
    };
    let domain = if domain == "index.docker.io" { DEFAULT_DOMAIN.to_string() } else { domain };
    if domain == DEFAULT_DOMAIN && !rest.contains('/') {
        return (domain, format!("{OFFICIAL_PREFIX}{rest}"));
    }
    (domain, rest)
}

/// `[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*`
fn valid_component(c: &str) -> bool {
    let b = c.as_bytes();
    if b.is_empty() || !b[0].is_ascii_alphanumeric() || !b[b.len() - 1].is_ascii_alphanumeric() {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_lowercase() || b[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && matches!(b[i], b'.' | b'_' | b'-') {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-');
        if !ok || sep.is_empty() {
            return false;
        }
    }
    true
}

fn valid_domain(d: &str) -> bool {
    let host = match d.rsplit_once(':') {
        Some((h, port)) if !h.ends_with(']') || !d.starts_with('[') => {
            if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
                return false;
            }
            h
        }
        _ => d,
    };
    if host.starts_with('[') {
        return host.ends_with(']');
    }
    !host.is_empty()
        && host.split('.').all(|p| {
            !p.is_empty()
                && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !p.starts_with('-')
                && !p.ends_with('-')
        })
}

/// `[\w][\w.-]{0,127}`
pub fn valid_tag(t: &str) -> bool {
    let b = t.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
}

/// Shell-style `*` and `?` matching, as Go's `path.Match` for reference filters.
fn glob(pattern: &str, s: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = s.chars().collect();
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' && t[ti] != '/' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(sp) = star {
            if t[mark] == '/' {
                return false;
            }
            pi = sp + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full(s: &str) -> String {
        Reference::parse(s).unwrap().with_default_tag().to_string()
    }

    #[test]
    fn normalises_docker_hub_names() {
        assert_eq!(full("busybox"), "docker.io/library/busybox:latest");
        assert_eq!(full("busybox:1.36"), "docker.io/library/busybox:1.36");
        assert_eq!(full("user/app"), "docker.io/user/app:latest");
        assert_eq!(full("docker.io/busybox"), "docker.io/library/busybox:latest");
        assert_eq!(full("index.docker.io/library/busybox"), "docker.io/library/busybox:latest");
        assert_eq!(full("localhost:5000/a/b:t"), "localhost:5000/a/b:t");
        assert_eq!(full("localhost/x"), "localhost/x:latest");
        assert_eq!(full("quay.io/org/img:v1"), "quay.io/org/img:v1");
    }

    #[test]
    fn digests_and_familiar_forms() {
        let d = Digest::sha256_of(b"x");
        let r = Reference::parse(&format!("busybox@{d}")).unwrap().with_default_tag();
        assert_eq!(r.tag(), None);
        assert_eq!(r.digest(), Some(&d));
        assert_eq!(r.familiar(), format!("busybox@{d}"));
        assert_eq!(Reference::parse("busybox").unwrap().with_default_tag().familiar(), "busybox:latest");
        assert_eq!(Reference::parse("user/app:v1").unwrap().familiar(), "user/app:v1");
        assert_eq!(Reference::parse("localhost:5000/a/b:t").unwrap().familiar(), "localhost:5000/a/b:t");
        assert_eq!(Reference::parse("localhost:5000/a/b").unwrap().familiar_name(), "localhost:5000/a/b");
    }

    #[test]
    fn rejects_bad_references() {
        assert_eq!(Reference::parse("BusyBox").unwrap_err(), ReferenceError::Uppercase);
        assert_eq!(Reference::parse("").unwrap_err(), ReferenceError::Empty);
        for bad in ["a:b:c", "-a", "a//b", "a:", "busybox@sha256:12", "a b", "a/:t", "a__-b"] {
            assert!(Reference::parse(bad).is_err(), "{bad} should be refused");
        }
        let hex = "0659f457d9992692cc7a37a25c5381727a1f3e58d332e90764e2d5488c51db50";
        assert!(matches!(Reference::parse_repository_name(hex), Err(ReferenceError::HexName(_))));
        assert!(Reference::parse("busybox").unwrap().with_tag("bad tag").is_err());
    }

    #[test]
    fn reference_filter_patterns() {
        let r = Reference::parse("busybox:latest").unwrap();
        assert!(r.matches_pattern("busybox"));
        assert!(r.matches_pattern("busy*"));
        assert!(r.matches_pattern("busybox:lat*"));
        assert!(!r.matches_pattern("busybox:1"));
        assert!(!r.matches_pattern("alpine"));
        assert!(r.matches_pattern("docker.io/library/busybox"));
    }
}
