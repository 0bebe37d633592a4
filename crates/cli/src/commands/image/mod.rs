//! `berth image ...` verbs.

pub mod history;
pub mod import;
pub mod inspect;
pub mod load;
pub mod ls;
pub mod pull;
pub mod push;
pub mod rm;
pub mod save;
pub mod tag;
