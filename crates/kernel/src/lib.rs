//! The only crate with `unsafe` or direct kernel calls outside libcontainer.
//!
//! Mounts ([`mount`]: overlay, bind, unmount), process plumbing ([`process`]: subreaper, session,
//! signals, pidfds), files inside a container root reached only through directory fds
//! ([`inroot`]: `openat2(RESOLVE_IN_ROOT)`, for `docker cp` and export), networking
//! ([`netns`]: named network namespaces, [`netlink`]: bridges, veths, addresses, routes, over
//! [`rtnl`]: a synchronous rtnetlink client, [`nft`]: applying rulesets), cgroups ([`cgroup`]: a
//! container's processes, [`cgroup_limits`]: live resource updates and the freezer,
//! [`cgroup_stats`]: usage counters for `docker stats`, v1 and
//! v2), memory ([`memory`]: a long-running process giving back pages it no longer uses), entering
//! a running container ([`nsexec`]: fork, cgroups, setns, for `docker exec`), and the static
//! `--init` executable ([`init`], built by `build.rs` from `init/docker_init.rs`, embedded), and
//! the signal state a container process starts with ([`signals`]), and installing a
//! precompiled seccomp filter ([`seccomp`]), and early writeback of files being written ([`writeback`]).
//! Every `unsafe` block carries a `// SAFETY:` comment. Higher crates describe what they want as data and call in here to apply it.

pub mod cgroup;
pub mod cgroup_limits;
pub mod cgroup_stats;
pub mod filemap;
pub mod init;
pub mod inroot;
pub mod memory;
pub mod mount;
pub mod netlink;
pub mod netns;
pub mod nft;
pub mod nsexec;
pub mod process;
pub mod rtnl;
pub mod seccomp;
pub mod signals;
pub mod writeback;
