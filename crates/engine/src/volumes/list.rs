//! `GET /volumes` (VolumeList).

use berth_api_types::models::VolumeListResponse;
use berth_api_types::Filters;

use super::store::VolumeRecord;
use crate::{Engine, Error, Result};

pub const LIST_FILTERS: [&str; 4] = ["dangling", "name", "label", "driver"];

/// Parses a dockerd boolean filter value.
pub fn filter_bool(key: &str, v: &str) -> Result<bool> {
    match v.to_ascii_lowercase().as_str() {
        "1" | "true" => Ok(true),
        "0" | "false" => Ok(false),
        _ => Err(Error::InvalidArgument(format!("Invalid filter '{key}=[{v}]'"))),
    }
}

/// True when `v` (used by `users` containers) passes `filters`.
pub fn matches(filters: &Filters, v: &VolumeRecord, users: usize) -> Result<bool> {
    for d in filters.get("dangling") {
        if filter_bool("dangling", d)? != (users == 0) {
            return Ok(false);
        }
    }
    let names = filters.get("name");
    if !names.is_empty() && !names.iter().any(|n| v.name.contains(n.as_str())) {
        return Ok(false);
    }
    let drivers = filters.get("driver");
    if !drivers.is_empty() && !drivers.contains(&v.driver) {
        return Ok(false);
    }
    let labels = v.labels.clone().into_iter().collect();
    Ok(filters.match_labels(&labels))
}

/// dockerd's message for an unknown filter name.
pub fn invalid_filter(e: berth_api_types::filters::FilterError) -> Error {
    match e {
        berth_api_types::filters::FilterError::UnknownKey(k) => Error::InvalidArgument(format!("Invalid filter '{k}'")),
        e => Error::InvalidArgument(e.to_string()),
    }
}

impl Engine {
    pub fn volume_list(&self, filters: &Filters) -> Result<VolumeListResponse> {
        filters.validate(&LIST_FILTERS).map_err(invalid_filter)?;
        let mut out = Vec::new();
        for v in self.volumes.all() {
            if matches(filters, &v, self.volume_users(&v.name, None).len())? {
                out.push(self.volume_json(&v, false));
            }
        }
        Ok(VolumeListResponse { volumes: Some(out), warnings: None })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters() {
        let v = VolumeRecord::new("data1", [("a".to_string(), "b".to_string())].into(), Default::default(), false);
        let f = |s: &str| Filters::parse(s).unwrap();
        assert!(matches(&f(r#"{"dangling":["true"]}"#), &v, 0).unwrap());
        assert!(!matches(&f(r#"{"dangling":["true"]}"#), &v, 1).unwrap());
        assert!(matches(&f(r#"{"name":["ata"]}"#), &v, 0).unwrap());
        assert!(!matches(&f(r#"{"name":["zz"]}"#), &v, 0).unwrap());
        assert!(matches(&f(r#"{"label":["a=b"],"driver":["local"]}"#), &v, 0).unwrap());
        assert!(!matches(&f(r#"{"label":["a=c"]}"#), &v, 0).unwrap());
        assert!(matches(&f(r#"{"dangling":["maybe"]}"#), &v, 0).is_err());
    }
}
