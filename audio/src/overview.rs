//! What the track page draws: waveform peaks at several zoom levels, and the energy curve.

use crate::{Audio, spectral::rms};

/// The lowest and highest sample, over all channels, of one slice of the track.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Peak {
    pub min: f32,
    pub max: f32,
}

/// `buckets` min/max pairs across the whole track (fewer for a track shorter than that in frames).
pub fn waveform_peaks(audio: &Audio, buckets: usize) -> Vec<Peak> {
    let channels = usize::from(audio.channels());
    let frames = audio.frames();
    let buckets = buckets.min(frames);
    (0..buckets)
        .map(|b| {
            let (start, end) = (b * frames / buckets, (b + 1) * frames / buckets);
            bucket_peak(&audio.samples()[start * channels..end * channels])
        })
        .collect()
}

/// The lowest and highest of `samples`, and never above or below 0. Kept in eight lanes as plain
/// comparisons, which the compiler turns into vector instructions (`f32::min`'s NaN rule stops it).
fn bucket_peak(samples: &[f32]) -> Peak {
    const LANES: usize = 8;
    let (mut low, mut high) = ([0.0f32; LANES], [0.0f32; LANES]);
    let mut chunks = samples.chunks_exact(LANES);
    for chunk in &mut chunks {
        for ((l, h), &x) in low.iter_mut().zip(&mut high).zip(chunk) {
            *l = if x < *l { x } else { *l };
            *h = if x > *h { x } else { *h };
        }
    }
    let rest = chunks.remainder();
    Peak {
        min: low.iter().chain(rest).fold(0.0, |m, &x| m.min(x)),
        max: high.iter().chain(rest).fold(0.0, |m, &x| m.max(x)),
    }
}

/// RMS energy of `mono` in windows of `window_seconds`, scaled so the loudest window is 1 (all 0 for
/// silence). One value per window; the last, partial window counts too.
pub fn energy_curve(mono: &[f32], sample_rate: u32, window_seconds: f64) -> Vec<f32> {
    let window = ((f64::from(sample_rate) * window_seconds).round() as usize).max(1);
    let mut curve: Vec<f32> = mono.chunks(window).map(rms).collect();
    let loudest = curve.iter().copied().fold(0.0, f32::max);
    if loudest > 0.0 {
        curve.iter_mut().for_each(|e| *e /= loudest);
    }
    curve
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peaks_cover_every_sample_once() {
        let samples: Vec<f32> = (0..1000)
            .map(|i| ((i as f32) * 0.01).sin() * if i < 500 { 0.2 } else { 0.9 })
            .collect();
        let audio = Audio::from_interleaved(samples, 1000, 1).expect("valid");
        let peaks = waveform_peaks(&audio, 10);
        assert_eq!(peaks.len(), 10);
        assert!(peaks[..5].iter().all(|p| p.max <= 0.2 && p.min >= -0.2));
        assert!(peaks[5..].iter().any(|p| p.max > 0.8));
        assert_eq!(waveform_peaks(&audio, 5000).len(), 1000);
        let stereo = Audio::from_interleaved(vec![0.1, -0.7, 0.3, 0.2], 1000, 2).expect("valid");
        assert_eq!(waveform_peaks(&stereo, 1), vec![Peak { min: -0.7, max: 0.3 }]);
    }

    #[test]
    fn the_energy_curve_follows_the_level() {
        let quiet_then_loud: Vec<f32> = (0..4000).map(|i| if i < 2000 { 0.1 } else { -0.4 }).collect();
        let curve = energy_curve(&quiet_then_loud, 1000, 0.5);
        assert_eq!(curve.len(), 8);
        assert!(curve[..4].iter().all(|&e| (e - 0.25).abs() < 1e-6), "{curve:?}");
        assert!(curve[4..].iter().all(|&e| (e - 1.0).abs() < 1e-6), "{curve:?}");
        assert_eq!(energy_curve(&[0.0; 100], 1000, 0.01), vec![0.0; 10]);
    }
}
