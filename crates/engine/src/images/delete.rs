//! `DELETE /images/{name}`: untags, and deletes the image (and layers nobody else uses) when no
//! tag and no container is left on it; dockerd's conflict rules and messages.

use berth_api_types::query::images::DeleteItem;
use berth_image::{Digest, Reference};

use crate::{Engine, Error, Result};

impl Engine {
    pub async fn image_delete(&self, name: &str, force: bool, noprune: bool) -> Result<Vec<DeleteItem>> {
        let inner = self.images.inner.clone();
        let image = inner.resolve(name)?;
        let mut users = self.containers.using_image(&image.id);
        for c in self.images.snapshot_users(&image.id) {
            if !users.contains(&c) {
                users.push(c);
            }
        }
        let name = name.to_string();
        let image_id = image.id.clone();
        // Images containers run on: untagged parents (build steps) in use are kept.
        let busy: std::collections::HashSet<String> =
            self.containers.all().iter().map(|c| c.record().image_id).collect();
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
            if !noprune {
                prune_parents(&inner, &image.parent, &busy, &mut out)?;
            }
            Ok(out)
        });
        let out = task.await.map_err(|e| Error::Internal(format!("delete task: {e}")))??;
        // dockerd names the image by its id in untag and delete events.
        for item in &out {
            match item {
                DeleteItem::Untagged(_) => self.emit_image(&image_id, "untag", &image_id),
                DeleteItem::Deleted(d) if d == &image_id => self.emit_image(&image_id, "delete", &image_id),
                DeleteItem::Deleted(_) => {}
            }
        }
        Ok(out)
    }
}

/// dockerd's parent pruning: after deleting an image, its untagged parent (a build step) goes
/// too when no other image, tag or container uses it, and so on up the chain.
fn prune_parents(
    inner: &super::Inner,
    parent: &str,
    busy: &std::collections::HashSet<String>,
    out: &mut Vec<DeleteItem>,
) -> Result<()> {
    let mut next = parent.to_string();
    while !next.is_empty() {
        let images = inner.meta.images().map_err(|e| Error::store("reading images", e))?;
        let Some(rec) = images.iter().find(|i| i.id == next).cloned() else { break };
        let tagged = inner.meta.tags().map_err(|e| Error::store("reading tags", e))?.iter().any(|(_, v)| v == &rec.id);
        let has_child = images.iter().any(|i| i.parent == rec.id);
        let snapshots = inner.meta.containers().map_err(|e| Error::store("reading snapshots", e))?;
        let used = busy.contains(&rec.id) || snapshots.iter().any(|c| c.image_id == rec.id);
        if tagged || has_child || used {
            break;
        }
        out.push(DeleteItem::Deleted(rec.id.clone()));
        for chain in inner.remove_image(&rec.id)? {
            out.push(DeleteItem::Deleted(chain));
        }
        next = rec.parent;
    }
    Ok(())
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
