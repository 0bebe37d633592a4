//! `berth version`, `berth info`, and the type-agnostic `berth inspect`.

pub mod df;
pub mod df_rows;
pub mod events;
pub mod info;
pub mod inspect;
pub mod prune;
pub mod version;
