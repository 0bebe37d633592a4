//! `POST /volumes/create` (VolumeCreate).

use std::collections::BTreeMap;

use berth_api_types::models::{Volume, VolumeCreateRequest};

use super::spec::check_volume_name;
use super::store::VolumeRecord;
use crate::{Engine, Error, Result};

/// Driver options the local driver understands.
const LOCAL_OPTIONS: [&str; 4] = ["type", "device", "o", "size"];

/// Checks the local driver's options, with dockerd's message.
pub fn check_options(name: &str, options: &BTreeMap<String, String>) -> Result<()> {
    if let Some(k) = options.keys().find(|k| !LOCAL_OPTIONS.contains(&k.as_str())) {
        return Err(Error::InvalidArgument(format!("create {name}: invalid option: \"{k}\"")));
    }
    if options.contains_key("device") && !options.contains_key("type") {
        return Err(Error::InvalidArgument(format!("create {name}: missing required option: \"type\"")));
    }
    Ok(())
}

impl Engine {
    /// Creates a local volume, or returns the existing one of that name (as dockerd does).
    pub fn volume_create(&self, req: VolumeCreateRequest) -> Result<Volume> {
        let name = req.name.clone().filter(|n| !n.is_empty()).unwrap_or_else(super::store::new_name);
        let driver = req.driver.clone().filter(|d| !d.is_empty()).unwrap_or_else(|| "local".into());
        if driver != "local" {
            return Err(Error::NotFound(format!(
                "create {name}: error looking up volume plugin {driver}: plugin \"{driver}\" not found"
            )));
        }
        let labels: BTreeMap<String, String> = req.labels.unwrap_or_default().into_iter().collect();
        let options: BTreeMap<String, String> = req.driver_opts.unwrap_or_default().into_iter().collect();
        let v = self.volume_ensure(&name, labels, options, false)?;
        Ok(self.volume_json(&v, false))
    }

    /// The volume `name`, created with `labels` and `options` if it does not exist yet.
    pub(crate) fn volume_ensure(
        &self,
        name: &str,
        labels: BTreeMap<String, String>,
        options: BTreeMap<String, String>,
        anonymous: bool,
    ) -> Result<VolumeRecord> {
        check_volume_name(name)?;
        check_options(name, &options)?;
        let _g = self.volumes.lock();
        if let Some(v) = self.volumes.get(name) {
            // dockerd reports a create for an existing volume too.
            self.emit_volume(name, "create");
            return Ok(v);
        }
        let v = VolumeRecord::new(name, labels, options, anonymous);
        if let Err(e) = self.volumes.put(&v) {
            let _ = self.volumes.remove(name);
            return Err(e);
        }
        self.emit_volume(name, "create");
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_options() {
        let ok: BTreeMap<String, String> =
            [("type", "tmpfs"), ("device", "tmpfs"), ("o", "size=1m")].map(|(a, b)| (a.into(), b.into())).into();
        assert!(check_options("v", &ok).is_ok());
        let bad: BTreeMap<String, String> = [("colour".to_string(), "red".to_string())].into();
        assert_eq!(check_options("v", &bad).unwrap_err().to_string(), "create v: invalid option: \"colour\"");
    }
}
