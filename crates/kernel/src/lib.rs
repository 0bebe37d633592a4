//! The only crate with `unsafe` or direct kernel calls outside libcontainer.
//!
//! Mounts ([`mount`]: overlay, bind, unmount), process plumbing ([`process`]: subreaper, session,
//! signals, pidfds). Every `unsafe` block carries a `// SAFETY:` comment. Higher crates describe
//! what they want as data and call in here to apply it.

pub mod cgroup;
pub mod mount;
pub mod process;
