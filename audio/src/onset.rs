//! Onset strength: how much new energy each frame brings, the raw material of tempo and beat tracking.
//! Defined as librosa's `onset_strength` defaults define it: the positive frame-to-frame rise of the mel
//! spectrogram in dB, averaged over the mel bands, delayed so that a value sits on the frame where the
//! rise is centred (the first three frames are 0 for a 2048/512 STFT).

use crate::stats::{mean, median, variance};

/// librosa pads the rises by `lag + n_fft / (2 · hop)`: 1 + 2 for the STFT's `n_fft` of four hops.
const DELAY: usize = 3;

/// How the rises of the mel bands combine into one value per frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregate {
    /// librosa's `onset_strength` default.
    Mean,
    /// What librosa's `beat_track` asks for: one loud band cannot fake a beat.
    Median,
}

/// One value per frame of a [`mel_db`](crate::mel::mel_db) spectrogram.
pub fn onset_strength(mel_db: &[Vec<f64>], aggregate: Aggregate) -> Vec<f64> {
    onset_strength_of_bands(mel_db, 0..mel_db.first().map_or(0, Vec::len), aggregate)
}

/// As [`onset_strength`], over the mel bands in `bands` only (the bass's, say).
pub fn onset_strength_of_bands(
    mel_db: &[Vec<f64>],
    bands: std::ops::Range<usize>,
    aggregate: Aggregate,
) -> Vec<f64> {
    let mut rises = Vec::new();
    let rises = mel_db.windows(2).map(|pair| {
        rises.clear();
        rises.extend(
            pair[1][bands.clone()]
                .iter()
                .zip(&pair[0][bands.clone()])
                .map(|(now, before)| (now - before).max(0.0)),
        );
        match aggregate {
            Aggregate::Mean => rises.iter().sum::<f64>() / rises.len() as f64,
            Aggregate::Median => median(&mut rises),
        }
    });
    std::iter::repeat_n(0.0, DELAY)
        .chain(rises)
        .take(mel_db.len())
        .collect()
}

/// The onset strength from which an onset stands out as an event: one standard deviation above the mean
/// of `envelope`.
pub fn strong_onset(envelope: &[f64]) -> f64 {
    let values = || envelope.iter().copied();
    mean(values()) + variance(values()).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{mel::mel_db, stft::Stft};

    #[test]
    fn clicks_stand_out_where_they_are() {
        let rate = 22_050;
        // A click (a short burst of a 2 kHz tone) every half second over a quiet hum.
        let signal: Vec<f32> = (0..rate * 2)
            .map(|i| {
                let t = f64::from(i) / f64::from(rate);
                let click = if t % 0.5 < 0.01 {
                    0.8 * (2.0 * std::f64::consts::PI * 2000.0 * t).sin()
                } else {
                    0.0
                };
                (click + 0.01 * (2.0 * std::f64::consts::PI * 110.0 * t).sin()) as f32
            })
            .collect();
        let envelope = onset_strength(
            &mel_db(&Stft::new(2048, 512).magnitudes(&signal), rate),
            Aggregate::Mean,
        );
        assert_eq!(envelope.len(), 1 + signal.len() / 512);
        let peak = envelope.iter().copied().fold(0.0, f64::max);
        let frame_of = |seconds: f64| (seconds * f64::from(rate) / 512.0).round() as usize;
        for click in [0.5, 1.0, 1.5] {
            let near = &envelope[frame_of(click) - 2..=frame_of(click) + 2];
            assert!(
                near.iter().any(|&v| v > 0.5 * peak),
                "no onset near {click} s: {near:?}"
            );
        }
        let between = &envelope[frame_of(0.7)..frame_of(0.8)];
        assert!(
            between.iter().all(|&v| v < 0.1 * peak),
            "onsets between clicks: {between:?}"
        );
    }
}
