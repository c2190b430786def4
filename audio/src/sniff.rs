//! What a file that is not audio we read looks like instead, from its first bytes, so that the refusal can
//! say "this is a PNG image" rather than only "not audio".

use std::io::{self, Read, Seek, SeekFrom};

/// How much of the start of a file the guess looks at.
const HEAD: usize = 512;

/// Reads the start of `source` and puts the position back.
pub(crate) fn head(source: &mut (impl Read + Seek)) -> io::Result<Vec<u8>> {
    let start = source.stream_position()?;
    source.seek(SeekFrom::Start(0))?;
    let mut head = Vec::with_capacity(HEAD);
    source.by_ref().take(HEAD as u64).read_to_end(&mut head)?;
    source.seek(SeekFrom::Start(start))?;
    Ok(head)
}

/// A few words for the kind of file `head` begins, among those people mistake for audio or download by
/// accident: pictures, documents, archives, web pages, text.
pub fn looks_like(head: &[u8]) -> Option<&'static str> {
    const MAGIC: [(&[u8], &str); 13] = [
        (b"\x89PNG\r\n\x1a\n", "a PNG image"),
        (b"\xff\xd8\xff", "a JPEG image"),
        (b"GIF8", "a GIF image"),
        (b"%PDF-", "a PDF document"),
        (
            b"PK\x03\x04",
            "a ZIP archive (unpack it and add the audio files inside)",
        ),
        (b"\x1f\x8b", "a gzip archive"),
        (b"Rar!\x1a\x07", "a RAR archive"),
        (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
        (b"MThd", "a MIDI file, which holds notes rather than sound"),
        (b"\x7fELF", "a program"),
        (b"MZ", "a Windows program"),
        (
            b"\x1a\x45\xdf\xa3",
            "a Matroska or WebM file without audio we can read",
        ),
        (b"{\\rtf", "a rich-text document"),
    ];
    if let Some((_, what)) = MAGIC.iter().find(|(magic, _)| head.starts_with(magic)) {
        return Some(what);
    }
    if head.len() >= 12 && head.starts_with(b"RIFF") {
        match &head[8..12] {
            b"WEBP" => return Some("a WebP image"),
            b"AVI " => return Some("an AVI video"),
            _ => {}
        }
    }
    let text = text(head)?;
    let start = text
        .trim_start_matches('\u{feff}')
        .trim_start()
        .to_ascii_lowercase();
    Some(
        if start.starts_with("<!doctype html") || start.starts_with("<html") {
            "a web page (HTML)"
        } else if start.starts_with("<?xml") || start.starts_with("<svg") {
            "an XML document"
        } else if start.starts_with("#extm3u") {
            "a playlist (M3U), which lists songs but holds none"
        } else {
            "plain text"
        },
    )
}

/// `head` as text, when it is: UTF-8 (the last character may be cut) without control characters.
fn text(head: &[u8]) -> Option<&str> {
    let text = match std::str::from_utf8(head) {
        Ok(text) => text,
        // Cut in the middle of a character at the end of the head: the rest is text.
        Err(err) if err.error_len().is_none() && err.valid_up_to() > 0 => {
            std::str::from_utf8(&head[..err.valid_up_to()]).ok()?
        }
        Err(_) => return None,
    };
    let printable = text
        .chars()
        .all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'));
    (!text.is_empty() && printable).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_what_people_mistake_for_audio() {
        let cases: [(&[u8], &str); 12] = [
            (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "a PNG image"),
            (b"\xff\xd8\xff\xe0\0\x10JFIF", "a JPEG image"),
            (b"%PDF-1.7\n%\xe2\xe3", "a PDF document"),
            (
                b"PK\x03\x04\x14\0\0\0",
                "a ZIP archive (unpack it and add the audio files inside)",
            ),
            (b"RIFF\x24\0\0\0WEBPVP8 ", "a WebP image"),
            (
                b"MThd\0\0\0\x06",
                "a MIDI file, which holds notes rather than sound",
            ),
            (b"\xef\xbb\xbf  <!DOCTYPE html><html>", "a web page (HTML)"),
            (b"<HTML><body>Not found</body>", "a web page (HTML)"),
            (b"<?xml version=\"1.0\"?>", "an XML document"),
            (
                b"#EXTM3U\n#EXTINF:123,Song\nsong.mp3\n",
                "a playlist (M3U), which lists songs but holds none",
            ),
            ("Notes for the mix — intro at 0:32\n".as_bytes(), "plain text"),
            (
                b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81",
                "a Matroska or WebM file without audio we can read",
            ),
        ];
        for (head, what) in cases {
            assert_eq!(looks_like(head), Some(what), "{head:?}");
        }
    }

    #[test]
    fn text_cut_inside_a_character_is_still_text() {
        let text = "café au lait".as_bytes();
        let cut = &text[..4]; // inside the two bytes of é
        assert_eq!(looks_like(cut), Some("plain text"));
    }

    #[test]
    fn binary_noise_and_nothing_are_not_named() {
        assert_eq!(looks_like(&[0x00, 0x13, 0x99, 0xfe, 0x02, 0x80]), None);
        assert_eq!(looks_like(b"abc\0def"), None, "a NUL is not text");
        assert_eq!(looks_like(b""), None);
    }

    #[test]
    fn head_reads_the_start_and_puts_the_position_back() {
        let mut source = io::Cursor::new(vec![7u8; 2000]);
        source.set_position(1500);
        let head = head(&mut source).expect("read");
        assert_eq!(head.len(), HEAD);
        assert_eq!(source.position(), 1500);
    }
}
