//! `berth compose version`.

use crate::error::CmdResult;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Format the output. Values: [pretty | json]
    #[arg(short = 'f', long = "format")]
    pub format: Option<String>,
    /// Shows only Compose's version number
    #[arg(long = "short")]
    pub short: bool,
}

pub fn run(a: Args) -> CmdResult {
    let v = berth_compose::labels::COMPOSE_VERSION;
    if a.short {
        println!("{v}");
    } else if a.format.as_deref() == Some("json") {
        println!("{}", serde_json::json!({ "version": format!("v{v}") }));
    } else {
        println!("Docker Compose version v{v}");
    }
    Ok(0)
}
