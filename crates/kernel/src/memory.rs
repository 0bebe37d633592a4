//! Giving a long-running process's memory back to the kernel (the shim, after libcontainer has
//! created or entered a container): the pages of its binary and libraries that start-up touched
//! and the free pages of its heap.
//!
//! A mapped file page counts in a process's RSS from its first touch until the process unmaps
//! it. Creating a container runs most of libcontainer (megabytes of code) once; the shim then
//! only serves its control socket. `MADV_DONTNEED` on a read-only private file mapping drops
//! those pages from this process only: they stay in the page cache (shared with every other
//! shim) and the next touch maps them again, so nothing is lost. In a mapping with private
//! copy-on-write pages (`Anonymous` > 0 in smaps: relocated data, the GOT in RELRO) only the
//! pages `/proc/self/pagemap` shows as file pages are dropped, since dropping a private copy
//! would revert it to the file's content.

/// What [`release_unused`] gave back, in KiB.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Released {
    /// Resident file pages dropped from this process's page tables.
    pub file_kib: u64,
    /// Size of the stack range below the caller's frames given back (resident or not).
    pub stack_kib: u64,
}

/// One mapping of `/proc/self/smaps` that may be dropped.
#[derive(Debug, PartialEq, Eq)]
struct Droppable {
    start: usize,
    end: usize,
    rss_kib: u64,
    /// Resident private copies among its pages (kept).
    anon_kib: u64,
}

/// The read-only, private, file-backed mappings with resident file pages, from the text of
/// `/proc/self/smaps`.
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
                if let (Some((start, end, true)), Some(anon)) = (cur.take(), value) {
                    if rss > anon {
                        out.push(Droppable { start, end, rss_kib: rss, anon_kib: anon });
                    }
                }
            }
            _ => {}
        }
    }
    out
}

const PAGE: usize = 4096;
/// `/proc/<pid>/pagemap` entry bits: page present, and file page (or shared anonymous).
const PM_PRESENT: u64 = 1 << 63;
const PM_FILE: u64 = 1 << 61;

/// The runs of present file pages (not private copies) among the pagemap `entries` of the
/// pages from `start` on, as `[start, end)` address ranges.
fn file_page_runs(entries: &[u64], start: usize) -> Vec<(usize, usize)> {
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        if e & (PM_PRESENT | PM_FILE) != PM_PRESENT | PM_FILE {
            continue;
        }
        let page = start + i * PAGE;
        match runs.last_mut() {
            Some(last) if last.1 == page => last.1 = page + PAGE,
            _ => runs.push((page, page + PAGE)),
        }
    }
    runs
}

/// [`file_page_runs`] of `[start, end)` in this process, from `/proc/self/pagemap` (its flag
/// bits are readable without privileges). Empty when it cannot be read.
fn own_file_page_runs(start: usize, end: usize) -> Vec<(usize, usize)> {
    use std::os::unix::fs::FileExt;
    let Ok(pagemap) = std::fs::File::open("/proc/self/pagemap") else { return Vec::new() };
    let mut raw = vec![0u8; (end - start) / PAGE * 8];
    if pagemap.read_exact_at(&mut raw, (start / PAGE * 8) as u64).is_err() {
        return Vec::new();
    }
    let entries: Vec<u64> =
        raw.chunks_exact(8).map(|c| u64::from_ne_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])).collect();
    file_page_runs(&entries, start)
}

/// Bytes kept below the caller's frame when dropping unused stack pages: the frames of the
/// calls that follow (`madvise`), with room to spare.
const STACK_MARGIN: usize = 16 * 1024;

/// The range of the `[stack]` mapping below `sp` (less [`STACK_MARGIN`], page-aligned) when
/// `sp` lies in it: stack pages a deeper call touched once and no live frame uses now. `None`
/// when `sp` is on another thread's stack or nothing lies below.
fn unused_stack(smaps: &str, sp: usize) -> Option<(usize, usize)> {
    let line = smaps.lines().find(|l| l.ends_with("[stack]"))?;
    let (a, b) = line.split_whitespace().next()?.split_once('-')?;
    let (start, end) = (usize::from_str_radix(a, 16).ok()?, usize::from_str_radix(b, 16).ok()?);
    if !(start..end).contains(&sp) {
        return None;
    }
    let top = sp.checked_sub(STACK_MARGIN)? & !(PAGE - 1);
    (top > start).then_some((start, top))
}

/// Drops the resident pages of this process's read-only file mappings that hold no private
/// copy and the main thread's stack pages below the caller's frames, and returns the heap's
/// free pages (glibc `malloc_trim`). Pages needed again are mapped again from the page cache
/// (or as zero pages, for the stack) on their next touch. Errors (no /proc) release nothing.
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
        let runs = if m.anon_kib == 0 { vec![(m.start, m.end)] } else { own_file_page_runs(m.start, m.end) };
        for (start, end) in runs {
            // [start, end) is in a private, read-only file mapping (from smaps just above; the
            // binary's and libraries' mappings stay until exit, as berth never dlcloses) and
            // holds no copy-on-write page: the whole mapping had none, or pagemap showed each
            // page of the range as a file page. So every page equals the file's content and the
            // next access maps the same bytes again from the page cache.
            // SAFETY: see above; dropping clean file pages invalidates no Rust reference.
            let rc = unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED) };
            if rc == 0 {
                released.file_kib += if m.anon_kib == 0 { m.rss_kib } else { ((end - start) / 1024) as u64 };
            }
        }
        // SAFETY: as above; MADV_RANDOM only changes how pages are read in (no read-ahead for
        // pages not in the page cache yet). It does not stop fault-around: a touch of a cached
        // page still maps its aligned 64 KiB window (on 6.18), which is why the shim releases
        // right before it sleeps.
        unsafe { libc::madvise(m.start as *mut libc::c_void, m.end - m.start, libc::MADV_RANDOM) };
    }
    // An address in this function's frame: every live frame of this thread is at or above it.
    let marker = 0u8;
    let sp = std::hint::black_box(&marker) as *const u8 as usize;
    if let Some((start, end)) = unused_stack(&smaps, sp) {
        // [start, end) is the main thread's own stack (it holds `sp`), ending STACK_MARGIN
        // below this frame: only frames of calls that already returned lay there, and the
        // calls below (madvise) stay within the margin. Their pages read back as zeros.
        // SAFETY: see above; no live Rust value is in the range.
        let rc = unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED) };
        if rc == 0 {
            released.stack_kib = ((end - start) / 1024) as u64;
        }
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
559f86afb000-559f86b40000 r--p 007a7000 fe:00 1133668                    /usr/bin/berth-shim
Rss:                 276 kB
Anonymous:            20 kB
559f86b40000-559f86b44000 rw-p 007ec000 fe:00 1133668                    /usr/bin/berth-shim
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
    fn only_read_only_private_file_mappings() {
        let d = droppable(SMAPS);
        let starts: Vec<usize> = d.iter().map(|m| m.start).collect();
        assert_eq!(starts, [0x559f86351000, 0x559f86543000, 0x559f86afb000, 0x7f673de62000]);
        assert_eq!(d[1].end, 0x559f86a96000);
        assert_eq!(d.iter().map(|m| m.rss_kib).sum::<u64>(), 992 + 3612 + 276 + 952);
        assert_eq!(d.iter().map(|m| m.anon_kib).collect::<Vec<_>>(), [0, 0, 20, 0]);
    }

    #[test]
    fn file_page_runs_skip_private_copies_and_absent_pages() {
        let f = PM_PRESENT | PM_FILE;
        let entries = [f, f, PM_PRESENT, f, 0, f, f, f, PM_FILE];
        let runs = file_page_runs(&entries, 0x10000);
        assert_eq!(runs, [(0x10000, 0x12000), (0x13000, 0x14000), (0x15000, 0x18000)]);
        assert!(file_page_runs(&[], 0x10000).is_empty());
    }

    /// Serialises the tests that drop pages with those that look at which pages are present.
    static PAGES: std::sync::Mutex<()> = std::sync::Mutex::new(());

    #[test]
    fn own_pagemap_tells_file_pages_from_private_ones() {
        let _serial = PAGES.lock().unwrap_or_else(|e| e.into_inner());
        // The page holding this function's code is present (it runs) and a file page.
        let here = own_pagemap_tells_file_pages_from_private_ones as *const () as usize & !(PAGE - 1);
        assert_eq!(own_file_page_runs(here, here + PAGE), [(here, here + PAGE)]);
        // A written heap page is present but private memory.
        let heap = vec![1u8; 4 * PAGE];
        let page = (heap.as_ptr() as usize + PAGE) & !(PAGE - 1);
        assert!(own_file_page_runs(page, page + PAGE).is_empty());
        drop(heap);
    }

    #[test]
    fn unused_stack_below_the_caller_only() {
        let smaps = "7ffc827b9000-7ffc827da000 rw-p 00000000 00:00 0                          [stack]\nRss: 80 kB\n";
        let sp = 0x7ffc827d5123;
        let (start, end) = unused_stack(smaps, sp).expect("range");
        assert_eq!(start, 0x7ffc827b9000);
        assert_eq!(end, (sp - STACK_MARGIN) & !0xfff);
        assert!(end < sp - STACK_MARGIN + 4096 && end % 4096 == 0);
        // Another thread's stack (sp outside the mapping), or nothing below the margin.
        assert_eq!(unused_stack(smaps, 0x7f0000001000), None);
        assert_eq!(unused_stack(smaps, 0x7ffc827b9000 + 4096), None);
        assert_eq!(unused_stack("", sp), None);
    }

    #[test]
    fn release_keeps_the_process_working() {
        let _serial = PAGES.lock().unwrap_or_else(|e| e.into_inner());
        let before = std::fs::read_to_string("/proc/self/status").expect("status");
        release_unused();
        // Code, read-only data and formatting all still work after the pages were dropped.
        let after = std::fs::read_to_string("/proc/self/status").expect("status");
        assert!(before.contains("VmRSS") && after.contains("VmRSS"));
        assert_eq!(format!("{:?}", droppable("")), "[]");
    }
}
