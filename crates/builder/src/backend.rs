//! The one trait through which a build calls back into the engine: base images, running a
//! step in a container, committing a layer + config as an image, the step cache, tags.

use std::future::Future;
use std::path::PathBuf;

use berth_api_types::query::images::JsonMessage;
use berth_image::ImageConfig;
use tokio::sync::mpsc;

use crate::Result;

/// Where build progress goes (`{"stream": …}` messages).
pub type Progress = mpsc::Sender<JsonMessage>;

/// A mount for one `RUN` step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunMount {
    /// A host path bound at `target` (secrets: read-only files; caches: directories).
    Bind { source: PathBuf, target: String, readonly: bool },
    /// An empty tmpfs at `target`.
    Tmpfs { target: String },
}

impl RunMount {
    pub fn target(&self) -> &str {
        match self {
            RunMount::Bind { target, .. } | RunMount::Tmpfs { target } => target,
        }
    }
}

/// Resource limits of the build's RUN containers (`/build?shmsize=&memory=&cpushares=…`);
/// zero / empty = unset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunLimits {
    pub shm_size: i64,
    pub memory: i64,
    pub memory_swap: i64,
    pub cpu_shares: i64,
    pub cpu_period: i64,
    pub cpu_quota: i64,
    pub cpuset_cpus: String,
    pub cpuset_mems: String,
}

/// One `RUN` step: a container on top of `image` (empty = scratch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSpec {
    pub image: String,
    pub args: Vec<String>,
    pub env: Vec<String>,
    pub user: String,
    pub workdir: String,
    /// `none` unless the build or the step asked for another network.
    pub network: String,
    pub mounts: Vec<RunMount>,
    pub extra_hosts: Vec<String>,
    pub limits: RunLimits,
}

/// The filesystem change a new image adds on top of its parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layer {
    /// Config only: the history entry is marked `empty_layer`.
    None,
    /// The writable layer of a finished step container (mount targets of the step are dropped).
    Container { id: String, drop_paths: Vec<String> },
    /// A layer tar written by the builder (COPY/ADD/WORKDIR).
    Tar(PathBuf),
}

/// What a download for `ADD <url>` answered, besides the body the backend wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fetched {
    /// The `Content-Disposition` header, for a URL whose path names no file.
    pub content_disposition: Option<String>,
    /// The `Last-Modified` header (an HTTP date), which becomes the file's mtime.
    pub last_modified: Option<String>,
}

/// An image filesystem mounted read-only for the builder to read (`COPY --from`, COPY
/// destinations); released by [`BuildBackend::unmount_image`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountedImage {
    pub root: PathBuf,
    pub token: String,
}

pub trait BuildBackend: Send + Sync {
    /// Finds (or, with `pull`, pulls) a base image; returns its id and config.
    fn resolve_image(
        &self,
        name: &str,
        pull: bool,
        platform: Option<&str>,
        out: &Progress,
    ) -> impl Future<Output = Result<(String, ImageConfig)>> + Send;

    /// The config of an image the build made or found.
    fn image_config(&self, id: &str) -> impl Future<Output = Result<ImageConfig>> + Send;

    /// Creates and runs a step container, streaming its output to `out` after
    /// ` ---> Running in <id>`. Returns the container id and the exit code.
    fn run(&self, spec: RunSpec, out: &Progress) -> impl Future<Output = Result<(String, i64)>> + Send;

    /// Removes a step container.
    fn remove_container(&self, id: &str) -> impl Future<Output = Result<()>> + Send;

    /// Stores `config` (parent's diff ids and history already in it; the new layer's diff id
    /// is appended, or the last history entry marked empty when the layer is empty) as an
    /// untagged image whose parent is `parent`. Returns the new image id.
    fn commit(&self, parent: &str, config: ImageConfig, layer: Layer) -> impl Future<Output = Result<String>> + Send;

    /// Mounts an image's filesystem read-only (scratch: `""`, an empty directory).
    fn mount_image(&self, id: &str) -> impl Future<Output = Result<MountedImage>> + Send;

    fn unmount_image(&self, m: &MountedImage) -> impl Future<Output = ()> + Send;

    /// The image (id and config) a step with this cache key produced before, if it still
    /// exists.
    fn cache_get(&self, key: &str) -> impl Future<Output = Option<(String, ImageConfig)>> + Send;

    /// `--cache-from`: an image among `sources` and their ancestors whose parent is
    /// `parent` and whose last history entry is `created_by` (dockerd's cache-from match).
    fn cache_from(
        &self,
        sources: &[String],
        parent: &str,
        created_by: &str,
    ) -> impl Future<Output = Option<(String, ImageConfig)>> + Send;

    fn cache_put(&self, key: &str, image: &str) -> impl Future<Output = Result<()>> + Send;

    /// The persistent directory of `RUN --mount=type=cache,id=<id>`.
    fn cache_mount_dir(&self, id: &str) -> Result<PathBuf>;

    /// Downloads `url` (`ADD <http(s) URL>`) into the new file `dest`. The daemon fetches,
    /// not a step container. A status >= 400 is an error.
    fn fetch(&self, url: &str, dest: &std::path::Path) -> impl Future<Output = Result<Fetched>> + Send;

    /// Points `tag` (a normalised reference) at `image`.
    fn tag(&self, image: &str, tag: &str) -> impl Future<Output = Result<()>> + Send;
}
