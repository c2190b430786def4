//! Decoding whatever a user uploads into [`Audio`], with its tags.
//!
//! The format is found from the content (symphonia's probe), never from a file name. The length comes from
//! the decoded samples, never from a header, and encoder delay and padding are trimmed (gapless), so an
//! encoded file decodes to exactly the length of what was encoded.
//!
//! Supported: WAV (8-bit unsigned, 16/24/32-bit integer, 32-bit float, WAVE_FORMAT_EXTENSIBLE), AIFF, FLAC,
//! MP3, Ogg Vorbis, AAC and ALAC in MP4/M4A. Opus (in Ogg or WebM) is recognised and refused by name:
//! symphonia has no Opus decoder.

use symphonia::core::{
    codecs::audio::{AudioCodecId, AudioDecoderOptions, well_known as codec},
    errors::Error as SymphoniaError,
    formats::{FormatOptions, FormatReader, TrackType, probe::Hint},
    io::{MediaSource, MediaSourceStream},
    meta::{MetadataOptions, MetadataRevision, StandardTag, StandardVisualKey},
};

use crate::{Audio, Error, mp4_edits, pcm::Pcm, sniff};

/// What a decode may cost, from the server's configuration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    pub max_seconds: f64,
    pub max_bytes: u64,
}

impl Default for Limits {
    /// Two hours, 2 GiB: longer than any DJ mix a user is likely to bring.
    fn default() -> Self {
        Self {
            max_seconds: 2.0 * 3600.0,
            max_bytes: 2 << 30,
        }
    }
}

/// The decoded audio and what the file said about itself.
#[derive(Debug, Clone)]
pub struct Decoded {
    pub audio: Audio,
    pub format: SourceFormat,
    pub tags: Tags,
}

/// The container and codec, as short names (`"wav"`, `"pcm_s16le"`; `"isomp4"`, `"aac"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFormat {
    pub container: String,
    pub codec: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tags {
    pub title: Option<String>,
    pub artist: Option<String>,
    pub album: Option<String>,
    pub picture: Option<Picture>,
}

/// Embedded cover art.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picture {
    pub media_type: Option<String>,
    pub data: Vec<u8>,
}

/// Decodes a whole file from a seekable source (a `File`, or a `Cursor` over bytes).
pub fn decode(mut source: impl MediaSource + 'static, limits: &Limits) -> Result<Decoded, Error> {
    let bytes = source.byte_len();
    match bytes {
        Some(0) => return Err(Error::Empty),
        Some(bytes) if bytes > limits.max_bytes => {
            return Err(Error::TooLarge {
                bytes,
                max_bytes: limits.max_bytes,
            });
        }
        _ => {}
    }
    // A read error here surfaces again, and is reported, when symphonia reads the same bytes.
    let trim = mp4_edits::read_trim(&mut source).ok().flatten();
    let head = sniff::head(&mut source).unwrap_or_default();
    let mut reader = probe(Box::new(source)).map_err(|err| match err {
        SymphoniaError::IoError(err) if err.kind() == std::io::ErrorKind::UnexpectedEof => Error::Truncated,
        _ => Error::UnknownFormat {
            looks_like: sniff::looks_like(&head),
        },
    })?;
    let container = reader.format_info().short_name.to_owned();
    let track = reader
        .default_track(TrackType::Audio)
        .ok_or(Error::NoAudioTrack)?;
    let (track_id, declared_frames) = (track.id, track.num_frames);
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or(Error::NoAudioTrack)?
        .clone();
    let codec_name = codec_name(params.codec);
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(&params, &AudioDecoderOptions::default())
        .map_err(|_| Error::UnsupportedCodec {
            codec: codec_name.clone(),
            container: container.clone(),
        })?;
    if let Some(rate) = params.sample_rate {
        check_rate(rate)?;
        if let Some(frames) = declared_frames {
            let channels = params.channels.as_ref().map_or(1, |c| c.count());
            check_size(frames, rate, u16::try_from(channels).unwrap_or(u16::MAX), limits)?;
        }
    }

    // Growing the buffer packet by packet copies it over and over; the header's length sizes it once. It
    // is only a hint (the decoded length is what counts), so a header that lies is believed no further
    // than the file's size allows: no codec we read makes more than 64 samples of a byte.
    let expected = declared_frames
        .zip(params.channels.as_ref())
        .map_or(0, |(frames, channels)| {
            let most = bytes.map_or(0, |b| b.saturating_mul(64));
            usize::try_from(frames.saturating_mul(channels.count() as u64).min(most)).unwrap_or(0)
        });
    // Plain PCM skips symphonia's decoder (`pcm`); its reader still cuts the packets. The decoder was made
    // all the same: it checks the parameters.
    let plain_pcm = match (Pcm::of(&params), params.sample_rate, params.channels.as_ref()) {
        (Some(pcm), Some(rate), Some(channels)) if channels.count() > 0 => {
            u16::try_from(channels.count()).ok().map(|c| (pcm, rate, c))
        }
        _ => None,
    };
    let mut samples: Vec<f32> = Vec::new();
    // Without the memory, decoding goes on and grows the buffer as it must.
    let _ = samples.try_reserve_exact(expected);
    let mut spec: Option<(u32, u16)> = None;
    let mut bad_packets = 0usize;
    let mut packets = 0usize;
    loop {
        let packet = match reader.next_packet() {
            Ok(Some(packet)) => packet,
            Ok(None) => break,
            Err(SymphoniaError::IoError(err)) if err.kind() == std::io::ErrorKind::UnexpectedEof => {
                // The stream ends in the middle of a packet: fine for an undeclared length (a cut stream),
                // a truncated file when the header promised more.
                let (rate, channels) = spec.ok_or(Error::Truncated)?;
                let decoded = (samples.len() / usize::from(channels)) as u64;
                match declared_frames {
                    Some(declared) if decoded + u64::from(rate) / 10 < declared => {
                        return Err(Error::Truncated);
                    }
                    _ => break,
                }
            }
            Err(SymphoniaError::ResetRequired) => {
                return Err(Error::Corrupt("the stream changes its format partway".into()));
            }
            Err(err) => return Err(Error::Corrupt(err.to_string())),
        };
        if packet.track_id != track_id {
            continue;
        }
        packets += 1;
        let (this_spec, channels) = if let Some((pcm, rate, channels)) = plain_pcm {
            pcm.extend(&packet.data, usize::from(channels), &mut samples);
            ((rate, channels), channels)
        } else {
            let buffer = match decoder.decode(&packet) {
                Ok(buffer) => buffer,
                // A damaged packet is skipped, as players do; too many of them make the file corrupt.
                Err(SymphoniaError::DecodeError(_) | SymphoniaError::IoError(_)) => {
                    bad_packets += 1;
                    continue;
                }
                Err(err) => return Err(Error::Corrupt(err.to_string())),
            };
            let channels = u16::try_from(buffer.spec().channels().count()).map_err(|_| Error::NoChannels)?;
            let start = samples.len();
            samples.resize(start + buffer.samples_interleaved(), 0.0);
            buffer.copy_to_slice_interleaved(&mut samples[start..]);
            ((buffer.spec().rate(), channels), channels)
        };
        match spec {
            None => {
                check_rate(this_spec.0)?;
                spec = Some(this_spec);
            }
            Some(known) if known != this_spec => {
                return Err(Error::Corrupt(
                    "the sample rate or channel count changes partway".into(),
                ));
            }
            Some(_) => {}
        }
        check_size(
            (samples.len() / usize::from(channels)) as u64,
            this_spec.0,
            channels,
            limits,
        )?;
    }
    if bad_packets * 10 > packets.max(1) {
        return Err(Error::Corrupt(format!(
            "{bad_packets} of {packets} packets could not be decoded"
        )));
    }
    let (rate, channels) = spec.ok_or(Error::Corrupt("no audio could be decoded".into()))?;
    // A float file can hold NaN or infinity, which no sound is and every later sum would spread. Folded
    // rather than `any`, which stops early but does not vectorise: half the time on a clean file.
    if samples.iter().fold(false, |bad, x| bad | !x.is_finite()) {
        return Err(Error::Corrupt(
            "it holds samples that are not numbers (NaN or infinity)".into(),
        ));
    }
    if let Some(trim) = trim {
        apply_trim(&mut samples, trim, usize::from(channels));
    }
    let tags = read_tags(reader.as_mut());
    Ok(Decoded {
        audio: Audio::from_interleaved(samples, rate, channels)?,
        format: SourceFormat {
            container,
            codec: codec_name,
        },
        tags,
    })
}

/// The container's reader for `source`, its format found from the content.
pub(crate) fn probe(source: Box<dyn MediaSource>) -> Result<Box<dyn FormatReader>, SymphoniaError> {
    symphonia::default::get_probe().probe(
        &Hint::new(),
        MediaSourceStream::new(source, Default::default()),
        FormatOptions::default(),
        MetadataOptions::default(),
    )
}

/// Drops the encoder's priming and padding, as the container's edit list says.
fn apply_trim(samples: &mut Vec<f32>, trim: mp4_edits::Trim, channels: usize) {
    let frames = samples.len() / channels;
    let skip = usize::try_from(trim.skip).unwrap_or(usize::MAX).min(frames);
    let keep = usize::try_from(trim.keep)
        .unwrap_or(usize::MAX)
        .min(frames - skip);
    samples.drain(..skip * channels);
    samples.truncate(keep * channels);
}

/// The rates audio is recorded at, with room on both sides; a header outside them is damage, and a
/// resampler asked to convert from it would need memory in proportion.
const RATES: std::ops::RangeInclusive<u32> = 1_000..=768_000;

fn check_rate(rate: u32) -> Result<(), Error> {
    if RATES.contains(&rate) {
        Ok(())
    } else {
        Err(Error::UnsupportedRate { rate })
    }
}

/// The length limit, and a limit on the decoded samples: those of the longest track allowed in stereo at
/// 48 kHz. A few megabytes of compressed silence can hold hours of many channels at a high rate, which
/// would not fit in memory.
fn check_size(frames: u64, rate: u32, channels: u16, limits: &Limits) -> Result<(), Error> {
    let seconds = frames as f64 / f64::from(rate);
    if seconds > limits.max_seconds {
        return Err(Error::TooLong {
            seconds,
            max_seconds: limits.max_seconds,
        });
    }
    if frames as f64 * f64::from(channels) > limits.max_seconds * 48_000.0 * 2.0 {
        return Err(Error::TooManySamples {
            seconds,
            channels,
            rate,
            max_seconds: limits.max_seconds,
        });
    }
    Ok(())
}

/// A name for every codec a user might bring, decodable or not, so a refusal can say what the file is.
fn codec_name(id: AudioCodecId) -> String {
    if let Some(registered) = symphonia::default::get_codecs().get_audio_decoder(id) {
        return registered.codec.info.short_name.to_owned();
    }
    let known = [
        (codec::CODEC_ID_OPUS, "Opus"),
        (codec::CODEC_ID_AAC, "AAC"),
        (codec::CODEC_ID_AC3, "AC-3"),
        (codec::CODEC_ID_EAC3, "E-AC-3"),
        (codec::CODEC_ID_DCA, "DTS"),
        (codec::CODEC_ID_SPEEX, "Speex"),
        (codec::CODEC_ID_WAVPACK, "WavPack"),
        (codec::CODEC_ID_WMA, "WMA"),
        (codec::CODEC_ID_ATRAC3, "ATRAC3"),
    ];
    known.iter().find(|(known_id, _)| *known_id == id).map_or_else(
        || format!("an unknown codec ({id})"),
        |(_, name)| (*name).to_owned(),
    )
}

fn read_tags(reader: &mut dyn FormatReader) -> Tags {
    let mut tags = Tags::default();
    let mut metadata = reader.metadata();
    // Revisions come oldest first; later ones (tags at the end of the file) override earlier ones.
    while let Some(revision) = metadata.pop() {
        apply_revision(&mut tags, &revision);
    }
    if let Some(revision) = metadata.current() {
        apply_revision(&mut tags, revision);
    }
    tags
}

fn apply_revision(tags: &mut Tags, revision: &MetadataRevision) {
    let containers = std::iter::once(&revision.media).chain(revision.per_track.iter().map(|t| &t.metadata));
    for container in containers {
        for tag in &container.tags {
            let (slot, value) = match &tag.std {
                Some(StandardTag::TrackTitle(value)) => (&mut tags.title, value),
                Some(StandardTag::Artist(value)) => (&mut tags.artist, value),
                Some(StandardTag::Album(value)) => (&mut tags.album, value),
                _ => continue,
            };
            let value = value.trim();
            if !value.is_empty() {
                *slot = Some(value.to_owned());
            }
        }
        let cover = container
            .visuals
            .iter()
            .find(|v| v.usage == Some(StandardVisualKey::FrontCover))
            .or_else(|| container.visuals.first());
        if let Some(visual) = cover {
            tags.picture = Some(Picture {
                media_type: visual.media_type.clone(),
                data: visual.data.to_vec(),
            });
        }
    }
}
