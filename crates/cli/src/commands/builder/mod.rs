//! `berth builder ...` verbs.

pub mod prune;
