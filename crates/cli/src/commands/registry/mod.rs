//! Registry verbs that are not image transfers: `berth login`, `berth logout`, and the
//! `config.json` credential store they share with push and pull.

pub mod config;
pub mod login;
pub mod logout;
