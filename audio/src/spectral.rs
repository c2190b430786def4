//! Frame-wise features, defined as librosa 0.11 defines them so the numbers compare:
//! spectral centroid, roll-off, bandwidth and flatness from an [`Stft`](crate::stft::Stft) magnitude frame,
//! and zero-crossing rate and RMS energy from frames of the signal itself.

/// librosa's floor for power in the flatness measure.
const FLATNESS_AMIN: f64 = 1e-10;

/// The frame's total magnitude; `None` for a silent frame, where the features below are 0.
fn total(magnitudes: &[f32]) -> Option<f64> {
    let total: f64 = magnitudes.iter().map(|&m| f64::from(m)).sum();
    (total > 0.0).then_some(total)
}

/// The magnitude-weighted mean frequency, Hz; 0 for a silent frame.
pub fn centroid(magnitudes: &[f32], frequencies: &[f32]) -> f32 {
    let Some(total) = total(magnitudes) else {
        return 0.0;
    };
    let weighted: f64 = magnitudes
        .iter()
        .zip(frequencies)
        .map(|(&m, &f)| f64::from(m) * f64::from(f))
        .sum();
    (weighted / total) as f32
}

/// The lowest frequency below which `fraction` of the frame's magnitude lies (librosa: roll_percent 0.85).
pub fn rolloff(magnitudes: &[f32], frequencies: &[f32], fraction: f32) -> f32 {
    let Some(total) = total(magnitudes) else {
        return 0.0;
    };
    let threshold = f64::from(fraction) * total;
    let mut cumulative = 0.0;
    for (&m, &f) in magnitudes.iter().zip(frequencies) {
        cumulative += f64::from(m);
        if cumulative >= threshold {
            return f;
        }
    }
    frequencies.last().copied().unwrap_or(0.0)
}

/// The magnitude-weighted standard deviation around `centroid`, Hz (librosa: p = 2, normalised).
pub fn bandwidth(magnitudes: &[f32], frequencies: &[f32], centroid: f32) -> f32 {
    let Some(total) = total(magnitudes) else {
        return 0.0;
    };
    let spread: f64 = magnitudes
        .iter()
        .zip(frequencies)
        .map(|(&m, &f)| f64::from(m) / total * (f64::from(f) - f64::from(centroid)).powi(2))
        .sum();
    spread.sqrt() as f32
}

/// Geometric over arithmetic mean of the power spectrum: near 1 for white noise's flat spectrum, near 0
/// for a tone.
pub fn flatness(magnitudes: &[f32]) -> f32 {
    let n = magnitudes.len().max(1) as f64;
    let (mut log_sum, mut sum) = (0.0f64, 0.0f64);
    // A logarithm per bin is most of the cost: take one per 16 bins, of their product instead. Powers lie
    // between 1e-10 and about 1e8 (a full-scale 2048-point frame), so 16 of them multiply within f64's range.
    for chunk in magnitudes.chunks(16) {
        let mut product = 1.0f64;
        for &m in chunk {
            let power = (f64::from(m) * f64::from(m)).max(FLATNESS_AMIN);
            product *= power;
            sum += power;
        }
        log_sum += product.ln();
    }
    ((log_sum / n).exp() / (sum / n)) as f32
}

/// Octave bands of spectral contrast: the first below this, then six octaves up from it.
const CONTRAST_FMIN: f64 = 200.0;
const CONTRAST_BANDS: usize = 6;
const CONTRAST_QUANTILE: f64 = 0.02;
const DB_AMIN: f64 = 1e-10;
const DB_RANGE: f64 = 80.0;

/// Spectral contrast (Jiang et al., as librosa defines it): in each of seven octave bands, the mean of the
/// strongest 2% of bins over the mean of the weakest 2%, in dB, for every frame of `spectrogram`. The dB
/// values are floored 80 dB below the strongest peak (or valley) of the whole spectrogram, as librosa's
/// `power_to_db` does. `frequencies` are the STFT's bin frequencies; the top band must start below Nyquist.
pub fn spectral_contrast(
    spectrogram: &crate::stft::Spectrogram,
    frequencies: &[f32],
) -> Vec<[f64; CONTRAST_BANDS + 1]> {
    let mut edges = vec![0.0];
    edges.extend((0..=CONTRAST_BANDS).map(|k| CONTRAST_FMIN * 2f64.powi(k as i32)));
    // Each band's bins, as librosa picks them: the bin just below the band joins it, and the top band takes
    // everything above; every band but the top then drops its highest bin.
    let bands: Vec<(std::ops::Range<usize>, usize)> = (0..=CONTRAST_BANDS)
        .map(|k| {
            let inside = |f: f32| f64::from(f) >= edges[k] && f64::from(f) <= edges[k + 1];
            let first = frequencies.iter().position(|&f| inside(f)).unwrap_or(0);
            let last = frequencies.iter().rposition(|&f| inside(f)).unwrap_or(0);
            let start = if k > 0 { first.saturating_sub(1) } else { first };
            let end = if k == CONTRAST_BANDS {
                frequencies.len()
            } else {
                last + 1
            };
            let count = end - start;
            let take = ((CONTRAST_QUANTILE * count as f64).round_ties_even() as usize).max(1);
            let end = if k < CONTRAST_BANDS { end - 1 } else { end };
            (start..end, take)
        })
        .collect();
    let mut peaks = Vec::with_capacity(spectrogram.frame_count());
    let mut valleys = Vec::with_capacity(spectrogram.frame_count());
    // Magnitudes are never negative, and the bits of a non-negative float order as the float does: the
    // selections compare integers, several times faster than floats by `total_cmp`.
    let mut band_bits: Vec<u32> = Vec::new();
    let mean_of =
        |bits: &[u32]| bits.iter().map(|&b| f64::from(f32::from_bits(b))).sum::<f64>() / bits.len() as f64;
    for frame in spectrogram.frames() {
        let mut peak = [0.0; CONTRAST_BANDS + 1];
        let mut valley = [0.0; CONTRAST_BANDS + 1];
        for (k, (range, take)) in bands.iter().enumerate() {
            band_bits.clear();
            band_bits.extend(frame[range.clone()].iter().map(|&m| m.max(0.0).to_bits()));
            let n = band_bits.len();
            let take = (*take).min(n).max(1);
            // Only the weakest and the strongest `take` are needed, in any order: two selections, no sort.
            band_bits.select_nth_unstable(take - 1);
            valley[k] = mean_of(&band_bits[..take]);
            band_bits[take - 1..].select_nth_unstable(n - take - (take - 1));
            peak[k] = mean_of(&band_bits[n - take..]);
        }
        peaks.push(peak);
        valleys.push(valley);
    }
    let to_db = |values: &[[f64; CONTRAST_BANDS + 1]]| -> Vec<[f64; CONTRAST_BANDS + 1]> {
        let db = |v: f64| 10.0 * v.max(DB_AMIN).log10();
        let loudest = values
            .iter()
            .flatten()
            .map(|&v| db(v))
            .fold(f64::NEG_INFINITY, f64::max);
        values
            .iter()
            .map(|row| row.map(|v| db(v).max(loudest - DB_RANGE)))
            .collect()
    };
    to_db(&peaks)
        .iter()
        .zip(to_db(&valleys))
        .map(|(p, v)| std::array::from_fn(|k| p[k] - v[k]))
        .collect()
}

/// How the signal is extended past its ends when frames are centred on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Padding {
    /// Zeros (librosa's RMS).
    Zero,
    /// The first and last samples repeated (librosa's zero-crossing rate).
    Edge,
}

/// Frames of `length` samples every `hop`, centred on sample `t · hop` as the STFT's are.
pub fn centred_frames(signal: &[f32], length: usize, hop: usize, padding: Padding) -> Vec<Vec<f32>> {
    let half = (length / 2) as isize;
    let sample = |at: isize| match usize::try_from(at).ok().and_then(|at| signal.get(at)) {
        Some(&x) => x,
        None if padding == Padding::Zero || signal.is_empty() => 0.0,
        None if at < 0 => signal[0],
        None => signal[signal.len() - 1],
    };
    (0..1 + signal.len() / hop)
        .map(|t| {
            (0..length)
                .map(|i| sample((t * hop) as isize - half + i as isize))
                .collect()
        })
        .collect()
}

/// The zero-crossing rate of every frame of `length` samples centred on sample `t · hop`, the signal's
/// ends repeated past its edges (as [`centred_frames`] with [`Padding::Edge`] frames it, librosa's
/// framing). Counted from a running total of crossings, so each sample is looked at once, not once per
/// overlapping frame.
pub fn zero_crossing_rates(signal: &[f32], length: usize, hop: usize) -> Vec<f32> {
    let negative = |x: f32| x < -ZERO_THRESHOLD;
    // `before[j]`: crossings between samples 0..=j; the repeated edges never cross.
    let mut before = Vec::with_capacity(signal.len());
    let mut count = 0u32;
    before.push(0);
    for pair in signal.windows(2) {
        count += u32::from(negative(pair[0]) != negative(pair[1]));
        before.push(count);
    }
    let last = signal.len().saturating_sub(1) as isize;
    let at = |i: isize| before.get(i.clamp(0, last) as usize).copied().unwrap_or(0);
    (0..1 + signal.len() / hop)
        .map(|t| {
            let start = (t * hop) as isize - (length / 2) as isize;
            (at(start + length as isize - 1) - at(start)) as f32 / length.max(1) as f32
        })
        .collect()
}

/// Values this close to zero count as zero, which counts as positive (librosa's `threshold`, `zero_pos`).
const ZERO_THRESHOLD: f32 = 1e-10;

/// Sign changes per sample.
pub fn zero_crossing_rate(frame: &[f32]) -> f32 {
    let negative = |x: f32| x < -ZERO_THRESHOLD;
    let crossings = frame
        .windows(2)
        .filter(|pair| negative(pair[0]) != negative(pair[1]))
        .count();
    crossings as f32 / frame.len().max(1) as f32
}

pub fn rms(frame: &[f32]) -> f32 {
    let sum: f64 = frame.iter().map(|&x| f64::from(x) * f64::from(x)).sum();
    (sum / frame.len().max(1) as f64).sqrt() as f32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stft::Stft;

    const RATE: u32 = 22_050;

    fn sine(frequency: f64, seconds: f64) -> Vec<f32> {
        (0..(f64::from(RATE) * seconds) as usize)
            .map(|i| {
                (0.5 * (2.0 * std::f64::consts::PI * frequency * i as f64 / f64::from(RATE)).sin()) as f32
            })
            .collect()
    }

    fn noise(samples: usize) -> Vec<f32> {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        (0..samples)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5
            })
            .collect()
    }

    /// The mean of `feature` over the frames of `signal`, edges excluded (they see the zero padding).
    fn mean_over(signal: &[f32], feature: impl Fn(&[f32], &[f32]) -> f32) -> f32 {
        let stft = Stft::new(2048, 512);
        let freqs = stft.frequencies(RATE);
        let spectrogram = stft.magnitudes(signal);
        let inner: Vec<f32> = spectrogram
            .frames()
            .skip(4)
            .take(spectrogram.frame_count() - 8)
            .map(|m| feature(m, &freqs))
            .collect();
        inner.iter().sum::<f32>() / inner.len() as f32
    }

    #[test]
    fn a_sine_has_its_frequency_as_centroid_and_rolloff_and_no_bandwidth_or_flatness() {
        // 1033.59 Hz sits exactly on bin 96 of a 2048-point FFT at 22.05 kHz.
        let frequency = 96.0 * f64::from(RATE) / 2048.0;
        let tone = sine(frequency, 2.0);
        let centroid_hz = mean_over(&tone, centroid);
        assert!(
            (f64::from(centroid_hz) - frequency).abs() < 1.0,
            "centroid {centroid_hz}"
        );
        let rolloff_hz = mean_over(&tone, |m, f| rolloff(m, f, 0.85));
        assert!(
            (f64::from(rolloff_hz) - frequency).abs() < 11.0,
            "rolloff {rolloff_hz}"
        );
        let spread = mean_over(&tone, |m, f| bandwidth(m, f, centroid(m, f)));
        assert!(spread < 20.0, "bandwidth {spread}");
        assert!(mean_over(&tone, |m, _| flatness(m)) < 0.01);
    }

    #[test]
    fn white_noise_is_flat_and_rolls_off_at_85_percent_of_nyquist() {
        let hiss = noise(RATE as usize * 3);
        let rolloff_hz = mean_over(&hiss, |m, f| rolloff(m, f, 0.85));
        assert!(
            (rolloff_hz / 11_025.0 - 0.85).abs() < 0.02,
            "rolloff {rolloff_hz}"
        );
        let centroid_hz = mean_over(&hiss, centroid);
        assert!(
            (centroid_hz / 11_025.0 - 0.5).abs() < 0.02,
            "centroid {centroid_hz}"
        );
        // The power of a noise bin is exponentially distributed, whose geometric/arithmetic mean is e^−γ.
        let flat = mean_over(&hiss, |m, _| flatness(m));
        assert!((flat - 0.5615).abs() < 0.03, "flatness {flat}");
    }

    #[test]
    fn crossings_and_rms_of_a_sine() {
        let tone = sine(441.0, 1.0);
        let frames = centred_frames(&tone, 2048, 512, Padding::Edge);
        assert_eq!(frames.len(), 1 + tone.len() / 512);
        // 441 Hz crosses zero 882 times a second: 0.04 per sample at 22.05 kHz.
        let zcr = zero_crossing_rate(&frames[10]);
        assert!((zcr - 0.04).abs() < 0.002, "zcr {zcr}");
        let level = rms(&centred_frames(&tone, 2048, 512, Padding::Zero)[10]);
        assert!((level - 0.5 / 2f32.sqrt()).abs() < 0.005, "rms {level}");
        assert_eq!(rms(&[]), 0.0);
        let framed: Vec<f32> = frames.iter().map(|f| zero_crossing_rate(f)).collect();
        assert_eq!(zero_crossing_rates(&tone, 2048, 512), framed);
        let clicks: Vec<f32> = (0..3000).map(|i| if i % 7 < 3 { -0.5 } else { 0.5 }).collect();
        let framed: Vec<f32> = centred_frames(&clicks, 256, 100, Padding::Edge)
            .iter()
            .map(|f| zero_crossing_rate(f))
            .collect();
        assert_eq!(zero_crossing_rates(&clicks, 256, 100), framed);
        assert_eq!(
            centred_frames(&[1.0, 2.0], 4, 2, Padding::Edge)[0],
            vec![1.0, 1.0, 1.0, 2.0]
        );
        assert_eq!(
            centred_frames(&[1.0, 2.0], 4, 2, Padding::Zero)[1],
            vec![1.0, 2.0, 0.0, 0.0]
        );
    }
}
