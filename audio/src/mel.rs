//! Mel spectrogram and MFCC, defined as librosa 0.11's defaults define them, so the numbers compare:
//! Slaney's mel scale (linear to 1 kHz, logarithmic above), triangular filters with Slaney's area
//! normalisation over the power spectrum, `power_to_db` with `ref = 1`, `amin = 1e-10` and an 80 dB floor
//! below the loudest cell, and a type-II DCT with orthonormal scaling.

use crate::stft::Spectrogram;

const MIN_LOG_HZ: f64 = 1000.0;
const LINEAR_HZ_PER_MEL: f64 = 200.0 / 3.0;
const MIN_LOG_MEL: f64 = MIN_LOG_HZ / LINEAR_HZ_PER_MEL;
const AMIN: f64 = 1e-10;
const TOP_DB: f64 = 80.0;

fn log_step() -> f64 {
    6.4f64.ln() / 27.0
}

pub fn hz_to_mel(hz: f64) -> f64 {
    if hz < MIN_LOG_HZ {
        hz / LINEAR_HZ_PER_MEL
    } else {
        MIN_LOG_MEL + (hz / MIN_LOG_HZ).ln() / log_step()
    }
}

pub fn mel_to_hz(mel: f64) -> f64 {
    if mel < MIN_LOG_MEL {
        mel * LINEAR_HZ_PER_MEL
    } else {
        MIN_LOG_HZ * ((mel - MIN_LOG_MEL) * log_step()).exp()
    }
}

/// `n_mels` triangular filters from 0 Hz to Nyquist over the bins of an `n_fft`-point FFT.
pub struct MelFilterbank {
    bins: usize,
    /// Each filter's first bin and its weights from there: a triangle covers a few bins of the 1025, so
    /// applying only those is what makes the mel spectrogram cheap.
    filters: Vec<(usize, Vec<f64>)>,
}

impl MelFilterbank {
    pub fn new(sample_rate: u32, n_fft: usize, n_mels: usize) -> Self {
        let bins = n_fft / 2 + 1;
        let nyquist = f64::from(sample_rate) / 2.0;
        let top = hz_to_mel(nyquist);
        let edges: Vec<f64> = (0..n_mels + 2)
            .map(|i| mel_to_hz(top * i as f64 / (n_mels + 1) as f64))
            .collect();
        let fft_hz: Vec<f64> = (0..bins)
            .map(|k| nyquist * k as f64 / (bins - 1) as f64)
            .collect();
        let filters = (0..n_mels)
            .map(|m| {
                let (low, centre, high) = (edges[m], edges[m + 1], edges[m + 2]);
                let area = 2.0 / (high - low);
                let weights: Vec<f64> = fft_hz
                    .iter()
                    .map(|&f| {
                        let rising = (f - low) / (centre - low);
                        let falling = (high - f) / (high - centre);
                        rising.min(falling).max(0.0) * area
                    })
                    .collect();
                let first = weights.iter().position(|&w| w > 0.0).unwrap_or(0);
                let end = weights
                    .iter()
                    .rposition(|&w| w > 0.0)
                    .map_or(first, |last| last + 1);
                (first, weights[first..end].to_vec())
            })
            .collect();
        Self { bins, filters }
    }

    /// Mel power of one power-spectrum frame, into `out` (one value per filter).
    pub fn apply(&self, power: &[f64], out: &mut [f64]) {
        assert_eq!(power.len(), self.bins, "a frame of the wrong FFT size");
        for ((first, weights), slot) in self.filters.iter().zip(out) {
            *slot = weights.iter().zip(&power[*first..]).map(|(w, p)| w * p).sum();
        }
    }
}

/// Mel bands librosa uses by default, for MFCC and onset strength alike.
pub const N_MELS: usize = 128;

/// How many of the [`N_MELS`] bands from 0 Hz to Nyquist at `sample_rate` centre below `hz`: the
/// bands of [`mel_db`] that hold the bass, for one.
pub fn bands_below(hz: f64, sample_rate: u32) -> usize {
    let top = hz_to_mel(f64::from(sample_rate) / 2.0);
    (0..N_MELS)
        .take_while(|&m| mel_to_hz(top * (m + 1) as f64 / (N_MELS + 1) as f64) < hz)
        .count()
}

/// The mel spectrogram in dB of every frame of `spectrogram` (an `n_fft`-point STFT at `sample_rate`),
/// floored 80 dB below the loudest cell of the whole spectrogram, as librosa's `power_to_db` does. MFCC and
/// onset strength both start from it, so the analysis computes it once.
pub fn mel_db(spectrogram: &Spectrogram, sample_rate: u32) -> Vec<Vec<f64>> {
    let n_fft = (spectrogram.bins - 1) * 2;
    let bank = MelFilterbank::new(sample_rate, n_fft, N_MELS);
    let mut power = vec![0.0; spectrogram.bins];
    let mut db: Vec<Vec<f64>> = spectrogram
        .frames()
        .map(|frame| {
            for (p, &m) in power.iter_mut().zip(frame) {
                *p = f64::from(m) * f64::from(m);
            }
            let mut bands = vec![0.0; N_MELS];
            bank.apply(&power, &mut bands);
            for band in &mut bands {
                *band = 10.0 * band.max(AMIN).log10();
            }
            bands
        })
        .collect();
    let loudest = db.iter().flatten().copied().fold(f64::NEG_INFINITY, f64::max);
    for value in db.iter_mut().flatten() {
        *value = value.max(loudest - TOP_DB);
    }
    db
}

/// `n_mfcc` coefficients for every frame of a [`mel_db`] spectrogram.
pub fn mfcc(mel_db: &[Vec<f64>], n_mfcc: usize) -> Vec<Vec<f64>> {
    let basis = dct_basis(N_MELS, n_mfcc);
    mel_db
        .iter()
        .map(|frame| {
            basis
                .iter()
                .map(|row| row.iter().zip(frame).map(|(b, x)| b * x).sum())
                .collect()
        })
        .collect()
}

/// Rows of the orthonormal type-II DCT: `c_k = s_k Σ x_n cos(π k (2n + 1) / 2N)`.
fn dct_basis(n: usize, keep: usize) -> Vec<Vec<f64>> {
    (0..keep)
        .map(|k| {
            let scale = if k == 0 {
                (1.0 / n as f64).sqrt()
            } else {
                (2.0 / n as f64).sqrt()
            };
            (0..n)
                .map(|i| {
                    scale * (std::f64::consts::PI * k as f64 * (2 * i + 1) as f64 / (2 * n) as f64).cos()
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slaney_mel_scale_is_linear_below_1_khz_and_round_trips() {
        assert!((hz_to_mel(1000.0) - 15.0).abs() < 1e-12);
        assert!((hz_to_mel(500.0) - 7.5).abs() < 1e-12);
        assert!((hz_to_mel(6400.0) - 42.0).abs() < 1e-9, "{}", hz_to_mel(6400.0));
        for hz in [0.0, 123.4, 999.9, 1000.0, 4321.0, 11_025.0] {
            assert!((mel_to_hz(hz_to_mel(hz)) - hz).abs() < 1e-9 * (1.0 + hz));
        }
    }

    #[test]
    fn the_bass_is_the_first_few_bands() {
        // Slaney's scale is linear below 1 kHz: 128 bands over 0–11.025 kHz centre about 26 Hz apart.
        assert_eq!(bands_below(200.0, 22_050), 7);
        assert_eq!(bands_below(0.0, 22_050), 0);
        assert_eq!(bands_below(1e6, 22_050), N_MELS);
    }

    #[test]
    fn the_dct_is_orthonormal() {
        let basis = dct_basis(16, 16);
        for (i, a) in basis.iter().enumerate() {
            for (j, b) in basis.iter().enumerate() {
                let dot: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
                assert!(
                    (dot - f64::from(u8::from(i == j))).abs() < 1e-12,
                    "rows {i}, {j}: {dot}"
                );
            }
        }
    }

    #[test]
    fn filters_cover_the_spectrum_once() {
        // Slaney-normalised triangles each have area 1 on the Hz axis.
        let bank = MelFilterbank::new(22_050, 2048, 40);
        let hz_per_bin = 22_050.0 / 2048.0;
        for (m, (_, w)) in bank.filters.iter().enumerate() {
            let area: f64 = w.iter().sum::<f64>() * hz_per_bin;
            assert!((area - 1.0).abs() < 0.1, "filter {m}: area {area}");
        }
        // The filters sit in order along the spectrum, each a few bins wide.
        let mut ones = vec![0.0; bank.filters.len()];
        bank.apply(&vec![1.0; 1025], &mut ones);
        assert!(
            ones.iter().all(|&v| (v * hz_per_bin - 1.0).abs() < 0.1),
            "{ones:?}"
        );
        assert!(bank.filters.windows(2).all(|f| f[0].0 <= f[1].0));
    }
}
