//! `berth cp` (ContainerArchive, PutContainerArchive, ContainerArchiveInfo): copies files
//! between a container and the local filesystem, with the docker CLI's path rules (a missing
//! destination takes the source's content under the destination's name, `dir/.` copies a
//! directory's contents, `-` is a tar on stdin or stdout, `-L` follows a source symlink).

use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

use berth_api_types::archive::ContainerPathStat;
use bollard::query_parameters::{ContainerArchiveInfoOptions, DownloadFromContainerOptions, UploadToContainerOptions};
use futures_util::{StreamExt, TryStreamExt};
use tokio_util::io::{ReaderStream, StreamReader, SyncIoBridge};

use crate::client::Client;
use crate::error::{CliError, CmdResult};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Archive mode (copy all uid/gid information)
    #[arg(short = 'a', long = "archive")]
    pub archive: bool,
    /// Always follow symbol link in SRC_PATH
    #[arg(short = 'L', long = "follow-link")]
    pub follow_link: bool,
    #[arg(value_name = "SRC")]
    pub src: String,
    #[arg(value_name = "DEST")]
    pub dest: String,
}

/// docker's `splitCpArg`: `container:path`, unless the argument is an absolute or explicitly
/// relative (`./a:b`) local path.
pub fn split_arg(arg: &str) -> (Option<&str>, &str) {
    if arg.starts_with('/') {
        return (None, arg);
    }
    match arg.split_once(':') {
        Some((c, p)) if !c.starts_with('.') => (Some(c), p),
        _ => (None, arg),
    }
}

fn err(msg: impl Into<String>) -> CliError {
    CliError::new(1, msg)
}

pub async fn run(c: &Client, a: Args) -> CmdResult {
    match (split_arg(&a.src), split_arg(&a.dest)) {
        ((Some(_), _), (Some(_), _)) => Err(err("copying between containers is not supported")),
        ((None, _), (None, _)) => Err(err("must specify at least one container source")),
        ((Some(ctr), path), (None, dst)) => from_container(c, ctr, path, dst, a.follow_link).await,
        ((None, src), (Some(ctr), path)) => to_container(c, src, ctr, path, &a).await,
    }
}

async fn stat(c: &Client, ctr: &str, path: &str) -> Option<ContainerPathStat> {
    let opts = ContainerArchiveInfoOptions { path: path.to_string() };
    let s = c.docker.get_container_archive_info(ctr, Some(opts)).await.ok()?;
    let mtime = s.modification_time.as_deref().and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
    Some(ContainerPathStat {
        name: s.name,
        size: s.size,
        mode: s.file_mode,
        mtime: mtime.map(|t| t.with_timezone(&chrono::Utc)).unwrap_or_default(),
        link_target: s.link_target,
    })
}

/// Go's `archive.SplitPathDirEntry`: the parent and the final component (`.` kept).
pub fn split_dir_entry(path: &str) -> (String, String) {
    let dot = path == "." || path.ends_with("/.");
    let clean = clean(path);
    let clean = if dot && clean != "." { format!("{clean}/.") } else { clean };
    match clean.rsplit_once('/') {
        Some(("", b)) => ("/".into(), b.into()),
        Some((d, b)) => (d.into(), b.into()),
        None => (".".into(), clean),
    }
}

/// Go's `filepath.Clean` for `/`-separated paths.
pub fn clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for p in path.split('/') {
        match p {
            "" | "." => {}
            ".." if out.last().is_some_and(|l| *l != "..") => {
                out.pop();
            }
            ".." if rooted => {}
            p => out.push(p),
        }
    }
    let joined = out.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

fn asserts_directory(path: &str) -> bool {
    path.ends_with('/') || path.ends_with("/.") || path == "."
}

/// Go's `archive.GetRebaseName`: keep the client's trailing `/` or `/.`, and the name it used.
fn rebase_name(path: &str, resolved: &str) -> (String, Option<String>) {
    let mut resolved = resolved.to_string();
    if (path.ends_with("/.") || path == ".") && !resolved.ends_with("/.") {
        resolved.push_str("/.");
    } else if path.ends_with('/') && !resolved.ends_with('/') {
        resolved.push('/');
    }
    let (_, a) = split_dir_entry(path);
    let (_, b) = split_dir_entry(&resolved);
    (resolved, (a != b).then_some(a))
}

/// Where an archive of `src_base` (a directory or not) is extracted for destination `dst`, and
/// the name its top entry takes there (docker's `PrepareArchiveCopy`).
pub fn prepare_copy(
    src_is_dir: bool,
    src_base: &str,
    dst: &str,
    dst_exists: bool,
    dst_is_dir: bool,
) -> Result<(String, Option<(String, String)>), CliError> {
    let (dst_dir, dst_base) = split_dir_entry(dst);
    match (dst_exists, dst_is_dir) {
        (true, true) => Ok((dst.to_string(), None)),
        (true, false) if src_is_dir => Err(err("cannot copy directory")),
        (false, _) if !src_is_dir && asserts_directory(dst) => Err(err("no such directory")),
        _ => Ok((dst_dir, Some((src_base.to_string(), dst_base)))),
    }
}

/// Renames the first component `from` of an entry name to `to`.
fn rebase(name: &str, rename: &Option<(String, String)>) -> String {
    let Some((from, to)) = rename else { return name.to_string() };
    let trimmed = name.strip_prefix("./").filter(|_| from != ".").unwrap_or(name);
    if trimmed == from.as_str() || trimmed.strip_suffix('/') == Some(from.as_str()) {
        return format!("{to}{}", &trimmed[from.len()..]);
    }
    match trimmed.strip_prefix(&format!("{from}/")) {
        Some(rest) => format!("{to}/{rest}"),
        None => name.to_string(),
    }
}

async fn from_container(c: &Client, ctr: &str, path: &str, dst: &str, follow: bool) -> CmdResult {
    let mut src = path.to_string();
    let mut renamed: Option<String> = None;
    if follow {
        if let Some(s) = stat(c, ctr, path).await.filter(ContainerPathStat::is_symlink) {
            let mut target = s.link_target.clone();
            if !target.starts_with('/') {
                target = format!("{}/{target}", split_dir_entry(path).0);
            }
            let (resolved, name) = rebase_name(path, &target);
            src = resolved;
            renamed = name;
        }
    }
    if dst != "-" {
        let parent = Path::new(&clean(dst)).parent().map(Path::to_path_buf).unwrap_or_default();
        if !parent.as_os_str().is_empty() && !parent.exists() {
            return Err(err(format!(
                "invalid output path: directory {:?} does not exist",
                parent.display().to_string()
            )));
        }
    }
    // Stat before the download: a stopped container's archive holds its lifecycle lock while
    // streaming, so a stat sent mid-stream would wait for a stream nobody reads.
    let src_stat = stat(c, ctr, &src).await;
    let opts = DownloadFromContainerOptions { path: src.clone() };
    let mut stream = c.docker.download_from_container(ctr, Some(opts));
    let first = match stream.next().await {
        Some(r) => Some(r?),
        None => None,
    };
    let body = futures_util::stream::iter(first.map(Ok)).chain(stream).map_err(io::Error::other);
    let reader = StreamReader::new(body);
    if dst == "-" {
        let mut out = tokio::io::stdout();
        tokio::io::copy(&mut tokio::io::BufReader::new(reader), &mut out).await?;
        tokio::io::AsyncWriteExt::flush(&mut out).await?;
        return Ok(0);
    }
    let src_is_dir = src_stat.as_ref().is_some_and(|s| s.is_dir());
    let (_, src_base) = split_dir_entry(&src);
    let dst = dst.to_string();
    let reader = SyncIoBridge::new(reader);
    tokio::task::spawn_blocking(move || copy_to_local(reader, src_is_dir, &src_base, renamed, &dst))
        .await
        .map_err(|e| err(e.to_string()))??;
    Ok(0)
}

/// docker's `CopyTo`: resolve the local destination, then untar there (owners not kept).
/// `src_base` is the archive's top entry; `renamed` the name the client used for it (`-L`).
fn copy_to_local(
    input: impl Read,
    src_is_dir: bool,
    src_base: &str,
    renamed: Option<String>,
    dst: &str,
) -> Result<(), CliError> {
    let mut path = PathBuf::from(dst);
    for _ in 0..10 {
        match path.symlink_metadata() {
            Ok(md) if md.file_type().is_symlink() => {
                let t = std::fs::read_link(&path)?;
                path = path.parent().unwrap_or(Path::new("/")).join(t);
            }
            _ => break,
        }
    }
    let (exists, is_dir) = match std::fs::metadata(&path) {
        Ok(md) => (true, md.is_dir()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let (parent, _) = split_dir_entry(dst);
            let pmd = std::fs::metadata(&parent).map_err(|e| err(format!("stat {parent}: {}", os_msg(&e))))?;
            if !pmd.is_dir() {
                return Err(err("not a directory"));
            }
            (false, false)
        }
        Err(e) => return Err(err(format!("stat {dst}: {}", os_msg(&e)))),
    };
    let dst_str = if exists { path.display().to_string() } else { dst.to_string() };
    let (dir, rename) = prepare_copy(src_is_dir, src_base, &dst_str, exists, is_dir)?;
    // docker renames the top entry to the client's name first, then to the destination's.
    let rename = match (rename, renamed) {
        (Some((from, to)), _) => Some((from, to)),
        (None, Some(name)) => Some((src_base.to_string(), name)),
        (None, None) => None,
    };
    untar_local(input, Path::new(&dir), &rename)
}

fn os_msg(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(20) => "not a directory".into(),
        Some(2) => "no such file or directory".into(),
        _ => e.to_string(),
    }
}

/// Extracts into `dir`, keeping modes and times but not owners (as docker's `NoLchown`),
/// refusing names that climb out and never writing through an existing symlink.
fn untar_local(input: impl Read, dir: &Path, rename: &Option<(String, String)>) -> Result<(), CliError> {
    let mut archive = tar::Archive::new(input);
    archive.set_preserve_permissions(true);
    archive.set_preserve_mtime(true);
    archive.set_preserve_ownerships(false);
    archive.set_overwrite(true);
    for entry in archive.entries()? {
        let mut entry = entry?;
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let rel = safe_relative(&rebase(&name, rename)).ok_or_else(|| err(format!("invalid tar entry {name:?}")))?;
        if rel.as_os_str().is_empty() {
            continue;
        }
        let target = dir.join(&rel);
        check_parents(dir, &rel)?;
        let kind = entry.header().entry_type();
        if let Ok(md) = target.symlink_metadata() {
            match (md.is_dir(), kind.is_dir()) {
                (true, true) => {}
                (true, false) => {
                    return Err(err(format!(
                        "cannot overwrite directory {:?} with non-directory {:?}",
                        target.display().to_string(),
                        dir.display().to_string()
                    )))
                }
                (false, true) => {
                    return Err(err(format!(
                        "cannot overwrite non-directory {:?} with directory {:?}",
                        target.display().to_string(),
                        dir.display().to_string()
                    )))
                }
                (false, false) => std::fs::remove_file(&target)?,
            }
        }
        if kind.is_hard_link() {
            let link = entry.link_name_bytes().map(|l| String::from_utf8_lossy(&l).into_owned()).unwrap_or_default();
            let lrel = safe_relative(&rebase(&link, rename)).ok_or_else(|| err(format!("invalid link {link:?}")))?;
            check_parents(dir, &lrel)?;
            std::fs::hard_link(dir.join(lrel), &target)?;
            continue;
        }
        entry.unpack(&target)?;
    }
    Ok(())
}

/// `name` as a relative path with no `..` (leading `/` and `./` dropped); `None` if it climbs.
fn safe_relative(name: &str) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in Path::new(name).components() {
        match c {
            Component::Normal(p) => out.push(p),
            Component::CurDir | Component::RootDir => {}
            _ => return None,
        }
    }
    Some(out)
}

/// Creates missing parent directories of `dir/rel`, refusing any that is a symlink.
fn check_parents(dir: &Path, rel: &Path) -> Result<(), CliError> {
    let mut cur = dir.to_path_buf();
    let parents: Vec<_> = rel.components().collect();
    for c in &parents[..parents.len().saturating_sub(1)] {
        cur.push(c);
        match cur.symlink_metadata() {
            Ok(md) if md.is_dir() => {}
            Ok(_) => return Err(err(format!("{} is not a directory", cur.display()))),
            Err(_) => std::fs::create_dir(&cur)?,
        }
    }
    Ok(())
}

async fn to_container(c: &Client, src: &str, ctr: &str, path: &str, a: &Args) -> CmdResult {
    let mut dst = path.to_string();
    let mut dst_stat = stat(c, ctr, &dst).await;
    if let Some(s) = dst_stat.clone().filter(ContainerPathStat::is_symlink) {
        let mut target = s.link_target;
        if !target.starts_with('/') {
            target = format!("{}/{target}", split_dir_entry(&dst).0);
        }
        dst = target;
        dst_stat = stat(c, ctr, &dst).await;
    }
    let (dst_exists, dst_is_dir) = (dst_stat.is_some(), dst_stat.as_ref().is_some_and(|s| s.is_dir()));
    let opts = UploadToContainerOptions {
        path: String::new(),
        no_overwrite_dir_non_dir: Some("true".into()),
        copy_uidgid: a.archive.then(|| "true".into()),
    };
    if src == "-" {
        if !dst_is_dir {
            return Err(err(format!("destination \"{ctr}:{path}\" must be a directory")));
        }
        let body = ReaderStream::new(tokio::io::stdin());
        let opts = UploadToContainerOptions { path: dst, ..opts };
        c.docker.upload_to_container(ctr, Some(opts), bollard::body_try_stream(body)).await?;
        return Ok(0);
    }
    let mut local = PathBuf::from(src);
    let mut top = split_dir_entry(src).1;
    let lmd = std::fs::symlink_metadata(&local).map_err(|e| err(format!("lstat {src}: {}", os_msg(&e))))?;
    if a.follow_link && lmd.file_type().is_symlink() {
        local = std::fs::canonicalize(&local).map_err(|e| err(format!("lstat {src}: {}", os_msg(&e))))?;
    }
    let src_is_dir = std::fs::symlink_metadata(&local).map(|m| m.is_dir()).unwrap_or(false);
    let (dir, rename) = prepare_copy(src_is_dir, &top, &dst, dst_exists, dst_is_dir)?;
    if let Some((_, to)) = &rename {
        top = to.clone();
    }
    let (reader, writer) = tokio::io::duplex(256 * 1024);
    let writer = SyncIoBridge::new(writer);
    let producer = tokio::task::spawn_blocking(move || -> io::Result<()> {
        let mut b = tar::Builder::new(writer);
        b.follow_symlinks(false);
        if src_is_dir {
            let name = if top == "." { PathBuf::from(".") } else { PathBuf::from(&top) };
            b.append_dir_all(name, &local)?;
        } else {
            b.append_path_with_name(&local, &top)?;
        }
        b.into_inner().map(drop)
    });
    let opts = UploadToContainerOptions { path: dir, ..opts };
    let body = ReaderStream::new(reader);
    let uploaded = c.docker.upload_to_container(ctr, Some(opts), bollard::body_try_stream(body)).await;
    let produced = producer.await.map_err(|e| err(e.to_string()))?;
    uploaded?;
    produced?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn args_split_like_docker() {
        assert_eq!(split_arg("c:/etc"), (Some("c"), "/etc"));
        assert_eq!(split_arg("/a:b"), (None, "/a:b"));
        assert_eq!(split_arg("./a:b"), (None, "./a:b"));
        assert_eq!(split_arg("file"), (None, "file"));
        assert_eq!(split_arg("-"), (None, "-"));
    }

    #[test]
    fn paths_like_go() {
        assert_eq!(split_dir_entry("/a/b/"), ("/a".to_string(), "b".to_string()));
        assert_eq!(split_dir_entry("/a/b/."), ("/a/b".to_string(), ".".to_string()));
        assert_eq!(split_dir_entry("b"), (".".to_string(), "b".to_string()));
        assert_eq!(split_dir_entry("/b"), ("/".to_string(), "b".to_string()));
        assert_eq!(clean("a/../../b"), "../b");
        assert_eq!(rebase_name("/link", "/etc/hosts"), ("/etc/hosts".to_string(), Some("link".to_string())));
    }

    #[test]
    fn prepare_like_docker() {
        assert_eq!(prepare_copy(true, "d", "/x", true, true).unwrap(), ("/x".to_string(), None));
        assert_eq!(prepare_copy(true, "d", "/x", true, false).unwrap_err().msg, "cannot copy directory");
        assert_eq!(prepare_copy(false, "f", "/x/", false, false).unwrap_err().msg, "no such directory");
        assert_eq!(
            prepare_copy(false, "f", "/t/new", false, false).unwrap(),
            ("/t".to_string(), Some(("f".to_string(), "new".to_string())))
        );
        let r = Some(("d".to_string(), "new".to_string()));
        assert_eq!(rebase("d/", &r), "new/");
        assert_eq!(rebase("d/f", &r), "new/f");
        assert_eq!(rebase("dd/f", &r), "dd/f");
        let dot = Some((".".to_string(), "new".to_string()));
        assert_eq!(rebase("./f", &dot), "new/f");
    }

    #[test]
    fn untar_refuses_escapes() {
        let d = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("/etc", d.path().join("l")).unwrap();
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(1);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, "l/x", &b"1"[..]).unwrap();
        let data = b.into_inner().unwrap();
        assert!(untar_local(&data[..], d.path(), &None).is_err());
        assert!(!Path::new("/etc/x").exists());
        assert!(safe_relative("../x").is_none());
    }
}
