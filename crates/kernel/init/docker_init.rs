//! `docker-init`: the minimal init that `--init` runs as PID 1 of a container, in the spirit of
//! tini. It is compiled by `build.rs` on its own, statically (`+crt-static`, std only), and
//! embedded in berthd as [`crate::init::DOCKER_INIT`], so a container sees nothing of the host
//! but `/sbin/docker-init`, as with dockerd.
//!
//! It starts the command (everything after `--`) as its only child, blocks every signal,
//! forwards the signals it receives to that child, reaps every zombie re-parented to it, and
//! exits with the child's status (128 + signal number when the child was killed).

use std::ffi::{c_int, c_ulong, OsString};
use std::os::unix::process::CommandExt;
use std::process::Command;

/// glibc's `sigset_t` (1024 bits).
#[repr(C)]
struct SigSet([c_ulong; 16]);

const SIG_BLOCK: c_int = 0;
const SIG_SETMASK: c_int = 2;
const WNOHANG: c_int = 1;
const SIGCHLD: c_int = 17;
const PR_SET_NAME: c_int = 15;

extern "C" {
    fn sigfillset(set: *mut SigSet) -> c_int;
    fn sigprocmask(how: c_int, set: *const SigSet, old: *mut SigSet) -> c_int;
    fn sigwait(set: *const SigSet, sig: *mut c_int) -> c_int;
    fn kill(pid: c_int, sig: c_int) -> c_int;
    fn waitpid(pid: c_int, status: *mut c_int, options: c_int) -> c_int;
    fn prctl(option: c_int, ...) -> c_int;
}

fn main() {
    std::process::exit(run(std::env::args_os().skip(1).collect()));
}

fn run(args: Vec<OsString>) -> i32 {
    let args: Vec<OsString> = args.into_iter().skip_while(|a| a == "--").collect();
    let Some((cmd, rest)) = args.split_first() else {
        eprintln!("docker-init: usage: docker-init -- COMMAND [ARG...]");
        return 1;
    };
    // SAFETY: PR_SET_NAME reads a NUL-terminated string of at most 16 bytes.
    unsafe { prctl(PR_SET_NAME, c"docker-init".as_ptr()) };
    // Block every signal first, so none sent before the loop below is lost (PID 1 has no
    // default action: an unblocked signal without a handler would be dropped). The child
    // unblocks them all again between fork and exec, so the command starts with none blocked.
    let mut all = SigSet([0; 16]);
    // SAFETY: `all` is a valid, writable sigset_t; sigprocmask reads it and writes no old set.
    if unsafe { sigfillset(&mut all) != 0 || sigprocmask(SIG_BLOCK, &all, std::ptr::null_mut()) != 0 } {
        eprintln!("docker-init: blocking signals: {}", std::io::Error::last_os_error());
        return 1;
    }
    let mut command = Command::new(cmd);
    command.args(rest);
    // SAFETY: sigprocmask is async-signal-safe and the closure touches no shared state.
    unsafe {
        command.pre_exec(|| {
            let none = SigSet([0; 16]);
            match sigprocmask(SIG_SETMASK, &none, std::ptr::null_mut()) {
                0 => Ok(()),
                _ => Err(std::io::Error::last_os_error()),
            }
        })
    };
    let child = match command.spawn() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("docker-init: exec {} failed: {e}", cmd.to_string_lossy());
            return if e.kind() == std::io::ErrorKind::NotFound { 127 } else { 126 };
        }
    };
    let Ok(child) = c_int::try_from(child.id()) else { return 1 };
    if let Some(code) = reap(child) {
        return code;
    }
    loop {
        let mut sig: c_int = 0;
        // SAFETY: `all` is an initialised sigset_t and `sig` a writable int.
        let err = unsafe { sigwait(&all, &mut sig) };
        if err != 0 {
            eprintln!("docker-init: waiting for signals: {}", std::io::Error::from_raw_os_error(err));
            return 1;
        }
        if sig != SIGCHLD {
            // The child may be gone already; nothing to do about a failed forward.
            // SAFETY: kill has no memory effects.
            unsafe { kill(child, sig) };
            continue;
        }
        if let Some(code) = reap(child) {
            return code;
        }
    }
}

/// Reaps every exited process; the child's exit code once it is among them.
fn reap(child: c_int) -> Option<i32> {
    let mut result = None;
    loop {
        let mut status: c_int = 0;
        // SAFETY: `status` is a writable int.
        let pid = unsafe { waitpid(-1, &mut status, WNOHANG) };
        if pid <= 0 {
            return result;
        }
        if pid == child {
            let sig = status & 0x7f;
            result = Some(if sig == 0 { (status >> 8) & 0xff } else { 128 + sig });
        }
    }
}
