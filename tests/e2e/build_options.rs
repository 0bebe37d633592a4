//! End-to-end: `/build` options beyond the Dockerfile (issue 7): resource limits and
//! `--shm-size` applied to RUN containers, and `--cache-from`.

use std::path::{Path, PathBuf};

use crate::{daemon, ok};

fn context(dir: &Path, name: &str, files: &[(&str, &str)]) -> PathBuf {
    let ctx = dir.join(name);
    std::fs::create_dir_all(&ctx).unwrap();
    for (p, text) in files {
        std::fs::write(ctx.join(p), text).unwrap();
    }
    ctx
}

fn inspect(d: &berth_testkit::TestDaemon, fmt: &str, image: &str) -> String {
    ok(d.docker().args(["inspect", "-f", fmt, image])).trim().to_string()
}

#[test]
fn run_steps_get_shm_size_memory_and_cpu_limits() {
    let Some(d) = daemon("run_steps_get_shm_size_memory_and_cpu_limits") else { return };
    let df = "FROM busybox\nRUN df -k /dev/shm | awk 'NR==2{print $2}' > /limits && \
(cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes) >> /limits && \
(cat /sys/fs/cgroup/cpu.max 2>/dev/null || echo $(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us) $(cat /sys/fs/cgroup/cpu/cpu.cfs_period_us)) >> /limits\n";
    let ctx = context(d.dir.path(), "ctx", &[("Dockerfile", df)]);
    let args = ["--shm-size", "32m", "--memory", "64m", "--cpu-quota", "50000", "--cpu-period", "100000"];
    ok(d.docker().env("DOCKER_BUILDKIT", "0").arg("build").args(args).args(["-t", "lim:1"]).arg(&ctx));
    let got = ok(d.docker().args(["run", "--rm", "lim:1", "cat", "/limits"]));
    assert_eq!(got, "32768\n67108864\n50000 100000\n");
    // berth build sends the same flags; without them the defaults apply (64 MiB shm, no limit).
    ok(d.berth().arg("build").args(args).args(["--no-cache", "-t", "lim:2"]).arg(&ctx));
    assert_eq!(ok(d.docker().args(["run", "--rm", "lim:2", "cat", "/limits"])), got);
    ok(d.berth().args(["build", "--no-cache", "-t", "lim:3"]).arg(&ctx));
    let free = ok(d.docker().args(["run", "--rm", "lim:3", "cat", "/limits"]));
    assert!(free.starts_with("65536\n") && !free.contains("67108864"), "{free}");
    let bad = d.request("POST", "/build?memory=lots", Some(("application/x-tar", b"")));
    assert_eq!(bad.status, 400, "{}", bad.text());
}

#[test]
fn cache_from_reuses_a_tagged_image_after_the_cache_is_pruned() {
    let Some(d) = daemon("cache_from_reuses_a_tagged_image_after_the_cache_is_pruned") else { return };
    let ctx = context(
        d.dir.path(),
        "ctx",
        &[("Dockerfile", "FROM busybox\nENV X=1\nRUN echo hi > /f\nCOPY a.txt /a\n"), ("a.txt", "a\n")],
    );
    let build = |tag: &str, extra: &[&str]| {
        ok(d.docker().env("DOCKER_BUILDKIT", "0").arg("build").args(extra).args(["-t", tag]).arg(&ctx))
    };
    build("cf:1", &[]);
    ok(d.docker().args(["builder", "prune", "-af"]));
    let out = build("cf:2", &["--cache-from", "cf:1"]);
    assert_eq!(out.matches("Using cache").count(), 3, "{out}");
    assert_eq!(inspect(&d, "{{.Id}}", "cf:1"), inspect(&d, "{{.Id}}", "cf:2"));
    // A changed file stops the match from there on.
    std::fs::write(ctx.join("a.txt"), "b\n").unwrap();
    let out = build("cf:3", &["--cache-from", "cf:1"]);
    assert_eq!(out.matches("Using cache").count(), 2, "{out}");
    // Without --cache-from the pruned cache has nothing.
    ok(d.docker().args(["builder", "prune", "-af"]));
    let out = build("cf:4", &[]);
    assert!(!out.contains("Using cache"), "{out}");
}

#[test]
fn images_record_the_step_container_like_dockerd() {
    let Some(d) = daemon("images_record_the_step_container_like_dockerd") else { return };
    let ctx =
        context(d.dir.path(), "ctx", &[("Dockerfile", "FROM busybox\nENV A=1\nRUN echo hi > /f\nCMD [\"sh\"]\n")]);
    let out = ok(d.docker().env("DOCKER_BUILDKIT", "0").args(["build", "-t", "cc:1"]).arg(&ctx));
    // Config-only steps print the container they "ran in", as dockerd 20.10 does.
    let env_step = out.split("Step 2/4 : ENV A=1").nth(1).unwrap().split("Step 3/4").next().unwrap();
    let cid = env_step.split(" ---> Running in ").nth(1).unwrap().lines().next().unwrap().to_string();
    assert!(env_step.contains(&format!("Removing intermediate container {cid}")), "{out}");
    assert_eq!(inspect(&d, "{{.Config.Cmd}}", "cc:1"), "[sh]");
    // API 1.41 (dockerd 20.10's) shows `Container` and `ContainerConfig`.
    let img = |name: &str| d.request("GET", &format!("/v1.41/images/{name}/json"), None).json();
    let v = img("cc:1");
    let container = v["Container"].as_str().unwrap().to_string();
    assert_eq!(container.len(), 64, "{v}");
    // The stored config (docker save) has dockerd's fields as written.
    let saved = stored_config(&d, "cc:1");
    assert_eq!(saved["container"], container.as_str());
    assert_eq!(saved["container_config"]["Hostname"], container[..12]);
    assert_eq!(saved["container_config"]["Image"], v["Parent"]);
    assert_eq!(saved["container_config"]["Labels"], serde_json::json!({}));
    assert_eq!(saved["docker_version"], v["DockerVersion"]);
    assert_eq!(v["ContainerConfig"]["Cmd"], serde_json::json!(["/bin/sh", "-c", "#(nop) ", "CMD [\"sh\"]"]));
    assert!(!v["DockerVersion"].as_str().unwrap().is_empty(), "{v}");
    // The parent of the CMD step is the RUN step, whose container was the real one.
    let parent = img(v["Parent"].as_str().unwrap());
    assert_eq!(parent["ContainerConfig"]["Cmd"], serde_json::json!(["/bin/sh", "-c", "echo hi > /f"]));
    let run_step = out.split("Step 3/4").nth(1).unwrap();
    let run_cid = run_step.split(" ---> Running in ").nth(1).unwrap().lines().next().unwrap();
    assert!(parent["Container"].as_str().unwrap().starts_with(run_cid), "{out}");
}

/// The image config JSON as stored, from `docker save`.
fn stored_config(d: &berth_testkit::TestDaemon, image: &str) -> serde_json::Value {
    let tar = d.dir.path().join("saved.tar");
    ok(d.docker().args(["save", "-o"]).arg(&tar).arg(image));
    let mut files = std::collections::HashMap::new();
    for e in tar::Archive::new(std::fs::File::open(&tar).unwrap()).entries().unwrap() {
        let mut e = e.unwrap();
        let name = e.path().unwrap().to_string_lossy().into_owned();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut e, &mut data).unwrap();
        files.insert(name, data);
    }
    let manifest: serde_json::Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    let config = manifest[0]["Config"].as_str().unwrap();
    serde_json::from_slice(&files[config]).unwrap()
}
