//! `berth search` (ImageSearch): search a registry for images, printed as docker does.

use crate::client::{filters_json, query_escape, Client};
use crate::error::CmdResult;
use crate::format::table::{align, ellipsis};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Filter output based on conditions provided
    #[arg(short = 'f', long = "filter")]
    pub filter: Vec<String>,
    /// Max number of search results
    #[arg(long)]
    pub limit: Option<i64>,
    /// Don't truncate output
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,
    /// TERM
    pub term: String,
}

/// The table: NAME DESCRIPTION STARS OFFICIAL (descriptions cut at 45 characters).
pub fn table(results: &[serde_json::Value], no_trunc: bool) -> String {
    let mut t = String::from("NAME\tDESCRIPTION\tSTARS\tOFFICIAL\n");
    for r in results {
        let s = |k: &str| r.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
        let desc = s("description").replace('\n', " ");
        let desc = if no_trunc { desc } else { ellipsis(&desc, 45) };
        let official = r.get("is_official").and_then(|v| v.as_bool()).unwrap_or(false);
        let stars = r.get("star_count").and_then(|v| v.as_i64()).unwrap_or(0);
        t.push_str(&format!("{}\t{desc}\t{stars}\t{}\n", s("name"), if official { "[OK]" } else { "" }));
    }
    align(&t)
}

pub async fn run(c: &Client, a: Args) -> CmdResult {
    let mut path = format!("/images/search?term={}", query_escape(&a.term));
    if let Some(l) = a.limit {
        path.push_str(&format!("&limit={l}"));
    }
    if let Some(f) = filters_json(&a.filter)? {
        path.push_str(&format!("&filters={}", query_escape(&f)));
    }
    let v = c.get_json(&path).await?;
    let results = v.as_array().cloned().unwrap_or_default();
    print!("{}", table(&results, a.no_trunc));
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_like_docker() {
        let r = vec![
            serde_json::json!({"name":"busybox","description":"Busybox base image.","star_count":3,"is_official":true}),
        ];
        assert_eq!(
            table(&r, false),
            "NAME      DESCRIPTION           STARS     OFFICIAL\nbusybox   Busybox base image.   3         [OK]\n"
        );
    }
}
