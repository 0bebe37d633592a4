//! Process plumbing: subreaper, sessions, signals, terminal sizes (owned by the runtime work).

use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("prctl(PR_SET_CHILD_SUBREAPER): {0}")]
    Subreaper(#[source] nix::Error),
    #[error("setsid: {0}")]
    Setsid(#[source] nix::Error),
    #[error("ioctl(TIOCSWINSZ): {0}")]
    Winsize(#[source] nix::Error),
    #[error("receiving a file descriptor: {0}")]
    RecvFd(#[source] nix::Error),
    #[error("no file descriptor in the message")]
    NoFd,
}

/// Makes the calling process the subreaper of its descendants: orphans (such as a container's
/// init after libcontainer's intermediate process exits) are reparented to it.
pub fn set_child_subreaper() -> Result<(), ProcessError> {
    nix::sys::prctl::set_child_subreaper(true).map_err(ProcessError::Subreaper)
}

/// Starts a new session (and process group) so the process survives its parent's terminal and
/// process group going away. Already being a process-group leader (EPERM) is not an error: the
/// caller is then already detached from its parent's group.
pub fn new_session() -> Result<(), ProcessError> {
    match nix::unistd::setsid() {
        Ok(_) | Err(nix::Error::EPERM) => Ok(()),
        Err(e) => Err(ProcessError::Setsid(e)),
    }
}

nix::ioctl_write_ptr_bad!(tiocswinsz, libc::TIOCSWINSZ, libc::winsize);

/// Sets the window size of the terminal behind `fd` (a pty master).
pub fn set_winsize(fd: BorrowedFd<'_>, rows: u16, cols: u16) -> Result<(), ProcessError> {
    let ws = libc::winsize { ws_row: rows, ws_col: cols, ws_xpixel: 0, ws_ypixel: 0 };
    // SAFETY: `fd` is a valid open descriptor for the lifetime of the borrow and `ws` is a fully
    // initialised winsize that the kernel only reads.
    unsafe { tiocswinsz(fd.as_raw_fd(), &ws) }.map_err(ProcessError::Winsize)?;
    Ok(())
}

/// Receives one file descriptor sent with SCM_RIGHTS over the unix socket `sock` (how runc and
/// libcontainer hand over a console's pty master).
pub fn recv_fd(sock: BorrowedFd<'_>) -> Result<OwnedFd, ProcessError> {
    use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags, UnixAddr};
    let mut data = [0u8; 4096];
    let mut iov = [std::io::IoSliceMut::new(&mut data)];
    let mut cmsg = nix::cmsg_space!([RawFd; 1]);
    let msg = recvmsg::<UnixAddr>(sock.as_raw_fd(), &mut iov, Some(&mut cmsg), MsgFlags::MSG_CMSG_CLOEXEC)
        .map_err(ProcessError::RecvFd)?;
    for c in msg.cmsgs().map_err(ProcessError::RecvFd)? {
        if let ControlMessageOwned::ScmRights(fds) = c {
            if let Some(&fd) = fds.first() {
                for &extra in &fds[1..] {
                    let _ = nix::unistd::close(extra);
                }
                // SAFETY: the kernel just installed `fd` in our table for this message; nothing
                // else owns it, so taking ownership here is sound.
                return Ok(unsafe { OwnedFd::from_raw_fd(fd) });
            }
        }
    }
    Err(ProcessError::NoFd)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn winsize_on_a_pipe_fails_cleanly() {
        let (r, _w) = nix::unistd::pipe().expect("pipe");
        use std::os::fd::AsFd;
        assert!(set_winsize(r.as_fd(), 24, 80).is_err());
    }

    #[test]
    fn passes_an_fd() {
        use nix::sys::socket::{sendmsg, socketpair, AddressFamily, ControlMessage, MsgFlags, SockFlag, SockType};
        use std::io::{Read, Write};
        use std::os::fd::AsFd;
        let (a, b) = socketpair(AddressFamily::Unix, SockType::Stream, None, SockFlag::empty()).expect("pair");
        let (r, w) = nix::unistd::pipe().expect("pipe");
        let fds = [r.as_raw_fd()];
        let iov = [std::io::IoSlice::new(b"x")];
        sendmsg::<()>(a.as_raw_fd(), &iov, &[ControlMessage::ScmRights(&fds)], MsgFlags::empty(), None).expect("send");
        drop(r);
        let got = recv_fd(b.as_fd()).expect("recv");
        std::fs::File::from(w).write_all(b"hi").expect("write");
        let mut buf = [0u8; 2];
        std::fs::File::from(got).read_exact(&mut buf).expect("read");
        assert_eq!(&buf, b"hi");
    }
}
