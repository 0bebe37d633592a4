//! Installing a seccomp filter that was compiled beforehand (`docker exec`: the shim compiles
//! the container's profile once with libseccomp and each exec'd process only loads the BPF
//! program, instead of compiling moby's whole profile again before every exec).

/// Flags of `seccomp(SECCOMP_SET_MODE_FILTER, flags, ...)`.
pub const FLAG_TSYNC: u32 = libc::SECCOMP_FILTER_FLAG_TSYNC as u32;
pub const FLAG_LOG: u32 = libc::SECCOMP_FILTER_FLAG_LOG as u32;
pub const FLAG_SPEC_ALLOW: u32 = libc::SECCOMP_FILTER_FLAG_SPEC_ALLOW as u32;
pub const FLAG_WAIT_KILLABLE_RECV: u32 = libc::SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV as u32;

/// Size of one BPF instruction (`struct sock_filter`).
const INSN: usize = std::mem::size_of::<libc::sock_filter>();

/// Splits a program in libseccomp's export format (an array of `struct sock_filter` in host
/// byte order) into instructions; `None` when it is empty, truncated or too long for the kernel.
fn instructions(program: &[u8]) -> Option<Vec<libc::sock_filter>> {
    if program.is_empty() || !program.len().is_multiple_of(INSN) || program.len() / INSN > usize::from(u16::MAX) {
        return None;
    }
    let insns = program
        .chunks_exact(INSN)
        .map(|c| libc::sock_filter {
            code: u16::from_ne_bytes([c[0], c[1]]),
            jt: c[2],
            jf: c[3],
            k: u32::from_ne_bytes([c[4], c[5], c[6], c[7]]),
        })
        .collect();
    Some(insns)
}

/// Installs `program` as a seccomp filter of the calling thread, with `flags` (`FLAG_*`). The
/// caller must have `no_new_privs` set or `CAP_SYS_ADMIN`, as for any filter.
pub fn load_filter(program: &[u8], flags: u32) -> Result<(), nix::Error> {
    let mut insns = instructions(program).ok_or(nix::Error::EINVAL)?;
    let prog = libc::sock_fprog {
        // `instructions` checked that the count fits.
        len: insns.len() as u16,
        filter: insns.as_mut_ptr(),
    };
    // SAFETY: `prog` points to `insns`, which outlives the call; the kernel copies the program.
    let r = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            libc::c_ulong::from(flags),
            &prog as *const libc::sock_fprog,
        )
    };
    nix::errno::Errno::result(r).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn insn(code: u16, k: u32) -> Vec<u8> {
        let mut b = code.to_ne_bytes().to_vec();
        b.extend_from_slice(&[0, 0]);
        b.extend_from_slice(&k.to_ne_bytes());
        b
    }

    #[test]
    fn splits_instructions() {
        let ret_allow = insn(0x06, 0x7fff_0000);
        let insns = instructions(&ret_allow).expect("one instruction");
        assert_eq!((insns.len(), insns[0].code, insns[0].k), (1, 0x06, 0x7fff_0000));
        assert!(instructions(&ret_allow[..7]).is_none());
        assert!(instructions(&[]).is_none());
        assert_eq!(load_filter(&[], 0), Err(nix::Error::EINVAL));
    }

    #[test]
    fn loaded_filter_applies() {
        // getppid → ENOSYS, everything else allowed (the arch check is left out: x86_64 only).
        let nr = libc::SYS_getppid as u32;
        // ld [nr]; jeq nr, +0, +1; ret ERRNO(ENOSYS); ret ALLOW
        let mut prog = insn(0x20, 0);
        prog.extend(insn(0x15, nr).iter().enumerate().map(|(i, b)| if i == 3 { 1 } else { *b }));
        prog.extend(insn(0x06, 0x0005_0000 | libc::ENOSYS as u32));
        prog.extend(insn(0x06, 0x7fff_0000));
        // SAFETY: the test's forked child only makes raw syscalls before _exit.
        match unsafe { nix::unistd::fork() }.expect("fork") {
            nix::unistd::ForkResult::Child => {
                let code = match nix::sys::prctl::set_no_new_privs().and_then(|_| load_filter(&prog, 0)) {
                    // SAFETY: a raw getppid, no arguments.
                    Ok(()) => match unsafe { libc::syscall(libc::SYS_getppid) } {
                        -1 => nix::errno::Errno::last_raw(),
                        _ => 0,
                    },
                    Err(_) => 100,
                };
                // SAFETY: ends the forked child without running the test harness's code.
                unsafe { libc::_exit(code) }
            }
            nix::unistd::ForkResult::Parent { child } => {
                let st = nix::sys::wait::waitpid(child, None).expect("wait");
                assert_eq!(st, nix::sys::wait::WaitStatus::Exited(child, libc::ENOSYS));
            }
        }
        assert!(nix::unistd::getppid().as_raw() > 0, "the filter applies to the child only");
    }
}
