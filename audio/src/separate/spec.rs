//! HTDemucs' spectrogram and its inverse, as demucs computes them around the ONNX core (`_spec`/`_ispec`):
//! a centred, reflect-padded STFT normalised by 1/√n_fft, with demucs' extra reflect padding of 1.5 hops on
//! each side and its two frames of cropping, the Nyquist bin dropped. Computed in f64, as the reference does,
//! so that our stems match it to far below the model's own error.
//!
//! Layout of a spectrogram: `[2·channel + (0 re | 1 im)][bin][frame]`, flat, as the graph's tensors hold it.

use std::sync::Arc;

use realfft::{ComplexToReal, RealFftPlanner, RealToComplex, num_complex::Complex};

pub struct Spectrogram {
    n_fft: usize,
    hop: usize,
    length: usize,
    frames: usize,
    window: Vec<f64>,
    /// 1 / Σ window² over the samples an inverse keeps (demucs divides by the overlap of every frame,
    /// the two zero frames it pads on each side included).
    inverse_norm: Vec<f64>,
    forward: Arc<dyn RealToComplex<f64>>,
    inverse: Arc<dyn ComplexToReal<f64>>,
}

impl Spectrogram {
    /// For signals of `length` samples. demucs' cropping lines the frames up only when `n_fft = 4·hop`;
    /// the model manifest is checked for that before this is built.
    pub fn new(n_fft: usize, hop: usize, length: usize) -> Self {
        assert_eq!(n_fft, 4 * hop, "demucs' framing needs n_fft = 4 hops");
        let window: Vec<f64> = (0..n_fft)
            .map(|i| 0.5 * (1.0 - (2.0 * std::f64::consts::PI * i as f64 / n_fft as f64).cos()))
            .collect();
        let frames = length.div_ceil(hop);
        let pad = Self::pad(hop);
        // Frame i of torch's istft (i in 0..frames + 4) starts at i·hop − n_fft/2 in the padded signal.
        let mut window_sum = vec![0.0; frames * hop + 2 * pad];
        for i in 0..frames + 4 {
            let start = (i * hop) as isize - (n_fft / 2) as isize;
            for (k, w) in window.iter().enumerate() {
                let n = start + k as isize;
                if let Some(sum) = usize::try_from(n).ok().and_then(|n| window_sum.get_mut(n)) {
                    *sum += w * w;
                }
            }
        }
        let inverse_norm = window_sum[pad..pad + length]
            .iter()
            .map(|&sum| if sum > 1e-11 { 1.0 / sum } else { 1.0 })
            .collect();
        let mut planner = RealFftPlanner::new();
        Self {
            n_fft,
            hop,
            length,
            frames,
            window,
            inverse_norm,
            forward: planner.plan_fft_forward(n_fft),
            inverse: planner.plan_fft_inverse(n_fft),
        }
    }

    /// demucs pads 1.5 hops of reflection on each side, so that its frames 2.. line up with the signal.
    fn pad(hop: usize) -> usize {
        hop / 2 * 3
    }

    pub fn bins(&self) -> usize {
        self.n_fft / 2
    }

    pub fn frames(&self) -> usize {
        self.frames
    }

    /// Values in one spectrogram of `channels` channels.
    pub fn size(&self, channels: usize) -> usize {
        2 * channels * self.bins() * self.frames
    }

    /// The spectrogram of `signal`: channels one after another, `length` samples each.
    pub fn forward(&self, signal: &[f32]) -> Vec<f32> {
        let channels = signal.len() / self.length;
        let (bins, frames) = (self.bins(), self.frames);
        let pad = Self::pad(self.hop);
        let scale = 1.0 / (self.n_fft as f64).sqrt();
        let mut out = vec![0.0; self.size(channels)];
        let mut frame = self.forward.make_input_vec();
        let mut spectrum = self.forward.make_output_vec();
        let mut scratch = self.forward.make_scratch_vec();
        for (c, x) in signal.chunks_exact(self.length).enumerate() {
            let (re, im) =
                out[2 * c * bins * frames..(2 * c + 2) * bins * frames].split_at_mut(bins * frames);
            for t in 0..frames {
                for (k, value) in frame.iter_mut().enumerate() {
                    let n = (t * self.hop + k) as isize - pad as isize;
                    *value = f64::from(x[reflect(n, self.length)]) * self.window[k];
                }
                self.forward
                    .process_with_scratch(&mut frame, &mut spectrum, &mut scratch)
                    .expect("buffers come from the plan");
                for (f, z) in spectrum[..bins].iter().enumerate() {
                    re[f * frames + t] = (z.re * scale) as f32;
                    im[f * frames + t] = (z.im * scale) as f32;
                }
            }
        }
        out
    }

    /// The signal of a spectrogram of `channels` channels, `length` samples each, channels one after another.
    pub fn inverse(&self, spec: &[f32], channels: usize) -> Vec<f64> {
        let (bins, frames) = (self.bins(), self.frames);
        let pad = Self::pad(self.hop);
        let scale = 1.0 / (self.n_fft as f64).sqrt();
        let mut out = vec![0.0; channels * self.length];
        let mut sum = vec![0.0; frames * self.hop + 2 * pad];
        let mut spectrum = self.inverse.make_input_vec();
        let mut frame = self.inverse.make_output_vec();
        let mut scratch = self.inverse.make_scratch_vec();
        for (c, x) in out.chunks_exact_mut(self.length).enumerate() {
            let (re, im) = spec[2 * c * bins * frames..(2 * c + 2) * bins * frames].split_at(bins * frames);
            sum.fill(0.0);
            for t in 0..frames {
                for (f, z) in spectrum[..bins].iter_mut().enumerate() {
                    *z = Complex::new(f64::from(re[f * frames + t]), f64::from(im[f * frames + t]));
                }
                // The real transform of a real signal has no imaginary part at 0 Hz, and demucs drops the
                // Nyquist bin: numpy's irfft ignores both, realfft wants them zero.
                spectrum[0].im = 0.0;
                spectrum[bins] = Complex::new(0.0, 0.0);
                self.inverse
                    .process_with_scratch(&mut spectrum, &mut frame, &mut scratch)
                    .expect("buffers come from the plan");
                for (k, value) in frame.iter().enumerate() {
                    sum[t * self.hop + k] += value * scale * self.window[k];
                }
            }
            for ((x, s), norm) in x.iter_mut().zip(&sum[pad..]).zip(&self.inverse_norm) {
                *x = s * norm;
            }
        }
        out
    }
}

/// numpy's `reflect` padding: the edge sample is not repeated. Padding is shorter than the signal here.
fn reflect(n: isize, length: usize) -> usize {
    let last = length as isize - 1;
    let n = n.abs();
    (if n > last { 2 * last - n } else { n }) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reflect_pads_like_numpy() {
        let picked: Vec<usize> = (-3..8).map(|n| reflect(n, 5)).collect();
        assert_eq!(picked, [3, 2, 1, 0, 1, 2, 3, 4, 3, 2, 1]);
    }

    #[test]
    fn the_inverse_undoes_the_forward_transform() {
        let spec = Spectrogram::new(256, 64, 3000);
        let signal: Vec<f32> = (0..2 * 3000)
            .map(|i| ((i as f32 * 0.05).sin() + (i as f32 * 0.31).cos() * 0.3) * 0.5)
            .collect();
        let z = spec.forward(&signal);
        assert_eq!(z.len(), spec.size(2));
        let back = spec.inverse(&z, 2);
        // demucs crops two frames at each end and its inverse puts zeros there, so the outer two hops are
        // not rebuilt; the chunk weights make up for it. Within, only the dropped Nyquist bin is lost, and
        // these signals have almost nothing there.
        let worst = signal
            .chunks_exact(3000)
            .zip(back.chunks_exact(3000))
            .flat_map(|(a, b)| a[128..3000 - 128].iter().zip(&b[128..3000 - 128]))
            .map(|(a, b)| (f64::from(*a) - b).abs())
            .fold(0.0, f64::max);
        assert!(worst < 1e-3, "worst error {worst}");
    }
}
