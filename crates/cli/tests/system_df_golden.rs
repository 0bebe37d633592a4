//! `berth system df` against the docker CLI 28's output for the same data: `golden/system_df`
//! holds a reference dockerd's `/system/df` answer, the time it was taken, and what
//! `docker system df` printed for it with each format.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use berth_cli::commands::system::df::{summary_with, verbose_with};

fn golden(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/system_df").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn data() -> (serde_json::Value, i64) {
    (serde_json::from_str(&golden("df.json")).unwrap(), golden("now").trim().parse().unwrap())
}

#[test]
fn summary_formats_match_docker() {
    let (df, _) = data();
    assert_eq!(summary_with(&df, "").unwrap(), golden("table.out"));
    assert_eq!(summary_with(&df, "table").unwrap(), golden("table.out"));
    assert_eq!(summary_with(&df, "json").unwrap(), golden("json.out"));
    assert_eq!(summary_with(&df, "raw").unwrap(), golden("raw.out"));
    assert_eq!(summary_with(&df, "{{.Type}}={{.Reclaimable}}").unwrap(), golden("custom.out"));
    assert_eq!(
        summary_with(&df, r"table {{.Type}}\t{{.Reclaimable}}").unwrap(),
        "TYPE            RECLAIMABLE\nImages          0B (0%)\nContainers      3kB (100%)\n\
         Local Volumes   0B (0%)\nBuild Cache     0B\n"
    );
}

#[test]
fn verbose_formats_match_docker() {
    let (df, now) = data();
    assert_eq!(verbose_with(&df, "", now).unwrap(), golden("verbose_table.out"));
    assert_eq!(verbose_with(&df, "json", now).unwrap(), golden("verbose_json.out"));
    assert_eq!(verbose_with(&df, "raw", now).unwrap(), golden("verbose_raw.out"));
    assert_eq!(
        verbose_with(&df, r"table {{range .Containers}}{{.ID}}\t{{.Size}}\t{{.Names}}|{{end}}", now).unwrap(),
        golden("verbose_table_template.out")
    );
    assert_eq!(
        verbose_with(
            &df,
            "{{range .Volumes}}{{.Name}}:{{.Links}}:{{.Size}};{{end}}{{range .Images}}{{json .}}{{end}}",
            now
        )
        .unwrap(),
        golden("verbose_template.out")
    );
}

#[test]
fn verbose_build_cache_rows() {
    let df = serde_json::json!({
        "Images": [], "Containers": [], "Volumes": [],
        "BuildCache": [
            {"ID": "bbbbbbbbbbbbbbbbbbbb", "Type": "regular", "Size": 1234567, "Shared": true, "InUse": false,
             "CreatedAt": "2026-11-22T20:00:00Z", "LastUsedAt": "2026-11-22T20:10:00.5Z", "UsageCount": 2},
            {"ID": "aaaaaaaaaaaaaaaaaaaa", "Type": "exec.cachemount", "Size": 2000, "InUse": true,
             "CreatedAt": "2026-11-22T20:00:00Z", "LastUsedAt": null, "UsageCount": 1, "Description": "mount / from exec"},
        ],
    });
    let now = 1_795_381_200; // 2026-11-22T21:00:00Z
    let out = verbose_with(&df, "", now).unwrap();
    assert!(
        out.ends_with(
            "Build cache usage: 2kB\n\n\
             CACHE ID        CACHE TYPE        SIZE      CREATED             LAST USED        USAGE     SHARED\n\
             aaaaaaaaaaaa*   exec.cachemount   2kB       About an hour ago                    1         false\n\
             bbbbbbbbbbbb    regular           1.23MB    About an hour ago   50 minutes ago   2         true\n"
        ),
        "{out}"
    );
    let raw =
        verbose_with(&df, "{{range .BuildCache}}{{.LastUsedAt}}|{{.InUse}}|{{.Description}};{{end}}", now).unwrap();
    assert_eq!(raw, "|true|mount / from exec;2026-11-22 20:10:00.5 +0000 UTC|false|;");
}
