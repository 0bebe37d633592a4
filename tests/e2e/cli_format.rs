//! `--format` of `berth system df` (and `-v`) and `berth search`: the same output as the docker
//! CLI's for the same daemon state (both CLIs against one berthd).

use crate::registry::berth_registry;
use crate::{daemon, ok};

/// Runs `args` with both CLIs and asserts identical stdout.
fn same(d: &berth_testkit::TestDaemon, args: &[&str]) -> String {
    let docker = ok(d.docker().args(args));
    let berth = ok(d.berth().args(args));
    assert_eq!(berth, docker, "berth and docker differ for {args:?}");
    docker
}

#[test]
fn system_df_and_search_formats_match_docker() {
    let Some(d) = daemon("system_df_and_search_formats_match_docker") else { return };
    // State whose rendering does not depend on the clock between the two calls: a created
    // container with a volume, an image from 1970.
    ok(d.docker().args(["volume", "create", "fmtvol"]));
    ok(d.docker().args(["create", "--name", "fmt-c", "--label", "a=b", "-v", "fmtvol:/data", "busybox", "true"]));
    let json = same(&d, &["system", "df", "--format", "json"]);
    assert!(json.contains(r#""Type":"Local Volumes""#), "{json}");
    same(&d, &["system", "df", "--format", "raw"]);
    same(&d, &["system", "df", "--format", "table"]);
    same(&d, &["system", "df", "--format", r"table {{.Type}}\t{{.Active}}"]);
    same(&d, &["system", "df", "--format", "{{.Type}}: {{.TotalCount}} {{.Size}}"]);
    let v = same(
        &d,
        &[
            "system",
            "df",
            "-v",
            "--format",
            "{{range .Containers}}{{.Names}} {{.Status}} {{.LocalVolumes}} {{.Mounts}} {{.Labels}};{{end}}\
             {{range .Volumes}}{{.Name}} {{.Links}};{{end}}{{range .Images}}{{.Repository}}:{{.Tag}} {{.Containers}}{{end}}",
        ],
    );
    assert_eq!(v, "fmt-c Created 1 fmtvol a=b;fmtvol 1;busybox:latest 1");
    same(&d, &["system", "df", "-v", "--format", "{{range .Images}}{{json .}}{{end}}"]);

    let reg = berth_registry();
    for name in ["fmt/bb:1", "fmt/other:1"] {
        let image = format!("{}/{name}", reg.host());
        ok(d.docker().args(["tag", "busybox", &image]));
        ok(d.docker().args(["push", &image]));
    }
    let term = format!("{}/fmt", reg.host());
    let table = same(&d, &["search", &term]);
    assert!(table.starts_with("NAME ") && table.contains("fmt/bb") && table.contains("fmt/other"), "{table}");
    same(&d, &["search", "--format", "table", &term]);
    same(&d, &["search", "--format", "json", &term]);
    same(&d, &["search", "--format", r"table {{.Name}}\t{{.IsOfficial}}", &term]);
    let names = same(&d, &["search", "--format", "{{.Name}}:{{.StarCount}}", &term]);
    assert_eq!(names, "fmt/bb:0\nfmt/other:0\n");
}
