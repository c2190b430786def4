//! A mix of some of a track's stems: the "minus one" a musician plays along to (every stem but theirs). The
//! stems are summed sample by sample, as the separation made them add up to the track; nothing is rescaled,
//! so the mix of every stem is the track again, and the writer counts what an integer format had to clip.

use std::path::Path;

use crate::{
    Error, Limits, decode,
    separate::{Levels, SampleFormat, writer::StemWriter},
};

/// Sums the stem files at `stems` into one WAV at `out`. The stems of one separation share their rate and
/// channels; a shorter one is silent past its end. One stem is decoded at a time beside the sum.
pub fn mix_stems(
    stems: &[&Path],
    out: &Path,
    format: SampleFormat,
    limits: &Limits,
) -> Result<Levels, Error> {
    let open = |path: &Path| {
        let file =
            std::fs::File::open(path).map_err(|err| Error::Output(format!("{}: {err}", path.display())))?;
        decode(file, limits).map(|decoded| decoded.audio)
    };
    let (first, rest) = stems
        .split_first()
        .ok_or_else(|| Error::Output("a mix needs at least one stem".into()))?;
    let first = open(first)?;
    let (rate, channels) = (first.sample_rate(), first.channels());
    let mut sum = first.samples().to_vec();
    drop(first);
    for path in rest {
        let stem = open(path)?;
        if (stem.sample_rate(), stem.channels()) != (rate, channels) {
            return Err(Error::Output(format!(
                "{} is {} Hz, {} channels; the other stems are {rate} Hz, {channels} channels",
                path.display(),
                stem.sample_rate(),
                stem.channels()
            )));
        }
        add(&mut sum, stem.samples());
    }
    let failed = |err: hound::Error| Error::Output(format!("{}: {err}", out.display()));
    let mut writer = StemWriter::create(out, format, rate, channels)?;
    writer.write_interleaved(&sum).map_err(failed)?;
    writer.finish(out)
}

/// `sum += more`, the shorter one padded with silence.
fn add(sum: &mut Vec<f32>, more: &[f32]) {
    if more.len() > sum.len() {
        sum.resize(more.len(), 0.0);
    }
    for (total, &x) in sum.iter_mut().zip(more) {
        *total += x;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Audio;

    fn write(path: &Path, samples: Vec<f32>, rate: u32) {
        let audio = Audio::from_interleaved(samples, rate, 2).expect("audio");
        let mut writer = StemWriter::create(path, SampleFormat::F32, rate, 2).expect("writer");
        writer.write_interleaved(audio.samples()).expect("written");
        writer.finish(path).expect("finished");
    }

    #[test]
    fn the_mix_is_the_sum_and_as_long_as_the_longest_stem() {
        let dir = tempfile::tempdir().expect("a folder");
        let (a, b, out) = (
            dir.path().join("a.wav"),
            dir.path().join("b.wav"),
            dir.path().join("mix.wav"),
        );
        write(&a, vec![0.25, -0.25, 0.5, 0.5], 8000);
        write(&b, vec![0.25, 0.25, 0.25, 0.25, 0.1, 0.2], 8000);
        let levels = mix_stems(&[&a, &b], &out, SampleFormat::F32, &Limits::default()).expect("mixed");
        let mixed = decode(std::fs::File::open(&out).expect("open"), &Limits::default()).expect("decodes");
        assert_eq!(mixed.audio.samples(), [0.5, 0.0, 0.75, 0.75, 0.1, 0.2]);
        assert_eq!(mixed.audio.sample_rate(), 8000);
        assert_eq!(levels.peak, 0.75);
    }

    #[test]
    fn stems_that_do_not_belong_together_are_refused() {
        let dir = tempfile::tempdir().expect("a folder");
        let (a, b, out) = (
            dir.path().join("a.wav"),
            dir.path().join("b.wav"),
            dir.path().join("mix.wav"),
        );
        write(&a, vec![0.0; 4], 8000);
        write(&b, vec![0.0; 4], 16000);
        let err = mix_stems(&[&a, &b], &out, SampleFormat::Wav16, &Limits::default()).expect_err("refused");
        assert!(err.to_string().contains("16000 Hz"), "{err}");
        assert!(mix_stems(&[], &out, SampleFormat::Wav16, &Limits::default()).is_err());
    }
}
