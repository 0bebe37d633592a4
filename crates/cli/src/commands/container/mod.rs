//! `berth container ...` verbs.

pub mod attach;
pub mod create;
pub mod inspect;
pub mod kill;
pub mod logs;
pub mod ls;
pub mod mount_opts;
pub mod opts;
pub mod port;
pub mod rename;
pub mod restart;
pub mod rm;
pub mod run;
pub mod start;
pub mod stop;
pub mod stream;
pub mod top;
pub mod wait;
