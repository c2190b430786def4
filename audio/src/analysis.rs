//! `analyze`: every feature of a track in one typed, serialisable result (its types, and the versioned JSON
//! shape that `analysis_results.features` stores, are in `sfa-features`).
//!
//! Definitions (all as librosa 0.11 defines them, so the numbers compare): the track is mixed to mono and
//! resampled to 22.05 kHz; STFT of 2048 samples every 512 (Hann, centred); spectral features are means over
//! frames; 13 MFCC over 128 Slaney mel bands (orthonormal DCT-II of the dB mel spectrum) with their mean and
//! variance; 12-bin chroma (C first) at A440; loudness per EBU R128 on the original channels and rate.
//! Downbeats: see [`downbeats`](crate::downbeats); key: see [`key`](crate::key).

use crate::{
    Audio, Error,
    beats::track_beats,
    chroma::{chroma, mean_chroma},
    downbeats::downbeats,
    ending::final_stretch,
    key::estimate_key,
    loudness::measure_loudness,
    mel::{bands_below, mel_db, mfcc},
    onset::{Aggregate, onset_strength, onset_strength_of_bands, strong_onset},
    overview::{energy_curve, waveform_peaks},
    resample::{resample, to_mono},
    spectral::{FrameShape, rms, spectral_contrast, zero_crossing_rates},
    stats::{mean, variance},
    stft::{Spectrogram, Stft},
    tempo::estimate_tempo,
};

pub use sfa_features::{
    ANALYSIS_VERSION, Analysis, Curve, KeyResult, LoudnessResult, Mfcc, Spectral, Tempo, Waveform,
};
pub const ANALYSIS_RATE: u32 = 22_050;
const N_FFT: usize = 2048;
const HOP: usize = 512;
const N_MFCC: usize = 13;
const ENERGY_STEP_SECONDS: f64 = 0.5;
/// The bass, whose onsets mark downbeats: the mel bands below this.
const BASS_HZ: f64 = 200.0;
/// Waveform detail levels, in min/max pairs across the whole track.
const WAVEFORM_LEVELS: [usize; 3] = [256, 1024, 4096];
/// Waveform peaks are kept to a ten-thousandth of full scale (−80 dB), finer than a screen draws: printed
/// with all of f32's digits they were two thirds of the stored JSON.
const WAVEFORM_STEPS: f32 = 10_000.0;

/// The stages of [`analyze_with_progress`], for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Resampling,
    Spectrum,
    Rhythm,
    Harmony,
    Loudness,
    Overview,
}

impl Phase {
    pub const ALL: [Phase; 6] = [
        Phase::Resampling,
        Phase::Spectrum,
        Phase::Rhythm,
        Phase::Harmony,
        Phase::Loudness,
        Phase::Overview,
    ];
}

pub fn analyze(audio: &Audio) -> Result<Analysis, Error> {
    analyze_with_progress(audio, |_| {})
}

/// As [`analyze`], calling `progress` as each phase starts.
pub fn analyze_with_progress(audio: &Audio, mut progress: impl FnMut(Phase)) -> Result<Analysis, Error> {
    // Loudness and the waveform read the original channels and nothing else reads them: they run on a
    // second core while this one does the rest.
    std::thread::scope(|scope| {
        let original = scope.spawn(|| {
            let loudness = measure_loudness(audio);
            let waveform = WAVEFORM_LEVELS
                .iter()
                .map(|&buckets| Waveform {
                    peaks: waveform_peaks(audio, buckets)
                        .iter()
                        .map(|p| [p.min, p.max].map(|x| (x * WAVEFORM_STEPS).round() / WAVEFORM_STEPS))
                        .collect(),
                })
                .collect();
            (loudness, waveform)
        });
        let mut analysis = analyze_mono(audio, &mut progress)?;
        progress(Phase::Overview);
        let (loudness, waveform) = original.join().expect("the loudness thread does not panic");
        let measured = loudness?;
        analysis.loudness = LoudnessResult {
            integrated_lufs: measured.integrated_lufs,
            range_lu: measured.range_lu,
            sample_peak_dbfs: measured.sample_peak_dbfs,
            true_peak_dbtp: measured.true_peak_dbtp,
        };
        analysis.waveform = waveform;
        Ok(analysis)
    })
}

/// Everything but loudness and the waveform, which [`analyze_with_progress`] fills in.
fn analyze_mono(audio: &Audio, progress: &mut impl FnMut(Phase)) -> Result<Analysis, Error> {
    progress(Phase::Resampling);
    let mono = resample(&to_mono(audio), ANALYSIS_RATE)?;
    let y = mono.samples();

    progress(Phase::Spectrum);
    let stft = Stft::new(N_FFT, HOP);
    let spectrogram = stft.magnitudes(y);
    std::thread::scope(|scope| {
        // The spectral summary and the chroma read the spectrogram and nothing else, and nothing needs them
        // until the end: they take the second core while this one does the mel spectrum and rhythm.
        let beside = scope.spawn(|| {
            (
                spectral_summary(&spectrogram, &stft.frequencies(ANALYSIS_RATE)),
                chroma(&spectrogram, ANALYSIS_RATE, 0.0),
            )
        });
        let mel = mel_db(&spectrogram, ANALYSIS_RATE);
        let coefficients = mfcc(&mel, N_MFCC);
        let mfcc = Mfcc {
            mean: (0..N_MFCC)
                .map(|k| mean(coefficients.iter().map(|c| c[k])))
                .collect(),
            variance: (0..N_MFCC)
                .map(|k| variance(coefficients.iter().map(|c| c[k])))
                .collect(),
        };

        progress(Phase::Rhythm);
        let frames_per_second = f64::from(ANALYSIS_RATE) / HOP as f64;
        let envelope = onset_strength(&mel, Aggregate::Median);
        let tempo = estimate_tempo(&envelope, ANALYSIS_RATE, HOP);
        let beat_frames = tempo.map_or_else(Vec::new, |t| track_beats(&envelope, t.bpm, frames_per_second));
        let bass_onsets =
            onset_strength_of_bands(&mel, 0..bands_below(BASS_HZ, ANALYSIS_RATE), Aggregate::Mean);
        let seconds =
            |frames: &[usize]| -> Vec<f64> { frames.iter().map(|&f| f as f64 / frames_per_second).collect() };

        // Here rather than beside, where it would be the longer of the two threads' work.
        let zero_crossing_rate = mean(zero_crossing_rates(y, N_FFT, HOP).iter().map(|&z| f64::from(z)));

        progress(Phase::Harmony);
        let (spectral, chroma_frames) = beside.join().expect("the spectral thread does not panic");
        let chroma_mean = mean_chroma(&chroma_frames);
        let downbeats = seconds(&downbeats(&beat_frames, &bass_onsets, &chroma_frames));
        let ending = final_stretch(
            &spectrogram,
            &onset_strength(&mel, Aggregate::Mean),
            frames_per_second,
        );
        let ending_chroma = ending.map(|frames| mean_chroma(&chroma_frames[frames]));
        let key = estimate_key(&chroma_mean, ending_chroma.as_ref()).map(|estimate| KeyResult {
            name: estimate.key.name(),
            camelot: estimate.key.camelot(),
            open_key: estimate.key.open_key(),
            confidence: estimate.confidence,
        });

        progress(Phase::Loudness);
        let energy = (f64::from(rms(y)) * std::f64::consts::SQRT_2).min(1.0);
        Ok(Analysis {
            version: ANALYSIS_VERSION,
            duration_seconds: audio.duration_seconds(),
            tempo: tempo.map(|t| Tempo {
                bpm: t.bpm,
                confidence: t.confidence,
                half: t.alternatives()[0],
                double: t.alternatives()[1],
            }),
            beats: seconds(&beat_frames),
            downbeats,
            key,
            loudness: LoudnessResult {
                integrated_lufs: None,
                range_lu: 0.0,
                sample_peak_dbfs: None,
                true_peak_dbtp: None,
            },
            energy,
            energy_curve: Curve {
                step_seconds: ENERGY_STEP_SECONDS,
                values: energy_curve(y, ANALYSIS_RATE, ENERGY_STEP_SECONDS),
            },
            zero_crossing_rate,
            spectral,
            mfcc,
            chroma: chroma_mean,
            onset_rate: onset_rate(&envelope, frames_per_second),
            waveform: Vec::new(),
        })
    })
}

/// Centroid, roll-off, bandwidth, flatness and contrast, each a mean over the frames.
fn spectral_summary(spectrogram: &Spectrogram, freqs: &[f32]) -> Spectral {
    let shapes: Vec<FrameShape> = spectrogram.frames().map(|m| FrameShape::of(m, freqs)).collect();
    let mean_of = |feature: fn(&FrameShape) -> f64| mean(shapes.iter().map(feature));
    let contrast = spectral_contrast(spectrogram, freqs);
    Spectral {
        centroid_hz: mean_of(|s| s.centroid),
        rolloff_hz: mean_of(|s| s.rolloff),
        bandwidth_hz: mean_of(|s| s.bandwidth),
        flatness: mean_of(|s| s.flatness),
        contrast_db: std::array::from_fn(|band| mean(contrast.iter().map(|c| c[band]))),
    }
}

fn onset_rate(envelope: &[f64], frames_per_second: f64) -> f64 {
    let strong = strong_onset(envelope);
    let peaks = (1..envelope.len().saturating_sub(1))
        .filter(|&i| envelope[i] > strong && envelope[i] > envelope[i - 1] && envelope[i] >= envelope[i + 1])
        .count();
    peaks as f64 / (envelope.len() as f64 / frames_per_second).max(f64::MIN_POSITIVE)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 20 s of an A minor chord pulsing at 120 BPM: a chord every beat, decaying.
    fn a_minor_at_120() -> Audio {
        let rate = 44_100u32;
        let notes = [57.0f64, 60.0, 64.0, 69.0];
        let samples: Vec<f32> = (0..rate as usize * 20)
            .flat_map(|i| {
                let t = i as f64 / f64::from(rate);
                let decay = (-6.0 * (t % 0.5)).exp();
                let x: f64 = notes
                    .iter()
                    .map(|n| 440.0 * 2f64.powf((n - 69.0) / 12.0))
                    .map(|f| 0.15 * decay * (2.0 * std::f64::consts::PI * f * t).sin())
                    .sum();
                [x as f32, x as f32]
            })
            .collect();
        Audio::from_interleaved(samples, rate, 2).expect("valid")
    }

    #[test]
    fn a_pulsing_a_minor_chord_is_a_minor_at_120_bpm() {
        let mut phases = Vec::new();
        let analysis = analyze_with_progress(&a_minor_at_120(), |p| phases.push(p)).expect("analyses");
        assert_eq!(phases, Phase::ALL);
        let tempo = analysis.tempo.as_ref().expect("a tempo");
        assert!((tempo.bpm - 120.0).abs() < 1.2, "tempo {}", tempo.bpm);
        assert_eq!((tempo.half, tempo.double), (tempo.bpm / 2.0, tempo.bpm * 2.0));
        let key = analysis.key.as_ref().expect("a key");
        assert_eq!(
            (key.name.as_str(), key.camelot.as_str(), key.open_key.as_str()),
            ("A minor", "8A", "1m")
        );
        assert!(analysis.beats.len() >= 35, "{} beats", analysis.beats.len());
        // Every beat sounds alike here, so which is first in the bar is a guess, but there is one a bar.
        let first = analysis
            .beats
            .iter()
            .position(|b| Some(b) == analysis.downbeats.first())
            .expect("downbeats are beats");
        assert!(first < 4, "the bars start at beat {first}");
        let every_fourth: Vec<f64> = analysis.beats[first..].iter().step_by(4).copied().collect();
        assert_eq!(analysis.downbeats, every_fourth);
        assert!((analysis.duration_seconds - 20.0).abs() < 1e-9);
        assert_eq!(analysis.mfcc.mean.len(), 13);
        assert_eq!(
            analysis
                .waveform
                .iter()
                .map(|w| w.peaks.len())
                .collect::<Vec<_>>(),
            vec![256, 1024, 4096]
        );
        assert_eq!(analysis.energy_curve.values.len(), 40);
        assert!(
            analysis
                .loudness
                .integrated_lufs
                .is_some_and(|l| l < 0.0 && l > -40.0)
        );
        assert!(
            analysis.onset_rate > 1.5 && analysis.onset_rate < 3.0,
            "onset rate {}",
            analysis.onset_rate
        );
        assert!(analysis.energy > 0.0 && analysis.energy <= 1.0);
    }

    #[test]
    fn the_json_shape_round_trips_and_names_its_version() {
        let analysis = analyze(&a_minor_at_120()).expect("analyses");
        let json = serde_json::to_value(&analysis).expect("serialises");
        assert_eq!(json["version"], ANALYSIS_VERSION);
        for field in [
            "tempo",
            "beats",
            "downbeats",
            "key",
            "loudness",
            "energy_curve",
            "spectral",
            "mfcc",
            "chroma",
            "waveform",
        ] {
            assert!(json.get(field).is_some(), "{field} missing");
        }
        let back: Analysis = serde_json::from_value(json).expect("deserialises");
        assert_eq!(back, analysis);
    }

    #[test]
    fn silence_has_no_tempo_key_or_loudness_but_still_an_analysis() {
        let silence = Audio::from_interleaved(vec![0.0; 44_100 * 5], 44_100, 1).expect("valid");
        let analysis = analyze(&silence).expect("analyses");
        assert_eq!(
            (&analysis.tempo, &analysis.key, analysis.loudness.integrated_lufs),
            (&None, &None, None)
        );
        assert!(analysis.beats.is_empty() && analysis.downbeats.is_empty());
        assert_eq!(analysis.energy, 0.0);
        let json = serde_json::to_string(&analysis).expect("silence serialises too (no NaN, no infinity)");
        assert!(!json.contains("NaN") && !json.contains("inf"), "{json}");
    }
}
