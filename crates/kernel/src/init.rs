//! The static `docker-init` executable (source: `init/docker_init.rs`, built by `build.rs`),
//! embedded so berthd can place it on the host and bind-mount it at `/sbin/docker-init`.

/// The bytes of the static `docker-init` executable.
pub const DOCKER_INIT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/docker-init"));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_a_static_elf_executable() {
        assert_eq!(&DOCKER_INIT[..4], b"\x7fELF");
        // No PT_INTERP program header: it runs without the host's loader or C library.
        let u16_at = |o: usize| usize::from(u16::from_le_bytes([DOCKER_INIT[o], DOCKER_INIT[o + 1]]));
        let phoff = u64::from_le_bytes(DOCKER_INIT[0x20..0x28].try_into().unwrap()) as usize;
        let (phentsize, phnum) = (u16_at(0x36), u16_at(0x38));
        assert!(phnum > 0);
        for i in 0..phnum {
            let ph = phoff + i * phentsize;
            let kind = u32::from_le_bytes(DOCKER_INIT[ph..ph + 4].try_into().unwrap());
            assert_ne!(kind, 3, "docker-init has an ELF interpreter");
        }
    }
}
