//! Sample-rate conversion (rubato's FFT resampler, for a fixed ratio) and channel downmixing: the analysis
//! runs on mono at 22.05 kHz as librosa does, and the separation model wants 44.1 kHz.

use rubato::{Fft, FixedSync, Resampler, audioadapter_buffers::direct::InterleavedSlice};

use crate::{Audio, Error};

/// Frames the resampler takes per step; larger is faster, and it does not change the result's length.
const CHUNK_FRAMES: usize = 4096;

/// `audio` at `rate`, the channels kept, its start aligned with the original's (the resampler's delay is
/// removed).
pub fn resample(audio: &Audio, rate: u32) -> Result<Audio, Error> {
    if audio.sample_rate() == rate {
        return Ok(audio.clone());
    }
    let channels = usize::from(audio.channels());
    let failed = |err: &dyn std::fmt::Display| Error::Resample(err.to_string());
    let mut resampler = Fft::<f32>::new(
        audio.sample_rate() as usize,
        rate as usize,
        CHUNK_FRAMES,
        channels,
        FixedSync::Input,
    )
    .map_err(|err| failed(&err))?;
    let input =
        InterleavedSlice::new(audio.samples(), channels, audio.frames()).map_err(|err| failed(&err))?;
    let output = resampler
        .process_all(&input, audio.frames(), None)
        .map_err(|err| failed(&err))?;
    Audio::from_interleaved(output.take_data(), rate, audio.channels())
}

/// The mean of the channels, one channel out.
pub fn to_mono(audio: &Audio) -> Audio {
    let channels = usize::from(audio.channels());
    let mono = match channels {
        // Stereo, the usual case, in a form the compiler vectorises.
        2 => audio
            .samples()
            .chunks_exact(2)
            .map(|frame| (frame[0] + frame[1]) * 0.5)
            .collect(),
        _ => audio
            .samples()
            .chunks_exact(channels)
            .map(|frame| frame.iter().sum::<f32>() / channels as f32)
            .collect(),
    };
    Audio::from_interleaved(mono, audio.sample_rate(), 1).expect("whole frames of one channel")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spectral::{rms, zero_crossing_rate};

    fn sine(rate: u32, frequency: f64, seconds: f64, channels: u16) -> Audio {
        let samples = (0..(f64::from(rate) * seconds) as usize)
            .flat_map(|i| {
                let x = (0.5 * (2.0 * std::f64::consts::PI * frequency * i as f64 / f64::from(rate)).sin())
                    as f32;
                std::iter::repeat_n(x, usize::from(channels))
            })
            .collect();
        Audio::from_interleaved(samples, rate, channels).expect("valid")
    }

    #[test]
    fn a_sine_keeps_its_pitch_level_length_and_phase() {
        for (from, to) in [
            (44_100, 22_050),
            (48_000, 44_100),
            (22_050, 44_100),
            (8_000, 44_100),
        ] {
            let source = sine(from, 441.0, 2.0, 2);
            let out = resample(&source, to).expect("resamples");
            assert_eq!((out.sample_rate(), out.channels()), (to, 2));
            let want_frames = (source.frames() as u64 * u64::from(to)).div_ceil(u64::from(from)) as usize;
            assert!(
                out.frames().abs_diff(want_frames) <= 1,
                "{from}→{to}: {} frames, want {want_frames}",
                out.frames()
            );
            let left: Vec<f32> = out.samples().iter().step_by(2).copied().collect();
            let middle = &left[left.len() / 4..3 * left.len() / 4];
            assert!(
                (rms(middle) - 0.5 / 2f32.sqrt()).abs() < 0.005,
                "{from}→{to}: rms {}",
                rms(middle)
            );
            let zcr = zero_crossing_rate(middle) * to as f32;
            assert!((zcr - 882.0).abs() < 5.0, "{from}→{to}: {zcr} crossings a second");
            // No delay: the sine still starts at phase 0, rising.
            let quarter_period = (f64::from(to) / 441.0 / 4.0) as usize;
            assert!(
                left[quarter_period] > 0.45,
                "{from}→{to}: {} a quarter period in",
                left[quarter_period]
            );
        }
    }

    #[test]
    fn the_same_rate_is_a_copy_and_mono_is_the_mean() {
        let source = sine(22_050, 100.0, 0.1, 1);
        assert_eq!(resample(&source, 22_050).expect("copies"), source);
        let stereo = Audio::from_interleaved(vec![1.0, 0.0, 0.5, -0.5], 8_000, 2).expect("valid");
        assert_eq!(to_mono(&stereo).samples(), &[0.5, 0.0]);
        let three = Audio::from_interleaved(vec![0.3, 0.0, 0.6], 8_000, 3).expect("valid");
        assert!((to_mono(&three).samples()[0] - 0.3).abs() < 1e-7);
    }
}
