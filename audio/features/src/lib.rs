//! What an analysis finds, as stored in `analysis_results.features` and drawn by the track page. Kept apart
//! from the engine (`sfa-audio`) so that the browser build can read it without the decoders and the model.
//!
//! The JSON shape is versioned: change a field and bump [`ANALYSIS_VERSION`]. Version 2 added `downbeats`:
//! the times (seconds) of the beats that start bars, four beats to the bar; a subset of `beats`, empty when
//! there are fewer than two bars.

pub mod harmony;

use serde::{Deserialize, Serialize};

pub const ANALYSIS_VERSION: u32 = 2;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    pub version: u32,
    pub duration_seconds: f64,
    pub tempo: Option<Tempo>,
    /// Beat times, seconds.
    pub beats: Vec<f64>,
    /// The beats that start bars (four beats to the bar), seconds. Absent from version 1.
    #[serde(default)]
    pub downbeats: Vec<f64>,
    pub key: Option<KeyResult>,
    pub loudness: LoudnessResult,
    /// Whole-track RMS relative to a full-scale sine, 0 to 1.
    pub energy: f64,
    pub energy_curve: Curve,
    pub zero_crossing_rate: f64,
    pub spectral: Spectral,
    pub mfcc: Mfcc,
    /// Mean chroma, C first, each frame's strongest class scaled to 1.
    pub chroma: [f64; 12],
    /// Onsets per second: peaks of the onset envelope above its mean plus one standard deviation.
    pub onset_rate: f64,
    pub waveform: Vec<Waveform>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tempo {
    pub bpm: f64,
    pub confidence: f64,
    pub half: f64,
    pub double: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyResult {
    /// `A minor`
    pub name: String,
    /// `8A`
    pub camelot: String,
    /// `1m`
    pub open_key: String,
    pub confidence: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoudnessResult {
    pub integrated_lufs: Option<f64>,
    pub range_lu: f64,
    pub sample_peak_dbfs: Option<f64>,
    pub true_peak_dbtp: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Curve {
    pub step_seconds: f64,
    pub values: Vec<f32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spectral {
    pub centroid_hz: f64,
    pub rolloff_hz: f64,
    pub bandwidth_hz: f64,
    pub flatness: f64,
    /// dB per octave band: below 200 Hz, then 200–400 … 6.4–12.8 kHz.
    pub contrast_db: [f64; 7],
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mfcc {
    pub mean: Vec<f64>,
    pub variance: Vec<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Waveform {
    /// `[min, max]` per bucket, over all channels, to four decimal places.
    pub peaks: Vec<[f32; 2]>,
}
