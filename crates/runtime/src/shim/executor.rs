//! The workload executor handed to libcontainer for the container's init and for exec'd
//! processes on libcontainer's path: its default executor, with the signal state reset right
//! before the exec ([`berth_kernel::signals`]), so the container's program starts with no
//! ignored and no blocked signal, as under dockerd, instead of inheriting the shim's.

use std::collections::HashMap;

use libcontainer::oci_spec::runtime::Spec;
use libcontainer::workload::default::get_executor;
use libcontainer::workload::{Executor, ExecutorError, ExecutorSetEnvsError, ExecutorValidationError};

/// libcontainer's default executor that resets signal dispositions and the mask before exec.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct CleanSignals;

impl Executor for CleanSignals {
    fn exec(&self, spec: &Spec) -> Result<(), ExecutorError> {
        // Runs in the container's init process after its setup (namespaces, rootfs, ids,
        // capabilities, seccomp): only the exec follows.
        berth_kernel::signals::reset_for_exec();
        get_executor().exec(spec)
    }

    fn validate(&self, spec: &Spec) -> Result<(), ExecutorValidationError> {
        get_executor().validate(spec)
    }

    fn setup_envs(&self, envs: HashMap<String, String>) -> Result<(), ExecutorSetEnvsError> {
        get_executor().setup_envs(envs)
    }
}
