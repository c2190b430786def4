//! The edit list of an MP4/M4A audio track: how many decoded frames are encoder priming to drop, and how
//! many to keep. symphonia's MP4 reader does not apply edit lists yet, and without them AAC decodes with
//! 1024 or more frames of silence at the start and padding at the end.

use std::io::{self, Read, Seek, SeekFrom};

/// Largest `moov` box read into memory: a long track's sample tables are a few megabytes.
const MAX_MOOV_BYTES: u64 = 64 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Trim {
    /// Frames at the start that are not part of the presentation (encoder delay).
    pub skip: u64,
    /// Frames to keep after those.
    pub keep: u64,
}

/// Reads the first sound track's edit list, if `source` is an MP4 file with one; leaves the position where
/// it was. A read error is returned; a file that ends early is only "no trim". Anything unexpected (another format, odd boxes, several edits) means "no trim".
pub(crate) fn read_trim(source: &mut (impl Read + Seek)) -> io::Result<Option<Trim>> {
    let start = source.stream_position()?;
    source.seek(SeekFrom::Start(0))?;
    let moov = find_moov(source);
    source.seek(SeekFrom::Start(start))?;
    Ok(moov?.and_then(|moov| trim_from_moov(&moov)))
}

fn find_moov(source: &mut (impl Read + Seek)) -> io::Result<Option<Vec<u8>>> {
    let mut first = true;
    loop {
        let mut header = [0u8; 8];
        if source.read_exact(&mut header).is_err() {
            return Ok(None);
        }
        let kind = &header[4..8];
        if first && kind != b"ftyp" {
            return Ok(None);
        }
        first = false;
        let (size, header_len) = match u32::from_be_bytes([header[0], header[1], header[2], header[3]]) {
            0 => return Ok(None),
            1 => {
                let mut large = [0u8; 8];
                if source.read_exact(&mut large).is_err() {
                    return Ok(None);
                }
                (u64::from_be_bytes(large), 16)
            }
            size => (u64::from(size), 8),
        };
        let Some(payload) = size.checked_sub(header_len) else {
            return Ok(None);
        };
        if kind == b"moov" {
            if payload > MAX_MOOV_BYTES {
                return Ok(None);
            }
            let mut moov = vec![0u8; usize::try_from(payload).map_err(io::Error::other)?];
            return Ok(source.read_exact(&mut moov).ok().map(|()| moov));
        }
        let Ok(skip) = i64::try_from(payload) else {
            return Ok(None);
        };
        source.seek(SeekFrom::Current(skip))?;
    }
}

/// The child boxes of a box's payload, as (type, payload).
fn children(mut data: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    std::iter::from_fn(move || {
        let size = usize::try_from(u32::from_be_bytes(data.get(..4)?.try_into().ok()?)).ok()?;
        if size < 8 || size > data.len() {
            return None;
        }
        let (this, rest) = data.split_at(size);
        data = rest;
        Some((&this[4..8], &this[8..]))
    })
}

fn child<'a>(data: &'a [u8], kind: &[u8]) -> Option<&'a [u8]> {
    children(data)
        .find(|(k, _)| *k == kind)
        .map(|(_, payload)| payload)
}

fn be_u32(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

fn be_u64(data: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(data.get(at..at + 8)?.try_into().ok()?))
}

/// The timescale of an `mvhd` or `mdhd` box (the same layout up to it).
fn timescale(header: &[u8]) -> Option<u64> {
    let at = if header.first()? == &1 { 20 } else { 12 };
    be_u32(header, at).map(u64::from).filter(|&t| t > 0)
}

fn trim_from_moov(moov: &[u8]) -> Option<Trim> {
    let movie_timescale = timescale(child(moov, b"mvhd")?)?;
    let track = children(moov)
        .filter(|(k, _)| *k == b"trak")
        .map(|(_, t)| t)
        .find(|trak| {
            child(trak, b"mdia")
                .and_then(|mdia| child(mdia, b"hdlr"))
                .and_then(|h| h.get(8..12))
                == Some(b"soun")
        })?;
    let media_timescale = timescale(child(child(track, b"mdia")?, b"mdhd")?)?;
    let elst = child(child(track, b"edts")?, b"elst")?;
    let version = *elst.first()?;
    let count = be_u32(elst, 4)? as usize;
    let entry_len = if version == 1 { 20 } else { 12 };
    let mut edits = (0..count).filter_map(|i| {
        let at = 8 + i * entry_len;
        if version == 1 {
            Some((be_u64(elst, at)?, be_u64(elst, at + 8)? as i64))
        } else {
            Some((
                u64::from(be_u32(elst, at)?),
                i64::from(be_u32(elst, at + 4)? as i32),
            ))
        }
    });
    // An "empty" edit (media time −1) delays the start; only a single real edit is understood.
    let (duration, media_time) = edits.find(|&(_, media_time)| media_time >= 0)?;
    if edits.any(|(_, media_time)| media_time >= 0) {
        return None;
    }
    let keep = u128::from(duration) * u128::from(media_timescale) / u128::from(movie_timescale);
    Some(Trim {
        skip: u64::try_from(media_time).ok()?,
        keep: u64::try_from(keep).ok()?,
    })
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    fn boxed(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut out = ((payload.len() + 8) as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(payload);
        out
    }

    fn header_with_timescale(timescale: u32) -> Vec<u8> {
        let mut payload = vec![0u8; 12];
        payload.extend_from_slice(&timescale.to_be_bytes());
        payload.extend_from_slice(&[0; 4]);
        payload
    }

    fn file(edits: &[(u32, i32)]) -> Vec<u8> {
        let mut elst = vec![0u8; 4];
        elst.extend_from_slice(&(edits.len() as u32).to_be_bytes());
        for &(duration, media_time) in edits {
            elst.extend_from_slice(&duration.to_be_bytes());
            elst.extend_from_slice(&media_time.to_be_bytes());
            elst.extend_from_slice(&0x0001_0000u32.to_be_bytes());
        }
        let mut hdlr = vec![0u8; 8];
        hdlr.extend_from_slice(b"soun");
        let mdia = [
            boxed(b"mdhd", &header_with_timescale(44_100)),
            boxed(b"hdlr", &hdlr),
        ]
        .concat();
        let trak = [boxed(b"edts", &boxed(b"elst", &elst)), boxed(b"mdia", &mdia)].concat();
        let moov = [
            boxed(b"mvhd", &header_with_timescale(1000)),
            boxed(b"trak", &trak),
        ]
        .concat();
        [
            boxed(b"ftyp", b"M4A "),
            boxed(b"mdat", &[0; 100]),
            boxed(b"moov", &moov),
        ]
        .concat()
    }

    #[test]
    fn reads_priming_and_duration_from_the_edit_list() {
        let mut source = Cursor::new(file(&[(250, 1024)]));
        source.set_position(3);
        assert_eq!(
            read_trim(&mut source).expect("reads"),
            Some(Trim {
                skip: 1024,
                keep: 11_025
            })
        );
        assert_eq!(source.position(), 3, "the position is restored");
        let mut delayed = Cursor::new(file(&[(100, -1), (250, 2112)]));
        assert_eq!(
            read_trim(&mut delayed).expect("reads"),
            Some(Trim {
                skip: 2112,
                keep: 11_025
            })
        );
    }

    #[test]
    fn anything_else_means_no_trim() {
        for data in [
            file(&[]),
            file(&[(250, 1024), (250, 5000)]),
            b"RIFF....WAVEfmt ".to_vec(),
            vec![],
        ] {
            assert_eq!(read_trim(&mut Cursor::new(data)).expect("reads"), None);
        }
        let mut truncated = file(&[(250, 1024)]);
        truncated.truncate(truncated.len() - 10);
        assert_eq!(read_trim(&mut Cursor::new(truncated)).expect("reads"), None);
    }
}
