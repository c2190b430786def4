//! The spectrogram, its inverse and the chunk weights against demucs' host code as
//! `tests/golden/make_separation_golden.py` computed them with `htdemucs_reference.py` (the same inputs are
//! defined by formula here and there).

use super::{chunks::weights, spec::Spectrogram};

const SR: f64 = 44_100.0;

#[derive(serde::Deserialize)]
struct Golden {
    length: usize,
    bin_step: usize,
    sample_step: usize,
    spec: Vec<f64>,
    ispec: Vec<f64>,
    segment: usize,
    weight_indices: Vec<usize>,
    weights: Vec<f64>,
}

fn golden() -> Golden {
    serde_json::from_str(include_str!("../../tests/golden/separation.json")).expect("the golden file is JSON")
}

/// The generator both sides use for noise: uniform in [−0.5, 0.5).
fn lcg(n: usize, seed: usize) -> impl Iterator<Item = f64> {
    (seed..seed + n)
        .map(|i| ((i as u64 * 1_103_515_245 + 12_345) % (1 << 31)) as f64 / (1u64 << 31) as f64 - 0.5)
}

/// Largest absolute difference, relative to the largest golden value.
fn relative_error(ours: impl Iterator<Item = f64>, golden: &[f64]) -> f64 {
    let scale = golden.iter().fold(0.0, |m: f64, x| m.max(x.abs()));
    let (worst, count) = ours
        .zip(golden)
        .fold((0.0, 0), |(worst, n): (f64, usize), (a, b)| {
            (worst.max((a - b).abs()), n + 1)
        });
    assert_eq!(count, golden.len(), "as many values as the golden");
    worst / scale
}

#[test]
fn the_spectrogram_matches_demucs() {
    let g = golden();
    let signal: Vec<f32> = (0..2)
        .flat_map(|c| {
            lcg(g.length, 7 * c).enumerate().map(move |(i, noise)| {
                let t = i as f64 / SR;
                let tau = 2.0 * std::f64::consts::PI;
                (0.5 * (tau * 440.0 * t + c as f64).sin() + 0.2 * (tau * 3000.5 * t).sin() + 0.05 * noise)
                    as f32
            })
        })
        .collect();
    let spec = Spectrogram::new(4096, 1024, g.length);
    let z = spec.forward(&signal);
    let frames = spec.frames();
    let picked = z
        .chunks_exact(frames)
        .enumerate()
        .filter(|(row, _)| (row % spec.bins()).is_multiple_of(g.bin_step))
        .flat_map(|(_, row)| row.iter().map(|&x| f64::from(x)));
    // f32 output, as the graph takes it: the golden is float32 too.
    let error = relative_error(picked, &g.spec);
    assert!(error < 1e-6, "relative error {error}");
}

#[test]
fn the_inverse_spectrogram_matches_demucs() {
    let g = golden();
    let spec = Spectrogram::new(4096, 1024, g.length);
    let z: Vec<f32> = lcg(spec.size(2), 3).map(|x| x as f32).collect();
    let wave = spec.inverse(&z, 2);
    let error = relative_error(wave.iter().step_by(g.sample_step).copied(), &g.ispec);
    assert!(error < 1e-9, "relative error {error}");
}

#[test]
fn the_chunk_weights_match_demucs() {
    let g = golden();
    let w = weights(g.segment);
    let error = relative_error(g.weight_indices.iter().map(|&i| w[i]), &g.weights);
    assert!(error < 1e-15, "relative error {error}");
}
