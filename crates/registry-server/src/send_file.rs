//! Blob bodies that go from the page cache to the socket with sendfile(2), as Go's HTTP server
//! sends docker-registry's blobs, instead of being read into a buffer and written out again.
//!
//! A blob body is one frame of bytes borrowed from a read-only map of the blob ([`body`]); the
//! map is listed, by address, while the frame lives. The plain-TCP connection ([`SendfileStream`])
//! checks each buffer hyper asks it to write: one that lies in a listed map is sent with
//! sendfile from the blob file, anything else is written as usual. If hyper ever copies the frame
//! (HTTP/2, TLS), the copy is not listed and is simply written: the bytes are the same either way.

use std::collections::BTreeMap;
use std::io::{self, IoSlice};
use std::os::fd::AsFd;
use std::pin::Pin;
use std::sync::{Arc, Mutex, Weak};
use std::task::{ready, Context, Poll};

use axum::body::Body;
use berth_store::content::BlobMap;
use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};
use tokio::net::TcpStream;

/// Maps whose bytes are in a live body, by start address.
static LIVE: Mutex<BTreeMap<usize, Weak<BlobMap>>> = Mutex::new(BTreeMap::new());

/// The owner of a body's bytes: lists the map while the bytes live.
struct Listed(Arc<BlobMap>);

impl AsRef<[u8]> for Listed {
    fn as_ref(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl Drop for Listed {
    fn drop(&mut self) {
        // Unlisted before the map is unmapped (the Arc drops after this), so no other map can
        // take the address while it is still listed.
        if let Ok(mut live) = LIVE.lock() {
            live.remove(&(self.0.as_bytes().as_ptr() as usize));
        }
    }
}

/// A response body of the mapped bytes.
pub fn body(map: BlobMap) -> Body {
    let map = Arc::new(map);
    if let Ok(mut live) = LIVE.lock() {
        live.insert(map.as_bytes().as_ptr() as usize, Arc::downgrade(&map));
    }
    Body::from(Bytes::from_owner(Listed(map)))
}

/// The listed map holding `buf`'s first byte, and that byte's index in it.
fn find(buf: &[u8]) -> Option<(Arc<BlobMap>, usize)> {
    if buf.is_empty() {
        return None;
    }
    let addr = buf.as_ptr() as usize;
    let live = LIVE.lock().ok()?;
    let (start, map) = live.range(..=addr).next_back()?;
    let map = map.upgrade()?;
    let at = addr - start;
    (at < map.as_bytes().len()).then_some((map, at))
}

/// A plain TCP connection that sends listed blob bytes with sendfile.
pub struct SendfileStream(pub TcpStream);

impl SendfileStream {
    fn poll_send(&self, cx: &mut Context<'_>, map: &BlobMap, at: usize, max: usize) -> Poll<io::Result<usize>> {
        loop {
            ready!(self.0.poll_write_ready(cx))?;
            match self.0.try_io(Interest::WRITABLE, || map.send_to(at, max, self.0.as_fd())) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                r => return Poll::Ready(r),
            }
        }
    }
}

impl AsyncRead for SendfileStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_read(cx, buf)
    }
}

impl AsyncWrite for SendfileStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match find(buf) {
            Some((map, at)) => self.poll_send(cx, &map, at, buf.len()),
            None => Pin::new(&mut self.get_mut().0).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        // Leading empty buffers are skipped, so that a listed buffer behind them goes first.
        let bufs = &bufs[bufs.iter().take_while(|b| b.is_empty()).count()..];
        match bufs.iter().enumerate().find_map(|(i, b)| find(b).map(|hit| (i, hit))) {
            Some((0, (map, at))) => self.poll_send(cx, &map, at, bufs[0].len()),
            // What comes before the listed buffer (response headers, other bodies) goes first.
            Some((i, _)) => Pin::new(&mut self.get_mut().0).poll_write_vectored(cx, &bufs[..i]),
            None => Pin::new(&mut self.get_mut().0).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_store::ContentStore;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn listed_bytes_go_by_sendfile_and_the_rest_by_write() {
        let dir = tempfile::tempdir().unwrap();
        let store = ContentStore::open(dir.path()).unwrap();
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 253) as u8).collect();
        let d = store.put(&data).unwrap();
        let map = store.map(&d, 5, data.len() - 10).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let reader = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut got = Vec::new();
            s.read_to_end(&mut got).await.unwrap();
            got
        });
        let mut out = SendfileStream(TcpStream::connect(addr).await.unwrap());
        let bytes = axum::body::to_bytes(body(map), usize::MAX).await.unwrap();
        // The body's frame is the mapped memory itself, and it is listed while it lives.
        let start = bytes.as_ptr() as usize;
        let listed = LIVE.lock().unwrap().get(&start).cloned().unwrap();
        assert!(find(&bytes[100..]).is_some());
        assert!(find(b"not mapped").is_none());
        out.write_all(b"head:").await.unwrap();
        let mut rest: &[u8] = &bytes;
        while !rest.is_empty() {
            let n = out.write_vectored(&[IoSlice::new(b""), IoSlice::new(rest)]).await.unwrap();
            rest = &rest[n..];
        }
        out.shutdown().await.unwrap();
        drop(out);
        let got = reader.await.unwrap();
        assert_eq!(&got[..5], b"head:");
        assert!(got[5..] == data[5..data.len() - 5]);
        drop(bytes);
        // Gone with its last bytes: unmapped, and no longer listed.
        assert!(listed.upgrade().is_none());
        assert!(!LIVE.lock().unwrap().get(&start).is_some_and(|w| w.ptr_eq(&listed)));
    }
}
