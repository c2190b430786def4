//! Loudness per EBU R128 (ITU-R BS.1770-4): integrated loudness, loudness range, sample and true peak.
//! Integrated loudness and range are measured by the `ebur128` crate (a port of libebur128, the meter
//! behind ffmpeg's); the peaks are ours, with libebur128's interpolator, because measuring them there cost
//! more than the rest of the analysis together (see [`true_peak`]).
//!
//! Channels are weighted as BS.1770 says: a mono file counts once, so a mono tone reads 3 LU lower than
//! the same tone on both channels of a stereo file.

use ebur128::{EbuR128, Mode};

use crate::{Audio, Error};

/// What a loudness meter reads. `None` where the audio is silent (the value would be −∞).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Loudness {
    /// Gated integrated loudness, LUFS.
    pub integrated_lufs: Option<f64>,
    /// Loudness range (LRA), LU.
    pub range_lu: f64,
    /// Highest sample on any channel, dBFS.
    pub sample_peak_dbfs: Option<f64>,
    /// Highest inter-sample peak on any channel (4× oversampled below 96 kHz), dBTP.
    pub true_peak_dbtp: Option<f64>,
}

pub fn measure_loudness(audio: &Audio) -> Result<Loudness, Error> {
    let meter_error = |err: ebur128::Error| Error::Loudness(err.to_string());
    let mut meter = EbuR128::new(
        u32::from(audio.channels()),
        audio.sample_rate(),
        Mode::I | Mode::LRA,
    )
    .map_err(meter_error)?;
    meter.add_frames_f32(audio.samples()).map_err(meter_error)?;
    let sample_peak = audio.samples().iter().fold(0.0f32, |m, &x| m.max(x.abs()));
    let db = |peak: f32| finite(20.0 * f64::from(peak).log10());
    Ok(Loudness {
        integrated_lufs: finite(meter.loudness_global().map_err(meter_error)?),
        range_lu: finite(meter.loudness_range().map_err(meter_error)?).unwrap_or(0.0),
        sample_peak_dbfs: db(sample_peak),
        true_peak_dbtp: db(true_peak(audio, sample_peak)),
    })
}

/// Samples per block of the true-peak scan: a block is skipped when its loudest sample cannot reach the
/// peak found so far.
const PEAK_BLOCK: usize = 256;

/// The highest absolute value of the signal oversampled as libebur128 does: 4× below 96 kHz, 2× below
/// 192 kHz, by a polyphase FIR (a 48-tap Hann-windowed sinc), and never below the sample peak.
///
/// Oversampling every sample is the expensive part of a loudness measurement. An interpolated value is a
/// weighted sum of the samples around it, so it is at most their largest magnitude times the sum of the
/// weights' magnitudes: a block whose samples are too quiet to beat the peak found so far (which starts
/// at the sample peak) is skipped unfiltered, with the same result.
fn true_peak(audio: &Audio, sample_peak: f32) -> f32 {
    let factor = match audio.sample_rate() {
        ..96_000 => 4,
        96_000..192_000 => 2,
        _ => return sample_peak,
    };
    let phases = interpolator(factor);
    let taps = phases[0].len();
    let gain = phases
        .iter()
        .map(|phase| phase.iter().map(|c| c.abs()).sum::<f32>())
        .fold(0.0, f32::max);
    let channels = usize::from(audio.channels());
    let mut peak = sample_peak;
    let mut signal = Vec::with_capacity(audio.frames() + taps);
    let mut sums = [0.0f32; PEAK_BLOCK];
    for channel in 0..channels {
        // The filter starts from silence, as a streaming meter's does.
        signal.clear();
        signal.resize(taps - 1, 0.0);
        signal.extend(audio.samples().iter().skip(channel).step_by(channels));
        for start in (0..audio.frames()).step_by(PEAK_BLOCK) {
            let len = PEAK_BLOCK.min(audio.frames() - start);
            // Output `n` reads samples `n − taps + 1 ..= n`: `signal[n ..= n + taps − 1]`.
            let reach = &signal[start..start + len + taps - 1];
            if reach.iter().fold(0.0f32, |m, &x| m.max(x.abs())) * gain <= peak {
                continue;
            }
            // Phase 0 is the sample itself, already in the sample peak.
            for phase in &phases[1..] {
                let sums = &mut sums[..len];
                sums.fill(0.0);
                for (t, &c) in phase.iter().enumerate() {
                    let delayed = &reach[taps - 1 - t..taps - 1 - t + len];
                    for (sum, &x) in sums.iter_mut().zip(delayed) {
                        *sum += c * x;
                    }
                }
                peak = sums.iter().fold(peak, |m, &x| m.max(x.abs()));
            }
        }
    }
    peak
}

/// libebur128's interpolator as `factor` phases of `48 / factor` taps, the newest sample's tap first:
/// coefficient `j = tap · factor + phase` of a 48-tap Hann-windowed sinc centred on `j = 24`.
fn interpolator(factor: usize) -> Vec<Vec<f32>> {
    const TAPS: usize = 48;
    (0..factor)
        .map(|phase| {
            (0..TAPS / factor)
                .map(|tap| {
                    let j = (tap * factor + phase) as f64;
                    let window = 0.5 * (1.0 - (2.0 * std::f64::consts::PI * j / TAPS as f64).cos());
                    let m = j - TAPS as f64 / 2.0;
                    let x = m * std::f64::consts::PI / factor as f64;
                    (if m.abs() > 1e-6 {
                        window * x.sin() / x
                    } else {
                        window
                    }) as f32
                })
                .collect()
        })
        .collect()
}

fn finite(value: f64) -> Option<f64> {
    value.is_finite().then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 1 kHz sine at `dbfs` (peak) on every channel, for `seconds`, at 48 kHz.
    fn sine(dbfs: f64, seconds: f64, channels: u16) -> Vec<f32> {
        let amplitude = 10f64.powf(dbfs / 20.0);
        let frames = (48_000.0 * seconds) as usize;
        (0..frames)
            .flat_map(|i| {
                let x =
                    (amplitude * (2.0 * std::f64::consts::PI * 1000.0 * i as f64 / 48_000.0).sin()) as f32;
                std::iter::repeat_n(x, usize::from(channels))
            })
            .collect()
    }

    fn measure(samples: Vec<f32>, channels: u16) -> Loudness {
        measure_loudness(&Audio::from_interleaved(samples, 48_000, channels).expect("valid"))
            .expect("measures")
    }

    fn assert_close(what: &str, got: Option<f64>, want: f64, tolerance: f64) {
        let got = got.unwrap_or_else(|| panic!("{what}: no value"));
        assert!(
            (got - want).abs() <= tolerance,
            "{what}: {got}, want {want} ± {tolerance}"
        );
    }

    #[test]
    fn ebu_tech_3341_case_1_reads_minus_23_lufs() {
        // Stereo 1 kHz at −23 dBFS: −23.0 ± 0.1 LUFS.
        let loudness = measure(sine(-23.0, 20.0, 2), 2);
        assert_close("integrated", loudness.integrated_lufs, -23.0, 0.1);
        assert_close("sample peak", loudness.sample_peak_dbfs, -23.0, 0.01);
        assert_close("true peak", loudness.true_peak_dbtp, -23.0, 0.2);
        assert!(
            loudness.range_lu < 0.5,
            "a steady tone has no range: {}",
            loudness.range_lu
        );
    }

    #[test]
    fn ebu_tech_3342_case_1_has_a_range_of_10_lu() {
        // 20 s at −20 dBFS then 20 s at −30 dBFS: LRA 10 ± 1 LU.
        let mut samples = sine(-20.0, 20.0, 2);
        samples.extend(sine(-30.0, 20.0, 2));
        let loudness = measure(samples, 2);
        assert!(
            (loudness.range_lu - 10.0).abs() <= 1.0,
            "range {}",
            loudness.range_lu
        );
    }

    #[test]
    fn a_peak_between_samples_is_found() {
        // A quarter of the sample rate, 45° out of phase: every sample at ±0.707, the wave itself at ±1.
        let samples: Vec<f32> = (0..48_000 * 2)
            .map(|i| (std::f64::consts::FRAC_PI_2 * i as f64 + std::f64::consts::FRAC_PI_4).sin() as f32)
            .collect();
        let loudness = measure(samples, 1);
        assert_close("sample peak", loudness.sample_peak_dbfs, -3.01, 0.01);
        assert_close("true peak", loudness.true_peak_dbtp, 0.0, 0.2);
    }

    #[test]
    fn the_true_peak_is_libebur128s() {
        // Noise with loud and quiet stretches, so that blocks are both skipped and filtered.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for (rate, channels) in [(44_100, 2), (96_000, 1), (48_000, 6)] {
            let samples: Vec<f32> = (0..rate as usize * 3 * usize::from(channels))
                .map(|i| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    let level = if (i / 5000) % 3 == 0 { 0.9 } else { 0.1 };
                    level * ((state >> 40) as f32 / (1u64 << 24) as f32 - 0.5)
                })
                .collect();
            let audio = Audio::from_interleaved(samples, rate, channels).expect("valid");
            let ours = measure_loudness(&audio).expect("measures").true_peak_dbtp;
            let mut meter = EbuR128::new(u32::from(channels), rate, Mode::TRUE_PEAK).expect("a meter");
            meter.add_frames_f32(audio.samples()).expect("measures");
            let theirs = (0..u32::from(channels))
                .map(|c| meter.true_peak(c).expect("a peak"))
                .fold(0.0, f64::max);
            assert_close(
                &format!("true peak at {rate} Hz, {channels} channels"),
                ours,
                20.0 * theirs.log10(),
                1e-3,
            );
        }
    }

    #[test]
    fn mono_counts_one_channel_and_silence_has_no_loudness() {
        assert_close(
            "mono",
            measure(sine(-23.0, 10.0, 1), 1).integrated_lufs,
            -26.0,
            0.1,
        );
        let silent = measure(vec![0.0; 48_000 * 4], 2);
        assert_eq!(
            silent,
            Loudness {
                integrated_lufs: None,
                range_lu: 0.0,
                sample_peak_dbfs: None,
                true_peak_dbtp: None
            }
        );
    }
}
