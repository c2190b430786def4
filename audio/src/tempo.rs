//! Tempo from the onset envelope, as librosa's `feature.tempo` estimates it, with one improvement: the
//! winning lag is refined by a parabola through its neighbours, so the result is not snapped to the lag
//! grid (librosa reads 117.5 for 115).
//!
//! The envelope's autocorrelation is taken in 8-second windows centred on every frame (Hann-weighted,
//! each normalised to its zero lag), averaged, and scored with a log-normal prior centred on 120 BPM with
//! a standard deviation of one octave. Tempi above 320 BPM are not considered.

use std::sync::Arc;

use realfft::{RealFftPlanner, num_complex::Complex};

const WINDOW_SECONDS: f64 = 8.0;
const PRIOR_BPM: f64 = 120.0;
const PRIOR_OCTAVES: f64 = 1.0;
const MAX_BPM: f64 = 320.0;

/// The tempo in BPM and how periodic the onsets are at that tempo.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TempoEstimate {
    pub bpm: f64,
    /// The winning lag's mean autocorrelation, 0 (no periodicity) to 1.
    pub confidence: f64,
}

impl TempoEstimate {
    /// Half and double the tempo: the readings a DJ may count instead.
    pub fn alternatives(&self) -> [f64; 2] {
        [self.bpm / 2.0, self.bpm * 2.0]
    }
}

/// `envelope` is an onset strength with one value every `hop` samples at `sample_rate`. `None` when it
/// holds no periodicity at all (silence, a single hit).
pub fn estimate_tempo(envelope: &[f64], sample_rate: u32, hop: usize) -> Option<TempoEstimate> {
    let frames_per_second = f64::from(sample_rate) / hop as f64;
    let window = (WINDOW_SECONDS * frames_per_second).floor() as usize;
    let tempogram = mean_autocorrelation(envelope, window);
    let bpm_of = |lag: f64| 60.0 * frames_per_second / lag;
    let score = |lag: usize| {
        let bpm = bpm_of(lag as f64);
        if bpm >= MAX_BPM {
            return f64::NEG_INFINITY;
        }
        let prior = -0.5 * ((bpm.log2() - PRIOR_BPM.log2()) / PRIOR_OCTAVES).powi(2);
        (1e6 * tempogram[lag]).ln_1p() + prior
    };
    let best = (1..window).max_by(|&a, &b| score(a).total_cmp(&score(b)))?;
    if tempogram[best] <= 0.0 || !score(best).is_finite() {
        return None;
    }
    // The vertex of the parabola through the best lag and its neighbours.
    let lag = if best + 1 < window && score(best - 1).is_finite() {
        let (before, at, after) = (score(best - 1), score(best), score(best + 1));
        let curvature = before - 2.0 * at + after;
        let shift = if curvature < 0.0 {
            0.5 * (before - after) / curvature
        } else {
            0.0
        };
        best as f64 + shift.clamp(-0.5, 0.5)
    } else {
        best as f64
    };
    Some(TempoEstimate {
        bpm: bpm_of(lag),
        confidence: tempogram[best].clamp(0.0, 1.0),
    })
}

/// librosa's autocorrelation tempogram, averaged over time: for every frame, the autocorrelation (lags
/// `0..window`) of the Hann-weighted `window` frames centred on it, scaled so its largest value is 1.
fn mean_autocorrelation(envelope: &[f64], window: usize) -> Vec<f64> {
    let n = envelope.len();
    let half = window / 2;
    // Ramps from 0 to the edge values, as numpy's `linear_ramp` padding.
    let padded: Vec<f64> = (0..half)
        .map(|i| envelope.first().copied().unwrap_or(0.0) * i as f64 / half as f64)
        .chain(envelope.iter().copied())
        .chain(
            (0..half).map(|j| envelope.last().copied().unwrap_or(0.0) * (half - 1 - j) as f64 / half as f64),
        )
        .collect();
    let hann: Vec<f64> = (0..window)
        .map(|i| 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / window as f64).cos())
        .collect();
    let size = (2 * window).next_power_of_two();
    let mut planner = RealFftPlanner::<f64>::new();
    let (forward, inverse): (Arc<_>, Arc<_>) =
        (planner.plan_fft_forward(size), planner.plan_fft_inverse(size));
    let mut input = forward.make_input_vec();
    let mut spectrum: Vec<Complex<f64>> = forward.make_output_vec();
    let mut output = inverse.make_output_vec();
    let mut mean = vec![0.0; window];
    for frame in 0..n {
        input.fill(0.0);
        for (slot, (x, w)) in input
            .iter_mut()
            .zip(padded[frame..frame + window].iter().zip(&hann))
        {
            *slot = x * w;
        }
        forward
            .process(&mut input, &mut spectrum)
            .expect("buffers come from the plan");
        spectrum
            .iter_mut()
            .for_each(|c| *c = Complex::new(c.norm_sqr(), 0.0));
        inverse
            .process(&mut spectrum, &mut output)
            .expect("buffers come from the plan");
        let peak = output[..window].iter().fold(0.0f64, |m, &v| m.max(v.abs()));
        if peak > 0.0 {
            for (m, &v) in mean.iter_mut().zip(&output[..window]) {
                *m += v / peak / n as f64;
            }
        }
    }
    mean
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        mel::mel_db,
        onset::{Aggregate, onset_strength},
        stft::Stft,
    };

    const RATE: u32 = 22_050;

    /// A click track: a 5 ms burst of a 1.5 kHz tone on every beat, 30 s.
    fn clicks(bpm: f64) -> Vec<f32> {
        let period = 60.0 / bpm;
        (0..RATE as usize * 30)
            .map(|i| {
                let t = i as f64 / f64::from(RATE);
                let since_beat = t % period;
                if since_beat < 0.005 {
                    (0.8 * (2.0 * std::f64::consts::PI * 1500.0 * t).sin()) as f32
                } else {
                    0.0
                }
            })
            .collect()
    }

    fn tempo_of(signal: &[f32]) -> Option<TempoEstimate> {
        let envelope = onset_strength(
            &mel_db(&Stft::new(2048, 512).magnitudes(signal), RATE),
            Aggregate::Median,
        );
        estimate_tempo(&envelope, RATE, 512)
    }

    #[test]
    fn click_tracks_read_their_tempo_off_the_grid() {
        // The tempi, and 115, which falls between two lags (librosa says 117.5). A click track has
        // no onsets between beats, so no octave is ambiguous here; real music is judged by the benchmark.
        for bpm in [70.0, 87.0, 115.0, 120.0, 140.0, 174.0] {
            let estimate = tempo_of(&clicks(bpm)).expect("a tempo");
            assert!(
                (estimate.bpm / bpm - 1.0).abs() < 0.01,
                "{bpm} BPM read as {}",
                estimate.bpm
            );
            assert!(
                estimate.confidence > 0.1,
                "{bpm} BPM: confidence {}",
                estimate.confidence
            );
        }
    }

    #[test]
    fn silence_has_no_tempo() {
        assert_eq!(tempo_of(&vec![0.0; RATE as usize * 10]), None);
    }
}
