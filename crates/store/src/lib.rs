//! Content store, metadata and snapshots: where images and container filesystems live on disk.
//!
//! - [`content::ContentStore`]: `<root>/content/blobs/sha256/<hex>`, written to a temp file in the
//!   same directory, digest verified, fsynced, renamed: never visible half-written.
//! - [`meta::MetaStore`]: `<root>/meta.redb`, transactional indexes (tags → image id, image and
//!   layer records with refcounts, container snapshots), schema versioned.
//! - [`snapshot::Snapshots`]: `<root>/snapshots/<n>/{fs,work}`; the overlay snapshotter returns
//!   [`snapshot::Mount`]s as data and `berth-kernel` applies them.
//! - [`apply`]: layer tars unpacked with OCI/AUFS whiteouts turned into overlay whiteouts.
//! - [`diff`]: an overlay upper directory written back as a layer tar with OCI whiteouts.
//! - [`idmap`]: `userns-remap` id ranges; layer owners shifted into the host range and back.
//!
//! No HTTP and no API types here; every path is derived from a root passed in.

pub mod apply;
pub mod content;
pub mod diff;
pub mod idmap;
pub mod meta;
pub mod snapshot;

pub use content::ContentStore;
pub use meta::MetaStore;
pub use snapshot::{Mount, Snapshots};

use std::path::PathBuf;

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
    #[error("digest mismatch for {what}: expected {expected}, got {actual}")]
    DigestMismatch { what: String, expected: String, actual: String },
    #[error("metadata database: {context}: {source}")]
    Db {
        context: String,
        #[source]
        source: Box<redb::Error>,
    },
    #[error("corrupt record {key}: {source}")]
    Corrupt {
        key: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("metadata schema version {found} is newer than this berth understands ({supported})")]
    Schema { found: u64, supported: u64 },
    #[error("invalid layer: {0}")]
    InvalidLayer(String),
    #[error("unpacking {path}: {source}")]
    Unpack {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Mount(#[from] berth_kernel::mount::MountError),
}

impl Error {
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound(_))
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io { context: context.into(), source }
    }

    pub(crate) fn db(context: impl Into<String>) -> impl FnOnce(redb::Error) -> Error {
        let context = context.into();
        move |source| Error::Db { context, source: Box::new(source) }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
