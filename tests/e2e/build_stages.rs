//! End-to-end: independent build stages run in parallel, yet the output reads as dockerd's
//! sequential classic builder prints it (issue 7).

use std::path::{Path, PathBuf};

use crate::{daemon, ok, output, stderr, stdout};

fn context(dir: &Path, name: &str, dockerfile: &str) -> PathBuf {
    let ctx = dir.join(name);
    std::fs::create_dir_all(&ctx).unwrap();
    std::fs::write(ctx.join("Dockerfile"), dockerfile).unwrap();
    ctx
}

/// A RUN that announces `me` in a cache mount shared by both stages and waits (up to 30 s)
/// for `other`: it can only succeed when the two stages run at the same time.
fn rendezvous(me: &str, other: &str) -> String {
    format!(
        "RUN --mount=type=cache,id=rendezvous,target=/sync echo in-{me} && touch /sync/{me} && i=0; while [ ! -e /sync/{other} ]; do sleep 0.1; i=$((i+1)); [ $i -lt 300 ] || exit 7; done; echo {me} > /{me}.txt\n"
    )
}

#[test]
fn independent_stages_run_in_parallel_and_print_in_order() {
    let Some(d) = daemon("independent_stages_run_in_parallel_and_print_in_order") else { return };
    let df = format!(
        "FROM busybox AS a\n{}RUN echo after-a\n\nFROM busybox AS b\n{}\nFROM busybox\nCOPY --from=a /a.txt /\nCOPY --from=b /b.txt /\n",
        rendezvous("a", "b"),
        rendezvous("b", "a")
    );
    let ctx = context(d.dir.path(), "ctx", &df);
    let mut cmd = d.docker();
    let out = ok(cmd.env("DOCKER_BUILDKIT", "0").args(["build", "-t", "par:1"]).arg(&ctx));
    assert_eq!(ok(d.docker().args(["run", "--rm", "par:1", "cat", "/a.txt", "/b.txt"])), "a\nb\n");
    // Steps in Dockerfile order, each stage's output inside its own steps.
    let marks = [
        "Step 1/8 : FROM busybox AS a",
        "Step 2/8 : RUN --mount",
        "\nin-a\n",
        "Step 3/8 : RUN echo after-a",
        "\nafter-a\n",
        "Step 4/8 : FROM busybox AS b",
        "\nin-b\n",
        "Step 6/8 : FROM busybox",
        "Step 7/8 : COPY --from=a /a.txt /",
        "Step 8/8 : COPY --from=b /b.txt /",
        "Successfully tagged par:1",
    ];
    let mut at = 0;
    for m in marks {
        let pos = out[at..].find(m).unwrap_or_else(|| panic!("{m:?} missing or out of order in:\n{out}"));
        at += pos + m.len();
    }
    assert_eq!(out.lines().filter(|l| *l == "in-b").count(), 1, "{out}");
}

#[test]
fn a_failing_stage_stops_the_output_there() {
    let Some(d) = daemon("a_failing_stage_stops_the_output_there") else { return };
    let df = "FROM busybox AS a\nRUN echo in-a && exit 5\n\nFROM busybox AS b\nRUN echo in-b > /b\n\nFROM busybox\nCOPY --from=a /etc/passwd /a\nCOPY --from=b /b /b\n";
    let ctx = context(d.dir.path(), "ctx", df);
    let out = output(d.berth().args(["build", "-t", "fail:1"]).arg(&ctx));
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    let so = stdout(&out);
    assert!(so.contains("Step 2/7 : RUN echo in-a && exit 5") && so.contains("\nin-a\n"), "{so}");
    assert!(!so.contains("Step 3/7") && !so.contains("\nin-b\n"), "output after the failed stage: {so}");
    assert!(stderr(&out).contains("The command '/bin/sh -c echo in-a && exit 5' returned a non-zero code: 5"));
    assert!(!output(d.docker().args(["inspect", "fail:1"])).status.success());
    for c in ok(d.docker().args(["ps", "-aq"])).lines() {
        ok(d.docker().args(["rm", "-f", c]));
    }
}
