//! Golden tests: Dockerfile parsing (`golden/parse/*.Dockerfile` → `*.json`), variable
//! expansion (`golden/expand.txt`), `.dockerignore` rules (`golden/dockerignore.txt`), and the
//! progress stream of a cached rebuild against the one the reference dockerd's classic
//! builder sent for the same context (`golden/stream/`). `BERTH_BLESS=1` rewrites the parse
//! goldens.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use berth_api_types::dockerignore::Ignore;
use berth_api_types::query::images::JsonMessage;
use berth_builder::backend::{BuildBackend, Layer, MountedImage, Progress, RunSpec};
use berth_builder::expand::{expand_word, Vars};
use berth_builder::{build, BuildOptions};
use berth_image::{HistoryEntry, ImageConfig, RootFs};
use sha2::{Digest as _, Sha256};

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

#[test]
fn parse_goldens() {
    let dir = golden_dir().join("parse");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        let p = e.path();
        if p.extension().is_none_or(|x| x != "Dockerfile") {
            continue;
        }
        n += 1;
        let text = std::fs::read_to_string(&p).unwrap();
        let parsed = berth_builder::parse::parse(&text).unwrap();
        let got = serde_json::to_string_pretty(&parsed).unwrap() + "\n";
        let want_path = p.with_extension("json");
        if std::env::var_os("BERTH_BLESS").is_some() {
            std::fs::write(&want_path, &got).unwrap();
        }
        let want = std::fs::read_to_string(&want_path).unwrap_or_default();
        assert_eq!(got, want, "{} differs from its golden (BERTH_BLESS=1 to rewrite)", p.display());
    }
    assert!(n > 0, "no parse goldens found");
}

#[test]
fn expansion_golden() {
    let vars: Vars =
        [("A", "a"), ("EMPTY", ""), ("SP", "x y")].iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let text = std::fs::read_to_string(golden_dir().join("expand.txt")).unwrap();
    let mut n = 0;
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
        let (input, want) = line.split_once('\t').unwrap_or((line, ""));
        assert_eq!(expand_word(input, &vars, '\\').unwrap(), want, "expanding {input:?}");
        n += 1;
    }
    assert!(n >= 10);
}

#[test]
fn dockerignore_golden() {
    let text = std::fs::read_to_string(golden_dir().join("dockerignore.txt")).unwrap();
    let (patterns, cases) = text.split_once("---\n").unwrap();
    let patterns: String =
        patterns.lines().filter(|l| !l.starts_with("# patterns")).map(|l| format!("{l}\n")).collect();
    let ignore = Ignore::parse(&patterns);
    let mut n = 0;
    for line in cases.lines().filter(|l| !l.is_empty()) {
        let (path, want) = line.split_once('\t').unwrap();
        let got = if ignore.excludes(path) { "excluded" } else { "included" };
        assert_eq!(got, want, "{path}");
        n += 1;
    }
    assert!(n >= 10);
}

/// An in-memory engine: images are configs keyed by their digest, RUN always succeeds.
#[derive(Default)]
struct FakeBackend {
    images: Mutex<HashMap<String, ImageConfig>>,
    cache: Mutex<HashMap<String, String>>,
    runs: Mutex<Vec<RunSpec>>,
    scratch: PathBuf,
}

fn digest(c: &ImageConfig) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(serde_json::to_vec(c).unwrap())))
}

impl FakeBackend {
    fn new(scratch: PathBuf) -> FakeBackend {
        let base = ImageConfig {
            architecture: "amd64".into(),
            os: "linux".into(),
            config: berth_image::ContainerConfig {
                env: Some(vec!["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into()]),
                cmd: Some(vec!["sh".into()]),
                ..Default::default()
            },
            rootfs: RootFs { kind: "layers".into(), diff_ids: vec![format!("sha256:{}", "1".repeat(64))] },
            history: vec![HistoryEntry { created_by: Some("base".into()), ..Default::default() }],
            ..Default::default()
        };
        let b = FakeBackend { scratch, ..Default::default() };
        b.images.lock().unwrap().insert(digest(&base), base);
        b
    }
}

impl BuildBackend for FakeBackend {
    async fn resolve_image(
        &self,
        name: &str,
        _: bool,
        _: Option<&str>,
        _: &Progress,
    ) -> berth_builder::Result<(String, ImageConfig)> {
        assert_eq!(name, "busybox");
        let images = self.images.lock().unwrap();
        let (id, c) = images.iter().find(|(_, c)| c.history.len() == 1).unwrap();
        Ok((id.clone(), c.clone()))
    }

    async fn image_config(&self, id: &str) -> berth_builder::Result<ImageConfig> {
        Ok(self.images.lock().unwrap()[id].clone())
    }

    async fn run(&self, spec: RunSpec, out: &Progress) -> berth_builder::Result<(String, i64)> {
        let _ = out.send(JsonMessage::stream(" ---> Running in 0123456789ab\n")).await;
        self.runs.lock().unwrap().push(spec);
        Ok(("0123456789abcdef".into(), 0))
    }

    async fn remove_container(&self, _: &str) -> berth_builder::Result<()> {
        Ok(())
    }

    async fn commit(&self, _: &str, mut config: ImageConfig, layer: Layer) -> berth_builder::Result<String> {
        if let Layer::Tar(p) = &layer {
            let bytes = std::fs::read(p).unwrap();
            config.rootfs.diff_ids.push(format!("sha256:{}", hex::encode(Sha256::digest(bytes))));
        }
        let id = digest(&config);
        self.images.lock().unwrap().insert(id.clone(), config);
        Ok(id)
    }

    async fn mount_image(&self, _: &str) -> berth_builder::Result<MountedImage> {
        let root = self.scratch.join("mnt");
        std::fs::create_dir_all(&root).unwrap();
        Ok(MountedImage { root, token: "t".into() })
    }

    async fn unmount_image(&self, _: &MountedImage) {}

    async fn cache_get(&self, key: &str) -> Option<(String, ImageConfig)> {
        let id = self.cache.lock().unwrap().get(key).cloned()?;
        let config = self.images.lock().unwrap()[&id].clone();
        Some((id, config))
    }

    async fn cache_from(&self, _: &[String], _: &str, _: &str) -> Option<(String, ImageConfig)> {
        None
    }

    async fn cache_put(&self, key: &str, image: &str) -> berth_builder::Result<()> {
        self.cache.lock().unwrap().insert(key.into(), image.into());
        Ok(())
    }

    fn cache_mount_dir(&self, id: &str) -> berth_builder::Result<PathBuf> {
        Ok(self.scratch.join("cache").join(hex::encode(id)))
    }

    async fn fetch(&self, url: &str, dest: &Path) -> berth_builder::Result<berth_builder::Fetched> {
        std::fs::write(dest, format!("body of {url}\n")).unwrap();
        Ok(berth_builder::Fetched { last_modified: Some("Wed, 21 Oct 2015 07:28:00 GMT".into()), ..Default::default() })
    }

    async fn tag(&self, _: &str, _: &str) -> berth_builder::Result<()> {
        Ok(())
    }
}

/// Builds `ctx` and returns the stream as dockerd's wire lines (12-hex ids masked).
async fn stream(backend: &FakeBackend, ctx: &Path, opts: &BuildOptions) -> Vec<String> {
    let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
    build(backend, ctx, opts, &tx).await.unwrap();
    drop(tx);
    let mut out = Vec::new();
    while let Some(m) = rx.recv().await {
        out.push(mask(&serde_json::to_string(&m).unwrap()));
    }
    out
}

/// Go's HTML-safe escaping and 12/64-hex ids replaced, so streams compare across engines.
fn mask(line: &str) -> String {
    let line = line.replace('>', "\\u003e").replace('<', "\\u003c").replace('&', "\\u0026");
    let mut out = String::new();
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let run = chars[i..].iter().take_while(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()).count();
        if run == 12 || run == 64 {
            out.push_str(if run == 12 { "<id>" } else { "<digest>" });
            i += run;
        } else {
            let n = run.max(1);
            out.extend(&chars[i..i + n]);
            i += n;
        }
    }
    out
}

#[tokio::test]
async fn cached_rebuild_streams_like_dockerd() {
    let scratch = tempfile::tempdir().unwrap();
    let backend = FakeBackend::new(scratch.path().to_path_buf());
    let ctx = golden_dir().join("stream/ctx");
    let opts = BuildOptions {
        tags: vec!["builder-ref:golden".into()],
        rm: true,
        scratch: scratch.path().into(),
        ..Default::default()
    };
    let first = stream(&backend, &ctx, &opts).await;
    assert!(first.iter().any(|l| l.contains("Running in")), "{first:#?}");
    assert_eq!(backend.runs.lock().unwrap().len(), 1);
    let run = backend.runs.lock().unwrap()[0].clone();
    assert_eq!(run.args, ["/bin/sh", "-c", "echo hi && cat f.txt"]);
    assert_eq!(run.workdir, "/app");
    assert!(run.env.contains(&"V=def".to_string()) && run.env.contains(&"B=two words".to_string()), "{:?}", run.env);
    assert_eq!(run.network, "none");
    let again = stream(&backend, &ctx, &opts).await;
    let want: Vec<String> =
        std::fs::read_to_string(golden_dir().join("stream/cached.dockerd.jsonl")).unwrap().lines().map(mask).collect();
    assert_eq!(again, want);
    let mut args = BTreeMap::new();
    args.insert("V".to_string(), Some("other".to_string()));
    let changed = stream(&backend, &ctx, &BuildOptions { build_args: args, ..opts.clone() }).await;
    // Only FROM and ARG (unchanged text) stay cached; the LABEL now expands differently.
    assert_eq!(changed.iter().filter(|l| l.contains("Using cache")).count(), 1, "{changed:#?}");
}

/// A build with no cache prints what dockerd's classic builder printed for the same context:
/// ` ---> Running in …` / `Removing intermediate container …` for config-only steps and
/// WORKDIR too (dockerd runs those in a short-lived container), none for COPY. The RUN
/// step's own output lines (`hi`, `content`) come from a real container, which the fake
/// backend does not run.
#[tokio::test]
async fn fresh_build_streams_like_dockerd() {
    let scratch = tempfile::tempdir().unwrap();
    let backend = FakeBackend::new(scratch.path().to_path_buf());
    let ctx = golden_dir().join("stream/ctx");
    let opts = BuildOptions {
        tags: vec!["builder-ref:golden2".into()],
        rm: true,
        scratch: scratch.path().into(),
        ..Default::default()
    };
    let got = stream(&backend, &ctx, &opts).await;
    let want: Vec<String> = std::fs::read_to_string(golden_dir().join("stream/nocache.dockerd.jsonl"))
        .unwrap()
        .lines()
        .filter(|l| *l != r#"{"stream":"hi\n"}"# && *l != r#"{"stream":"content\n"}"#)
        .map(mask)
        .collect();
    assert_eq!(got, want);
    // Every image records the container its step ran in, as dockerd 20.10 does.
    let images = backend.images.lock().unwrap();
    let cmd =
        images.values().find(|c| c.config.cmd.as_deref() == Some(&["sh".to_string()][..]) && c.history.len() == 8);
    let cc = &cmd.unwrap().extra["container_config"];
    assert_eq!(cc["Cmd"], serde_json::json!(["/bin/sh", "-c", "#(nop) ", "CMD [\"sh\"]"]));
    assert_eq!(cc["Hostname"].as_str().unwrap().len(), 12);
    assert!(cc["Image"].as_str().unwrap().starts_with("sha256:"));
    let run = images.values().find(|c| {
        c.history.last().and_then(|h| h.created_by.as_deref()) == Some("|1 V=def /bin/sh -c echo hi && cat f.txt")
    });
    let cc = &run.unwrap().extra["container_config"];
    assert_eq!(cc["Cmd"], serde_json::json!(["|1", "V=def", "/bin/sh", "-c", "echo hi && cat f.txt"]));
    assert_eq!((cc["Hostname"].as_str(), &cc["Labels"]), (Some(""), &serde_json::json!({"ver": "def"})));
}
