//! Frame-wise features, defined as librosa 0.11 defines them so the numbers compare:
//! spectral centroid, roll-off, bandwidth and flatness from an [`Stft`](crate::stft::Stft) magnitude frame,
//! and zero-crossing rate and RMS energy from frames of the signal itself.

/// librosa's floor for power in the flatness measure.
const FLATNESS_AMIN: f64 = 1e-10;
/// The share of a frame's magnitude below its roll-off frequency (librosa's `roll_percent`).
const ROLL_PERCENT: f64 = 0.85;
/// Independent running sums, so that the compiler can keep them in one vector register.
const LANES: usize = 4;

/// The shape of one magnitude frame. Centroid, roll-off and bandwidth are 0 for a silent frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FrameShape {
    /// The magnitude-weighted mean frequency, Hz.
    pub centroid: f64,
    /// The lowest frequency below which 85% of the frame's magnitude lies, Hz.
    pub rolloff: f64,
    /// The magnitude-weighted standard deviation around the centroid, Hz (librosa: p = 2, normalised).
    pub bandwidth: f64,
    /// Geometric over arithmetic mean of the power spectrum: near 1 for white noise's flat spectrum, near
    /// 0 for a tone.
    pub flatness: f64,
}

impl FrameShape {
    /// All four from one pass over the bins (and a second, stopped at the roll-off, for the roll-off).
    pub fn of(magnitudes: &[f32], frequencies: &[f32]) -> Self {
        let mut total = [0.0f64; LANES];
        let mut first = [0.0f64; LANES];
        let mut second = [0.0f64; LANES];
        let mut power = [0.0f64; LANES];
        let mut log_power = 0.0f64;
        // A logarithm per bin would be most of the cost: take one per 16 bins, of their product instead.
        // Powers lie between 1e-10 and about 1e8 (a full-scale 2048-point frame), so 16 of them multiply
        // within f64's range.
        for (ms, fs) in magnitudes.chunks(4 * LANES).zip(frequencies.chunks(4 * LANES)) {
            let mut product = [1.0f64; LANES];
            for (m4, f4) in ms.chunks(LANES).zip(fs.chunks(LANES)) {
                for (lane, (&m, &f)) in m4.iter().zip(f4).enumerate() {
                    let (m, f) = (f64::from(m), f64::from(f));
                    total[lane] += m;
                    first[lane] += m * f;
                    second[lane] += m * f * f;
                    let p = (m * m).max(FLATNESS_AMIN);
                    power[lane] += p;
                    product[lane] *= p;
                }
            }
            log_power += product.iter().product::<f64>().ln();
        }
        let n = magnitudes.len().max(1) as f64;
        let sum = |lanes: [f64; LANES]| lanes.iter().sum::<f64>();
        let flatness = (log_power / n).exp() / (sum(power) / n);
        let total = sum(total);
        if total <= 0.0 {
            return Self {
                centroid: 0.0,
                rolloff: 0.0,
                bandwidth: 0.0,
                flatness,
            };
        }
        let centroid = sum(first) / total;
        // Σ m (f − c)² / Σ m, expanded; in f64 the cancellation costs nothing a frequency in Hz would show.
        let bandwidth = (sum(second) / total - centroid * centroid).max(0.0).sqrt();
        let threshold = ROLL_PERCENT * total;
        let mut cumulative = 0.0;
        let rolloff = magnitudes
            .iter()
            .zip(frequencies)
            .find_map(|(&m, &f)| {
                cumulative += f64::from(m);
                (cumulative >= threshold).then_some(f)
            })
            .or(frequencies.last().copied())
            .map_or(0.0, f64::from);
        Self {
            centroid,
            rolloff,
            bandwidth,
            flatness,
        }
    }
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
    let mut extremes = Extremes::default();
    for frame in spectrogram.frames() {
        let mut peak = [0.0; CONTRAST_BANDS + 1];
        let mut valley = [0.0; CONTRAST_BANDS + 1];
        for (k, (range, take)) in bands.iter().enumerate() {
            let band = &frame[range.clone()];
            let take = (*take).min(band.len()).max(1);
            (valley[k], peak[k]) = extremes.means(band, take);
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

/// The weakest and the strongest few of a band's magnitudes, each found in one pass: a block of magnitudes is
/// compared with the last of those kept so far, and nearly all blocks go no further. A spectrum mostly falls
/// with frequency, so the weakest are looked for from the top of the band down and the strongest from the
/// bottom up: that way the first few seen are already near the answer. Magnitudes are never negative, and
/// the bits of a non-negative float order as the float does, so they are compared as integers (which
/// vectorises). The buffers are kept between bands.
#[derive(Default)]
struct Extremes {
    weakest: Vec<u32>,
    strongest: Vec<u32>,
}

/// Magnitudes looked at together, one vector compare.
const BLOCK: usize = 8;

impl Extremes {
    /// The means of the `take` weakest and the `take` strongest of `band` (`1 ≤ take ≤ band.len()`).
    fn means(&mut self, band: &[f32], take: usize) -> (f64, f64) {
        let (rest, top) = band.split_at(band.len() - take);
        let (bottom, above) = band.split_at(take);
        (
            mean_of_first(&mut self.weakest, top, rest.rchunks(BLOCK), |new, kept| {
                new < kept
            }),
            mean_of_first(&mut self.strongest, bottom, above.chunks(BLOCK), |new, kept| {
                new > kept
            }),
        )
    }
}

/// The mean of the `start.len()` values of `start` and `blocks` that come first in the order `before`.
fn mean_of_first<'a>(
    kept: &mut Vec<u32>,
    start: &[f32],
    blocks: impl Iterator<Item = &'a [f32]>,
    before: impl Fn(u32, u32) -> bool,
) -> f64 {
    // A −0.0 counts as 0.
    let bits = |m: &f32| m.to_bits() & 0x7fff_ffff;
    let take = start.len();
    kept.clear();
    kept.extend(start.iter().map(bits));
    kept.sort_unstable_by(|&a, &b| before(b, a).cmp(&before(a, b)));
    for block in blocks {
        let last = kept[take - 1];
        if !block.iter().fold(false, |any, m| any | before(bits(m), last)) {
            continue;
        }
        for value in block.iter().map(bits) {
            if before(value, kept[take - 1]) {
                // The last kept makes way; the new value sinks to its place (`take` is a few).
                let mut at = take - 1;
                kept[at] = value;
                while at > 0 && before(kept[at], kept[at - 1]) {
                    kept.swap(at, at - 1);
                    at -= 1;
                }
            }
        }
    }
    kept.iter().map(|&b| f64::from(f32::from_bits(b))).sum::<f64>() / take as f64
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
    fn mean_over(signal: &[f32], feature: impl Fn(FrameShape) -> f64) -> f64 {
        let stft = Stft::new(2048, 512);
        let freqs = stft.frequencies(RATE);
        let spectrogram = stft.magnitudes(signal);
        let inner: Vec<f64> = spectrogram
            .frames()
            .skip(4)
            .take(spectrogram.frame_count() - 8)
            .map(|m| feature(FrameShape::of(m, &freqs)))
            .collect();
        inner.iter().sum::<f64>() / inner.len() as f64
    }

    #[test]
    fn a_sine_has_its_frequency_as_centroid_and_rolloff_and_no_bandwidth_or_flatness() {
        // 1033.59 Hz sits exactly on bin 96 of a 2048-point FFT at 22.05 kHz.
        let frequency = 96.0 * f64::from(RATE) / 2048.0;
        let tone = sine(frequency, 2.0);
        let centroid_hz = mean_over(&tone, |s| s.centroid);
        assert!((centroid_hz - frequency).abs() < 1.0, "centroid {centroid_hz}");
        let rolloff_hz = mean_over(&tone, |s| s.rolloff);
        assert!((rolloff_hz - frequency).abs() < 11.0, "rolloff {rolloff_hz}");
        let spread = mean_over(&tone, |s| s.bandwidth);
        assert!(spread < 20.0, "bandwidth {spread}");
        assert!(mean_over(&tone, |s| s.flatness) < 0.01);
    }

    #[test]
    fn white_noise_is_flat_and_rolls_off_at_85_percent_of_nyquist() {
        let hiss = noise(RATE as usize * 3);
        let rolloff_hz = mean_over(&hiss, |s| s.rolloff);
        assert!(
            (rolloff_hz / 11_025.0 - 0.85).abs() < 0.02,
            "rolloff {rolloff_hz}"
        );
        let centroid_hz = mean_over(&hiss, |s| s.centroid);
        assert!(
            (centroid_hz / 11_025.0 - 0.5).abs() < 0.02,
            "centroid {centroid_hz}"
        );
        // The power of a noise bin is exponentially distributed, whose geometric/arithmetic mean is e^−γ.
        let flat = mean_over(&hiss, |s| s.flatness);
        assert!((flat - 0.5615).abs() < 0.03, "flatness {flat}");
    }

    #[test]
    fn the_weakest_and_strongest_are_those_a_sort_finds() {
        let values: Vec<f32> = noise(600).iter().map(|x| x.abs()).collect();
        let mut extremes = Extremes::default();
        for (n, take) in [
            (1, 1),
            (2, 1),
            (5, 3),
            (19, 1),
            (75, 2),
            (300, 6),
            (600, 12),
            (600, 300),
        ] {
            let band = &values[..n];
            let mut sorted = band.to_vec();
            sorted.sort_by(f32::total_cmp);
            let mean = |kept: &[f32]| kept.iter().map(|&m| f64::from(m)).sum::<f64>() / take as f64;
            let (weakest, strongest) = extremes.means(band, take);
            assert!((weakest - mean(&sorted[..take])).abs() < 1e-12, "{n} {take}");
            assert!(
                (strongest - mean(&sorted[n - take..])).abs() < 1e-12,
                "{n} {take}"
            );
        }
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
