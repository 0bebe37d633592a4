//! The container's seccomp profile compiled once per shim, for `docker exec`: libseccomp turns
//! the OCI profile into a BPF program here (as libcontainer's `initialize_seccomp` builds it:
//! same actions, architectures, flags, skipped unknown syscalls and redundant rules, one rule
//! per comparison when a rule compares one argument twice), and each exec'd process only
//! installs the program ([`berth_kernel::seccomp::load_filter`]). Compiling moby's profile
//! costs milliseconds of CPU per exec otherwise.

use std::collections::HashSet;
use std::io::{Read, Seek};

use libseccomp::{ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext, ScmpSyscall};
use oci_spec::runtime::{Arch, LinuxSeccomp, LinuxSeccompAction, LinuxSeccompFilterFlag, LinuxSeccompOperator};

/// A compiled filter and the flags to install it with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompiledFilter {
    /// `struct sock_filter` array, host byte order (libseccomp's export format).
    pub program: Vec<u8>,
    pub flags: u32,
}

impl CompiledFilter {
    /// Installs the filter on the calling thread.
    pub fn load(&self) -> Result<(), String> {
        berth_kernel::seccomp::load_filter(&self.program, self.flags)
            .map_err(|e| format!("initializing seccomp: failed to load seccomp filter: {e}"))
    }
}

fn arch(a: Arch) -> ScmpArch {
    match a {
        Arch::ScmpArchNative => ScmpArch::Native,
        Arch::ScmpArchX86 => ScmpArch::X86,
        Arch::ScmpArchX86_64 => ScmpArch::X8664,
        Arch::ScmpArchX32 => ScmpArch::X32,
        Arch::ScmpArchArm => ScmpArch::Arm,
        Arch::ScmpArchAarch64 => ScmpArch::Aarch64,
        Arch::ScmpArchMips => ScmpArch::Mips,
        Arch::ScmpArchMips64 => ScmpArch::Mips64,
        Arch::ScmpArchMips64n32 => ScmpArch::Mips64N32,
        Arch::ScmpArchMipsel => ScmpArch::Mipsel,
        Arch::ScmpArchMipsel64 => ScmpArch::Mipsel64,
        Arch::ScmpArchMipsel64n32 => ScmpArch::Mipsel64N32,
        Arch::ScmpArchPpc => ScmpArch::Ppc,
        Arch::ScmpArchPpc64 => ScmpArch::Ppc64,
        Arch::ScmpArchPpc64le => ScmpArch::Ppc64Le,
        Arch::ScmpArchS390 => ScmpArch::S390,
        Arch::ScmpArchS390x => ScmpArch::S390X,
        Arch::ScmpArchRiscv64 => ScmpArch::Riscv64,
        Arch::ScmpArchParisc => ScmpArch::Parisc,
        Arch::ScmpArchParisc64 => ScmpArch::Parisc64,
        Arch::ScmpArchLoongarch64 => ScmpArch::Loongarch64,
        Arch::ScmpArchM68k => ScmpArch::M68k,
        Arch::ScmpArchSh => ScmpArch::Sh,
        Arch::ScmpArchSheb => ScmpArch::Sheb,
    }
}

/// The libseccomp action of an OCI action (errno defaults to EPERM, as runc's).
fn action(a: LinuxSeccompAction, errno: Option<u32>) -> Result<ScmpAction, String> {
    let errno = errno.map_or(libc::EPERM, |e| e as i32);
    Ok(match a {
        LinuxSeccompAction::ScmpActKill | LinuxSeccompAction::ScmpActKillThread => ScmpAction::KillThread,
        LinuxSeccompAction::ScmpActKillProcess => ScmpAction::KillProcess,
        LinuxSeccompAction::ScmpActTrap => ScmpAction::Trap,
        LinuxSeccompAction::ScmpActErrno => ScmpAction::Errno(errno),
        LinuxSeccompAction::ScmpActTrace => {
            ScmpAction::Trace(u16::try_from(errno).map_err(|_| format!("seccomp trace value {errno} out of range"))?)
        }
        LinuxSeccompAction::ScmpActAllow => ScmpAction::Allow,
        LinuxSeccompAction::ScmpActLog => ScmpAction::Log,
        LinuxSeccompAction::ScmpActNotify => return Err("seccomp notify needs libcontainer's path".into()),
    })
}

fn compare_op(op: LinuxSeccompOperator, mask: Option<u64>) -> ScmpCompareOp {
    match op {
        LinuxSeccompOperator::ScmpCmpNe => ScmpCompareOp::NotEqual,
        LinuxSeccompOperator::ScmpCmpLt => ScmpCompareOp::Less,
        LinuxSeccompOperator::ScmpCmpLe => ScmpCompareOp::LessOrEqual,
        LinuxSeccompOperator::ScmpCmpEq => ScmpCompareOp::Equal,
        LinuxSeccompOperator::ScmpCmpGe => ScmpCompareOp::GreaterEqual,
        LinuxSeccompOperator::ScmpCmpGt => ScmpCompareOp::Greater,
        LinuxSeccompOperator::ScmpCmpMaskedEq => ScmpCompareOp::MaskedEqual(mask.unwrap_or(0)),
    }
}

fn seccomp_err(what: &str) -> impl FnOnce(libseccomp::error::SeccompError) -> String + '_ {
    move |e| format!("seccomp: {what}: {e}")
}

/// Builds `profile` into a libseccomp filter (not loaded) and the kernel flags it needs.
fn build(profile: &LinuxSeccomp) -> Result<(ScmpFilterContext, u32), String> {
    let default = action(profile.default_action(), profile.default_errno_ret())?;
    let mut ctx = ScmpFilterContext::new(default).map_err(seccomp_err("new filter"))?;
    let mut flags = 0;
    for flag in profile.flags().iter().flatten() {
        let f = match flag {
            LinuxSeccompFilterFlag::SeccompFilterFlagLog => berth_kernel::seccomp::FLAG_LOG,
            LinuxSeccompFilterFlag::SeccompFilterFlagTsync => berth_kernel::seccomp::FLAG_TSYNC,
            LinuxSeccompFilterFlag::SeccompFilterFlagSpecAllow => berth_kernel::seccomp::FLAG_SPEC_ALLOW,
            LinuxSeccompFilterFlag::SeccompFilterFlagWaitKillableRecv => berth_kernel::seccomp::FLAG_WAIT_KILLABLE_RECV,
        };
        flags |= f;
    }
    for a in profile.architectures().iter().flatten() {
        ctx.add_arch(arch(*a)).map_err(seccomp_err("adding architecture"))?;
    }
    // no_new_privs is the process's own setting, applied before this filter.
    ctx.set_ctl_nnp(false).map_err(seccomp_err("SCMP_FLTATR_CTL_NNP"))?;
    for rule in profile.syscalls().iter().flatten() {
        let act = action(rule.action(), rule.errno_ret())?;
        if act == default {
            continue;
        }
        for name in rule.names() {
            // A syscall this libseccomp does not know is one the kernel does not have either.
            let Ok(sc) = ScmpSyscall::from_name(name) else { continue };
            let Some(args) = rule.args() else {
                ctx.add_rule(act, sc).map_err(seccomp_err(name))?;
                continue;
            };
            let cmps: Vec<ScmpArgCompare> = args
                .iter()
                .map(|a| ScmpArgCompare::new(a.index() as u32, compare_op(a.op(), a.value_two()), a.value()))
                .collect();
            let mut seen = HashSet::new();
            if args.iter().all(|a| seen.insert(a.index())) {
                ctx.add_rule_conditional(act, sc, &cmps).map_err(seccomp_err(name))?;
            } else {
                // libseccomp compares each argument once per rule.
                for c in &cmps {
                    ctx.add_rule_conditional(act, sc, std::slice::from_ref(c)).map_err(seccomp_err(name))?;
                }
            }
        }
    }
    Ok((ctx, flags))
}

/// Compiles `profile` to a BPF program.
pub fn compile(profile: &LinuxSeccomp) -> Result<CompiledFilter, String> {
    let (ctx, flags) = build(profile)?;
    // libseccomp 2.5 exports only to a file descriptor.
    let fd = nix::sys::memfd::memfd_create(c"berth-seccomp", nix::sys::memfd::MemFdCreateFlag::MFD_CLOEXEC)
        .map_err(|e| format!("seccomp: memfd: {e}"))?;
    let mut file = std::fs::File::from(fd);
    ctx.export_bpf(&file).map_err(seccomp_err("exporting BPF"))?;
    let mut program = Vec::new();
    file.rewind().and_then(|_| file.read_to_end(&mut program)).map_err(|e| format!("seccomp: reading BPF: {e}"))?;
    Ok(CompiledFilter { program, flags })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(json: serde_json::Value) -> LinuxSeccomp {
        serde_json::from_value(json).expect("profile")
    }

    /// The program's instructions as (code, jt, jf, k).
    fn insns(f: &CompiledFilter) -> Vec<(u16, u8, u8, u32)> {
        f.program
            .chunks_exact(8)
            .map(|c| (u16::from_ne_bytes([c[0], c[1]]), c[2], c[3], u32::from_ne_bytes([c[4], c[5], c[6], c[7]])))
            .collect()
    }

    const BPF_RET_K: u16 = 0x06;
    const RET_ERRNO: u32 = 0x0005_0000;
    const RET_ALLOW: u32 = 0x7fff_0000;

    #[test]
    fn compiles_rules_to_bpf() {
        let p = profile(serde_json::json!({
            "defaultAction": "SCMP_ACT_ALLOW",
            "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
            "syscalls": [
                {"names": ["getppid", "no_such_syscall_here"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
                {"names": ["personality"], "action": "SCMP_ACT_ERRNO",
                 "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}, {"index": 0, "value": 9, "op": "SCMP_CMP_EQ"}]},
                {"names": ["getpid"], "action": "SCMP_ACT_ALLOW"}
            ]
        }));
        let f = compile(&p).expect("compile");
        assert_eq!(f.flags, 0);
        let rets: Vec<u32> = insns(&f).into_iter().filter(|i| i.0 == BPF_RET_K).map(|i| i.3).collect();
        assert!(rets.contains(&(RET_ERRNO | 38)), "getppid's ENOSYS: {rets:x?}");
        assert!(rets.contains(&(RET_ERRNO | libc::EPERM as u32)), "personality's default errno: {rets:x?}");
        assert!(rets.contains(&RET_ALLOW));
        let with_arg = |v: u32| insns(&f).iter().any(|i| i.3 == v && i.0 != BPF_RET_K);
        assert!(with_arg(8) && with_arg(9), "both comparisons of the argument are kept");
    }

    #[test]
    fn compiles_mobys_default_profile() {
        let caps = ["CAP_CHOWN".to_string()];
        let p = crate::seccomp::from_profile(crate::seccomp::DEFAULT_PROFILE, &caps, &crate::seccomp::Host::current())
            .expect("default profile");
        let f = compile(&p).expect("compile");
        assert!(f.program.len() / 8 > 100, "{} instructions", f.program.len() / 8);
        let rets: Vec<u32> = insns(&f).into_iter().filter(|i| i.0 == BPF_RET_K).map(|i| i.3).collect();
        assert!(rets.contains(&(RET_ERRNO | libc::EPERM as u32)) && rets.contains(&RET_ALLOW));
    }

    #[test]
    fn flags_and_notify() {
        let p = profile(serde_json::json!({
            "defaultAction": "SCMP_ACT_ALLOW",
            "flags": ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
            "syscalls": [{"names": ["getppid"], "action": "SCMP_ACT_KILL_PROCESS"}]
        }));
        let f = compile(&p).expect("compile");
        assert_eq!(f.flags, berth_kernel::seccomp::FLAG_LOG | berth_kernel::seccomp::FLAG_SPEC_ALLOW);
        let notify = profile(serde_json::json!({
            "defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["getppid"], "action": "SCMP_ACT_NOTIFY"}]
        }));
        assert!(compile(&notify).is_err());
    }
}
