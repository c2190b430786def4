//! Downbeats: the first beat of every bar, from the beats and the music between them.
//!
//! Four beats to the bar is assumed (4/4, nearly all the dance music this app serves), so the choice is
//! which of the four beat phases starts the bars. Two cues vote: the bass enters or hits on the downbeat
//! (kick drums and bass notes land there more than anywhere), and harmony changes there (chords change on
//! bar lines). Each cue is measured at every beat, divided by its mean over the track so the two weigh
//! alike whatever their units, and the phase whose beats have the highest median score wins.

use crate::stats::median;

/// Beats to the bar.
pub const BEATS_PER_BAR: usize = 4;

/// The beats (frame indices, in order) that start bars: every [`BEATS_PER_BAR`]th beat from the phase
/// that `bass_onsets` (a bass onset strength per frame) and `chroma` (one per frame) favour. Fewer than
/// two bars of beats decide nothing and give no downbeats.
pub fn downbeats(beats: &[usize], bass_onsets: &[f64], chroma: &[[f64; 12]]) -> Vec<usize> {
    if beats.len() < 2 * BEATS_PER_BAR {
        return Vec::new();
    }
    let bass: Vec<f64> = beats.iter().map(|&b| peak_near(bass_onsets, b)).collect();
    // The chroma of the beat before each beat against the beat's own; the first beat has no beat before
    // it (what precedes it is the intro, or silence, not a bar), so it gets no vote.
    let frame = |i: usize| beats.get(i).map_or(chroma.len(), |&b| b.min(chroma.len()));
    let change: Vec<f64> = std::iter::once(0.0)
        .chain(
            (1..beats.len())
                .map(|i| harmonic_change(&chroma[frame(i - 1)..frame(i)], &chroma[frame(i)..frame(i + 1)])),
        )
        .collect();
    let (bass, change) = (relative(&bass), relative(&change));
    // The median vote: an intro or an ending (a chord struck once, a last hit) cannot outvote the bars.
    let score = |phase: usize| {
        let mut votes: Vec<f64> = (phase..beats.len())
            .step_by(BEATS_PER_BAR)
            .map(|i| bass[i] + change[i])
            .collect();
        median(&mut votes)
    };
    let phase = (0..BEATS_PER_BAR)
        .max_by(|&a, &b| score(a).total_cmp(&score(b)))
        .unwrap_or(0);
    beats.iter().copied().skip(phase).step_by(BEATS_PER_BAR).collect()
}

/// The strongest value within a frame of `frame`: a beat tracker's frame can sit one off the onset.
fn peak_near(values: &[f64], frame: usize) -> f64 {
    values[frame.saturating_sub(1)..(frame + 2).min(values.len())]
        .iter()
        .copied()
        .fold(0.0, f64::max)
}

/// How far the mean chroma after a beat lies from the mean chroma before it: the sum of absolute
/// differences, each mean scaled so its strongest class is 1 (0 where either side is empty or silent).
fn harmonic_change(before: &[[f64; 12]], after: &[[f64; 12]]) -> f64 {
    let profile = |frames: &[[f64; 12]]| -> Option<[f64; 12]> {
        let sum: [f64; 12] = std::array::from_fn(|c| frames.iter().map(|f| f[c]).sum());
        let strongest = sum.iter().copied().fold(0.0, f64::max);
        (strongest > 0.0).then(|| sum.map(|v| v / strongest))
    };
    match (profile(before), profile(after)) {
        (Some(a), Some(b)) => a.iter().zip(&b).map(|(x, y)| (x - y).abs()).sum(),
        _ => 0.0,
    }
}

/// `values` over their mean (all 0 where the mean is 0).
fn relative(values: &[f64]) -> Vec<f64> {
    let mean = values.iter().sum::<f64>() / values.len().max(1) as f64;
    values
        .iter()
        .map(|v| if mean > 0.0 { v / mean } else { 0.0 })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 32 beats 10 frames apart; the bass hits on beats `phase`, `phase + 4`, ... and the chord (one
    /// pitch class lit) changes there, both cues or either.
    fn song(phase: usize, bass: bool, harmony: bool) -> (Vec<usize>, Vec<f64>, Vec<[f64; 12]>) {
        let beats: Vec<usize> = (0..32).map(|i| 5 + 10 * i).collect();
        let frames = 330;
        let mut bass_onsets = vec![0.1; frames];
        let mut chroma = vec![[0.2; 12]; frames];
        chroma[..5].iter_mut().for_each(|frame| frame[0] = 1.0);
        let mut chord = 0;
        for (i, &b) in beats.iter().enumerate() {
            let downbeat = i % BEATS_PER_BAR == phase;
            // Every beat has some bass (a walking line); the downbeat's is stronger.
            bass_onsets[b] = if downbeat && bass { 1.0 } else { 0.4 };
            if downbeat && harmony {
                chord = (chord + 5) % 12;
            }
            for frame in &mut chroma[b..] {
                *frame = [0.2; 12];
                frame[chord] = 1.0;
            }
        }
        (beats, bass_onsets, chroma)
    }

    #[test]
    fn the_phase_with_the_bass_and_the_chord_changes_starts_the_bars() {
        for phase in 0..BEATS_PER_BAR {
            for (bass, harmony) in [(true, true), (true, false), (false, true)] {
                let (beats, bass_onsets, chroma) = song(phase, bass, harmony);
                let found = downbeats(&beats, &bass_onsets, &chroma);
                assert_eq!(
                    found.first(),
                    Some(&beats[phase]),
                    "phase {phase}, bass {bass}, harmony {harmony}"
                );
                assert_eq!(found.len(), (32 - phase).div_ceil(BEATS_PER_BAR));
                assert!(found.windows(2).all(|w| w[1] - w[0] == 40));
            }
        }
    }

    #[test]
    fn too_few_beats_give_no_downbeats() {
        let (beats, bass_onsets, chroma) = song(1, true, true);
        assert!(downbeats(&beats[..7], &bass_onsets, &chroma).is_empty());
        assert!(downbeats(&[], &bass_onsets, &chroma).is_empty());
    }
}
