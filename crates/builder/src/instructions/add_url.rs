//! `ADD <http(s) URL>… dest`: the daemon downloads each URL (through
//! [`BuildBackend::fetch`]) into a private directory, as dockerd does: the file is named
//! after the last segment of the URL path (else the `Content-Disposition` filename), has mode
//! 0600 and the `Last-Modified` time as mtime, and is never unpacked. The step's cache key
//! then checksums the downloaded content like any copied file; `--checksum=sha256:<hex>`
//! must match it.

use std::path::Path;

use sha2::{Digest as _, Sha256};

use crate::backend::BuildBackend;
use crate::build::Builder;
use crate::context::SourceRoot;
use crate::{Error, Result};

pub fn is_url(s: &str) -> bool {
    s.starts_with("http://") || s.starts_with("https://")
}

/// Downloads `urls` into a new directory under the build's scratch space; returns it as a
/// source root and the names of the files in it, in order.
pub async fn download<B: BuildBackend>(
    b: &Builder<'_, B>,
    urls: &[String],
    checksum: Option<&str>,
) -> Result<(SourceRoot, Vec<String>)> {
    if checksum.is_some() && urls.len() != 1 {
        return Err(Error::InvalidArgument("checksum can't be specified for multiple sources".into()));
    }
    let want = match checksum {
        Some(c) => Some(
            c.strip_prefix("sha256:")
                .filter(|h| h.len() == 64 && h.bytes().all(|x| x.is_ascii_hexdigit()))
                .map(str::to_ascii_lowercase)
                .ok_or_else(|| Error::InvalidArgument(format!("invalid checksum digest format: {c}")))?,
        ),
        None => None,
    };
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = b.opts.scratch.join(format!("url-{n}"));
    std::fs::create_dir_all(&dir).map_err(Error::io("creating", &dir))?;
    let mut names = Vec::new();
    for (i, url) in urls.iter().enumerate() {
        let part = dir.join(format!(".part-{i}"));
        let fetched = b.backend.fetch(url, &part).await;
        let fetched = match fetched {
            Ok(f) => f,
            Err(e) => {
                let _ = std::fs::remove_file(&part);
                return Err(e);
            }
        };
        let name = file_name(url, fetched.content_disposition.as_deref())
            .ok_or_else(|| Error::InvalidArgument(format!("cannot determine filename for source {url}")))?;
        if let Some(want) = &want {
            let data = std::fs::read(&part).map_err(Error::io("reading", &part))?;
            let got = hex::encode(Sha256::digest(&data));
            if &got != want {
                return Err(Error::InvalidArgument(format!("digest mismatch sha256:{got}: sha256:{want}")));
            }
        }
        let path = dir.join(&name);
        std::fs::rename(&part, &path).map_err(Error::io("renaming", &path))?;
        set_attrs(&path, fetched.last_modified.as_deref())?;
        names.push(name);
    }
    Ok((SourceRoot { root: dir, ignore: None }, names))
}

/// Mode 0600 and, when the server sent `Last-Modified`, that time as mtime.
fn set_attrs(path: &Path, last_modified: Option<&str>) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(Error::io("chmod", path))?;
    if let Some(t) = last_modified.and_then(|v| chrono::DateTime::parse_from_rfc2822(v.trim()).ok()) {
        let f = std::fs::File::options().write(true).open(path).map_err(Error::io("opening", path))?;
        let secs = u64::try_from(t.timestamp()).unwrap_or(0);
        f.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
            .map_err(Error::io("setting mtime of", path))?;
    }
    Ok(())
}

/// moby's `getFilenameForDownload`: the URL path's last segment, else the
/// `Content-Disposition` filename.
pub fn file_name(url: &str, content_disposition: Option<&str>) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    let path = rest.find('/').map_or("", |i| &rest[i..]);
    let safe = |n: &str| (!n.is_empty() && n != "." && n != "..").then(|| n.to_string());
    if !path.is_empty() && !path.ends_with('/') {
        if let Some(n) = path.rsplit('/').next().and_then(safe) {
            return Some(n);
        }
    }
    let cd = content_disposition?;
    let v = cd.split(';').find_map(|p| p.trim().strip_prefix("filename="))?;
    let v = v.trim().trim_matches('"');
    if v.ends_with('/') {
        return None;
    }
    v.rsplit('/').next().and_then(safe)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_moby() {
        assert_eq!(file_name("http://h:1/a/b.txt?x=1", None).as_deref(), Some("b.txt"));
        assert_eq!(file_name("http://h/dir/", Some("attachment; filename=\"f.bin\"")).as_deref(), Some("f.bin"));
        assert_eq!(file_name("http://h", None), None);
        assert_eq!(file_name("https://h/", Some("attachment; filename=../x/")), None);
    }
}
