//! The OCI process of a `docker exec`: the container's own process (capabilities, rlimits,
//! no-new-privileges, AppArmor, OOM score) with the exec's args, environment, working
//! directory, user and terminal, and every capability the kernel knows for `--privileged`, as
//! dockerd builds it (`daemon/exec_linux.go`). Pure: the shim hands the result to the runtime.

use std::path::{Path, PathBuf};

use oci_spec::runtime::{Capabilities, Capability, LinuxCapabilities, Process, Spec, User};

/// What a `docker exec` asks for, already resolved (user → ids, environment merged).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExecInput {
    pub args: Vec<String>,
    pub env: Vec<String>,
    /// Empty = the container's working directory.
    pub cwd: String,
    pub uid: u32,
    pub gid: u32,
    pub additional_gids: Vec<u32>,
    pub tty: bool,
    pub privileged: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ExecSpecError {
    #[error("loading container spec {path}: {source}")]
    Load {
        path: PathBuf,
        #[source]
        source: oci_spec::OciSpecError,
    },
    #[error("container spec {0} has no process")]
    NoProcess(PathBuf),
}

pub use crate::security::host_capability_mask;

/// The capabilities whose bits are set in `mask` (bit n = capability n).
pub fn all_capabilities(mask: u64) -> Capabilities {
    crate::security::capability_names(mask)
        .into_iter()
        .filter_map(|name| serde_json::from_value::<Capability>(serde_json::Value::from(name)).ok())
        .collect()
}

/// Reads the container's process and rootfs path from its bundle (`<bundle>/config.json`).
pub fn container_process(bundle: &Path) -> Result<(Process, PathBuf), ExecSpecError> {
    let path = bundle.join("config.json");
    let spec = Spec::load(&path).map_err(|source| ExecSpecError::Load { path: path.clone(), source })?;
    let rootfs = spec.root().as_ref().map(|r| r.path().clone()).unwrap_or_default();
    let process = spec.process().clone().ok_or(ExecSpecError::NoProcess(path))?;
    Ok((process, rootfs))
}

/// The exec's process: `base` (the container's) with the exec's settings.
pub fn process(base: &Process, input: &ExecInput, cap_mask: u64) -> Process {
    let mut p = base.clone();
    let mut user = User::default();
    user.set_uid(input.uid).set_gid(input.gid).set_additional_gids(if input.additional_gids.is_empty() {
        None
    } else {
        Some(input.additional_gids.clone())
    });
    p.set_args(Some(input.args.clone()))
        .set_env(Some(input.env.clone()))
        .set_user(user)
        .set_terminal(Some(input.tty))
        .set_console_size(None);
    if !input.cwd.is_empty() {
        p.set_cwd(PathBuf::from(&input.cwd));
    }
    if input.privileged {
        let all = all_capabilities(cap_mask);
        let mut caps = LinuxCapabilities::default();
        caps.set_bounding(Some(all.clone()))
            .set_effective(Some(all.clone()))
            .set_permitted(Some(all))
            .set_inheritable(None)
            .set_ambient(None);
        p.set_capabilities(Some(caps));
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Process {
        let spec = crate::spec::build(&crate::spec::SpecInput {
            args: vec!["sleep".into(), "1000".into()],
            env: vec!["PATH=/bin".into()],
            cwd: "/srv".into(),
            uid: 0,
            ..Default::default()
        });
        spec.process().clone().expect("process")
    }

    #[test]
    fn overrides_args_env_user_and_terminal() {
        let input = ExecInput {
            args: vec!["sh".into(), "-c".into(), "id".into()],
            env: vec!["A=1".into()],
            uid: 65534,
            gid: 65534,
            additional_gids: vec![65534],
            tty: true,
            ..Default::default()
        };
        let p = process(&base(), &input, u64::MAX);
        assert_eq!(p.args().as_deref(), Some(&input.args[..]));
        assert_eq!(p.env().as_deref(), Some(&["A=1".to_string()][..]));
        assert_eq!(p.cwd(), &PathBuf::from("/srv"), "the container's working directory by default");
        assert_eq!((p.user().uid(), p.user().gid()), (65534, 65534));
        assert_eq!(p.terminal(), Some(true));
        assert_eq!(p.capabilities(), base().capabilities(), "the container's capabilities");
    }

    #[test]
    fn privileged_gets_every_capability_the_host_has() {
        let input = ExecInput { args: vec!["true".into()], cwd: "/tmp".into(), privileged: true, ..Default::default() };
        let p = process(&base(), &input, (1u64 << 41) - 1);
        let caps = p.capabilities().as_ref().and_then(|c| c.effective().clone()).expect("effective");
        assert_eq!(caps.len(), 41);
        assert!(caps.contains(&Capability::SysAdmin));
        assert_eq!(p.cwd(), &PathBuf::from("/tmp"));
        let without_sys_resource = ((1u64 << 41) - 1) & !(1 << 24);
        assert_eq!(all_capabilities(without_sys_resource).len(), 40);
        assert!(!all_capabilities(without_sys_resource).contains(&Capability::SysResource));
        assert_eq!(all_capabilities((1u64 << 38) - 1).len(), 38, "an older kernel's set");
    }
}
