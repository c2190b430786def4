//! The decoding matrix: every format and variant users bring, from small committed files made by
//! `tests/data/make-fixtures.sh` (0.25 s of a sine per channel, 220 Hz × channel number, at −6 dBFS).

use std::path::PathBuf;

use sfa_audio::{Error, Limits, decode, spectral::rms};

fn fixture(name: &str) -> std::fs::File {
    // Read when the test runs, not when it compiles: the target directory is shared between clones, so
    // a binary built in one clone may run in another.
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo test sets CARGO_MANIFEST_DIR");
    let path = PathBuf::from(manifest_dir).join("tests/data").join(name);
    std::fs::File::open(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// name, sample rate, channels, container, codec, whether the codec is lossy
const MATRIX: &[(&str, u32, u16, &str, &str, bool)] = &[
    ("wav-u8-stereo-44100.wav", 44_100, 2, "wave", "pcm_u8", false),
    ("wav-s16-stereo-44100.wav", 44_100, 2, "wave", "pcm_s16le", false),
    ("wav-s24-mono-48000.wav", 48_000, 1, "wave", "pcm_s24le", false),
    ("wav-s32-stereo-44100.wav", 44_100, 2, "wave", "pcm_s32le", false),
    ("wav-f32-stereo-44100.wav", 44_100, 2, "wave", "pcm_f32le", false),
    (
        "wav-extensible-s24-6ch-48000.wav",
        48_000,
        6,
        "wave",
        "pcm_s24le",
        false,
    ),
    (
        "aiff-s16-stereo-44100.aiff",
        44_100,
        2,
        "aiff",
        "pcm_s16be",
        false,
    ),
    ("flac-s16-stereo-44100.flac", 44_100, 2, "flac", "flac", false),
    ("flac-s24-mono-48000.flac", 48_000, 1, "flac", "flac", false),
    ("alac-stereo-44100.m4a", 44_100, 2, "isomp4", "alac", false),
    (
        "mp3-cbr-id3-cover-stereo-44100.mp3",
        44_100,
        2,
        "mp3",
        "mp3",
        true,
    ),
    ("mp3-vbr-mono-22050.mp3", 22_050, 1, "mp3", "mp3", true),
    ("vorbis-stereo-44100.ogg", 44_100, 2, "ogg", "vorbis", true),
    (
        "aac-moov-at-end-stereo-44100.m4a",
        44_100,
        2,
        "isomp4",
        "aac",
        true,
    ),
    ("aac-faststart-stereo-44100.m4a", 44_100, 2, "isomp4", "aac", true),
];

#[test]
fn every_supported_format_decodes_to_the_exact_length_and_layout() {
    let mut failures = Vec::new();
    for &(name, rate, channels, container, codec, lossy) in MATRIX {
        let decoded = match decode(fixture(name), &Limits::default()) {
            Ok(decoded) => decoded,
            Err(err) => {
                failures.push(format!("{name}: {err}"));
                continue;
            }
        };
        let audio = &decoded.audio;
        // sox renders 0.25 s as floor(0.25 × rate) frames.
        let frames = rate as usize / 4;
        let got = (audio.sample_rate(), audio.channels(), audio.frames());
        if got != (rate, channels, frames) {
            failures.push(format!(
                "{name}: rate, channels, frames = {got:?}, want {:?}",
                (rate, channels, frames)
            ));
        }
        if (decoded.format.container.as_str(), decoded.format.codec.as_str()) != (container, codec) {
            failures.push(format!("{name}: format {:?}", decoded.format));
        }
        // A sine at −6 dBFS has an RMS of 0.5012 / √2. Lossy codecs and 8 bits keep it within a few percent.
        let tolerance = if lossy { 0.10 } else { 0.02 };
        for channel in 0..usize::from(channels) {
            let channel_samples: Vec<f32> = audio
                .samples()
                .iter()
                .skip(channel)
                .step_by(usize::from(channels))
                .copied()
                .collect();
            let level = rms(&channel_samples);
            if (level / 0.3544 - 1.0).abs() > tolerance {
                failures.push(format!("{name}: channel {channel} RMS {level}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn tags_and_cover_art_are_read() {
    let decoded = decode(fixture("mp3-cbr-id3-cover-stereo-44100.mp3"), &Limits::default()).expect("decodes");
    assert_eq!(decoded.tags.title.as_deref(), Some("Tone Study"));
    assert_eq!(decoded.tags.artist.as_deref(), Some("Test Artist"));
    assert_eq!(decoded.tags.album.as_deref(), Some("Fixtures"));
    let picture = decoded.tags.picture.expect("the cover");
    assert!(
        picture.data.starts_with(b"\x89PNG"),
        "{:?}",
        &picture.data[..8.min(picture.data.len())]
    );

    let vorbis = decode(fixture("vorbis-stereo-44100.ogg"), &Limits::default()).expect("decodes");
    assert_eq!(vorbis.tags.title.as_deref(), Some("Vorbis Tone"));
    let aac = decode(fixture("aac-moov-at-end-stereo-44100.m4a"), &Limits::default()).expect("decodes");
    assert_eq!(aac.tags.title.as_deref(), Some("AAC Tone"));
}

#[test]
fn opus_is_refused_by_name() {
    for name in ["opus-stereo.opus", "opus-stereo.webm"] {
        match decode(fixture(name), &Limits::default()) {
            Err(err @ Error::UnsupportedCodec { .. }) => {
                assert!(err.to_string().contains("Opus"), "{name}: {err}");
            }
            other => panic!("{name}: {other:?}"),
        }
    }
}

fn bytes(name: &str) -> Vec<u8> {
    let mut data = Vec::new();
    std::io::Read::read_to_end(&mut fixture(name), &mut data).expect("reads");
    data
}

#[test]
fn an_empty_file_is_refused() {
    assert_eq!(
        decode(std::io::Cursor::new(Vec::new()), &Limits::default()).err(),
        Some(Error::Empty)
    );
}

#[test]
fn truncated_files_give_errors_or_what_is_there_never_a_panic() {
    for &(name, ..) in MATRIX {
        let data = bytes(name);
        for keep in [16, data.len() / 3, data.len() - 7] {
            let cut = data[..keep].to_vec();
            // Streams without a declared length (a cut MP3) may decode up to the cut; anything that
            // declared more must say it is truncated or damaged.
            match decode(std::io::Cursor::new(cut), &Limits::default()) {
                Ok(decoded) => assert!(decoded.audio.frames() > 0, "{name} cut at {keep}: empty success"),
                Err(err) => assert!(
                    matches!(
                        err,
                        Error::Truncated
                            | Error::Corrupt(_)
                            | Error::UnknownFormat { .. }
                            | Error::NoAudioTrack
                    ),
                    "{name} cut at {keep}: {err:?}"
                ),
            }
        }
    }
}

#[test]
fn a_header_that_promises_more_than_the_file_holds_is_truncated() {
    let data = bytes("flac-s16-stereo-44100.flac");
    let cut = data[..data.len() / 2].to_vec();
    assert_eq!(
        decode(std::io::Cursor::new(cut), &Limits::default()).err(),
        Some(Error::Truncated)
    );
}

#[test]
fn a_picture_is_refused_in_words_that_say_it_is_one() {
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0".repeat(20);
    let err = decode(std::io::Cursor::new(png), &Limits::default()).expect_err("a PNG is not audio");
    assert_eq!(
        err,
        Error::UnknownFormat {
            looks_like: Some("a PNG image")
        }
    );
    assert!(
        err.to_string()
            .starts_with("this is a PNG image, not audio; we read WAV"),
        "{err}"
    );
}

#[test]
fn random_bytes_are_not_audio() {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for len in [1, 7, 100, 4096, 100_000] {
        let noise: Vec<u8> = (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        assert!(
            decode(std::io::Cursor::new(noise), &Limits::default()).is_err(),
            "{len} random bytes decoded"
        );
    }
}

#[test]
fn limits_on_length_and_size_are_kept() {
    let short = Limits {
        max_seconds: 0.1,
        ..Limits::default()
    };
    match decode(fixture("wav-s16-stereo-44100.wav"), &short) {
        Err(Error::TooLong { seconds, max_seconds }) => assert!(seconds > max_seconds && max_seconds == 0.1),
        other => panic!("{other:?}"),
    }
    // MP3 declares no length up front: the limit must stop the decoding itself.
    assert!(matches!(
        decode(fixture("mp3-vbr-mono-22050.mp3"), &short),
        Err(Error::TooLong { .. })
    ));
    let small = Limits {
        max_bytes: 1000,
        ..Limits::default()
    };
    assert!(matches!(
        decode(fixture("wav-s16-stereo-44100.wav"), &small),
        Err(Error::TooLarge { .. })
    ));
}

/// A canonical WAV file: `format` 1 (integer PCM) or 3 (float), `data` already in its sample format.
fn wav(format: u16, bits: u16, rate: u32, channels: u16, data: &[u8]) -> Vec<u8> {
    let block = channels * bits / 8;
    let mut file = Vec::new();
    file.extend(b"RIFF");
    file.extend((36 + data.len() as u32).to_le_bytes());
    file.extend(b"WAVEfmt ");
    file.extend(16u32.to_le_bytes());
    file.extend(format.to_le_bytes());
    file.extend(channels.to_le_bytes());
    file.extend(rate.to_le_bytes());
    file.extend(rate.wrapping_mul(u32::from(block)).to_le_bytes());
    file.extend(block.to_le_bytes());
    file.extend(bits.to_le_bytes());
    file.extend(b"data");
    file.extend((data.len() as u32).to_le_bytes());
    file.extend(data);
    file
}

fn floats(values: impl IntoIterator<Item = f32>) -> Vec<u8> {
    values.into_iter().flat_map(f32::to_le_bytes).collect()
}

#[test]
fn a_float_file_with_nan_or_infinity_is_damaged() {
    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        let data = floats((0..44_100).map(|i| if i == 5000 { bad } else { 0.1 }));
        match decode(
            std::io::Cursor::new(wav(3, 32, 44_100, 1, &data)),
            &Limits::default(),
        ) {
            Err(Error::Corrupt(why)) => assert!(why.contains("not numbers"), "{why}"),
            other => panic!("{bad}: {other:?}"),
        }
    }
}

#[test]
fn a_sample_rate_no_audio_has_is_refused() {
    let data = floats(std::iter::repeat_n(0.1, 4000));
    for rate in [0, 10, 1_000_000_000, u32::MAX] {
        assert_eq!(
            decode(
                std::io::Cursor::new(wav(3, 32, rate, 1, &data)),
                &Limits::default()
            )
            .err(),
            Some(Error::UnsupportedRate { rate }),
            "{rate} Hz"
        );
    }
    assert!(
        decode(
            std::io::Cursor::new(wav(3, 32, 8_000, 1, &data)),
            &Limits::default()
        )
        .is_ok()
    );
}

#[test]
fn many_channels_at_a_high_rate_are_limited_by_their_samples() {
    // Half a second of 8 channels at 192 kHz: within a one-second limit on length, but more samples than a
    // second of stereo at 48 kHz.
    let limits = Limits {
        max_seconds: 1.0,
        ..Limits::default()
    };
    let data = vec![0u8; 96_000 * 8 * 2];
    match decode(std::io::Cursor::new(wav(1, 16, 192_000, 8, &data)), &limits) {
        Err(Error::TooManySamples {
            channels: 8,
            rate: 192_000,
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
    let stereo = vec![0u8; 24_000 * 2 * 2];
    assert!(decode(std::io::Cursor::new(wav(1, 16, 48_000, 2, &stereo)), &limits).is_ok());
}
