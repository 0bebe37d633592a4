//! `POST /build` (ImageBuild): the context tar is unpacked into a private directory, secrets
//! are written beside it (never into the context), and `berth-builder` runs the Dockerfile
//! through [`backend::EngineBackend`]. Also `POST /build/prune` ([`prune`]) and the build cache
//! usage for `system df` ([`cache`]), and image commits shared with `POST /commit` ([`layer`]).

pub(crate) mod backend;
pub mod cache;
mod fetch;
pub(crate) mod layer;
pub(crate) mod prune;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;

use berth_builder::Progress;
use tokio::io::AsyncRead;
use tokio_util::io::SyncIoBridge;

pub use berth_builder::{BuildOptions, RunLimits};
pub use prune::{BuildCachePruneReport, BuildPruneOptions};

use crate::{Engine, Error, Result};

/// A build request as the API received it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BuildRequest {
    pub options: BuildOptions,
    /// `--secret id=…`: secret contents, written to files only this build's RUN steps mount.
    pub secrets: BTreeMap<String, Vec<u8>>,
}

/// How a build ended, for the API: a build error after the stream started goes into the
/// stream (`errorDetail` with the step's exit code).
#[derive(Debug)]
pub enum BuildFailure {
    /// Before anything was streamed: an HTTP error.
    Request(Error),
    /// During the build: the message and code for the last stream line; `client_error` when
    /// the Dockerfile or the request was at fault (400 if nothing was streamed yet).
    Step { message: String, code: i64, client_error: bool },
}

impl Engine {
    /// Checks the tags of a build before its context is read (dockerd answers 400).
    pub fn build_validate(&self, opts: &BuildOptions) -> Result<()> {
        for t in &opts.tags {
            berth_image::Reference::parse(t)
                .map_err(|e| Error::InvalidArgument(format!("invalid tag \"{t}\": {e}")))?;
        }
        if let Some(n) = &opts.network {
            if !matches!(n.as_str(), "" | "default" | "none" | "host") {
                return Err(Error::InvalidArgument(format!(
                    "network mode \"{n}\" is not supported for builds; use none or host"
                )));
            }
        }
        Ok(())
    }

    /// Runs a build over the context tar `body`, streaming progress to `out`; returns the
    /// image id.
    pub async fn image_build(
        self: &Arc<Self>,
        mut req: BuildRequest,
        body: impl AsyncRead + Send + Unpin + 'static,
        out: Progress,
    ) -> std::result::Result<String, BuildFailure> {
        self.build_validate(&req.options).map_err(BuildFailure::Request)?;
        let tmp = self.images.inner.tmp.clone();
        let dir = tempfile::Builder::new()
            .prefix("build-")
            .tempdir_in(&tmp)
            .map_err(|e| BuildFailure::Request(Error::io("creating build directory", e)))?;
        let context = dir.path().join("context");
        let scratch = dir.path().join("scratch");
        let secrets = dir.path().join("secrets");
        for d in [&context, &scratch, &secrets] {
            std::fs::create_dir_all(d).map_err(|e| BuildFailure::Request(Error::io("creating build directory", e)))?;
        }
        let reader = SyncIoBridge::new(body);
        let ctx = context.clone();
        let dockerfile = req.options.dockerfile.clone();
        let unpacked = tokio::task::spawn_blocking(move || {
            use std::io::{BufRead, Read};
            let mut r = std::io::BufReader::with_capacity(64 * 1024, crate::images::layers::decompress(reader)?);
            let head = r.fill_buf().map_err(|e| Error::io("reading build context", e))?;
            let is_tar = head.len() >= 262 && &head[257..262] == b"ustar";
            if !is_tar && !head.is_empty() {
                // `docker build - < Dockerfile`: the body is the Dockerfile itself.
                let mut text = Vec::new();
                r.read_to_end(&mut text).map_err(|e| Error::io("reading Dockerfile", e))?;
                let name = if dockerfile.is_empty() { "Dockerfile".to_string() } else { dockerfile };
                let path = berth_builder::context::secure_join(&ctx, &name);
                return std::fs::write(&path, text).map_err(|e| Error::io("writing Dockerfile", e));
            }
            let mut ar = tar::Archive::new(r);
            ar.set_preserve_permissions(true);
            ar.set_preserve_mtime(true);
            ar.unpack(&ctx).map_err(|e| Error::InvalidArgument(format!("invalid build context: {e}")))
        })
        .await
        .map_err(|e| BuildFailure::Request(Error::Internal(format!("context task: {e}"))))?;
        unpacked.map_err(BuildFailure::Request)?;
        for (id, data) in &req.secrets {
            if id.is_empty() || id.contains('/') || id.starts_with('.') {
                return Err(BuildFailure::Request(Error::InvalidArgument(format!("invalid secret id {id:?}"))));
            }
            let p = secrets.join(id);
            std::fs::write(&p, data).map_err(|e| BuildFailure::Request(Error::io("writing secret", e)))?;
            let _ = std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o400));
            req.options.secrets.insert(id.clone(), p);
        }
        req.options.scratch = scratch;
        let backend = backend::EngineBackend { engine: self.clone() };
        let r = berth_builder::build(&backend, &context, &req.options, &out).await;
        drop(dir);
        r.map_err(|e| BuildFailure::Step {
            message: e.to_string(),
            code: e.code(),
            client_error: matches!(e, berth_builder::Error::Parse(_) | berth_builder::Error::InvalidArgument(_)),
        })
    }
}
