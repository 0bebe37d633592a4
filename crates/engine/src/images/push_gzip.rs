//! gzip for `docker push` on every core: the layer tar is cut into [`BLOCK`]-byte blocks that
//! worker threads deflate independently (each primed with the previous block's last 32 KiB as
//! its dictionary, as pigz does, so the ratio stays that of one stream) and end with a sync
//! flush, so their outputs concatenate into one deflate stream; the last block finishes it.
//! One gzip member comes out: header (no name, mtime 0), the blocks in order, then the crc32
//! and size of the whole input. The output depends only on the input and the level, never on
//! thread timing, so a layer always compresses to the same digest.

use std::collections::VecDeque;
use std::io::{self, Read};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};

use flate2::{Compress, Compression, Crc, FlushCompress, Status};

/// Uncompressed bytes per block.
pub(crate) const BLOCK: usize = 1024 * 1024;
/// Dictionary carried from one block into the next (deflate's window).
const DICT: usize = 32 * 1024;
/// gzip header: magic, deflate, no flags, mtime 0, no extra flags, OS unknown (255), as
/// Go's `gzip.NewWriter` writes it for dockerd.
const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];

/// A block to deflate, and where its output goes.
struct Job {
    data: Vec<u8>,
    dict: Vec<u8>,
    last: bool,
    out: SyncSender<io::Result<Vec<u8>>>,
}

/// The number of compressing threads: every core.
pub(crate) fn threads() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).clamp(1, 8)
}

/// gzip-compresses `src` at `level` with `threads` workers, handing the output in order to
/// `sink` (on the calling thread) in pieces of about [`BLOCK`] bytes. Blocks until `src` is
/// exhausted and the last piece was handed over, or until `src`, a worker or `sink` fails.
pub(crate) fn compress(
    mut src: impl Read,
    level: Compression,
    threads: usize,
    mut sink: impl FnMut(Vec<u8>) -> io::Result<()>,
) -> io::Result<()> {
    let (job_tx, job_rx) = sync_channel::<Job>(threads);
    let job_rx = Arc::new(Mutex::new(job_rx));
    let mut workers = Vec::with_capacity(threads);
    for i in 0..threads.max(1) {
        let rx = job_rx.clone();
        workers.push(std::thread::Builder::new().name(format!("berth-gzip-{i}")).spawn(move || worker(&rx, level))?);
    }
    let result = run(&mut src, job_tx, threads.max(1), &mut sink);
    for w in workers {
        let _ = w.join();
    }
    result
}

/// Reads blocks, queues them for the workers and drains their outputs in order. Dropping
/// `jobs` on return stops the workers.
fn run(
    src: &mut impl Read,
    jobs: SyncSender<Job>,
    threads: usize,
    sink: &mut impl FnMut(Vec<u8>) -> io::Result<()>,
) -> io::Result<()> {
    sink(HEADER.to_vec())?;
    let mut crc = Crc::new();
    // Outputs to wait for, oldest first; at most `2 * threads` blocks are in flight.
    let mut pending: VecDeque<Receiver<io::Result<Vec<u8>>>> = VecDeque::new();
    let mut dict = Vec::new();
    let mut block = read_block(src)?;
    loop {
        let next = if block.len() == BLOCK { read_block(src)? } else { Vec::new() };
        let last = next.is_empty();
        crc.update(&block);
        let new_dict = block[block.len().saturating_sub(DICT)..].to_vec();
        let (out_tx, out_rx) = sync_channel(1);
        let job = Job { data: block, dict: std::mem::replace(&mut dict, new_dict), last, out: out_tx };
        jobs.send(job).map_err(|_| io::Error::other("the gzip workers stopped"))?;
        pending.push_back(out_rx);
        while pending.len() >= 2 * threads || (last && !pending.is_empty()) {
            if let Some(rx) = pending.pop_front() {
                let out = rx.recv().map_err(|_| io::Error::other("a gzip worker stopped"))??;
                sink(out)?;
            }
        }
        if last {
            break;
        }
        block = next;
    }
    let mut trailer = Vec::with_capacity(8);
    trailer.extend_from_slice(&crc.sum().to_le_bytes());
    trailer.extend_from_slice(&crc.amount().to_le_bytes());
    sink(trailer)
}

/// Reads up to [`BLOCK`] bytes; fewer only at the end of `src`.
fn read_block(src: &mut impl Read) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; BLOCK];
    let mut n = 0;
    while n < BLOCK {
        match src.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buf.truncate(n);
    Ok(buf)
}

fn worker(jobs: &Mutex<Receiver<Job>>, level: Compression) {
    let mut z = Compress::new(level, false);
    loop {
        // The lock is held only while taking a job, never while compressing.
        let job = match jobs.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else { return };
        let out = deflate_block(&mut z, &job.data, &job.dict, job.last);
        let _ = job.out.send(out);
    }
}

/// Raw deflate of one block: `dict` primes the window; a sync flush ends it on a byte
/// boundary (or the final block ends the stream).
fn deflate_block(z: &mut Compress, data: &[u8], dict: &[u8], last: bool) -> io::Result<Vec<u8>> {
    z.reset();
    if !dict.is_empty() {
        z.set_dictionary(dict).map_err(io::Error::other)?;
    }
    let mut out = Vec::with_capacity(data.len() + data.len() / 16 + 1024);
    let flush = if last { FlushCompress::Finish } else { FlushCompress::Sync };
    let start = z.total_in();
    loop {
        let consumed = (z.total_in() - start) as usize;
        if out.len() == out.capacity() {
            out.reserve(64 * 1024);
        }
        let status = z.compress_vec(&data[consumed..], &mut out, flush).map_err(io::Error::other)?;
        let all_in = (z.total_in() - start) as usize == data.len();
        match status {
            Status::StreamEnd => return Ok(out),
            // A sync flush is complete when all input is in and the output did not fill up.
            _ if !last && all_in && out.len() < out.capacity() => return Ok(out),
            Status::Ok | Status::BufError => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(data: &[u8], threads: usize) -> Vec<u8> {
        let mut out = Vec::new();
        compress(data, Compression::default(), threads, |piece| {
            out.extend_from_slice(&piece);
            Ok(())
        })
        .unwrap();
        out
    }

    fn gunzip(gz: &[u8]) -> Vec<u8> {
        let mut d = flate2::read::GzDecoder::new(gz);
        let mut out = Vec::new();
        d.read_to_end(&mut out).unwrap();
        // One member only: nothing is left after it.
        assert!(d.into_inner().is_empty());
        out
    }

    fn sample(len: usize) -> Vec<u8> {
        // Half text-like (compressible), half pseudo-random.
        let mut x: u64 = 0x9e3779b97f4a7c15;
        (0..len)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                if (i / 100_000) % 2 == 0 {
                    b"the quick brown fox jumps over the lazy dog\n"[i % 44]
                } else {
                    x as u8
                }
            })
            .collect()
    }

    #[test]
    fn round_trips_as_one_member_at_every_size() {
        for len in [0, 1, DICT, BLOCK - 1, BLOCK, BLOCK + 1, 3 * BLOCK + 12345] {
            let data = sample(len);
            let gz = gzip(&data, 2);
            assert_eq!(&gz[..10], &HEADER);
            assert_eq!(gunzip(&gz), data, "len {len}");
        }
    }

    #[test]
    fn output_is_independent_of_the_thread_count_and_close_to_one_stream() {
        let data = sample(5 * BLOCK + 777);
        let one = gzip(&data, 1);
        assert_eq!(one, gzip(&data, 3));
        let mut single = flate2::write::GzEncoder::new(Vec::new(), Compression::default());
        single.write_all(&data).unwrap();
        let single = single.finish().unwrap();
        // The dictionary keeps the ratio: within 1% of a single stream.
        assert!(one.len() <= single.len() + single.len() / 100, "{} vs {}", one.len(), single.len());
    }

    #[test]
    fn gzip_tool_accepts_the_stream() {
        let data = sample(2 * BLOCK + 5);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.gz");
        std::fs::write(&path, gzip(&data, 2)).unwrap();
        let st = std::process::Command::new("gzip").arg("-t").arg(&path).status().unwrap();
        assert!(st.success());
    }

    #[test]
    fn a_failing_source_fails_the_compression() {
        struct Failing(usize);
        impl Read for Failing {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if self.0 > 2 * BLOCK {
                    return Err(io::Error::other("disk on fire"));
                }
                self.0 += buf.len();
                buf.fill(7);
                Ok(buf.len())
            }
        }
        let err = compress(Failing(0), Compression::default(), 2, |_| Ok(())).unwrap_err();
        assert!(err.to_string().contains("disk on fire"), "{err}");
    }
}
