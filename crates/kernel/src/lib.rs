//! The only crate with `unsafe` or direct kernel calls outside libcontainer.
//!
//! Mounts ([`mount`]: overlay, bind, unmount), process plumbing ([`process`]: subreaper, session,
//! signals, pidfds), networking ([`netns`]: named network namespaces, [`netlink`]: bridges,
//! veths, addresses, routes, [`nft`]: applying rulesets). Every `unsafe` block carries a
//! `// SAFETY:` comment. Higher crates describe what they want as data and call in here to apply it.

pub mod cgroup;
pub mod mount;
pub mod netlink;
pub mod netns;
pub mod nft;
pub mod process;
