//! The registry's disk layout under its root:
//!
//! ```text
//! content/blobs/sha256/<hex>                 every blob and manifest (berth-store content store)
//! repos/<name>/_blobs/<hex>                  blob linked into the repository (empty file)
//! repos/<name>/_manifests/<hex>              manifest of the repository; holds its media type
//! repos/<name>/_tags/<tag>                   holds `sha256:<hex>`
//! repos/<name>/_referrers/<subject-hex>/<hex> descriptor JSON of a manifest whose subject is it
//! uploads/<uuid>                             an upload in progress
//! ```
//!
//! Repository path components never start with `_`, so the markers cannot collide with names.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use berth_image::Digest;
use berth_store::ContentStore;

use crate::error::{Code, RegistryError, Result};

#[derive(Debug, Clone)]
pub struct Storage {
    pub root: PathBuf,
    pub content: ContentStore,
    /// Hash states of the uploads in progress.
    pub uploads: crate::upload::UploadStates,
}

/// Writes `bytes` to `path` through a temp file and a rename.
fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension(format!("tmp-{:016x}", rand::random::<u64>()));
    fs::write(&tmp, bytes)?;
    fs::rename(&tmp, path)
}

fn not_found_ok(r: io::Result<()>) -> io::Result<()> {
    match r {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

impl Storage {
    pub fn open(root: &Path) -> Result<Storage> {
        let content = ContentStore::open(root)?;
        fs::create_dir_all(root.join("uploads"))?;
        fs::create_dir_all(root.join("repos"))?;
        Ok(Storage { root: root.to_path_buf(), content, uploads: Default::default() })
    }

    fn repo(&self, name: &str) -> PathBuf {
        self.root.join("repos").join(name)
    }

    pub fn upload_path(&self, uuid: &str) -> PathBuf {
        self.root.join("uploads").join(uuid)
    }

    pub fn blob_linked(&self, name: &str, d: &Digest) -> bool {
        self.repo(name).join("_blobs").join(d.hex()).is_file() && self.content.exists(d)
    }

    pub fn link_blob(&self, name: &str, d: &Digest) -> Result<()> {
        write_atomic(&self.repo(name).join("_blobs").join(d.hex()), b"")?;
        Ok(())
    }

    /// The media type of manifest `d` in repository `name`, if it has it.
    pub fn manifest_media_type(&self, name: &str, d: &Digest) -> Option<String> {
        if !self.content.exists(d) {
            return None;
        }
        fs::read_to_string(self.repo(name).join("_manifests").join(d.hex())).ok()
    }

    pub fn put_manifest(&self, name: &str, bytes: &[u8], media_type: &str) -> Result<Digest> {
        let d = self.content.put(bytes)?;
        write_atomic(&self.repo(name).join("_manifests").join(d.hex()), media_type.as_bytes())?;
        Ok(d)
    }

    pub fn tag(&self, name: &str, tag: &str) -> Option<Digest> {
        fs::read_to_string(self.repo(name).join("_tags").join(tag)).ok()?.trim().parse().ok()
    }

    pub fn set_tag(&self, name: &str, tag: &str, d: &Digest) -> Result<()> {
        write_atomic(&self.repo(name).join("_tags").join(tag), d.to_string().as_bytes())?;
        Ok(())
    }

    pub fn remove_tag(&self, name: &str, tag: &str) -> Result<bool> {
        match fs::remove_file(self.repo(name).join("_tags").join(tag)) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Sorted tags of `name`; `NAME_UNKNOWN` when the repository does not exist.
    pub fn tags(&self, name: &str) -> Result<Vec<String>> {
        let dir = self.repo(name);
        if !dir.join("_manifests").is_dir() {
            return Err(RegistryError::new(
                Code::NameUnknown,
                format!("repository name not known to registry: {name}"),
            ));
        }
        let mut tags: Vec<String> = match fs::read_dir(dir.join("_tags")) {
            Ok(rd) => rd
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| !n.contains(".tmp-"))
                .collect(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => vec![],
            Err(e) => return Err(e.into()),
        };
        tags.sort();
        Ok(tags)
    }

    /// Removes manifest `d` from `name`, with the tags pointing at it.
    pub fn delete_manifest(&self, name: &str, d: &Digest) -> Result<bool> {
        let path = self.repo(name).join("_manifests").join(d.hex());
        if !path.is_file() {
            return Ok(false);
        }
        for t in self.tags(name)? {
            if self.tag(name, &t).as_ref() == Some(d) {
                self.remove_tag(name, &t)?;
            }
        }
        fs::remove_file(path)?;
        Ok(true)
    }

    pub fn delete_blob_link(&self, name: &str, d: &Digest) -> Result<bool> {
        let path = self.repo(name).join("_blobs").join(d.hex());
        let existed = path.is_file();
        not_found_ok(fs::remove_file(path))?;
        Ok(existed)
    }

    /// Records `descriptor` (JSON) as a referrer of `subject`.
    pub fn add_referrer(&self, name: &str, subject: &Digest, d: &Digest, descriptor: &serde_json::Value) -> Result<()> {
        let path = self.repo(name).join("_referrers").join(subject.hex()).join(d.hex());
        write_atomic(&path, descriptor.to_string().as_bytes())?;
        Ok(())
    }

    /// Descriptors of the manifests whose subject is `subject` (still present), sorted by digest.
    pub fn referrers(&self, name: &str, subject: &Digest) -> Result<Vec<serde_json::Value>> {
        let dir = self.repo(name).join("_referrers").join(subject.hex());
        let mut out = Vec::new();
        let Ok(rd) = fs::read_dir(&dir) else { return Ok(out) };
        let mut entries: Vec<_> = rd.flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let Ok(d) = Digest::from_hex(&e.file_name().to_string_lossy()) else { continue };
            if self.manifest_media_type(name, &d).is_none() {
                continue;
            }
            if let Ok(v) = serde_json::from_slice(&fs::read(e.path())?) {
                out.push(v);
            }
        }
        Ok(out)
    }

    /// Every repository name, sorted.
    pub fn catalog(&self) -> Result<Vec<String>> {
        let base = self.root.join("repos");
        let mut out = Vec::new();
        let mut stack = vec![base.clone()];
        while let Some(dir) = stack.pop() {
            let Ok(rd) = fs::read_dir(&dir) else { continue };
            for e in rd.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.starts_with('_') || !e.path().is_dir() {
                    continue;
                }
                if e.path().join("_manifests").is_dir() {
                    if let Ok(rel) = e.path().strip_prefix(&base) {
                        out.push(rel.to_string_lossy().into_owned());
                    }
                }
                stack.push(e.path());
            }
        }
        out.sort();
        Ok(out)
    }
}
