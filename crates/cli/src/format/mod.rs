//! Output formatting shared by all commands: tables, Go templates, docker's units.

pub mod json_indent;
pub mod table;
pub mod template;
pub mod units;
