//! `GET /system/df` (SystemDataUsage): disk usage of images (with the bytes they share with
//! other images and how many containers use them), containers (`SizeRw`, `SizeRootFs`),
//! volumes (`UsageData`) and the build cache.

use std::collections::HashMap;

use berth_api_types::models::BuildCache;
use berth_api_types::query::system::{DfTypes, SystemDataUsage};
use berth_api_types::Filters;

use crate::containers::ListOptions;
use crate::images::store_err;
use crate::{Engine, Result};

/// Layer sizes shared between images: for each image, the bytes of its layers that at least
/// one other image also has. `chains` are each image's chain ids; `size` gives a layer's size.
pub(crate) fn shared_sizes(chains: &[Vec<String>], size: impl Fn(&str) -> u64) -> Vec<u64> {
    let mut users: HashMap<&str, usize> = HashMap::new();
    for c in chains {
        for l in c {
            *users.entry(l.as_str()).or_default() += 1;
        }
    }
    chains.iter().map(|c| c.iter().filter(|l| users[l.as_str()] > 1).map(|l| size(l)).sum()).collect()
}

impl Engine {
    /// The build cache records for `system df` (kept by `build/cache.rs`).
    pub(crate) fn build_cache_usage(&self) -> Result<Vec<BuildCache>> {
        Ok(self.build_cache_entries())
    }

    /// `virtual_size`: emit `VirtualSize` (API below 1.44), as `image_list` does.
    pub async fn system_df(&self, types: DfTypes, virtual_size: bool) -> Result<SystemDataUsage> {
        let mut out = SystemDataUsage::default();
        if types.images {
            let inner = &self.images.inner;
            let layers = inner.meta.layers().map_err(store_err("reading layers"))?;
            out.layers_size = layers.iter().map(|l| l.size as i64).sum();
            let sizes: HashMap<String, u64> = layers.into_iter().map(|l| (l.chain_id, l.size)).collect();
            let records: HashMap<String, Vec<String>> = inner
                .meta
                .images()
                .map_err(store_err("reading images"))?
                .into_iter()
                .map(|r| (r.id, r.layers))
                .collect();
            let mut images = self.image_list(&Filters::default(), true, virtual_size).await?;
            let chains: Vec<Vec<String>> =
                images.iter().map(|i| records.get(&i.id).cloned().unwrap_or_default()).collect();
            let shared = shared_sizes(&chains, |c| sizes.get(c).copied().unwrap_or(0));
            for (img, shared) in images.iter_mut().zip(shared) {
                img.shared_size = shared as i64;
                img.containers = self.containers.using_image(&img.id).len() as i64;
            }
            out.images = images;
        }
        if types.containers {
            let opts = ListOptions { all: true, size: true, ..Default::default() };
            out.containers = self.container_list(&opts).await?;
        }
        if types.volumes {
            out.volumes = self.volumes.all().iter().map(|v| self.volume_json(v, true)).collect();
        }
        if types.build_cache {
            let cache = self.build_cache_usage()?;
            out.builder_size = cache.iter().map(|c| c.size.unwrap_or(0)).sum();
            out.build_cache = (!cache.is_empty()).then_some(cache);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_size_counts_layers_of_more_than_one_image() {
        let chains = vec![
            vec!["a".to_string()],
            vec!["a".to_string(), "b".to_string()],
            vec!["c".to_string()],
            vec!["a".to_string(), "b".to_string(), "d".to_string()],
        ];
        let size = |c: &str| match c {
            "a" => 100,
            "b" => 10,
            "c" => 7,
            _ => 1,
        };
        assert_eq!(shared_sizes(&chains, size), vec![100, 110, 0, 110]);
    }
}
