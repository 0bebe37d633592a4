//! `berth image ...` verbs.

pub mod build;
pub mod history;
pub mod import;
pub mod inspect;
pub mod load;
pub mod ls;
pub mod prune;
pub mod pull;
pub mod push;
pub mod rm;
pub mod save;
pub mod search;
pub mod tag;
