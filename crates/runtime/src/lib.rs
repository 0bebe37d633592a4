//! Container runtime: from a container's settings to a running process.
//!
//! Owns OCI runtime spec generation ([`spec`]: Docker's defaults for namespaces, mounts,
//! capabilities, masked paths, as data; [`security`]: capabilities, privileged, devices,
//! sysctls, namespace sharing; [`seccomp`]: moby's default profile as data and its conversion;
//! [`devices`]: host device nodes; [`resources`]: resource limits, ulimits, /dev/shm size;
//! [`userns`]: the user namespace and id mappings of `userns-remap`;
//! [`exec`]: the OCI process of a `docker exec`), the container init shipped in the `berth` binary
//! ([`init`], `--init`), image user resolution ([`user`]: `/etc/passwd` and
//! `/etc/group` of the rootfs), and the per-container shim ([`shim`]): the `berth-shim`
//! process that calls libcontainer, holds the container's stdio or pty, writes the json-file log,
//! records the exit status and answers a control socket. [`shim::client`] is what berthd uses to
//! spawn and talk to shims.
//!
//! It must not know about HTTP or the Engine API, and the only kernel calls outside libcontainer
//! go through `berth-kernel`.

pub mod devices;
pub mod exec;
pub mod init;
pub mod resources;
pub mod seccomp;
pub mod security;
pub mod shim;
pub mod spec;
pub mod user;
pub mod userns;
