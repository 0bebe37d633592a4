//! End-to-end: the build cache in `system df` with sizes, and `builder prune` with `-a`,
//! `--filter until=…` and `--keep-storage` (issue 7).

use std::path::Path;

use crate::{daemon, ok};

fn entries(d: &berth_testkit::TestDaemon) -> Vec<serde_json::Value> {
    let df = d.request("GET", "/system/df", None).json();
    df["BuildCache"].as_array().cloned().unwrap_or_default()
}

fn prune(d: &berth_testkit::TestDaemon, query: &str) -> serde_json::Value {
    let r = d.request("POST", &format!("/build/prune{query}"), None);
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let ctx = dir.join(name);
    std::fs::create_dir_all(&ctx).unwrap();
    std::fs::write(ctx.join("Dockerfile"), text).unwrap();
    ctx
}

#[test]
fn build_cache_in_df_and_prune_modes() {
    let Some(d) = daemon("build_cache_in_df_and_prune_modes") else { return };
    // A tagged image (its step records are not dangling), with a 64 KiB cache mount and a
    // 32 KiB layer; a helper stage whose step image no tag uses (dangling).
    let df = "FROM busybox AS tmp\nRUN head -c 16384 /dev/zero > /tmpfile && echo x > /small\n\nFROM busybox\nCOPY --from=tmp /small /h\n\
RUN --mount=type=cache,target=/c head -c 65536 /dev/zero > /c/blob\nRUN head -c 32768 /dev/zero > /layer\n";
    let ctx = write(d.dir.path(), "ctx", df);
    ok(d.docker().env("DOCKER_BUILDKIT", "0").args(["build", "-t", "p:1"]).arg(&ctx));
    let all = entries(&d);
    let size = |typ: &str, min: i64| all.iter().any(|e| e["Type"] == typ && e["Size"].as_i64().unwrap() >= min);
    assert!(size("exec.cachemount", 65536), "{all:?}");
    assert!(size("regular", 32768) && size("regular", 16384), "{all:?}");
    assert!(all.iter().all(|e| e["ID"].as_str().unwrap().len() == 25 && e["LastUsedAt"].is_string()), "{all:?}");
    let df = d.request("GET", "/system/df", None).json();
    let sum: i64 = all.iter().map(|e| e["Size"].as_i64().unwrap()).sum();
    assert_eq!(df["BuilderSize"].as_i64().unwrap(), sum);
    let cli = ok(d.docker().args(["system", "df"]));
    assert!(cli.lines().any(|l| l.starts_with("Build Cache") && !l.contains(" 0B ")), "{cli}");

    // Everything was used within the hour: until=1h keeps it all.
    let out = ok(d.docker().args(["builder", "prune", "-f", "-a", "--filter", "until=1h"]));
    assert_eq!(out, "Total reclaimed space: 0B\n");
    // Enough room: --keep-storage keeps it all.
    let r = prune(&d, "?all=1&keep-storage=1073741824");
    assert_eq!(r["CachesDeleted"], serde_json::json!([]), "{r}");
    assert_eq!(entries(&d).len(), all.len());

    // Default: only dangling entries (the cache mount and the helper stage's steps).
    let r = prune(&d, "");
    let deleted: Vec<&str> = r["CachesDeleted"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert!(!deleted.is_empty(), "{r}");
    assert!(r["SpaceReclaimed"].as_u64().unwrap() >= 65536 + 16384, "{r}");
    let left = entries(&d);
    assert!(left.iter().all(|e| e["Type"] == "regular" && !deleted.contains(&e["ID"].as_str().unwrap())), "{left:?}");
    assert_eq!(left.len() + deleted.len(), all.len());
    // The tagged image's steps are still cached: only the helper stage runs again.
    let again = ok(d.docker().env("DOCKER_BUILDKIT", "0").args(["build", "-t", "p:2"]).arg(&ctx));
    let final_stage = again.split("Step 3/").nth(1).unwrap();
    assert_eq!(final_stage.matches("Using cache").count(), 3, "{again}");

    // A small --keep-storage drops the least recently used until the rest fits.
    let before = entries(&d);
    let total: i64 = before.iter().map(|e| e["Size"].as_i64().unwrap()).sum();
    let r = prune(&d, &format!("?all=1&keep-storage={}", total - 1));
    let n = r["CachesDeleted"].as_array().unwrap().len();
    assert!(n >= 1 && n < before.len(), "{r} of {before:?}");
    // -a drops the rest; a bad filter is a 400.
    let out = ok(d.docker().args(["builder", "prune", "-af"]));
    assert!(out.starts_with("Deleted build cache objects:\n"), "{out}");
    assert_eq!(entries(&d), Vec::<serde_json::Value>::new());
    let bad = d.request("POST", "/build/prune?filters=%7B%22color%22%3A%7B%22red%22%3Atrue%7D%7D", None);
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["message"], "Invalid filter 'color'");
}
