//! stdcopy framing: how dockerd multiplexes stdout and stderr on one stream when no TTY is
//! attached. Each frame is an 8-byte header `[stream, 0, 0, 0, len_be32]` and `len` bytes.

use bytes::{Buf, BufMut, Bytes, BytesMut};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum StreamType {
    Stdin = 0,
    Stdout = 1,
    Stderr = 2,
    /// Used by dockerd for system errors written into the stream.
    Systemerr = 3,
}

impl StreamType {
    pub fn from_u8(b: u8) -> Option<StreamType> {
        match b {
            0 => Some(StreamType::Stdin),
            1 => Some(StreamType::Stdout),
            2 => Some(StreamType::Stderr),
            3 => Some(StreamType::Systemerr),
            _ => None,
        }
    }
}

pub const HEADER_LEN: usize = 8;

/// Writes one frame into `out`.
pub fn encode_frame(stream: StreamType, payload: &[u8], out: &mut BytesMut) {
    out.reserve(HEADER_LEN + payload.len());
    out.put_u8(stream as u8);
    out.put_bytes(0, 3);
    out.put_u32(payload.len() as u32);
    out.put_slice(payload);
}

/// One frame as a new buffer.
pub fn frame(stream: StreamType, payload: &[u8]) -> Bytes {
    let mut b = BytesMut::new();
    encode_frame(stream, payload, &mut b);
    b.freeze()
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid stdcopy stream type {0}")]
pub struct BadStreamType(pub u8);

/// Takes one complete frame off the front of `buf`, or `None` if more bytes are needed.
pub fn decode_frame(buf: &mut BytesMut) -> Result<Option<(StreamType, Bytes)>, BadStreamType> {
    if buf.len() < HEADER_LEN {
        return Ok(None);
    }
    let stream = StreamType::from_u8(buf[0]).ok_or(BadStreamType(buf[0]))?;
    let len = u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]) as usize;
    if buf.len() < HEADER_LEN + len {
        return Ok(None);
    }
    buf.advance(HEADER_LEN);
    Ok(Some((stream, buf.split_to(len).freeze())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_partial() {
        let mut b = BytesMut::new();
        encode_frame(StreamType::Stdout, b"hello\n", &mut b);
        encode_frame(StreamType::Stderr, b"oops", &mut b);
        assert_eq!(&b[..8], &[1, 0, 0, 0, 0, 0, 0, 6]);
        let mut partial = BytesMut::from(&b[..10]);
        assert_eq!(decode_frame(&mut partial).unwrap(), None);
        assert_eq!(decode_frame(&mut b).unwrap(), Some((StreamType::Stdout, Bytes::from_static(b"hello\n"))));
        assert_eq!(decode_frame(&mut b).unwrap(), Some((StreamType::Stderr, Bytes::from_static(b"oops"))));
        assert_eq!(decode_frame(&mut b).unwrap(), None);
    }

    #[test]
    fn rejects_bad_type() {
        let mut b = BytesMut::from(&[9u8, 0, 0, 0, 0, 0, 0, 0][..]);
        assert_eq!(decode_frame(&mut b), Err(BadStreamType(9)));
    }
}
