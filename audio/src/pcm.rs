//! Little-endian 16- and 24-bit integer and 32-bit float PCM, the bulk of WAV files, converted straight
//! from the bytes of a packet. symphonia's reader still parses the container and cuts the packets; its PCM
//! decoder renders every sample through a per-plane closure into a planar buffer that is then interleaved
//! again, which made nine tenths of a WAV file's decoding time. The conversions are symphonia's own
//! (`i16 / 32768`, `i24 / 8388608`), checked sample for sample against its decoder in the tests.

use symphonia::core::codecs::audio::{AudioCodecParameters, well_known as codec};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pcm {
    S16,
    S24,
    F32,
}

impl Pcm {
    /// The layout of `params`'s samples, when they are one of ours and use every bit of their width.
    pub(crate) fn of(params: &AudioCodecParameters) -> Option<Self> {
        let pcm = match params.codec {
            codec::CODEC_ID_PCM_S16LE => Self::S16,
            codec::CODEC_ID_PCM_S24LE => Self::S24,
            codec::CODEC_ID_PCM_F32LE => Self::F32,
            _ => return None,
        };
        let bits = pcm.width() as u32 * 8;
        // Fewer coded bits than the sample's width are shifted into place by symphonia's decoder: left to it.
        let decoded = params.bits_per_sample.unwrap_or(bits);
        let coded = params.bits_per_coded_sample.unwrap_or(decoded);
        (decoded == bits && coded == bits).then_some(pcm)
    }

    /// Bytes per sample.
    fn width(self) -> usize {
        match self {
            Self::S16 => 2,
            Self::S24 => 3,
            Self::F32 => 4,
        }
    }

    /// Appends the samples of `bytes`' whole frames of `channels` to `out` (a partial frame at the end is
    /// dropped, as symphonia's decoder drops it).
    pub(crate) fn extend(self, bytes: &[u8], channels: usize, out: &mut Vec<f32>) {
        let frame = self.width() * channels;
        let bytes = &bytes[..bytes.len() / frame * frame];
        match self {
            Self::S16 => out.extend(
                bytes
                    .chunks_exact(2)
                    .map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / 32_768.0),
            ),
            Self::S24 => out.extend(bytes.chunks_exact(3).map(|b| {
                // The 24 bits in the top of an i32, shifted down with their sign.
                (i32::from_le_bytes([0, b[0], b[1], b[2]]) >> 8) as f32 / 8_388_608.0
            })),
            Self::F32 => out.extend(
                bytes
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use symphonia::core::{codecs::audio::AudioDecoderOptions, formats::TrackType};

    use super::*;

    /// Every packet of a committed fixture, converted here and by symphonia's decoder.
    fn both_ways(fixture: &str) -> (Option<Pcm>, Vec<f32>, Vec<f32>) {
        let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo test sets it");
        let path = std::path::Path::new(&manifest_dir)
            .join("tests/data")
            .join(fixture);
        let file = std::fs::File::open(&path).expect("the fixture is committed");
        let mut reader = crate::decode::probe(Box::new(file)).expect("a WAV file");
        let track = reader.default_track(TrackType::Audio).expect("a track");
        let params = track
            .codec_params
            .as_ref()
            .and_then(|p| p.audio())
            .expect("audio")
            .clone();
        let channels = params.channels.as_ref().expect("channels").count();
        let mut decoder = symphonia::default::get_codecs()
            .make_audio_decoder(&params, &AudioDecoderOptions::default())
            .expect("symphonia decodes it");
        let pcm = Pcm::of(&params);
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        while let Some(packet) = reader.next_packet().expect("reads") {
            if let Some(pcm) = pcm {
                pcm.extend(&packet.data, channels, &mut ours);
            }
            let buffer = decoder.decode(&packet).expect("decodes");
            let start = theirs.len();
            theirs.resize(start + buffer.samples_interleaved(), 0.0);
            buffer.copy_to_slice_interleaved(&mut theirs[start..]);
        }
        (pcm, ours, theirs)
    }

    #[test]
    fn plain_pcm_converts_exactly_as_symphonia_decodes() {
        for (fixture, layout) in [
            ("wav-s16-stereo-44100.wav", Pcm::S16),
            ("wav-s24-mono-48000.wav", Pcm::S24),
            ("wav-extensible-s24-6ch-48000.wav", Pcm::S24),
            ("wav-f32-stereo-44100.wav", Pcm::F32),
        ] {
            let (pcm, ours, theirs) = both_ways(fixture);
            assert_eq!(pcm, Some(layout), "{fixture}");
            assert!(!theirs.is_empty(), "{fixture}");
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&ours), bits(&theirs), "{fixture}");
        }
    }

    #[test]
    fn other_pcm_is_left_to_symphonia() {
        for fixture in [
            "wav-u8-stereo-44100.wav",
            "wav-s32-stereo-44100.wav",
            "aiff-s16-stereo-44100.aiff",
        ] {
            assert_eq!(both_ways(fixture).0, None, "{fixture}");
        }
    }

    #[test]
    fn extremes_and_a_partial_frame() {
        let mut out = Vec::new();
        // Two stereo frames of 24-bit: the most negative and most positive values, then zeros; a stray byte.
        let bytes = [0, 0, 0x80, 0xff, 0xff, 0x7f, 0, 0, 0, 0, 0, 0, 9];
        Pcm::S24.extend(&bytes, 2, &mut out);
        assert_eq!(out, [-1.0, 8_388_607.0 / 8_388_608.0, 0.0, 0.0]);
        out.clear();
        Pcm::S16.extend(&[0x00, 0x80, 0xff, 0x7f, 1], 1, &mut out);
        assert_eq!(out, [-1.0, 32_767.0 / 32_768.0]);
    }
}
