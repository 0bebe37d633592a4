//! Golden tests: each directory under `tests/golden/` is a project. `args` (optional) holds
//! command-line options, one per line (`-f FILE`, `-p NAME`, `--profile P`, `--env-file F`,
//! `env K=V` for the process environment). The loaded project rendered by `config` must equal
//! `expected.yaml`, or the load error must equal `expected.err`; warnings go to
//! `expected.warn` when there are any. Paths under the case directory print as `$DIR`.
//! `BLESS=1 cargo test -p berth-compose --test golden` rewrites the expected files.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::path::{Path, PathBuf};

use berth_compose::load::{load, Options};

fn options(dir: &Path) -> Options {
    let mut o = Options { cwd: dir.to_path_buf(), ..Default::default() };
    let args = std::fs::read_to_string(dir.join("args")).unwrap_or_default();
    for line in args.lines().filter(|l| !l.trim().is_empty()) {
        let (flag, val) = line.split_once(' ').unwrap_or((line, ""));
        match flag {
            "-f" => o.files.push(PathBuf::from(val)),
            "-p" => o.project_name = Some(val.into()),
            "--profile" => o.profiles.push(val.into()),
            "--env-file" => o.env_files.push(PathBuf::from(val)),
            "--project-directory" => o.project_directory = Some(PathBuf::from(val)),
            "env" => {
                let (k, v) = val.split_once('=').unwrap();
                o.environ.insert(k.into(), v.into());
            }
            other => panic!("{}: unknown args line {other}", dir.display()),
        }
    }
    o
}

fn check(dir: &Path, name: &str, got: &str, bless: bool) -> Option<String> {
    let path = dir.join(name);
    if bless {
        std::fs::write(&path, got).unwrap();
        return None;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|_| format!("<missing {name}>"));
    (want != got).then(|| format!("{}/{name}:\n--- want\n{want}\n--- got\n{got}", dir.display()))
}

#[test]
fn golden_projects() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let bless = std::env::var("BLESS").is_ok();
    let mut failures = Vec::new();
    let mut cases = 0;
    let mut dirs: Vec<_> =
        std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_dir()).collect();
    dirs.sort();
    for dir in dirs {
        cases += 1;
        let d = dir.display().to_string();
        let clean = |s: String| s.replace(&d, "$DIR");
        match load(&options(&dir)) {
            Ok(loaded) => {
                failures.extend(check(
                    &dir,
                    "expected.yaml",
                    &clean(berth_compose::config::to_yaml(&loaded.project)),
                    bless,
                ));
                let warn: String = loaded.warnings.iter().map(|w| format!("{w}\n")).collect();
                if !warn.is_empty() || dir.join("expected.warn").exists() {
                    failures.extend(check(&dir, "expected.warn", &clean(warn), bless));
                }
                if dir.join("expected.err").exists() {
                    failures.push(format!("{d}: loaded, but expected.err exists"));
                }
            }
            Err(e) => {
                failures.extend(check(&dir, "expected.err", &clean(format!("{e}\n")), bless));
                if dir.join("expected.yaml").exists() {
                    failures.push(format!("{d}: failed to load, but expected.yaml exists"));
                }
            }
        }
    }
    assert!(cases >= 10, "only {cases} golden cases found");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
