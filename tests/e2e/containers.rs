//! Container lifecycle through bollard (docker-py and compose speak the same API).

use berth_testkit::TestDaemon;
use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{
    CreateContainerOptions, InspectContainerOptions, LogsOptions, RemoveContainerOptions, StopContainerOptions,
    WaitContainerOptions,
};
use futures_util::StreamExt;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
}

async fn create(d: &TestDaemon, name: &str, cmd: &[&str], tty: bool) -> String {
    let body = ContainerCreateBody {
        image: Some("busybox".into()),
        cmd: Some(cmd.iter().map(|s| s.to_string()).collect()),
        tty: Some(tty),
        labels: Some([("suite".to_string(), "e2e".to_string())].into()),
        ..Default::default()
    };
    let opts = CreateContainerOptions { name: Some(name.into()), ..Default::default() };
    d.bollard().create_container(Some(opts), body).await.expect("create").id
}

#[test]
fn bollard_create_start_wait_logs_remove() {
    let Some(d) = crate::daemon("bollard_create_start_wait_logs_remove") else { return };
    rt().block_on(async {
        let docker = d.bollard();
        let id = create(&d, "lifecycle", &["sh", "-c", "echo out; echo err >&2; exit 7"], false).await;
        let before = docker.inspect_container(&id, None::<InspectContainerOptions>).await.expect("inspect");
        assert_eq!(
            before.state.as_ref().and_then(|s| s.status),
            Some(bollard::models::ContainerStateStatusEnum::CREATED)
        );
        assert_eq!(before.name.as_deref(), Some("/lifecycle"));
        assert_eq!(
            before.config.as_ref().and_then(|c| c.labels.as_ref()).and_then(|l| l.get("suite")).map(String::as_str),
            Some("e2e")
        );

        docker.start_container(&id, None).await.expect("start");
        let waited: Vec<_> = docker.wait_container(&id, None::<WaitContainerOptions>).collect().await;
        // bollard reports a non-zero StatusCode as an error carrying the code
        match &waited[..] {
            [Err(bollard::errors::Error::DockerContainerWaitError { code, .. })] => assert_eq!(*code, 7),
            [Ok(r)] => assert_eq!(r.status_code, 7),
            other => panic!("unexpected wait result {other:?}"),
        }
        // waiting again on an exited container returns at once
        let again: Vec<_> = docker.wait_container(&id, None::<WaitContainerOptions>).collect().await;
        assert_eq!(again.len(), 1);

        let logs: Vec<String> = docker
            .logs(&id, Some(LogsOptions { stdout: true, stderr: true, tail: "all".into(), ..Default::default() }))
            .map(|l| l.expect("log line").to_string())
            .collect()
            .await;
        assert_eq!(logs.concat(), "out\nerr\n");
        let only_err: Vec<String> = docker
            .logs(&id, Some(LogsOptions { stderr: true, tail: "all".into(), ..Default::default() }))
            .map(|l| l.expect("log line").to_string())
            .collect()
            .await;
        assert_eq!(only_err.concat(), "err\n");

        let after = docker.inspect_container(&id, None::<InspectContainerOptions>).await.expect("inspect");
        let state = after.state.expect("state");
        assert_eq!(state.exit_code, Some(7));
        assert_eq!(state.running, Some(false));
        docker.remove_container(&id, None::<RemoveContainerOptions>).await.expect("rm");
        assert!(docker.inspect_container(&id, None::<InspectContainerOptions>).await.is_err());
    });
}

#[test]
fn bollard_stop_then_autoremove() {
    let Some(d) = crate::daemon("bollard_stop_then_autoremove") else { return };
    rt().block_on(async {
        let docker = d.bollard();
        let body = ContainerCreateBody {
            image: Some("busybox".into()),
            cmd: Some(vec!["sh".into(), "-c".into(), "trap 'exit 0' TERM; while true; do sleep 0.1; done".into()]),
            host_config: Some(HostConfig { auto_remove: Some(true), ..Default::default() }),
            ..Default::default()
        };
        let id = docker.create_container(None::<CreateContainerOptions>, body).await.expect("create").id;
        docker.start_container(&id, None).await.expect("start");
        let t0 = std::time::Instant::now();
        docker
            .stop_container(&id, Some(StopContainerOptions { t: Some(10), ..Default::default() }))
            .await
            .expect("stop");
        assert!(t0.elapsed() < std::time::Duration::from_secs(5), "a TERM-handling process should stop at once");
        assert!(crate::eventually(5, || d.request("GET", &format!("/containers/{id}/json"), None).status == 404));
    });
}

#[test]
fn list_filters_and_rename() {
    let Some(d) = crate::daemon("list_filters_and_rename") else { return };
    rt().block_on(async {
        let a = create(&d, "alpha", &["true"], false).await;
        let _b = create(&d, "beta", &["true"], false).await;
        let r = d.request("GET", "/containers/json?all=1&filters=%7B%22name%22%3A%5B%22alpha%22%5D%7D", None);
        let list = r.json();
        assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
        assert_eq!(list[0]["Id"], a);
        assert_eq!(list[0]["Names"][0], "/alpha");
        assert_eq!(list[0]["State"], "created");
        let r = d.request("GET", "/containers/json?all=1&filters=%7B%22status%22%3A%5B%22running%22%5D%7D", None);
        assert_eq!(r.json().as_array().map(Vec::len), Some(0));
        let r = d.request("POST", &format!("/containers/{}/rename?name=gamma", &a[..12]), None);
        assert_eq!(r.status, 204, "{}", r.text());
        assert_eq!(d.request("GET", "/containers/gamma/json", None).json()["Id"], a);
        let r = d.request("POST", "/containers/gamma/rename?name=beta", None);
        assert_eq!(r.status, 409);
    });
}

#[test]
fn containers_survive_a_daemon_restart() {
    let Some(mut d) = crate::daemon("containers_survive_a_daemon_restart") else { return };
    let id = crate::ok(d.docker().args(["run", "-d", "busybox", "sleep", "300"])).trim().to_string();
    let pid = crate::ok(d.docker().args(["inspect", "-f", "{{.State.Pid}}", &id])).trim().to_string();
    d.kill();
    d.restart().expect("restart berthd");
    let state = crate::ok(d.docker().args(["inspect", "-f", "{{.State.Status}} {{.State.Pid}}", &id]));
    assert_eq!(state.trim(), format!("running {pid}"));
    crate::ok(d.docker().args(["kill", &id]));
    let code = crate::ok(d.docker().args(["wait", &id]));
    assert_eq!(code.trim(), "137");
}

#[test]
fn exit_while_the_daemon_is_down_is_recorded() {
    let Some(mut d) = crate::daemon("exit_while_the_daemon_is_down_is_recorded") else { return };
    let id = crate::ok(d.docker().args(["run", "-d", "busybox", "sh", "-c", "sleep 2; echo done; exit 5"]))
        .trim()
        .to_string();
    d.kill();
    std::thread::sleep(std::time::Duration::from_secs(3));
    d.restart().expect("restart berthd");
    assert!(
        crate::eventually(10, || crate::ok(d.docker().args([
            "inspect",
            "-f",
            "{{.State.Status}} {{.State.ExitCode}}",
            &id
        ]))
        .trim()
            == "exited 5"),
        "{}",
        crate::ok(d.docker().args(["inspect", "-f", "{{json .State}}", &id]))
    );
    assert_eq!(crate::ok(d.docker().args(["logs", &id])), "done\n");
    assert!(d.leftover_mounts().is_empty(), "{:?}", d.leftover_mounts());
}

#[test]
fn resize_reaches_a_running_tty() {
    let Some(d) = crate::daemon("resize_reaches_a_running_tty") else { return };
    let body = br#"{"Image":"busybox","Tty":true,"Cmd":["sh","-c","sleep 1.5; stty size"]}"#;
    let r = d.request("POST", "/containers/create?name=sized", Some(("application/json", body)));
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(d.request("POST", "/containers/sized/start", None).status, 204);
    let r = d.request("POST", "/containers/sized/resize?h=40&w=100", None);
    assert_eq!(r.status, 200, "{}", r.text());
    let code = d.request("POST", "/containers/sized/wait", None).json();
    assert_eq!(code["StatusCode"], 0);
    let logs = d.request("GET", "/containers/sized/logs?stdout=1", None);
    assert_eq!(logs.text(), "40 100\r\n");
    let r = d.request("POST", "/containers/sized/resize?h=40&w=100", None);
    assert_eq!(r.status, 409, "resize of a stopped container: {}", r.text());
}
