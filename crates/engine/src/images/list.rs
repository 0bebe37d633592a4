//! `GET /images/json`: every image (tagged ones, or all), with dockerd's fields and filters
//! (`dangling`, `label`, `reference`, `before`, `since`), newest first.

use std::collections::{BTreeMap, HashMap};

use berth_api_types::query::images::ImageSummary;
use berth_api_types::Filters;
use berth_image::Reference;

use super::{store_err, Inner};
use crate::{Engine, Error, Result};

const ACCEPTED: &[&str] = &["dangling", "label", "reference", "before", "since"];

impl Engine {
    /// `virtual_size`: emit `VirtualSize` (API below 1.44).
    pub async fn image_list(&self, filters: &Filters, all: bool, virtual_size: bool) -> Result<Vec<ImageSummary>> {
        filters.validate(ACCEPTED).map_err(|e| Error::InvalidArgument(e.to_string()))?;
        let dangling = match filters.get("dangling") {
            [] => None,
            [v] if v.eq_ignore_ascii_case("true") || v == "1" => Some(true),
            [v] if v.eq_ignore_ascii_case("false") || v == "0" => Some(false),
            [v, ..] => return Err(Error::InvalidArgument(format!("Invalid filter 'dangling={v}'"))),
        };
        let inner = &self.images.inner;
        let created_of = |name: &str| -> Result<i64> {
            let rec = inner.resolve(name)?;
            Ok(inner.config(&rec.id)?.1.created_time().timestamp())
        };
        let before = filters.get("before").iter().map(|n| created_of(n)).collect::<Result<Vec<_>>>()?;
        let since = filters.get("since").iter().map(|n| created_of(n)).collect::<Result<Vec<_>>>()?;
        let mut tags: HashMap<String, Vec<Reference>> = HashMap::new();
        for (k, v) in inner.meta.tags().map_err(store_err("reading tags"))? {
            if let Ok(r) = Reference::parse(&k) {
                tags.entry(v).or_default().push(r);
            }
        }
        let mut out = Vec::new();
        let records = inner.meta.images().map_err(store_err("reading images"))?;
        // Untagged build steps with children (intermediate images) show only with `all`.
        let parents: std::collections::HashSet<String> = records.iter().map(|r| r.parent.clone()).collect();
        for rec in records {
            let refs = tags.get(&rec.id).cloned().unwrap_or_default();
            if !all && refs.is_empty() && parents.contains(&rec.id) {
                continue;
            }
            let config = inner.config(&rec.id)?.1;
            let created = config.created_time().timestamp();
            if dangling.is_some_and(|d| d != refs.is_empty()) {
                continue;
            }
            if before.iter().any(|b| created >= *b) || since.iter().any(|s| created <= *s) {
                continue;
            }
            let labels = config.config.labels.clone().unwrap_or_default();
            let label_map: HashMap<String, String> = labels.clone().into_iter().collect();
            if !filters.match_labels(&label_map) {
                continue;
            }
            let patterns = filters.get("reference");
            let shown: Vec<&Reference> =
                refs.iter().filter(|r| patterns.is_empty() || patterns.iter().any(|p| r.matches_pattern(p))).collect();
            if !patterns.is_empty() && shown.is_empty() {
                continue;
            }
            let size = image_size(inner, &rec.layers)?;
            let mut repo_tags: Vec<String> = shown.iter().map(|r| r.familiar()).collect();
            repo_tags.sort();
            let untagged = refs.is_empty();
            out.push(ImageSummary {
                containers: -1,
                created,
                id: rec.id.clone(),
                labels: (!labels.is_empty()).then_some(labels.into_iter().collect::<BTreeMap<_, _>>()),
                parent_id: rec.parent.clone(),
                repo_digests: if untagged && virtual_size {
                    Some(vec!["<none>@<none>".into()])
                } else if rec.repo_digests.is_empty() {
                    None
                } else {
                    Some(rec.repo_digests.clone())
                },
                repo_tags: if untagged && virtual_size { Some(vec!["<none>:<none>".into()]) } else { Some(repo_tags) },
                shared_size: -1,
                size: size as i64,
                virtual_size: virtual_size.then_some(size as i64),
            });
        }
        out.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| a.id.cmp(&b.id)));
        Ok(out)
    }
}

/// Sum of the layer sizes of a chain.
pub(crate) fn image_size(inner: &Inner, chain: &[String]) -> Result<u64> {
    let mut size = 0;
    for c in chain {
        if let Some(l) = inner.meta.layer(c).map_err(store_err("reading layer"))? {
            size += l.size;
        }
    }
    Ok(size)
}
