//! Content store, metadata and snapshots: where images and container filesystems live on disk.
//!
//! (Filled in by the images work: content-addressed blobs written temp → verify → fsync → rename,
//! redb metadata, overlay and naive snapshotters returning mounts as data, layer apply/diff.)

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not found: {0}")]
    NotFound(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound(_))
    }
}
