//! Chroma: the energy of each of the 12 pitch classes, C first, from a power spectrogram, defined as
//! librosa's `chroma_stft` defines it: each FFT bin spreads over the pitch classes with a Gaussian of its
//! own width (a bin is wide at low frequencies), weighted towards the octaves around C5 (a Gaussian over
//! octaves centred on 5 with width 2), then each frame is scaled so its strongest class is 1.

use crate::stft::Spectrogram;

const CLASSES: usize = 12;
const CENTRE_OCTAVE: f64 = 5.0;
const OCTAVE_WIDTH: f64 = 2.0;

/// The weights of every FFT bin on every pitch class.
pub struct ChromaFilterbank {
    weights: Vec<[f64; CLASSES]>,
}

impl ChromaFilterbank {
    /// `tuning` is the deviation from A440 in fractions of a semitone.
    pub fn new(sample_rate: u32, n_fft: usize, tuning: f64) -> Self {
        let n = CLASSES as f64;
        let a440 = 440.0 * 2f64.powf(tuning / n);
        // Position of each bin in semitones above A0/16's octave, bin 0 extrapolated below bin 1.
        let mut positions: Vec<f64> = (1..n_fft)
            .map(|k| n * (k as f64 * f64::from(sample_rate) / n_fft as f64 / (a440 / 16.0)).log2())
            .collect();
        positions.insert(0, positions[0] - 1.5 * n);
        let widths: Vec<f64> = positions
            .windows(2)
            .map(|p| (p[1] - p[0]).max(1.0))
            .chain(std::iter::once(1.0))
            .collect();
        let half = (n / 2.0).round();
        let weights = positions
            .iter()
            .zip(&widths)
            .take(n_fft / 2 + 1)
            .map(|(&position, &width)| {
                let mut column = [0.0; CLASSES];
                for (class, weight) in column.iter_mut().enumerate() {
                    let distance = (position - class as f64 + half + 10.0 * n).rem_euclid(n) - half;
                    *weight = (-0.5 * (2.0 * distance / width).powi(2)).exp();
                }
                let norm = column.iter().map(|w| w * w).sum::<f64>().sqrt();
                let octave_weight = (-0.5 * ((position / n - CENTRE_OCTAVE) / OCTAVE_WIDTH).powi(2)).exp();
                for weight in &mut column {
                    *weight = *weight / norm * octave_weight;
                }
                // Rows were counted from A; start them at C.
                column.rotate_left(3);
                column
            })
            .collect();
        Self { weights }
    }

    /// The chroma of one magnitude frame, its strongest class scaled to 1 (all 0 for silence).
    pub fn apply(&self, magnitudes: &[f32]) -> [f64; CLASSES] {
        let mut chroma = [0.0; CLASSES];
        for (column, &m) in self.weights.iter().zip(magnitudes) {
            let power = f64::from(m) * f64::from(m);
            for (c, w) in chroma.iter_mut().zip(column) {
                *c += w * power;
            }
        }
        let strongest = chroma.iter().copied().fold(0.0, f64::max);
        if strongest > f64::from(f32::MIN_POSITIVE) {
            for c in &mut chroma {
                *c /= strongest;
            }
        }
        chroma
    }
}

/// Chroma of every frame of an `n_fft`-point STFT.
pub fn chroma(spectrogram: &Spectrogram, sample_rate: u32, tuning: f64) -> Vec<[f64; CLASSES]> {
    let bank = ChromaFilterbank::new(sample_rate, (spectrogram.bins - 1) * 2, tuning);
    spectrogram.frames().map(|frame| bank.apply(frame)).collect()
}

/// The mean of chroma frames, class by class (all 0 for none).
pub fn mean_chroma(frames: &[[f64; CLASSES]]) -> [f64; CLASSES] {
    std::array::from_fn(|c| crate::stats::mean(frames.iter().map(|f| f[c])))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stft::Stft;

    #[test]
    fn an_a_major_triad_lights_a_c_sharp_and_e() {
        let rate = 22_050;
        let notes = [440.0, 554.37, 659.26];
        let signal: Vec<f32> = (0..rate)
            .map(|i| {
                let t = f64::from(i) / f64::from(rate);
                notes
                    .iter()
                    .map(|f| 0.2 * (2.0 * std::f64::consts::PI * f * t).sin())
                    .sum::<f64>() as f32
            })
            .collect();
        let frames = chroma(&Stft::new(2048, 512).magnitudes(&signal), rate, 0.0);
        let middle = frames[frames.len() / 2];
        let (a, c_sharp, e) = (9, 1, 4);
        for (class, &value) in middle.iter().enumerate() {
            if [a, c_sharp, e].contains(&class) {
                assert!(value > 0.5, "class {class}: {value} in {middle:?}");
            } else {
                assert!(value < 0.35, "class {class}: {value} in {middle:?}");
            }
        }
    }
}
