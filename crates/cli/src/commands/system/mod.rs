//! `berth version`, `berth info`, and the type-agnostic `berth inspect`.

pub mod info;
pub mod inspect;
pub mod version;
