//! A container's mounts over its lifetime: planned at create ([`Engine::volumes_plan`]),
//! turned into OCI mounts at start ([`Engine::container_mounts`], with copy-up and driver-option
//! mounts), released at stop and removed with `rm -v`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use berth_api_types::models::{ContainerCreateBody, MountPoint as ApiMountPoint};
use oci_spec::runtime::Mount;

use super::copyup;
use super::spec::{self, MountKind, MountPoint};
use super::store::ANONYMOUS_LABEL;
use crate::containers::record::Record;
use crate::{Engine, Error, Result};

impl Engine {
    /// Parses and validates the create request's mounts, merges `--volumes-from` and the
    /// `Config.Volumes` paths (client's and image's), and creates the volumes they need.
    /// Returns the mounts and the names of volumes created here (to remove if create fails).
    pub(crate) fn volumes_plan(
        &self,
        body: &ContainerCreateBody,
        config_volumes: &[String],
    ) -> Result<(Vec<MountPoint>, Vec<String>)> {
        let hc = body.host_config.clone().unwrap_or_default();
        let tmpfs: BTreeMap<String, String> = hc.tmpfs.clone().unwrap_or_default().into_iter().collect();
        let mut mounts =
            spec::parse_requested(hc.binds.as_deref().unwrap_or(&[]), hc.mounts.as_deref().unwrap_or(&[]), &tmpfs)?;
        for m in &mounts {
            if m.kind == MountKind::Bind && !m.create_source && !std::path::Path::new(&m.source).exists() {
                return Err(Error::InvalidArgument(format!(
                    "invalid mount config for type \"bind\": bind source path does not exist: {}",
                    m.source
                )));
            }
        }
        for from in hc.volumes_from.iter().flatten() {
            let (key, rw) = spec::parse_volumes_from(from)?;
            let other = self.containers.get(&key)?.record();
            for m in other.host.mounts.iter().filter(|m| m.kind != MountKind::Tmpfs) {
                if mounts.iter().any(|x| x.destination == m.destination) {
                    continue;
                }
                let mut m = m.clone();
                if let Some(rw) = rw {
                    m.rw = rw;
                }
                m.copy = false;
                mounts.push(m);
            }
        }
        for path in config_volumes {
            let dst = spec::clean(path);
            if !mounts.iter().any(|x| x.destination == dst) {
                mounts.push(spec::anonymous(path)?);
            }
        }
        let mut created = Vec::new();
        for m in mounts.iter_mut().filter(|m| m.kind == MountKind::Volume) {
            let mut labels = m.volume_labels.clone();
            if m.source.is_empty() {
                m.source = super::store::new_name();
                m.anonymous = true;
                labels.insert(ANONYMOUS_LABEL.into(), String::new());
            }
            if self.volumes.get(&m.source).is_some() {
                continue;
            }
            match self.volume_ensure(&m.source, labels, m.volume_options.clone(), m.anonymous) {
                Ok(_) => created.push(m.source.clone()),
                Err(e) => {
                    self.volumes_discard(&created);
                    return Err(e);
                }
            }
        }
        Ok((mounts, created))
    }

    /// Removes volumes a failed create made.
    pub(crate) fn volumes_discard(&self, names: &[String]) {
        for n in names {
            if let Err(e) = self.volumes.remove(n) {
                tracing::warn!(volume = %n, error = %e, "removing volume after failed create");
            }
        }
    }

    /// The container's volume, bind and tmpfs mounts, parents before children. Creates missing
    /// `-v` bind sources, mounts volumes with driver options, and copies image content into
    /// new volumes.
    pub(crate) fn container_mounts(&self, record: &Record) -> Result<Vec<Mount>> {
        let mut mounts: Vec<&MountPoint> = record.host.mounts.iter().collect();
        mounts.sort_by_key(|m| m.destination.split('/').filter(|c| !c.is_empty()).count());
        let mut out = Vec::with_capacity(mounts.len());
        for m in mounts {
            let mut options = Vec::new();
            let (typ, source) = match m.kind {
                MountKind::Bind => {
                    let src = PathBuf::from(&m.source);
                    if !src.exists() {
                        if !m.create_source {
                            return Err(Error::InvalidArgument(format!(
                                "invalid mount config for type \"bind\": bind source path does not exist: {}",
                                m.source
                            )));
                        }
                        std::fs::create_dir_all(&src).map_err(|e| {
                            Error::io(format!("error while creating mount source path '{}'", m.source), e)
                        })?;
                    }
                    options.push("rbind".to_string());
                    options.push(if m.propagation.is_empty() { "rprivate".into() } else { m.propagation.clone() });
                    ("bind", src)
                }
                MountKind::Volume => {
                    let data = self.volume_activate(&record.id, &m.source)?;
                    if m.copy {
                        self.volume_copy_up(&record.id, &m.source, &m.destination)?;
                    }
                    self.emit_volume_mount(record, m);
                    options.push("rbind".to_string());
                    options.push("rprivate".to_string());
                    ("bind", data)
                }
                MountKind::Tmpfs => {
                    options.extend(["nosuid", "nodev", "noexec"].map(String::from));
                    options.extend(m.tmpfs_options.iter().cloned());
                    ("tmpfs", PathBuf::from("tmpfs"))
                }
            };
            options.push(if m.rw { "rw".into() } else { "ro".into() });
            let mut om = Mount::default();
            om.set_destination(PathBuf::from(&m.destination))
                .set_typ(Some(typ.to_string()))
                .set_source(Some(source))
                .set_options(Some(options));
            out.push(om);
        }
        Ok(out)
    }

    /// Makes a volume's data directory ready for container `id`: mounts its driver options
    /// (`type`/`device`/`o`) on `_data` the first time any container uses it.
    fn volume_activate(&self, id: &str, name: &str) -> Result<PathBuf> {
        let v = self.volumes.get(name).ok_or_else(|| super::inspect::no_such_volume(name))?;
        let data = self.volumes.data_dir(name);
        std::fs::create_dir_all(&data).map_err(|e| Error::io(format!("creating {}", data.display()), e))?;
        if v.needs_mount() {
            let mut active = self.volumes.active();
            if !active.values().flatten().any(|n| n == name) && !berth_kernel::mount::is_mountpoint(&data) {
                let typ = v.options.get("type").cloned().unwrap_or_default();
                let device = v.options.get("device").cloned().unwrap_or_else(|| typ.clone());
                let mut opts: Vec<String> =
                    v.options.get("o").map(|o| o.split(',').map(String::from).collect()).unwrap_or_default();
                if let Some(size) = v.options.get("size") {
                    opts.push(format!("size={size}"));
                }
                berth_kernel::mount::mount(&typ, &device, &data, &opts)
                    .map_err(|e| Error::Internal(format!("error while mounting volume '{}': {e}", data.display())))?;
            }
            let entry = active.entry(id.to_string()).or_default();
            if !entry.iter().any(|n| n == name) {
                entry.push(name.to_string());
            }
        }
        Ok(data)
    }

    /// Fills a never-populated volume from the image's content at `dest`, once.
    fn volume_copy_up(&self, id: &str, name: &str, dest: &str) -> Result<()> {
        let _g = self.volumes.lock();
        let Some(mut v) = self.volumes.get(name) else { return Ok(()) };
        if v.populated {
            return Ok(());
        }
        let rootfs = self.images.mount_rootfs(id)?;
        if let Some(src) = copyup::resolve_in_root(&rootfs, dest) {
            let data = self.volumes.data_dir(name);
            copyup::copy_up(&src, &data)
                .map_err(|e| Error::io(format!("copying image content at {dest} into volume {name}"), e))?;
        }
        v.populated = true;
        self.volumes.put(&v)
    }

    /// Undoes driver-option mounts no other running container still needs.
    pub(crate) fn release_mounts(&self, id: &str) {
        let mut active = self.volumes.active();
        let Some(names) = active.remove(id) else { return };
        for n in names {
            if !active.values().flatten().any(|x| *x == n) {
                if let Err(e) = berth_kernel::mount::unmount(&self.volumes.data_dir(&n)) {
                    tracing::warn!(volume = %n, error = %e, "unmounting volume");
                }
            }
        }
    }

    /// Removes the container's anonymous volumes when `remove_anonymous` (`docker rm -v`,
    /// `--rm`); never named ones, nor any another container still uses.
    pub(crate) fn remove_container_volumes(&self, record: &Record, remove_anonymous: bool) -> Result<()> {
        if !remove_anonymous {
            return Ok(());
        }
        for m in record.host.mounts.iter().filter(|m| m.kind == MountKind::Volume && m.anonymous) {
            let _g = self.volumes.lock();
            if self.volumes.get(&m.source).is_none() || !self.volume_users(&m.source, Some(&record.id)).is_empty() {
                continue;
            }
            match self.volumes.remove(&m.source) {
                Ok(()) => self.emit_volume(&m.source, "destroy"),
                Err(e) => tracing::warn!(volume = %m.source, error = %e, "removing anonymous volume"),
            }
        }
        Ok(())
    }

    /// `.Mounts` of container inspect, in dockerd's shape.
    pub(crate) fn mount_points(&self, record: &Record) -> Vec<ApiMountPoint> {
        record
            .host
            .mounts
            .iter()
            .filter(|m| m.listed)
            .map(|m| {
                let volume = m.kind == MountKind::Volume;
                ApiMountPoint {
                    typ: Some(m.kind.as_str().to_string()),
                    name: volume.then(|| m.source.clone()),
                    source: Some(match m.kind {
                        MountKind::Bind => m.source.clone(),
                        MountKind::Volume => self.volumes.data_dir(&m.source).display().to_string(),
                        MountKind::Tmpfs => String::new(),
                    }),
                    destination: Some(m.destination.clone()),
                    driver: volume.then(|| "local".to_string()),
                    mode: Some(m.mode.clone()),
                    rw: Some(m.rw),
                    propagation: Some(m.propagation.clone()),
                }
            })
            .collect()
    }
}
