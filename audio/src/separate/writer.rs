//! Writes a finished stem as WAV, measuring its peak and counting the samples an integer format had to clip:
//! nothing is rescaled, so a stem that goes over full scale says so instead of being quietly squashed.

use std::{fs::File, io::BufWriter, path::Path, str::FromStr};

use hound::{SampleFormat as HoundFormat, WavSpec, WavWriter};

use crate::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SampleFormat {
    Wav16,
    #[default]
    Wav24,
    F32,
}

impl FromStr for SampleFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "wav16" => Ok(Self::Wav16),
            "wav24" => Ok(Self::Wav24),
            "f32" => Ok(Self::F32),
            other => Err(format!("{other:?} is not a format: use wav16, wav24 or f32")),
        }
    }
}

impl SampleFormat {
    fn bits(self) -> u16 {
        match self {
            Self::Wav16 => 16,
            Self::Wav24 => 24,
            Self::F32 => 32,
        }
    }
}

/// What a stem's samples did on the way to the file.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Levels {
    /// The largest absolute sample, 1.0 being full scale.
    pub peak: f32,
    /// Samples beyond full scale that an integer format had to clip (a float file keeps them).
    pub clipped: u64,
}

pub struct StemWriter {
    wav: WavWriter<BufWriter<File>>,
    format: SampleFormat,
    channels: usize,
    levels: Levels,
}

fn failed(path: &Path) -> impl Fn(hound::Error) -> Error + '_ {
    move |err| Error::Output(format!("{}: {err}", path.display()))
}

impl StemWriter {
    pub fn create(path: &Path, format: SampleFormat, sample_rate: u32, channels: u16) -> Result<Self, Error> {
        let spec = WavSpec {
            channels,
            sample_rate,
            bits_per_sample: format.bits(),
            sample_format: if format == SampleFormat::F32 {
                HoundFormat::Float
            } else {
                HoundFormat::Int
            },
        };
        Ok(Self {
            wav: WavWriter::create(path, spec).map_err(failed(path))?,
            format,
            channels: usize::from(channels),
            levels: Levels::default(),
        })
    }

    /// Appends stereo frames (interleaved), folded to the file's channel count.
    pub fn write_stereo(&mut self, frames: &[f32]) -> Result<(), hound::Error> {
        for frame in frames.chunks_exact(2) {
            if self.channels == 1 {
                self.write_sample(0.5 * (frame[0] + frame[1]))?;
            } else {
                self.write_sample(frame[0])?;
                self.write_sample(frame[1])?;
            }
        }
        Ok(())
    }

    /// Appends interleaved samples that already have the file's channel count.
    pub fn write_interleaved(&mut self, samples: &[f32]) -> Result<(), hound::Error> {
        samples.iter().try_for_each(|&x| self.write_sample(x))
    }

    fn write_sample(&mut self, x: f32) -> Result<(), hound::Error> {
        self.levels.peak = self.levels.peak.max(x.abs());
        let full_scale = match self.format {
            SampleFormat::F32 => return self.wav.write_sample(x),
            SampleFormat::Wav16 => f32::from(i16::MAX),
            SampleFormat::Wav24 => 8_388_607.0,
        };
        if x.abs() > 1.0 {
            self.levels.clipped += 1;
        }
        self.wav
            .write_sample((x.clamp(-1.0, 1.0) * full_scale).round() as i32)
    }

    pub fn finish(self, path: &Path) -> Result<Levels, Error> {
        self.wav.finalize().map_err(failed(path))?;
        Ok(self.levels)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_clip_and_count_floats_keep_everything() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        for (format, clipped) in [
            (SampleFormat::Wav16, 2),
            (SampleFormat::Wav24, 2),
            (SampleFormat::F32, 0),
        ] {
            let path = dir.path().join("stem.wav");
            let mut writer = StemWriter::create(&path, format, 44_100, 2).expect("creates");
            writer.write_stereo(&[0.5, -1.5, 1.25, 0.0]).expect("writes");
            let levels = writer.finish(&path).expect("finishes");
            assert_eq!(levels, Levels { peak: 1.5, clipped });
            let reader = hound::WavReader::open(&path).expect("reads back");
            assert_eq!(reader.spec().bits_per_sample, format.bits());
            assert_eq!(reader.len(), 4);
        }
    }

    #[test]
    fn mono_stems_are_the_mean_of_the_model_channels() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = dir.path().join("stem.wav");
        let mut writer = StemWriter::create(&path, SampleFormat::F32, 48_000, 1).expect("creates");
        writer.write_stereo(&[0.5, 0.25, -1.0, 0.0]).expect("writes");
        writer.finish(&path).expect("finishes");
        let samples: Vec<f32> = hound::WavReader::open(&path)
            .expect("reads back")
            .into_samples()
            .collect::<Result<_, _>>()
            .expect("samples");
        assert_eq!(samples, [0.375, -0.5]);
    }

    #[test]
    fn formats_are_named_as_the_cli_names_them() {
        assert_eq!("wav16".parse(), Ok(SampleFormat::Wav16));
        assert_eq!("f32".parse(), Ok(SampleFormat::F32));
        assert!("flac".parse::<SampleFormat>().is_err());
    }
}
