//! `DELETE /images/{name}`: untags, and deletes the image (and layers nobody else uses) when no
//! tag and no container is left on it; dockerd's conflict rules and messages.

use berth_api_types::query::images::DeleteItem;
use berth_image::{Digest, Reference};

use crate::{Engine, Error, Result};

impl Engine {
    pub async fn image_delete(&self, name: &str, force: bool, noprune: bool) -> Result<Vec<DeleteItem>> {
        let _ = noprune; // berth images have no parent chain to prune.
        let inner = self.images.inner.clone();
        let image = inner.resolve(name)?;
        let mut users = self.containers.using_image(&image.id);
        for c in self.images.snapshot_users(&image.id) {
            if !users.contains(&c) {
                users.push(c);
            }
        }
        let name = name.to_string();
        let task = tokio::task::spawn_blocking(move || {
            let _g = inner.lock();
            let short = |id: &str| id.strip_prefix("sha256:").unwrap_or(id).chars().take(12).collect::<String>();
            let all_tags: Vec<String> = inner
                .meta
                .tags()
                .map_err(|e| Error::store("reading tags", e))?
                .into_iter()
                .filter(|(_, v)| v == &image.id)
                .map(|(k, _)| k)
                .collect();
            let by_ref = by_reference(&name, &image.id);
            let mut out = Vec::new();
            let untag = |tag: &str, out: &mut Vec<DeleteItem>| -> Result<()> {
                inner.meta.write(|w| w.remove_tag(tag)).map_err(|e| Error::store("untagging", e))?;
                let familiar = Reference::parse(tag).map(|r| r.familiar()).unwrap_or_else(|_| tag.to_string());
                out.push(DeleteItem::Untagged(familiar));
                Ok(())
            };
            if let Some(tag) = by_ref {
                if !force {
                    if let Some(c) = users.first() {
                        if all_tags.len() <= 1 {
                            let repo = Reference::parse(&name).map(|r| r.familiar()).unwrap_or(name.clone());
                            return Err(Error::Conflict(format!(
                                "conflict: unable to remove repository reference \"{repo}\" (must force) - container {} is using its referenced image {}",
                                short(c),
                                short(&image.id)
                            )));
                        }
                    }
                }
                untag(&tag, &mut out)?;
                if all_tags.len() > 1 || !users.is_empty() {
                    return Ok(out);
                }
            } else {
                if !force {
                    if all_tags.len() > 1 {
                        return Err(Error::Conflict(format!(
                            "conflict: unable to delete {} (must be forced) - image is referenced in multiple repositories",
                            short(&image.id)
                        )));
                    }
                    if let Some(c) = users.first() {
                        return Err(Error::Conflict(format!(
                            "conflict: unable to delete {} (must be forced) - image is being used by stopped container {}",
                            short(&image.id),
                            short(c)
                        )));
                    }
                }
                for t in &all_tags {
                    untag(t, &mut out)?;
                }
                if !users.is_empty() {
                    return Ok(out);
                }
            }
            out.push(DeleteItem::Deleted(image.id.clone()));
            for chain in inner.remove_image(&image.id)? {
                out.push(DeleteItem::Deleted(chain));
            }
            Ok(out)
        });
        task.await.map_err(|e| Error::Internal(format!("delete task: {e}")))?
    }
}

/// The full tag `name` refers to, when it names the image by reference rather than by id.
fn by_reference(name: &str, id: &str) -> Option<String> {
    let hexpart = name.strip_prefix("sha256:").unwrap_or(name);
    let looks_like_id = id.strip_prefix("sha256:").is_some_and(|h| h.starts_with(hexpart))
        && Digest::from_hex(&format!("{hexpart:0<64}")).is_ok();
    if looks_like_id {
        return None;
    }
    let r = Reference::parse(name).ok()?.with_default_tag();
    r.tag()?;
    Some(r.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_versus_ids() {
        let id = "sha256:0659f457d9992692cc7a37a25c5381727a1f3e58d332e90764e2d5488c51db50";
        assert_eq!(by_reference("busybox", id).as_deref(), Some("docker.io/library/busybox:latest"));
        assert_eq!(by_reference("0659f457", id), None);
        assert_eq!(by_reference(id, id), None);
        assert_eq!(by_reference("busybox:1", id).as_deref(), Some("docker.io/library/busybox:1"));
    }
}
