use crate::Error;

/// Decoded audio: interleaved `f32` samples in `[-1, 1]`, with the rate and channel count they were made at.
///
/// The constructor guarantees whole frames, so every consumer can index `frame * channels + channel`
/// without checking.
#[derive(Debug, Clone, PartialEq)]
pub struct Audio {
    samples: Vec<f32>,
    sample_rate: u32,
    channels: u16,
}

impl Audio {
    pub fn from_interleaved(samples: Vec<f32>, sample_rate: u32, channels: u16) -> Result<Self, Error> {
        if channels == 0 {
            return Err(Error::NoChannels);
        }
        if sample_rate == 0 {
            return Err(Error::ZeroSampleRate);
        }
        if !samples.len().is_multiple_of(usize::from(channels)) {
            return Err(Error::PartialFrame {
                samples: samples.len(),
                channels,
            });
        }
        Ok(Self {
            samples,
            sample_rate,
            channels,
        })
    }

    pub fn samples(&self) -> &[f32] {
        &self.samples
    }

    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    pub fn channels(&self) -> u16 {
        self.channels
    }

    pub fn frames(&self) -> usize {
        self.samples.len() / usize::from(self.channels)
    }

    /// The duration counted from the samples themselves, never from a container's header.
    pub fn duration_seconds(&self) -> f64 {
        self.frames() as f64 / f64::from(self.sample_rate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duration_comes_from_the_frames() {
        let audio = Audio::from_interleaved(vec![0.0; 2 * 22_050], 44_100, 2).expect("valid audio");
        assert_eq!(audio.frames(), 22_050);
        assert!((audio.duration_seconds() - 0.5).abs() < 1e-12);
    }

    #[test]
    fn refuses_what_is_not_whole_frames() {
        assert_eq!(
            Audio::from_interleaved(vec![0.0; 3], 44_100, 2),
            Err(Error::PartialFrame {
                samples: 3,
                channels: 2
            })
        );
        assert_eq!(Audio::from_interleaved(vec![], 44_100, 0), Err(Error::NoChannels));
        assert_eq!(Audio::from_interleaved(vec![], 0, 1), Err(Error::ZeroSampleRate));
    }
}
