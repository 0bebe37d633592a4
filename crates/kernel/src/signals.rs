//! The signal state a container's process starts with: every disposition at its default and
//! an empty mask, as dockerd's containers have (`SigIgn` and `SigBlk` of `/proc/<pid>/status`
//! both zero).
//!
//! `execve` resets caught signals to their default but keeps ignored ones and the mask, so a
//! process inherits whatever its launcher ignored: Rust's runtime ignores `SIGPIPE` in the shim,
//! a shell that started berthd in the background ignores `SIGQUIT`, and glibc's `posix_spawn`
//! (which std's `Command` uses) ignores its two internal signals (32 and 33) in every child of a
//! process that had handlers for them. glibc's `sigaction` refuses to touch those two, so the
//! reset goes through the `rt_sigaction` system call.

/// The kernel's `struct sigaction` for `rt_sigaction` on x86-64 and aarch64 (handler, flags,
/// restorer, mask); all zero is `SIG_DFL` with no flags and an empty mask.
#[repr(C)]
#[derive(Default)]
struct KernelSigaction {
    handler: usize,
    flags: libc::c_ulong,
    restorer: usize,
    mask: u64,
}

/// The highest signal number (`SIGRTMAX` of the kernel, `_NSIG - 1`).
const SIGMAX: libc::c_int = 64;

/// Sets every signal's disposition to its default and unblocks all signals. Meant for a
/// single-threaded process about to exec a container's program (the container init in
/// libcontainer's executor, an exec'd process after its fork): handlers of this process must
/// not be needed afterwards. Signals the kernel does not let change (`SIGKILL`, `SIGSTOP`) are
/// skipped; nothing here can fail in a way the caller could act on.
pub fn reset_for_exec() {
    let default = KernelSigaction::default();
    for sig in 1..=SIGMAX {
        if sig == libc::SIGKILL || sig == libc::SIGSTOP {
            continue;
        }
        // SAFETY: rt_sigaction reads one valid `struct sigaction` (SIG_DFL, no flags, empty
        // mask, no restorer) of the size given with the 8-byte kernel sigset; no old action is
        // written. Installing SIG_DFL runs no code of this process.
        unsafe {
            libc::syscall(
                libc::SYS_rt_sigaction,
                sig,
                &default as *const KernelSigaction,
                std::ptr::null_mut::<KernelSigaction>(),
                std::mem::size_of::<u64>(),
            )
        };
    }
    let empty: u64 = 0;
    // SAFETY: rt_sigprocmask reads one 8-byte kernel sigset (all clear) and writes no old set.
    unsafe {
        libc::syscall(
            libc::SYS_rt_sigprocmask,
            libc::SIG_SETMASK,
            &empty as *const u64,
            std::ptr::null_mut::<u64>(),
            std::mem::size_of::<u64>(),
        )
    };
}

/// `SigIgn` and `SigBlk` of `/proc/<pid>/status` as bit masks (bit n-1 for signal n).
pub fn ignored_and_blocked(status: &str) -> Option<(u64, u64)> {
    let field = |name: &str| {
        status.lines().find_map(|l| l.strip_prefix(name)).and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
    };
    Some((field("SigIgn:")?, field("SigBlk:")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// This process's `SigIgn` and `SigBlk`, read without allocating (it runs in a forked child
    /// of the multi-threaded test harness, where another thread may have held malloc's lock).
    fn own() -> (u64, u64) {
        let mut buf = [0u8; 4096];
        // SAFETY: opens a NUL-terminated path and reads into a buffer of the given length.
        let n = unsafe {
            let fd = libc::open(c"/proc/self/status".as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC);
            let n = libc::read(fd, buf.as_mut_ptr().cast(), buf.len());
            libc::close(fd);
            n
        };
        let text = std::str::from_utf8(&buf[..n.max(0) as usize]).unwrap_or("");
        ignored_and_blocked(text).unwrap_or((u64::MAX, u64::MAX))
    }

    #[test]
    fn parses_status() {
        let s = "Name:\tx\nSigBlk:\t0000000000010000\nSigIgn:\t0000000180001004\nSigCgt:\t0\n";
        assert_eq!(ignored_and_blocked(s), Some((0x1_8000_1004, 0x10000)));
        assert_eq!(ignored_and_blocked("Name:\tx\n"), None);
    }

    #[test]
    fn resets_ignored_and_blocked_signals_in_a_child() {
        // In a forked child, so the test harness keeps its own dispositions.
        // SAFETY: the child only makes system calls and exits with _exit.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork");
        if pid == 0 {
            // SAFETY: ignoring signals and blocking one in this throwaway child.
            unsafe {
                libc::signal(libc::SIGPIPE, libc::SIG_IGN);
                libc::signal(libc::SIGQUIT, libc::SIG_IGN);
                let mut set: libc::sigset_t = std::mem::zeroed();
                libc::sigemptyset(&mut set);
                libc::sigaddset(&mut set, libc::SIGUSR1);
                libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
            }
            let before = own();
            reset_for_exec();
            let after = own();
            let ok = before.0 & (1 << (libc::SIGPIPE - 1)) != 0
                && before.1 & (1 << (libc::SIGUSR1 - 1)) != 0
                && after == (0, 0);
            // SAFETY: ends the forked child without running the harness's destructors.
            unsafe { libc::_exit(if ok { 0 } else { 1 }) };
        }
        let mut status = 0;
        // SAFETY: waits for the child forked above.
        assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
        assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, "child status {status:#x}");
    }
}
