//! End-to-end: docker build / berth build from Dockerfiles (issue 7).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{daemon, ok, output, stderr, stdout};

/// A build context directory with `files` (path, content).
fn context(dir: &Path, name: &str, files: &[(&str, &str)]) -> PathBuf {
    let ctx = dir.join(name);
    for (p, content) in files {
        let f = ctx.join(p);
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(f, content).unwrap();
    }
    ctx
}

/// The classic builder of the real docker CLI.
fn docker_build(d: &berth_testkit::TestDaemon) -> Command {
    let mut c = d.docker();
    c.env("DOCKER_BUILDKIT", "0").arg("build");
    c
}

fn inspect(d: &berth_testkit::TestDaemon, fmt: &str, image: &str) -> String {
    ok(d.docker().args(["inspect", "-f", fmt, image])).trim().to_string()
}

/// Every file path in every layer of `image` (from `docker save`), with its content.
fn layer_files(d: &berth_testkit::TestDaemon, image: &str) -> Vec<(String, Vec<u8>)> {
    let tar = d.dir.path().join(format!("{}.tar", image.replace([':', '/'], "_")));
    ok(d.docker().args(["save", "-o"]).arg(&tar).arg(image));
    let mut outer = tar::Archive::new(std::fs::File::open(&tar).unwrap());
    let mut out = Vec::new();
    for e in outer.entries().unwrap() {
        let e = e.unwrap();
        if !e.path().unwrap().to_string_lossy().ends_with("layer.tar") {
            continue;
        }
        let mut inner = tar::Archive::new(e);
        for f in inner.entries().unwrap() {
            let mut f = f.unwrap();
            let name = f.path().unwrap().to_string_lossy().into_owned();
            let mut data = Vec::new();
            std::io::Read::read_to_end(&mut f, &mut data).unwrap();
            out.push((name, data));
        }
    }
    out
}

#[test]
fn build_arg_label_env_config_and_history() {
    let Some(d) = daemon("build_arg_label_env_config_and_history") else { return };
    let ctx = context(
        d.dir.path(),
        "ctx",
        &[
            (
                "Dockerfile",
                "FROM busybox\nARG VERSION=1.0\nLABEL version=$VERSION\nENV APP=/app MODE=\"two words\"\nWORKDIR /app\nCOPY hello.txt .\nRUN cat hello.txt > copy.txt && \\\n    echo built-$VERSION >> copy.txt\nEXPOSE 8080\nCMD [\"cat\", \"copy.txt\"]\n",
            ),
            ("hello.txt", "hello\n"),
        ],
    );
    let out = ok(docker_build(&d).args(["-t", "app:1", "--build-arg", "VERSION=2.5"]).arg(&ctx));
    assert!(out.contains("Step 1/9 : FROM busybox"), "{out}");
    assert!(out.contains("Step 7/9 : RUN cat hello.txt > copy.txt &&     echo built-$VERSION >> copy.txt"), "{out}");
    assert!(out.contains("Successfully tagged app:1"), "{out}");
    assert_eq!(inspect(&d, "{{index .Config.Labels \"version\"}}", "app:1"), "2.5");
    assert_eq!(
        inspect(&d, "{{json .Config.Env}}", "app:1"),
        r#"["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","APP=/app","MODE=two words"]"#
    );
    assert_eq!(inspect(&d, "{{.Config.WorkingDir}}", "app:1"), "/app");
    assert_eq!(inspect(&d, "{{json .Config.Cmd}}", "app:1"), r#"["cat","copy.txt"]"#);
    assert_eq!(inspect(&d, "{{json .Config.ExposedPorts}}", "app:1"), r#"{"8080/tcp":{}}"#);
    assert_eq!(ok(d.docker().args(["run", "--rm", "app:1"])), "hello\nbuilt-2.5\n");
    // One history line per instruction, newest first, with dockerd's CreatedBy text.
    let hist = ok(d.docker().args(["history", "--no-trunc", "--format", "{{.CreatedBy}}", "app:1"]));
    let lines: Vec<&str> = hist.lines().collect();
    assert_eq!(lines.len(), 9, "{hist}");
    assert_eq!(lines[0], r#"/bin/sh -c #(nop)  CMD ["cat" "copy.txt"]"#);
    assert_eq!(lines[2], "|1 VERSION=2.5 /bin/sh -c cat hello.txt > copy.txt &&     echo built-$VERSION >> copy.txt");
    assert!(lines[3].starts_with("/bin/sh -c #(nop) COPY file:") && lines[3].ends_with(" in . "), "{hist}");
    assert_eq!(lines[4], "/bin/sh -c #(nop) WORKDIR /app");
    assert_eq!(lines[5], "/bin/sh -c #(nop)  ENV APP=/app MODE=two words");
    assert_eq!(lines[6], "/bin/sh -c #(nop)  LABEL version=2.5");
    assert_eq!(lines[7], "/bin/sh -c #(nop)  ARG VERSION=1.0");
    // Only filesystem-changing steps add layers: busybox, WORKDIR, COPY, RUN.
    assert_eq!(inspect(&d, "{{len .RootFS.Layers}}", "app:1"), "4");
    // Intermediate images are hidden from `images` but listed with -a.
    assert_eq!(ok(d.docker().args(["images", "--format", "{{.Repository}}:{{.Tag}}"])).lines().count(), 2);
    assert!(ok(d.docker().args(["images", "-a", "-q"])).lines().count() > 2);
    // The default value applies without --build-arg.
    ok(docker_build(&d).args(["-t", "app:def"]).arg(&ctx));
    assert_eq!(inspect(&d, "{{index .Config.Labels \"version\"}}", "app:def"), "1.0");
    // rmi prunes the untagged step images of a build (as dockerd does without --no-prune).
    ok(d.docker().args(["rmi", "app:1", "app:def"]));
    assert_eq!(ok(d.docker().args(["images", "-a", "--format", "{{.Repository}}"])), "busybox\n");
}

#[test]
fn cache_reuses_steps_until_a_copied_file_changes() {
    let Some(d) = daemon("cache_reuses_steps_until_a_copied_file_changes") else { return };
    let ctx = context(
        d.dir.path(),
        "ctx",
        &[
            (
                "Dockerfile",
                "FROM busybox\nENV A=1\nRUN echo step > /step\nCOPY data.txt /data.txt\nRUN cat /data.txt > /out\n",
            ),
            ("data.txt", "one\n"),
        ],
    );
    let first = ok(docker_build(&d).args(["-t", "c:1"]).arg(&ctx));
    assert!(!first.contains("Using cache"), "{first}");
    let again = ok(docker_build(&d).args(["-t", "c:2"]).arg(&ctx));
    assert_eq!(again.matches("Using cache").count(), 4, "{again}");
    assert_eq!(inspect(&d, "{{.Id}}", "c:1"), inspect(&d, "{{.Id}}", "c:2"));
    // Same content, new mtime: still cached.
    std::fs::write(ctx.join("data.txt"), "one\n").unwrap();
    let touched = ok(docker_build(&d).args(["-t", "c:3"]).arg(&ctx));
    assert_eq!(touched.matches("Using cache").count(), 4, "{touched}");
    // A change rebuilds from the COPY on.
    std::fs::write(ctx.join("data.txt"), "two\n").unwrap();
    let changed = ok(docker_build(&d).args(["-t", "c:4"]).arg(&ctx));
    assert_eq!(changed.matches("Using cache").count(), 2, "{changed}");
    let after_copy = changed.split("Step 4/5").nth(1).unwrap();
    assert!(!after_copy.contains("Using cache"), "{changed}");
    assert_eq!(ok(d.docker().args(["run", "--rm", "c:4", "cat", "/out"])), "two\n");
    // --no-cache runs every step.
    let fresh = ok(d.berth().args(["build", "--no-cache", "-t", "c:5"]).arg(&ctx));
    assert!(!fresh.contains("Using cache"), "{fresh}");
    // builder prune drops the cache: the next build runs every step again.
    ok(d.docker().args(["builder", "prune", "-a", "-f"]));
    let pruned = ok(docker_build(&d).args(["-t", "c:6"]).arg(&ctx));
    assert!(!pruned.contains("Using cache"), "{pruned}");
}

#[test]
fn multi_stage_into_scratch_and_target() {
    let Some(d) = daemon("multi_stage_into_scratch_and_target") else { return };
    let ctx = context(
        d.dir.path(),
        "ctx",
        &[(
            "Dockerfile",
            "FROM busybox AS builder\nRUN mkdir /out && echo artifact > /out/app.txt\n\nFROM busybox AS unused\nRUN exit 9\n\nFROM scratch\nCOPY --from=builder /out/app.txt /app.txt\nCOPY --from=builder /bin/busybox /bin/cat\nCMD [\"/bin/cat\", \"/app.txt\"]\n",
        )],
    );
    let out = ok(d.berth().args(["build", "-t", "final:1"]).arg(&ctx));
    assert!(!out.contains("exit 9"), "the unused stage ran: {out}");
    assert_eq!(ok(d.docker().args(["run", "--rm", "final:1"])), "artifact\n");
    let files: Vec<String> = layer_files(&d, "final:1").into_iter().map(|f| f.0).collect();
    assert!(files.contains(&"app.txt".to_string()) && files.contains(&"bin/cat".to_string()), "{files:?}");
    assert!(!files.iter().any(|f| f.starts_with("out")), "builder files leaked: {files:?}");
    // --target stops at the builder stage; intermediate stages are not tagged.
    ok(docker_build(&d).args(["--target", "builder", "-t", "stage:1"]).arg(&ctx));
    assert_eq!(ok(d.docker().args(["run", "--rm", "stage:1", "cat", "/out/app.txt"])), "artifact\n");
    let tags = ok(d.docker().args(["images", "--format", "{{.Repository}}:{{.Tag}}"]));
    let mut tags: Vec<&str> = tags.lines().collect();
    tags.sort();
    assert_eq!(tags, ["busybox:latest", "final:1", "stage:1"]);
    let bad = output(docker_build(&d).args(["--target", "nope"]).arg(&ctx));
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("failed to reach build target nope"), "{}", stderr(&bad));
}

#[test]
fn failing_run_reports_code_and_tags_nothing() {
    let Some(d) = daemon("failing_run_reports_code_and_tags_nothing") else { return };
    let ctx = context(d.dir.path(), "ctx", &[("Dockerfile", "FROM busybox\nRUN echo before\nRUN exit 3\n")]);
    let out = output(docker_build(&d).args(["-t", "broken:1"]).arg(&ctx));
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("The command '/bin/sh -c exit 3' returned a non-zero code: 3"), "{}", stderr(&out));
    assert!(!output(d.docker().args(["inspect", "broken:1"])).status.success());
    let out = output(d.berth().args(["build", "-t", "broken:2"]).arg(&ctx));
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("returned a non-zero code: 3"), "{}", stderr(&out));
    // The raw stream ends with dockerd's errorDetail, code included.
    let tar = berth_testkit_tar(&ctx);
    let r = d.request("POST", "/build?t=broken:3", Some(("application/x-tar", &tar)));
    assert_eq!(r.status, 200);
    let last = r.text().lines().last().unwrap().to_string();
    let v: serde_json::Value = serde_json::from_str(&last).unwrap();
    assert_eq!(v["errorDetail"]["code"], 3, "{last}");
    assert_eq!(v["error"], "The command '/bin/sh -c exit 3' returned a non-zero code: 3");
    // A Dockerfile error before any output is a plain 400.
    let bad = context(d.dir.path(), "bad", &[("Dockerfile", "RUN true\n")]);
    let r = d.request("POST", "/build", Some(("application/x-tar", &berth_testkit_tar(&bad))));
    assert_eq!(r.status, 400, "{}", r.text());
    for c in ok(d.docker().args(["ps", "-aq"])).lines() {
        ok(d.docker().args(["rm", "-f", c]));
    }
}

fn berth_testkit_tar(dir: &Path) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    b.append_dir_all(".", dir).unwrap();
    b.into_inner().unwrap()
}

#[test]
fn secret_mount_stays_out_of_layers_and_cache_mount_persists() {
    let Some(d) = daemon("secret_mount_stays_out_of_layers_and_cache_mount_persists") else { return };
    let ctx = context(
        d.dir.path(),
        "ctx",
        &[(
            "Dockerfile",
            "FROM busybox\nRUN --mount=type=secret,id=token test -s /run/secrets/token && wc -c < /run/secrets/token > /used\nRUN --mount=type=cache,target=/var/cache/app echo run >> /var/cache/app/runs && wc -l < /var/cache/app/runs > /count\n",
        )],
    );
    let secret = d.dir.path().join("token.txt");
    std::fs::write(&secret, "s3cr3t-value").unwrap();
    let spec = format!("id=token,src={}", secret.display());
    ok(d.berth().args(["build", "--secret", &spec, "-t", "sec:1"]).arg(&ctx));
    assert_eq!(ok(d.docker().args(["run", "--rm", "sec:1", "cat", "/used"])).trim(), "12");
    for (name, data) in layer_files(&d, "sec:1") {
        assert!(!name.contains("secrets/token"), "secret path in a layer: {name}");
        assert!(!String::from_utf8_lossy(&data).contains("s3cr3t-value"), "secret content in {name}");
    }
    let hist = ok(d.docker().args(["history", "--no-trunc", "--format", "{{.CreatedBy}}", "sec:1"]));
    assert!(!hist.contains("s3cr3t-value"), "{hist}");
    assert_eq!(ok(d.docker().args(["run", "--rm", "sec:1", "cat", "/count"])).trim(), "1");
    ok(d.berth().args(["build", "--no-cache", "--secret", &spec, "-t", "sec:2"]).arg(&ctx));
    assert_eq!(
        ok(d.docker().args(["run", "--rm", "sec:2", "cat", "/count"])).trim(),
        "2",
        "cache mount did not persist"
    );
    // Without the secret the RUN fails (the secret file is absent).
    let out = output(d.berth().args(["build", "--no-cache", "-t", "sec:3"]).arg(&ctx));
    assert!(!out.status.success(), "{}", stdout(&out));
    for c in ok(d.docker().args(["ps", "-aq"])).lines() {
        ok(d.docker().args(["rm", "-f", c]));
    }
}

#[test]
fn dockerignore_copy_globs_chown_and_commit() {
    let Some(d) = daemon("dockerignore_copy_globs_chown_and_commit") else { return };
    let ctx = context(
        d.dir.path(),
        "ctx",
        &[
            ("Dockerfile", "FROM busybox\nCOPY --chown=1000:1000 *.txt /files/\nCOPY src /src\nRUN ls -n /files /src | sort > /listing\n"),
            (".dockerignore", "*.log\nsrc/skip\n!keep.log\n"),
            ("a.txt", "a"),
            ("b.txt", "b"),
            ("x.log", "x"),
            ("keep.log", "k"),
            ("src/one", "1"),
            ("src/skip", "s"),
        ],
    );
    ok(d.berth().args(["build", "-t", "ign:1"]).arg(&ctx));
    let listing = ok(d.docker().args(["run", "--rm", "ign:1", "cat", "/listing"]));
    assert!(listing.contains("1000     1000") && listing.contains("a.txt") && listing.contains("b.txt"), "{listing}");
    assert!(listing.contains("one") && !listing.contains("skip"), "{listing}");
    let files = ok(d.docker().args(["run", "--rm", "ign:1", "ls", "/files"]));
    assert_eq!(files, "a.txt\nb.txt\n");
    // docker commit: a container's change as an image, with --change.
    ok(d.docker().args(["run", "--name", "changer", "ign:1", "sh", "-c", "echo committed > /new && rm /listing"]));
    let id = ok(d.docker().args(["commit", "-c", "CMD [\"cat\", \"/new\"]", "changer", "committed:1"]));
    assert!(id.trim().starts_with("sha256:"), "{id}");
    assert_eq!(ok(d.docker().args(["run", "--rm", "committed:1"])), "committed\n");
    let gone = output(d.docker().args(["run", "--rm", "committed:1", "ls", "/listing"]));
    assert!(!gone.status.success(), "deleted file came back");
    let bid = ok(d.berth().args(["commit", "changer", "committed:2"]));
    assert!(bid.trim().starts_with("sha256:"), "{bid}");
    ok(d.docker().args(["rm", "changer"]));
}

#[test]
fn remaining_instructions_and_onbuild() {
    let Some(d) = daemon("remaining_instructions_and_onbuild") else { return };
    // A local tar for ADD (auto-extracted).
    let payload = {
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(6);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, "inside/file.txt", &b"inside"[..]).unwrap();
        b.into_inner().unwrap()
    };
    let ctx = context(
        d.dir.path(),
        "base",
        &[(
            "Dockerfile",
            "FROM busybox\nSHELL [\"/bin/sh\", \"-ec\"]\nRUN <<EOF\necho line1 > /heredoc\necho line2 >> /heredoc\nEOF\nUSER nobody\nRUN id -un > /tmp/who\nUSER root\nVOLUME /data\nSTOPSIGNAL SIGINT\nHEALTHCHECK --interval=5s --retries=2 CMD true\nADD payload.tar /unpacked/\nONBUILD RUN echo triggered > /onbuild\nENTRYPOINT [\"cat\"]\n",
        )],
    );
    std::fs::write(ctx.join("payload.tar"), &payload).unwrap();
    ok(docker_build(&d).args(["-t", "base:1"]).arg(&ctx));
    assert_eq!(ok(d.docker().args(["run", "--rm", "base:1", "/heredoc"])), "line1\nline2\n");
    assert_eq!(ok(d.docker().args(["run", "--rm", "base:1", "/tmp/who"])), "nobody\n");
    assert_eq!(ok(d.docker().args(["run", "--rm", "base:1", "/unpacked/inside/file.txt"])), "inside");
    assert_eq!(inspect(&d, "{{json .Config.Shell}}", "base:1"), r#"["/bin/sh","-ec"]"#);
    assert_eq!(inspect(&d, "{{json .Config.Volumes}}", "base:1"), r#"{"/data":{}}"#);
    assert_eq!(inspect(&d, "{{.Config.StopSignal}}", "base:1"), "SIGINT");
    assert_eq!(inspect(&d, "{{json .Config.Healthcheck.Test}}", "base:1"), r#"["CMD-SHELL","true"]"#);
    assert_eq!(inspect(&d, "{{json .Config.OnBuild}}", "base:1"), r#"["RUN echo triggered > /onbuild"]"#);
    // ENTRYPOINT drops the CMD inherited from busybox.
    assert_eq!(inspect(&d, "{{json .Config.Cmd}}", "base:1"), "null");
    // A child build runs the ONBUILD trigger and does not inherit it.
    let child = context(d.dir.path(), "child", &[("Dockerfile", "FROM base:1\nCMD [\"/onbuild\"]\n")]);
    let out = ok(d.berth().args(["build", "-t", "child:1"]).arg(&child));
    assert!(out.contains("# Executing 1 build trigger"), "{out}");
    assert_eq!(ok(d.docker().args(["run", "--rm", "child:1"])), "triggered\n");
    assert_eq!(inspect(&d, "{{json .Config.OnBuild}}", "child:1"), "null");
    // `docker build -` with a bare Dockerfile on stdin (no context).
    let df = d.dir.path().join("stdin.Dockerfile");
    std::fs::write(&df, "FROM busybox\nLABEL from=stdin\n").unwrap();
    let out = docker_build(&d).args(["-t", "stdin:1", "-"]).stdin(std::fs::File::open(&df).unwrap()).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(inspect(&d, "{{.Config.Labels.from}}", "stdin:1"), "stdin");
}
