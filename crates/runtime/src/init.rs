//! `--init`: a minimal init for PID 1 of a container, in the spirit of tini. The `berth`
//! binary runs it when called as `docker-init` (dockerd's name, at `/sbin/docker-init` in the
//! container) or as `berth init -- CMD...`.
//!
//! It starts the command as its only child, blocks every signal, forwards the signals it
//! receives to that child, reaps every zombie re-parented to it, and exits with the child's
//! status (128 + signal number when the child was killed). Only std and nix: it must stay
//! small and have no runtime to start.
//!
//! berthd itself mounts the static build of the same init that `berth-kernel` embeds
//! (`berth_kernel::init::DOCKER_INIT`, placed at `<exec-root>/docker-init`), so a container
//! sees only `/sbin/docker-init`, as with dockerd's tini. [`InitBinary::locate`] remains for a
//! dynamically linked init binary: its ELF interpreter's directory (the host's C library) is
//! then mounted read-only at [`LIB_DIR`] and the init is started through that loader
//! (`ld.so --library-path ... --argv0 /sbin/docker-init /sbin/docker-init -- CMD`).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use nix::sys::signal::{kill, SigSet, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

/// Where the host's C library directory is mounted when the init binary needs it.
pub const LIB_DIR: &str = "/.berth-init/lib";

/// The init binary on the host and, for a dynamically linked one, its loader's directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitBinary {
    /// Host path of the binary (mounted at [`crate::security::INIT_PATH`]).
    pub path: PathBuf,
    /// Host directory holding the ELF interpreter and the C library (mounted at [`LIB_DIR`]).
    pub lib_dir: Option<PathBuf>,
    /// File name of the ELF interpreter in `lib_dir` (`ld-linux-x86-64.so.2`).
    pub loader: Option<String>,
}

impl InitBinary {
    /// Inspects the binary at `path`: a static binary runs as is, a dynamic one through its
    /// interpreter.
    pub fn locate(path: &Path) -> std::io::Result<InitBinary> {
        // The ELF and program headers and the interpreter path sit at the start of the file.
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut std::io::Read::take(std::fs::File::open(path)?, 64 * 1024), &mut data)?;
        let Some(interp) = elf_interpreter(&data) else {
            return Ok(InitBinary { path: path.to_path_buf(), lib_dir: None, loader: None });
        };
        let real = std::fs::canonicalize(&interp)?;
        let lib_dir = real.parent().map(Path::to_path_buf);
        let loader = real.file_name().map(|n| n.to_string_lossy().into_owned());
        Ok(InitBinary { path: path.to_path_buf(), lib_dir, loader })
    }

    /// The process args that start the init (before `--` and the command).
    pub fn command_prefix(&self) -> Vec<String> {
        let init = crate::security::INIT_PATH.to_string();
        match &self.loader {
            Some(loader) if self.lib_dir.is_some() => vec![
                format!("{LIB_DIR}/{loader}"),
                "--library-path".into(),
                LIB_DIR.into(),
                "--argv0".into(),
                init.clone(),
                init,
            ],
            _ => vec![init],
        }
    }
}

/// The PT_INTERP path of a 64-bit little-endian ELF file, if it has one.
fn elf_interpreter(data: &[u8]) -> Option<String> {
    if data.get(..6)? != b"\x7fELF\x02\x01" {
        return None;
    }
    let u16_at = |o: usize| Some(u16::from_le_bytes(data.get(o..o + 2)?.try_into().ok()?));
    let u32_at = |o: usize| Some(u32::from_le_bytes(data.get(o..o + 4)?.try_into().ok()?));
    let u64_at = |o: usize| usize::try_from(u64::from_le_bytes(data.get(o..o + 8)?.try_into().ok()?)).ok();
    let phoff = u64_at(0x20)?;
    let phentsize = usize::from(u16_at(0x36)?);
    let phnum = usize::from(u16_at(0x38)?);
    for i in 0..phnum {
        let ph = phoff + i * phentsize;
        if u32_at(ph)? == 3 {
            let (off, size) = (u64_at(ph + 8)?, u64_at(ph + 32)?);
            let raw = data.get(off..off + size)?;
            return Some(String::from_utf8_lossy(raw).trim_end_matches('\0').to_string());
        }
    }
    None
}

/// Runs the init with `args` (everything after the program name; a leading `--` is skipped)
/// and returns the exit code for the process.
pub fn run(args: &[OsString]) -> i32 {
    let args: Vec<&OsString> = args.iter().skip_while(|a| a.as_os_str() == "--").collect();
    let Some((cmd, rest)) = args.split_first() else {
        eprintln!("docker-init: usage: docker-init -- COMMAND [ARG...]");
        return 1;
    };
    // Seen as `docker-init` in ps even when started through the ELF loader.
    let _ = nix::sys::prctl::set_name(c"docker-init");
    // The child inherits the signal mask, and changing it between fork and exec would need
    // unsafe code: spawn first, then block everything. A signal arriving in between finds no
    // handler on PID 1 and is dropped by the kernel; a child that already exited is reaped by
    // the first pass below.
    let child = match Command::new(cmd).args(rest.iter()).spawn() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("docker-init: exec {} failed: {e}", cmd.to_string_lossy());
            return if e.kind() == std::io::ErrorKind::NotFound { 127 } else { 126 };
        }
    };
    let all = SigSet::all();
    if let Err(e) = all.thread_block() {
        eprintln!("docker-init: blocking signals: {e}");
        return 1;
    }
    let Ok(raw) = i32::try_from(child.id()) else { return 1 };
    let child_pid = Pid::from_raw(raw);
    if let Some(code) = reap(child_pid) {
        return code;
    }
    loop {
        let sig = match all.wait() {
            Ok(s) => s,
            Err(e) => {
                eprintln!("docker-init: waiting for signals: {e}");
                return 1;
            }
        };
        if sig != Signal::SIGCHLD {
            // The child may be gone already; nothing to do about a failed forward.
            let _ = kill(child_pid, sig);
            continue;
        }
        if let Some(code) = reap(child_pid) {
            return code;
        }
    }
}

/// Reaps every exited process; the child's exit code once it is among them.
fn reap(child: Pid) -> Option<i32> {
    let mut result = None;
    loop {
        match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(pid, code)) if pid == child => result = Some(code),
            Ok(WaitStatus::Signaled(pid, sig, _)) if pid == child => result = Some(128 + sig as i32),
            Ok(WaitStatus::StillAlive) | Err(_) => return result,
            Ok(_) => {}
        }
    }
}

/// True when the program was invoked as the init (`docker-init`, or `berth init`).
pub fn invoked_as_init(args: &[OsString]) -> Option<usize> {
    let argv0 = args.first().map(std::path::Path::new)?;
    if argv0.file_name().is_some_and(|n| n == "docker-init") {
        return Some(1);
    }
    (args.get(1).is_some_and(|a| a == "init")).then_some(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_its_names() {
        let v = |a: &[&str]| a.iter().map(OsString::from).collect::<Vec<_>>();
        assert_eq!(invoked_as_init(&v(&["/sbin/docker-init", "--", "sh"])), Some(1));
        assert_eq!(invoked_as_init(&v(&["berth", "init", "--", "sh"])), Some(2));
        assert_eq!(invoked_as_init(&v(&["berth", "ps"])), None);
    }

    #[test]
    fn finds_the_loader_of_a_dynamic_binary() {
        let me = std::env::current_exe().unwrap();
        let b = InitBinary::locate(&me).unwrap();
        // Test binaries are linked like berth: dynamically, through the host's loader.
        let loader = b.loader.clone().expect("dynamic test binary");
        assert!(b.lib_dir.as_ref().unwrap().join(&loader).exists());
        let p = b.command_prefix();
        assert_eq!(p[0], format!("{LIB_DIR}/{loader}"));
        assert_eq!(p.last().map(String::as_str), Some("/sbin/docker-init"));
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), b"#!/bin/sh\n").unwrap();
        assert_eq!(InitBinary::locate(f.path()).unwrap().command_prefix(), ["/sbin/docker-init"]);
    }
}
