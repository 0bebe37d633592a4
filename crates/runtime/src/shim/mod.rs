//! The per-container shim: its configuration, control protocol, server and client.

pub mod client;
pub mod create;
pub mod jsonlog;
pub mod protocol;
pub mod server;
pub mod sockpath;
