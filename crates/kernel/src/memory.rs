//! Giving a long-running process's memory back to the kernel (the shim, after libcontainer has
//! created or entered a container): the pages of its binary and libraries that start-up touched
//! and the free pages of its heap.
//!
//! A mapped file page counts in a process's RSS from its first touch until the process unmaps
//! it. Creating a container runs most of libcontainer (megabytes of code) once; the shim then
//! only serves its control socket. `MADV_DONTNEED` on a read-only private file mapping drops
//! those pages from this process only: they stay in the page cache (shared with every other
//! shim) and the next touch maps them again, so nothing is lost. Mappings with any private
//! copy-on-write page (`Anonymous` > 0 in smaps: relocated data, RELRO) are left alone, since
//! dropping them would revert those pages to the file's content.

/// What [`release_unused`] gave back, in KiB.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Released {
    /// Resident file pages dropped from this process's page tables.
    pub file_kib: u64,
}

/// One mapping of `/proc/self/smaps` that may be dropped.
#[derive(Debug, PartialEq, Eq)]
struct Droppable {
    start: usize,
    end: usize,
    rss_kib: u64,
}

/// The read-only, private, file-backed mappings with resident pages and no private copy among
/// them, from the text of `/proc/self/smaps`.
fn droppable(smaps: &str) -> Vec<Droppable> {
    let mut out = Vec::new();
    let mut cur: Option<(usize, usize, bool)> = None;
    let mut rss = 0u64;
    for line in smaps.lines() {
        let mut words = line.split_whitespace();
        let Some(first) = words.next() else { continue };
        if let Some((a, b)) = first.split_once('-').filter(|_| !first.ends_with(':')) {
            let (Ok(start), Ok(end)) = (usize::from_str_radix(a, 16), usize::from_str_radix(b, 16)) else {
                cur = None;
                continue;
            };
            let perms = words.next().unwrap_or("");
            // offset, device, inode, then the path (absent for anonymous memory).
            let path = words.nth(3).unwrap_or("");
            let p = perms.as_bytes();
            let candidate = p.len() == 4 && p[0] == b'r' && p[1] == b'-' && p[3] == b'p' && path.starts_with('/');
            cur = Some((start, end, candidate));
            rss = 0;
            continue;
        }
        let value = words.next().and_then(|v| v.parse::<u64>().ok());
        match first {
            "Rss:" => rss = value.unwrap_or(0),
            // `Anonymous:` comes after `Rss:` in every mapping's block.
            "Anonymous:" => {
                if let (Some((start, end, true)), Some(0)) = (cur.take(), value) {
                    if rss > 0 {
                        out.push(Droppable { start, end, rss_kib: rss });
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// Drops the resident pages of this process's read-only file mappings that hold no private
/// copy, and returns the heap's free pages (glibc `malloc_trim`). Pages needed again are mapped
/// again from the page cache on their next touch. Errors (no /proc) release nothing.
pub fn release_unused() -> Released {
    let mut released = Released::default();
    #[cfg(target_env = "gnu")]
    {
        // SAFETY: malloc_trim only returns free heap memory to the kernel; it takes the
        // allocator's own lock and touches no live allocation.
        unsafe { libc::malloc_trim(0) };
    }
    let Ok(smaps) = std::fs::read_to_string("/proc/self/smaps") else { return released };
    for m in droppable(&smaps) {
        // [start, end) is a whole private, read-only mapping with no copy-on-write page (from
        // smaps just above; the binary's and libraries' mappings stay until exit, as berth never
        // dlcloses), so every page equals the file's content and the next access maps the same
        // bytes again from the page cache.
        // SAFETY: see above; dropping clean file pages invalidates no Rust reference.
        let rc = unsafe { libc::madvise(m.start as *mut libc::c_void, m.end - m.start, libc::MADV_DONTNEED) };
        if rc == 0 {
            released.file_kib += m.rss_kib;
        }
        // SAFETY: as above; MADV_RANDOM only changes how pages are read in (no read-ahead or
        // fault-around), so a touch maps the page it needs rather than its neighbours.
        unsafe { libc::madvise(m.start as *mut libc::c_void, m.end - m.start, libc::MADV_RANDOM) };
    }
    drop(smaps);
    #[cfg(target_env = "gnu")]
    {
        // SAFETY: as above; gives back what reading smaps allocated.
        unsafe { libc::malloc_trim(0) };
    }
    released
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMAPS: &str = "\
559f86351000-559f86543000 r--p 00000000 fe:00 1133668                    /usr/bin/berth-shim
Size:               1992 kB
Rss:                 992 kB
Anonymous:             0 kB
559f86543000-559f86a96000 r-xp 001f1000 fe:00 1133668                    /usr/bin/berth-shim
Size:               5452 kB
Rss:                3612 kB
Anonymous:             0 kB
559f86a96000-559f86afb000 r--p 00743000 fe:00 1133668                    /usr/bin/berth-shim
Rss:                 404 kB
Anonymous:           404 kB
559f86afb000-559f86aff000 rw-p 007a7000 fe:00 1133668                    /usr/bin/berth-shim
Rss:                  16 kB
Anonymous:            16 kB
559fba145000-559fba1b2000 rw-p 00000000 00:00 0                          [heap]
Rss:                 388 kB
Anonymous:           388 kB
7f673de62000-7f673dfb8000 r-xp 00026000 fe:00 326279                     /usr/lib/x86_64-linux-gnu/libc.so.6
Rss:                 952 kB
Anonymous:             0 kB
7f673ddfa000-7f673ddfb000 r--p 000dd000 fe:00 326603                     /usr/lib/x86_64-linux-gnu/libm.so.6
Rss:                   0 kB
Anonymous:             0 kB
7f673e02f000-7f673e031000 r-xp 00000000 00:00 0                          [vdso]
Rss:                   4 kB
Anonymous:             0 kB
7f673e031000-7f673e032000 rw-s 00000000 00:05 12                         /dev/zero (deleted)
Rss:                   4 kB
Anonymous:             0 kB
";

    #[test]
    fn only_clean_read_only_private_file_mappings() {
        let d = droppable(SMAPS);
        let starts: Vec<usize> = d.iter().map(|m| m.start).collect();
        assert_eq!(starts, [0x559f86351000, 0x559f86543000, 0x7f673de62000]);
        assert_eq!(d[1].end, 0x559f86a96000);
        assert_eq!(d.iter().map(|m| m.rss_kib).sum::<u64>(), 992 + 3612 + 952);
    }

    #[test]
    fn release_keeps_the_process_working() {
        let before = std::fs::read_to_string("/proc/self/status").expect("status");
        release_unused();
        // Code, read-only data and formatting all still work after the pages were dropped.
        let after = std::fs::read_to_string("/proc/self/status").expect("status");
        assert!(before.contains("VmRSS") && after.contains("VmRSS"));
        assert_eq!(format!("{:?}", droppable("")), "[]");
    }
}
