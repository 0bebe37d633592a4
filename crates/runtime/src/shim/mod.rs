//! The per-container shim: its configuration, control protocol, server and client.

pub mod client;
pub mod protocol;
