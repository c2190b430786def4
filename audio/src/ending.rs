//! The end of a track: from its last strong onset (the final chord or hit, most often) to where its sound
//! dies away. Music most often ends on its tonic, so key finding weighs what sounds there (see
//! [`key`](crate::key)); what a fade-out leaves there is more of the track, which does no harm.

use std::ops::Range;

use crate::{onset::strong_onset, stft::Spectrogram};

/// The sound has died away where a frame's power is this far below the loudest frame's (60 dB).
const SILENT_BELOW_LOUDEST: f64 = 1e-6;
/// The ending is at most this long: a long fade after the last strong onset is cut to its last seconds.
const LONGEST_SECONDS: f64 = 8.0;

/// The frames of the ending of `spectrogram` (magnitudes), given its onset strength per frame averaged over
/// the mel bands ([`Aggregate::Mean`](crate::onset::Aggregate), so that a chord change in any band
/// counts); `None` when nothing sounds.
pub fn final_stretch(
    spectrogram: &Spectrogram,
    onset_strength: &[f64],
    frames_per_second: f64,
) -> Option<Range<usize>> {
    let powers: Vec<f64> = spectrogram
        .frames()
        .map(|frame| frame.iter().map(|&m| f64::from(m) * f64::from(m)).sum())
        .collect();
    let loudest = powers.iter().copied().fold(0.0, f64::max);
    if loudest <= 0.0 {
        return None;
    }
    let last_sound = powers
        .iter()
        .rposition(|&p| p >= loudest * SILENT_BELOW_LOUDEST)?;
    let onsets = &onset_strength[..onset_strength.len().min(last_sound + 1)];
    let strong = strong_onset(onset_strength);
    let last_onset = onsets.iter().rposition(|&o| o > strong).unwrap_or(0);
    let longest = (LONGEST_SECONDS * frames_per_second) as usize;
    Some(last_onset.max(last_sound.saturating_sub(longest))..last_sound + 1)
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
    const HOP: usize = 512;

    fn stretch_of(signal: &[f32]) -> Option<Range<usize>> {
        let spectrogram = Stft::new(2048, HOP).magnitudes(signal);
        let onsets = onset_strength(&mel_db(&spectrogram, RATE), Aggregate::Mean);
        final_stretch(&spectrogram, &onsets, f64::from(RATE) / HOP as f64)
    }

    /// A bright 220 Hz note (40 harmonics, so that every mel band hears it strike) struck at each of
    /// `starts` (seconds) and decaying, `length` seconds in all.
    fn strikes(starts: &[f64], length: f64) -> Vec<f32> {
        (0..(length * f64::from(RATE)) as usize)
            .map(|i| {
                let t = i as f64 / f64::from(RATE);
                let Some(&start) = starts.iter().rev().find(|&&s| s <= t) else {
                    return 0.0;
                };
                let since = t - start;
                let tone: f64 = (1..=40)
                    .map(|h| (2.0 * std::f64::consts::PI * 220.0 * f64::from(h) * since).sin() / f64::from(h))
                    .sum();
                (0.25 * (-3.0 * since).exp() * tone) as f32
            })
            .collect()
    }

    fn seconds(frame: usize) -> f64 {
        (frame * HOP) as f64 / f64::from(RATE)
    }

    #[test]
    fn the_ending_runs_from_the_last_strike_until_the_sound_dies_away() {
        // Strikes every second until 6 s, the last at 6 s; its decay falls 60 dB in about 2.3 s.
        let starts: Vec<f64> = (0..=6).map(f64::from).collect();
        let stretch = stretch_of(&strikes(&starts, 12.0)).expect("sound");
        assert!(
            (seconds(stretch.start) - 6.0).abs() < 0.1,
            "starts at {}",
            seconds(stretch.start)
        );
        let end = seconds(stretch.end);
        assert!(end > 7.8 && end < 9.0, "ends at {end}");
    }

    #[test]
    fn a_long_ringing_ending_is_cut_to_its_last_seconds() {
        // One strike, then a tone that never decays for 20 s: the ending is its last 8 s.
        let mut signal = strikes(&[0.0], 0.2);
        signal.extend(
            (0..RATE as usize * 20).map(|i| {
                (0.1 * (2.0 * std::f64::consts::PI * 440.0 * i as f64 / f64::from(RATE)).sin()) as f32
            }),
        );
        let stretch = stretch_of(&signal).expect("sound");
        let length = seconds(stretch.end - stretch.start);
        assert!((length - LONGEST_SECONDS).abs() < 0.1, "{length} s");
        assert_eq!(
            stretch.end,
            Stft::new(2048, HOP).magnitudes(&signal).frame_count()
        );
    }

    #[test]
    fn silence_has_no_ending() {
        assert_eq!(stretch_of(&vec![0.0; RATE as usize * 3]), None);
    }
}
