//! `POST /images/{name}/tag`: points `repo[:tag]` at an image (moving it from another image).

use berth_image::Reference;

use crate::{Engine, Error, Result};

impl Engine {
    pub async fn image_tag(&self, name: &str, repo: &str, tag: &str) -> Result<()> {
        let inner = self.images.inner.clone();
        let reference = parse_target(repo, tag)?;
        let familiar = reference.familiar();
        let name = name.to_string();
        let task = tokio::task::spawn_blocking(move || {
            let _g = inner.lock();
            let image = inner.resolve(&name)?;
            let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
            inner
                .meta
                .write(|w| {
                    w.set_tag(&reference.to_string(), &image.id)?;
                    let mut rec = w.image(&image.id)?.unwrap_or(image.clone());
                    rec.last_tag_time = Some(now);
                    w.put_image(&rec)
                })
                .map_err(|e| Error::store("tagging image", e))
        });
        task.await.map_err(|e| Error::Internal(format!("tag task: {e}")))??;
        if let Ok(image) = self.images.resolve(&familiar) {
            self.emit_image(&image.id, "tag", &familiar);
        }
        Ok(())
    }
}

/// `repo` + `tag` → the reference to set, with dockerd's messages for bad input.
pub(crate) fn parse_target(repo: &str, tag: &str) -> Result<Reference> {
    if repo.is_empty() {
        return Err(Error::InvalidArgument("repository name must have at least one component".into()));
    }
    let r = Reference::parse_repository_name(repo).map_err(|e| Error::InvalidArgument(e.to_string()))?;
    if r.digest().is_some() {
        return Err(Error::InvalidArgument("refusing to create a tag with a digest reference".into()));
    }
    if tag.is_empty() {
        return Ok(r.with_default_tag());
    }
    if r.tag().is_some() {
        return Err(Error::InvalidArgument("invalid reference format".into()));
    }
    r.with_tag(tag).map_err(|e| Error::InvalidArgument(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_targets() {
        assert_eq!(parse_target("busybox", "").unwrap().to_string(), "docker.io/library/busybox:latest");
        assert_eq!(parse_target("localhost:5000/x", "v1").unwrap().to_string(), "localhost:5000/x:v1");
        assert_eq!(parse_target("x:y", "").unwrap().familiar(), "x:y");
        assert_eq!(
            parse_target("Bad", "").unwrap_err().to_string(),
            "invalid reference format: repository name must be lowercase"
        );
        assert!(parse_target("x", "bad tag").is_err());
        assert!(parse_target("", "").is_err());
    }
}
