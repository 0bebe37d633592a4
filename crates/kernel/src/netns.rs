//! Named network namespaces: a new namespace bind-mounted on a file (`<exec-root>/netns/<id>`)
//! so it exists before the container's process and outlives nothing but that mount.
//!
//! berthd is a multi-threaded tokio process and never forks, so the namespace is made by a
//! short-lived `std::thread` that only calls `unshare(CLONE_NEWNET)` (which changes that thread
//! alone) and bind-mounts its `/proc/thread-self/ns/net`, then exits. No other thread's
//! namespace ever changes.

use std::path::Path;

use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{setns, unshare, CloneFlags};

#[derive(Debug, thiserror::Error)]
pub enum NetnsError {
    #[error("creating network namespace file {path}: {source}")]
    File { path: String, source: std::io::Error },
    #[error("creating network namespace at {path}: {source}")]
    Create { path: String, source: nix::Error },
    #[error("network namespace thread for {path} panicked")]
    Thread { path: String },
    #[error("entering network namespace {path}: {source}")]
    Enter { path: String, source: nix::Error },
    #[error("binding {addr} in network namespace {path}: {source}")]
    Bind { path: String, addr: std::net::SocketAddr, source: std::io::Error },
}

/// Creates a new network namespace and bind-mounts it at `path` (its directory is created).
pub fn create(path: &Path) -> Result<(), NetnsError> {
    let file_err = |source| NetnsError::File { path: path.display().to_string(), source };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(file_err)?;
    }
    std::fs::File::create(path).map_err(file_err)?;
    let target = path.to_path_buf();
    let joined = std::thread::spawn(move || -> nix::Result<()> {
        unshare(CloneFlags::CLONE_NEWNET)?;
        mount(Some("/proc/thread-self/ns/net"), &target, None::<&str>, MsFlags::MS_BIND, None::<&str>)
    })
    .join();
    let result = match joined {
        Ok(r) => r.map_err(|source| NetnsError::Create { path: path.display().to_string(), source }),
        Err(_) => Err(NetnsError::Thread { path: path.display().to_string() }),
    };
    if result.is_err() {
        let _ = std::fs::remove_file(path);
    }
    result
}

/// Bind-mounts the network namespace of process `pid` at `path` (its directory is created), so
/// a namespace a container made itself (inside its user namespace) is handled like one made by
/// [`create`].
pub fn adopt(pid: i32, path: &Path) -> Result<(), NetnsError> {
    let file_err = |source| NetnsError::File { path: path.display().to_string(), source };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(file_err)?;
    }
    std::fs::File::create(path).map_err(file_err)?;
    let source = format!("/proc/{pid}/ns/net");
    let result = mount(Some(source.as_str()), path, None::<&str>, MsFlags::MS_BIND, None::<&str>)
        .map_err(|source| NetnsError::Create { path: path.display().to_string(), source });
    if result.is_err() {
        let _ = std::fs::remove_file(path);
    }
    result
}

/// Unmounts and removes a namespace made by [`create`]; absent is fine. The namespace itself
/// (and the container ends of its veths) goes away when nothing else holds it.
pub fn remove(path: &Path) {
    let _ = umount2(path, MntFlags::MNT_DETACH);
    let _ = std::fs::remove_file(path);
}

/// Binds a UDP socket and a TCP listener on `addr` inside the namespace at `netns` (e.g. the
/// embedded DNS server's 127.0.0.11:53 in a container). A short-lived thread enters the
/// namespace, binds, and exits: sockets keep the namespace they were made in, so the caller
/// serves them from its own threads. Both sockets are non-blocking.
pub fn bind_in(
    netns: &Path,
    addr: std::net::SocketAddr,
) -> Result<(std::net::UdpSocket, std::net::TcpListener), NetnsError> {
    let path = netns.display().to_string();
    let file = std::fs::File::open(netns).map_err(|source| NetnsError::File { path: path.clone(), source })?;
    let p = path.clone();
    let joined = std::thread::spawn(move || {
        setns(&file, CloneFlags::CLONE_NEWNET).map_err(|source| NetnsError::Enter { path: p.clone(), source })?;
        let bind_err = |source| NetnsError::Bind { path: p.clone(), addr, source };
        let udp = std::net::UdpSocket::bind(addr).map_err(bind_err)?;
        let tcp = std::net::TcpListener::bind(addr).map_err(bind_err)?;
        udp.set_nonblocking(true).map_err(bind_err)?;
        tcp.set_nonblocking(true).map_err(bind_err)?;
        Ok((udp, tcp))
    })
    .join();
    joined.unwrap_or(Err(NetnsError::Thread { path }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_and_remove_when_root() {
        if !nix::unistd::Uid::effective().is_root() {
            return;
        }
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("ns");
        create(&p).unwrap();
        let mine = std::fs::read_link("/proc/self/ns/net").unwrap();
        let st = nix::sys::stat::stat(&p).unwrap();
        assert_ne!(format!("net:[{}]", st.st_ino), mine.display().to_string());
        crate::netlink::loopback_up(&p).unwrap();
        let (udp, tcp) = bind_in(&p, "127.0.0.11:0".parse().unwrap()).unwrap();
        assert_eq!(udp.local_addr().unwrap().ip().to_string(), "127.0.0.11");
        // Bound in the new namespace: nothing answers at that port in ours.
        let port = tcp.local_addr().unwrap().port();
        assert!(std::net::TcpStream::connect(("127.0.0.11", port)).is_err());
        remove(&p);
        assert!(!p.exists());
    }
}
