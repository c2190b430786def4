//! Stems made elsewhere (the cloud engine's), made to look exactly like ours: the source's sample rate,
//! its length to the frame and its channel layout, written in the chosen format with their levels, and the
//! residual of their sum against the mix, so the page can say whether they add back up.

use std::path::Path;

use super::{Separation, Stem, writer::StemWriter};
use crate::{
    Audio, Error,
    resample::{resample, to_mono},
    separate::SampleFormat,
};

/// The channels our stems of `mix` have: two for stereo, one for anything else (as the local engine).
fn layout(mix: &Audio) -> u16 {
    if mix.channels() == 2 { 2 } else { 1 }
}

/// `audio` with `channels` channels (one or two) at `rate`, exactly `frames` long: cut, or padded with
/// silence where a service's file came up short.
fn conform(audio: &Audio, rate: u32, channels: u16, frames: usize) -> Result<Vec<f32>, Error> {
    let fewer = if audio.channels() > 2 || (channels == 1 && audio.channels() == 2) {
        to_mono(audio)
    } else {
        audio.clone()
    };
    let resampled = resample(&fewer, rate)?;
    let mut samples = if resampled.channels() == channels {
        resampled.samples().to_vec()
    } else {
        // One channel played on both sides.
        resampled.samples().iter().flat_map(|&x| [x, x]).collect()
    };
    samples.resize(frames * usize::from(channels), 0.0);
    Ok(samples)
}

/// Writes each of `stems` (named, decoded one at a time as the iterator yields them) to
/// `out_dir/<name>.wav`, conformed to `mix`. The first stem that could not be had stops it, with its error.
pub fn adopt<E: From<Error>>(
    mix: &Audio,
    stems: impl IntoIterator<Item = Result<(String, Audio), E>>,
    out_dir: &Path,
    format: SampleFormat,
) -> Result<Separation, E> {
    let channels = layout(mix);
    let reference = if mix.channels() == channels {
        mix.samples().to_vec()
    } else {
        to_mono(mix).samples().to_vec()
    };
    let mut sum = vec![0.0f64; reference.len()];
    let mut written = Vec::new();
    for stem in stems {
        let (name, audio) = stem?;
        let samples = conform(&audio, mix.sample_rate(), channels, mix.frames())?;
        drop(audio);
        for (total, &x) in sum.iter_mut().zip(&samples) {
            *total += f64::from(x);
        }
        let path = out_dir.join(format!("{name}.wav"));
        let mut writer = StemWriter::create(&path, format, mix.sample_rate(), channels)?;
        writer
            .write_interleaved(&samples)
            .map_err(|err| Error::Output(format!("{}: {err}", path.display())))?;
        written.push(Stem {
            name,
            levels: writer.finish(&path)?,
            path,
        });
    }
    let residual: f64 = sum
        .iter()
        .zip(&reference)
        .map(|(total, &x)| (total - f64::from(x)).powi(2))
        .sum();
    let energy: f64 = reference.iter().map(|&x| f64::from(x).powi(2)).sum();
    let tiny = f64::MIN_POSITIVE;
    Ok(Separation {
        stems: written,
        residual_db: 10.0 * ((residual + tiny) / (energy + tiny)).log10(),
        chunks: 0,
        resumed_at: 0,
    })
}

/// The first `seconds` of `audio` (all of it when shorter): what a preview sends away.
pub fn excerpt(audio: &Audio, seconds: f64) -> Audio {
    let frames = ((seconds * f64::from(audio.sample_rate())) as usize).min(audio.frames());
    let samples = audio.samples()[..frames * usize::from(audio.channels())].to_vec();
    Audio::from_interleaved(samples, audio.sample_rate(), audio.channels())
        .expect("whole frames of a valid buffer")
}

/// Writes `audio` as it is to a WAV file at `path`.
pub fn write_wav(audio: &Audio, path: &Path, format: SampleFormat) -> Result<(), Error> {
    let mut writer = StemWriter::create(path, format, audio.sample_rate(), audio.channels())?;
    writer
        .write_interleaved(audio.samples())
        .map_err(|err| Error::Output(format!("{}: {err}", path.display())))?;
    writer.finish(path).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(rate: u32, channels: u16, seconds: f64, gain: f32) -> Audio {
        let frames = (f64::from(rate) * seconds) as usize;
        let samples = (0..frames)
            .flat_map(|n| {
                let t = n as f32 / rate as f32;
                let x = gain * (0.5 * (2.0 * std::f32::consts::PI * 440.0 * t).sin());
                (0..channels).map(move |c| if c == 0 { x } else { 0.8 * x })
            })
            .collect();
        Audio::from_interleaved(samples, rate, channels).expect("a tone")
    }

    fn read(path: &Path) -> (hound::WavSpec, Vec<f32>) {
        let reader = hound::WavReader::open(path).expect("a WAV file");
        let spec = reader.spec();
        let samples = match spec.sample_format {
            hound::SampleFormat::Float => reader.into_samples::<f32>().collect::<Result<_, _>>(),
            hound::SampleFormat::Int => {
                let scale = (1u32 << (spec.bits_per_sample - 1)) as f32;
                reader
                    .into_samples::<i32>()
                    .map(|x| x.map(|x| x as f32 / scale))
                    .collect()
            }
        };
        (spec, samples.expect("samples"))
    }

    #[test]
    fn stems_that_add_up_get_the_mix_layout_and_a_deep_residual() {
        let dir = tempfile::tempdir().expect("a folder");
        let mix = tone(44_100, 2, 1.0, 1.0);
        let quarter = tone(44_100, 2, 1.0, 0.25);
        // A service's files: one a few frames long, one short, as encoders leave them.
        let long =
            Audio::from_interleaved([quarter.samples(), &[0.1; 40]].concat(), 44_100, 2).expect("longer");
        let rest = tone(44_100, 2, 1.0, 0.75);
        let short = Audio::from_interleaved(rest.samples()[..rest.samples().len() - 200].to_vec(), 44_100, 2)
            .expect("shorter");
        let separated = adopt::<Error>(
            &mix,
            [Ok(("vocals".to_owned(), long)), Ok(("other".to_owned(), short))],
            dir.path(),
            SampleFormat::F32,
        )
        .expect("adopts");
        assert_eq!(separated.stems.len(), 2);
        for stem in &separated.stems {
            let (spec, samples) = read(&stem.path);
            assert_eq!((spec.sample_rate, spec.channels), (44_100, 2));
            assert_eq!(samples.len(), mix.samples().len(), "{}", stem.name);
        }
        // Only the 100 frames the short file lacked are missing from the sum.
        let missing: f64 = rest.samples()[rest.samples().len() - 200..]
            .iter()
            .map(|&x| f64::from(x).powi(2))
            .sum();
        let energy: f64 = mix.samples().iter().map(|&x| f64::from(x).powi(2)).sum();
        let expected = 10.0 * (missing / energy).log10();
        assert!(
            (separated.residual_db - expected).abs() < 0.5,
            "{} dB, expected about {expected} dB",
            separated.residual_db
        );
        assert!((separated.stems[0].levels.peak - 0.125).abs() < 1e-3);
    }

    #[test]
    fn other_rates_and_channel_counts_are_conformed_to_the_source() {
        let dir = tempfile::tempdir().expect("a folder");
        let mix = tone(48_000, 1, 0.5, 1.0);
        let stereo_at_44 = tone(44_100, 2, 0.5, 1.0);
        let separated = adopt::<Error>(
            &mix,
            [Ok(("drums".to_owned(), stereo_at_44))],
            dir.path(),
            SampleFormat::Wav16,
        )
        .expect("adopts");
        let (spec, samples) = read(&separated.stems[0].path);
        assert_eq!(
            (spec.sample_rate, spec.channels, spec.bits_per_sample),
            (48_000, 1, 16)
        );
        assert_eq!(samples.len(), mix.frames());
        // The mean of a channel and 0.8 of it: 0.9 of the mix, so 20·log10(0.1) away, give or take the
        // resampler and 16 bits.
        assert!(
            (separated.residual_db + 20.0).abs() < 1.0,
            "{} dB",
            separated.residual_db
        );
    }

    #[test]
    fn a_stem_that_fails_to_decode_stops_the_adoption() {
        let dir = tempfile::tempdir().expect("a folder");
        let mix = tone(44_100, 2, 0.1, 1.0);
        let err = adopt::<Error>(&mix, [Err(Error::Truncated)], dir.path(), SampleFormat::Wav24)
            .expect_err("fails");
        assert!(matches!(err, Error::Truncated));
    }

    #[test]
    fn an_excerpt_is_the_start_and_never_longer_than_the_audio() {
        let audio = tone(8_000, 2, 2.0, 1.0);
        let start = excerpt(&audio, 0.5);
        assert_eq!(start.frames(), 4_000);
        assert_eq!(start.samples(), &audio.samples()[..8_000]);
        assert_eq!(excerpt(&audio, 60.0).frames(), audio.frames());
        let dir = tempfile::tempdir().expect("a folder");
        let path = dir.path().join("preview.wav");
        write_wav(&start, &path, SampleFormat::Wav16).expect("writes");
        let (spec, samples) = read(&path);
        assert_eq!((spec.channels, samples.len()), (2, 8_000));
    }
}
