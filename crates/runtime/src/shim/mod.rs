//! The per-container shim: its configuration, control protocol, server and client.

pub mod client;
pub mod create;
pub mod exec;
mod exec_lean;
mod executor;
pub mod jsonlog;
pub mod protocol;
mod seccomp_bpf;
pub mod server;
mod server_exec;
pub mod sockpath;
