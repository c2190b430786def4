//! A ZIP archive written as a stream: entries stored as they are (WAV hardly compresses, and the download
//! starts at once), each followed by a data descriptor with its CRC, then the central directory. Names are
//! UTF-8 and flagged so, which every current unzip tool reads.

use std::path::PathBuf;

use tokio::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};

const VERSION: u16 = 20;
/// Sizes and CRC follow the data; the name is UTF-8.
const FLAGS: u16 = (1 << 3) | (1 << 11);
/// 1980-01-01, the earliest date a ZIP can hold: the archive is made now, its entries have no date of
/// their own worth keeping.
const DOS_DATE: u16 = (1 << 5) | 1;

/// One file in the archive.
#[derive(Debug, Clone)]
pub struct Entry {
    pub name: String,
    pub path: PathBuf,
    pub size: u64,
}

/// The archive's size in bytes, known before a byte is written; `None` when it would not fit a plain
/// (not ZIP64) archive, whose sizes and offsets stop at 4 GiB.
pub fn length(entries: &[Entry]) -> Option<u64> {
    const LOCAL: u64 = 30;
    const DESCRIPTOR: u64 = 16;
    const CENTRAL: u64 = 46;
    const END: u64 = 22;
    let total = entries.iter().try_fold(END, |total, entry| {
        let name = entry.name.len() as u64;
        (name <= u64::from(u16::MAX)).then_some(total + LOCAL + DESCRIPTOR + CENTRAL + 2 * name + entry.size)
    })?;
    (entries.len() < usize::from(u16::MAX) && total < u64::from(u32::MAX)).then_some(total)
}

/// Writes the archive of `entries` to `out`: exactly [`length`] bytes, which must not be `None`.
pub async fn write(entries: &[Entry], out: &mut (impl AsyncWrite + Unpin)) -> std::io::Result<()> {
    let too_big = |_| std::io::Error::other("the ZIP passed 4 GiB");
    let mut central = Vec::new();
    let mut offset = 0u64;
    let mut buffer = vec![0u8; 1 << 16];
    for entry in entries {
        let name = entry.name.as_bytes();
        let mut local = Vec::with_capacity(30 + name.len());
        header(&mut local, 0x0403_4b50, false, name, 0, 0, 0);
        out.write_all(&local).await?;
        let mut file = tokio::fs::File::open(&entry.path).await?;
        let mut crc = crc32fast::Hasher::new();
        let mut size = 0u64;
        loop {
            let read = file.read(&mut buffer).await?;
            if read == 0 {
                break;
            }
            crc.update(&buffer[..read]);
            size += read as u64;
            out.write_all(&buffer[..read]).await?;
        }
        let (crc, size32) = (crc.finalize(), u32::try_from(size).map_err(too_big)?);
        let mut descriptor = Vec::with_capacity(16);
        for field in [0x0807_4b50, crc, size32, size32] {
            descriptor.extend_from_slice(&field.to_le_bytes());
        }
        out.write_all(&descriptor).await?;
        header(
            &mut central,
            0x0201_4b50,
            true,
            name,
            crc,
            size32,
            u32::try_from(offset).map_err(too_big)?,
        );
        offset += (local.len() + descriptor.len()) as u64 + size;
    }
    let count = u16::try_from(entries.len()).map_err(std::io::Error::other)?;
    let central_size = u32::try_from(central.len()).map_err(std::io::Error::other)?;
    let mut end = Vec::with_capacity(22);
    end.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    for field in [0u16, 0, count, count] {
        end.extend_from_slice(&field.to_le_bytes());
    }
    end.extend_from_slice(&central_size.to_le_bytes());
    end.extend_from_slice(&u32::try_from(offset).map_err(too_big)?.to_le_bytes());
    end.extend_from_slice(&0u16.to_le_bytes());
    out.write_all(&central).await?;
    out.write_all(&end).await?;
    out.flush().await
}

/// A local file header, or (`central`) a central directory record, for a stored entry.
fn header(out: &mut Vec<u8>, signature: u32, central: bool, name: &[u8], crc: u32, size: u32, offset: u32) {
    out.extend_from_slice(&signature.to_le_bytes());
    if central {
        // Made by: UNIX, so that the permissions below are read.
        out.extend_from_slice(&(0x0300 | VERSION).to_le_bytes());
    }
    for field in [VERSION, FLAGS, 0, 0, DOS_DATE] {
        out.extend_from_slice(&field.to_le_bytes());
    }
    for field in [crc, size, size] {
        out.extend_from_slice(&field.to_le_bytes());
    }
    let name_len = u16::try_from(name.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&name_len.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    if central {
        // Comment length, disk, internal attributes; external: a regular file, rw-r--r--.
        for field in [0u16, 0, 0] {
            out.extend_from_slice(&field.to_le_bytes());
        }
        out.extend_from_slice(&(0o100_644u32 << 16).to_le_bytes());
        out.extend_from_slice(&offset.to_le_bytes());
    }
    out.extend_from_slice(&name[..usize::from(name_len)]);
}

/// A file name from text a user wrote (a title, an artist): path separators and the characters Windows
/// refuses become `_`, control characters go; any other Unicode stays.
pub fn safe_name(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .filter(|c| !c.is_control())
        .map(|c| {
            if matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|') {
                '_'
            } else {
                c
            }
        })
        .collect();
    let trimmed = cleaned.trim().trim_matches('.').trim();
    if trimmed.is_empty() {
        "untitled".to_owned()
    } else {
        trimmed.chars().take(120).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_only_what_a_file_system_refuses() {
        assert_eq!(safe_name("AC/DC: Back in Black?"), "AC_DC_ Back in Black_");
        assert_eq!(
            safe_name("Sigur Rós — Hoppípolla 🎧"),
            "Sigur Rós — Hoppípolla 🎧"
        );
        assert_eq!(safe_name("..\u{0}\u{7}"), "untitled");
        assert_eq!(safe_name("../../etc/passwd"), "_.._etc_passwd");
    }

    #[test]
    fn a_plain_archive_holds_under_four_gibibytes() {
        let entry = |size| Entry {
            name: "a.wav".into(),
            path: PathBuf::new(),
            size,
        };
        assert_eq!(length(&[entry(100)]), Some(22 + 30 + 16 + 46 + 10 + 100));
        assert!(length(&[entry(3 << 30), entry(2 << 30)]).is_none());
    }

    #[tokio::test]
    async fn the_archive_is_as_long_as_announced_and_holds_each_file_whole() {
        let dir = tempfile::tempdir().expect("a folder");
        let mut entries = Vec::new();
        for (name, bytes) in [
            ("Sigur Rós - vocals.wav", vec![1u8; 70_000]),
            ("b.wav", b"RIFF".to_vec()),
        ] {
            let path = dir.path().join(format!("{}.bin", entries.len()));
            std::fs::write(&path, &bytes).expect("write");
            entries.push(Entry {
                name: name.into(),
                path,
                size: bytes.len() as u64,
            });
        }
        let mut out = Vec::new();
        write(&entries, &mut out).await.expect("written");
        assert_eq!(Some(out.len() as u64), length(&entries));
        // The end record points at the central directory, which lists both names.
        let end = &out[out.len() - 22..];
        assert_eq!(&end[..4], b"PK\x05\x06");
        assert_eq!(u16::from_le_bytes([end[10], end[11]]), 2);
        let central = u32::from_le_bytes([end[16], end[17], end[18], end[19]]) as usize;
        assert_eq!(&out[central..central + 4], b"PK\x01\x02");
        let name = "Sigur Rós - vocals.wav".as_bytes();
        assert_eq!(
            out.windows(name.len()).filter(|w| *w == name).count(),
            2,
            "in its header and the directory"
        );
        // The second entry's data follows its header whole.
        let second = out.windows(4).rposition(|w| w == b"RIFF").expect("b's bytes");
        assert_eq!(&out[second - 5..second], b"b.wav");
    }
}
