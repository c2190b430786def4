//! The short-time Fourier transform every spectral feature starts from.
//!
//! Defined as librosa 0.10+ defines it, so our numbers can be compared with theirs: a periodic Hann window
//! of `n_fft` samples, frames every `hop` samples, centred (the signal padded with `n_fft / 2` zeros at both
//! ends, so frame `t` is centred on sample `t · hop`), no normalisation. A signal of `n` samples gives
//! `1 + n / hop` frames of `n_fft / 2 + 1` bins.

use std::sync::Arc;

use realfft::{RealFftPlanner, RealToComplex, num_complex::Complex};

pub struct Stft {
    n_fft: usize,
    hop: usize,
    window: Vec<f32>,
    fft: Arc<dyn RealToComplex<f32>>,
}

/// Magnitudes, frame after frame, `bins` values each.
#[derive(Debug, Clone, PartialEq)]
pub struct Spectrogram {
    pub bins: usize,
    pub data: Vec<f32>,
}

impl Spectrogram {
    pub fn frames(&self) -> impl ExactSizeIterator<Item = &[f32]> {
        self.data.chunks_exact(self.bins)
    }

    pub fn frame_count(&self) -> usize {
        self.data.len() / self.bins
    }
}

impl Stft {
    /// `n_fft` must be even and at least 2; `hop` at least 1.
    pub fn new(n_fft: usize, hop: usize) -> Self {
        assert!(
            n_fft >= 2 && n_fft.is_multiple_of(2) && hop >= 1,
            "n_fft {n_fft}, hop {hop}"
        );
        let window = (0..n_fft)
            .map(|i| (0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / n_fft as f64).cos()) as f32)
            .collect();
        Self {
            n_fft,
            hop,
            window,
            fft: RealFftPlanner::new().plan_fft_forward(n_fft),
        }
    }

    pub fn bins(&self) -> usize {
        self.n_fft / 2 + 1
    }

    /// The centre frequency of each bin, in Hz.
    pub fn frequencies(&self, sample_rate: u32) -> Vec<f32> {
        (0..self.bins())
            .map(|k| (k as f64 * f64::from(sample_rate) / self.n_fft as f64) as f32)
            .collect()
    }

    pub fn magnitudes(&self, signal: &[f32]) -> Spectrogram {
        let half = self.n_fft / 2;
        let frames = 1 + signal.len() / self.hop;
        let mut data = Vec::with_capacity(frames * self.bins());
        let mut input = self.fft.make_input_vec();
        let mut spectrum: Vec<Complex<f32>> = self.fft.make_output_vec();
        let mut scratch = self.fft.make_scratch_vec();
        for frame in 0..frames {
            // Sample `frame · hop + i − n_fft/2`, zero outside the signal.
            let start = (frame * self.hop) as isize - half as isize;
            let inside = usize::try_from(start)
                .ok()
                .and_then(|start| signal.get(start..start + self.n_fft));
            if let Some(samples) = inside {
                // Every frame but the few at the ends: a plain product, which vectorises.
                for ((slot, &x), &w) in input.iter_mut().zip(samples).zip(&self.window) {
                    *slot = x * w;
                }
            } else {
                for (i, (slot, w)) in input.iter_mut().zip(&self.window).enumerate() {
                    let at = start + i as isize;
                    let sample = usize::try_from(at)
                        .ok()
                        .and_then(|at| signal.get(at))
                        .copied()
                        .unwrap_or(0.0);
                    *slot = sample * w;
                }
            }
            self.fft
                .process_with_scratch(&mut input, &mut spectrum, &mut scratch)
                .expect("buffers come from the plan, so their lengths match");
            // `norm()` calls `hypot`, careful about overflow that these magnitudes never reach, and slow.
            data.extend(spectrum.iter().map(|c| c.norm_sqr().sqrt()));
        }
        Spectrogram {
            bins: self.bins(),
            data,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_a_naive_dft() {
        let mut state = 12345u32;
        let signal: Vec<f32> = (0..3000)
            .map(|_| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (state >> 8) as f32 / (1u32 << 24) as f32 - 0.5
            })
            .collect();
        let stft = Stft::new(256, 64);
        let spectrogram = stft.magnitudes(&signal);
        assert_eq!(spectrogram.frame_count(), 1 + 3000 / 64);
        for (t, frame) in spectrogram.frames().enumerate().step_by(7) {
            for (k, &got) in frame.iter().enumerate() {
                let (mut re, mut im) = (0.0f64, 0.0f64);
                for n in 0..256 {
                    let at = (t * 64 + n) as isize - 128;
                    let x = usize::try_from(at)
                        .ok()
                        .and_then(|at| signal.get(at))
                        .copied()
                        .unwrap_or(0.0);
                    let x = f64::from(x * stft.window[n]);
                    let phase = -2.0 * std::f64::consts::PI * (k * n) as f64 / 256.0;
                    re += x * phase.cos();
                    im += x * phase.sin();
                }
                let want = re.hypot(im);
                assert!(
                    (f64::from(got) - want).abs() <= 1e-4 * (1.0 + want),
                    "frame {t} bin {k}: {got} vs {want}"
                );
            }
        }
    }

    #[test]
    fn frequencies_span_zero_to_nyquist() {
        let freqs = Stft::new(2048, 512).frequencies(22_050);
        assert_eq!(freqs.len(), 1025);
        assert_eq!(freqs[0], 0.0);
        assert!((freqs[1024] - 11_025.0).abs() < 1e-3);
    }
}
