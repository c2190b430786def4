//! Our features against librosa 0.11's, on the input `golden/make_golden.py` defines (the same formula is
//! below), with explicit tolerances. The goldens are computed once by that script and committed.

use sfa_audio::{
    chroma::chroma,
    mel::{mel_db, mfcc},
    onset::{Aggregate, onset_strength},
    spectral::{FrameShape, Padding, centred_frames, rms, spectral_contrast, zero_crossing_rate},
    stft::Stft,
};

const SR: u32 = 22_050;

fn signal() -> Vec<f32> {
    (0..2 * SR)
        .map(|i| {
            let t = f64::from(i) / f64::from(SR);
            let tau = 2.0 * std::f64::consts::PI;
            let x = 0.3 * (tau * 440.0 * t).sin()
                + 0.2 * (tau * 1234.5 * t).sin()
                + 0.1 * (tau * (200.0 * t + 400.0 * t * t)).sin()
                + 0.2 * (-40.0 * (t % 0.5)).exp() * (tau * 3000.0 * t).sin()
                + 0.01
                    * (((u64::from(i) * 1_103_515_245 + 12_345) % (1 << 31)) as f64 / (1u64 << 31) as f64
                        - 0.5);
            x as f32
        })
        .collect()
}

fn golden() -> serde_json::Value {
    let text = include_str!("golden/librosa.json");
    serde_json::from_str(text).expect("the golden file is JSON")
}

fn numbers(value: &serde_json::Value) -> Vec<f64> {
    value
        .as_array()
        .expect("an array")
        .iter()
        .map(|v| v.as_f64().expect("a number"))
        .collect()
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    sum / n as f64
}

fn assert_within(what: &str, got: f64, want: f64, tolerance: f64) {
    assert!(
        (got - want).abs() <= tolerance,
        "{what}: ours {got}, librosa {want}, tolerance {tolerance}"
    );
}

#[test]
fn mfcc_matches_librosa() {
    let golden = golden();
    let spectrogram = Stft::new(2048, 512).magnitudes(&signal());
    let ours = mfcc(&mel_db(&spectrogram, SR), 13);
    assert_eq!(ours.len() as u64, golden["frames"].as_u64().expect("frames"));
    for (k, want) in numbers(&golden["mfcc_mean"]).into_iter().enumerate() {
        assert_within(
            &format!("MFCC {k} mean"),
            mean(ours.iter().map(|frame| frame[k])),
            want,
            0.05,
        );
    }
    for (k, want) in numbers(&golden["mfcc_frame_20"]).into_iter().enumerate() {
        assert_within(&format!("MFCC {k} of frame 20"), ours[20][k], want, 0.05);
    }
}

#[test]
fn onset_strength_matches_librosa() {
    let spectrogram = Stft::new(2048, 512).magnitudes(&signal());
    let ours = onset_strength(&mel_db(&spectrogram, SR), Aggregate::Mean);
    let want = numbers(&golden()["onset_strength"]);
    assert_eq!(ours.len(), want.len());
    for (frame, (got, want)) in ours.iter().zip(want).enumerate() {
        assert_within(&format!("onset strength of frame {frame}"), *got, want, 1e-3);
    }
}

#[test]
fn chroma_matches_librosa() {
    let spectrogram = Stft::new(2048, 512).magnitudes(&signal());
    let ours = chroma(&spectrogram, SR, 0.0);
    for (class, want) in numbers(&golden()["chroma_mean"]).into_iter().enumerate() {
        assert_within(
            &format!("chroma {class} mean"),
            mean(ours.iter().map(|frame| frame[class])),
            want,
            1e-4,
        );
    }
}

#[test]
fn spectral_shape_matches_librosa() {
    let golden = golden();
    let stft = Stft::new(2048, 512);
    let freqs = stft.frequencies(SR);
    let spectrogram = stft.magnitudes(&signal());
    let frames = || spectrogram.frames();
    let want = |key: &str| golden[key].as_f64().expect("a number");
    let shapes: Vec<FrameShape> = frames().map(|m| FrameShape::of(m, &freqs)).collect();
    let mean_of = |feature: fn(&FrameShape) -> f64| mean(shapes.iter().map(feature));
    assert_within("centroid", mean_of(|s| s.centroid), want("centroid_mean"), 0.01);
    assert_within("rolloff", mean_of(|s| s.rolloff), want("rolloff_mean"), 0.01);
    // librosa sums in float32, we in float64: they part at the fifth significant digit.
    assert_within(
        "bandwidth",
        mean_of(|s| s.bandwidth),
        want("bandwidth_mean"),
        0.05,
    );
    assert_within("flatness", mean_of(|s| s.flatness), want("flatness_mean"), 1e-5);
    let contrast = spectral_contrast(&spectrogram, &freqs);
    for (band, want) in numbers(&golden["contrast_mean"]).into_iter().enumerate() {
        assert_within(
            &format!("contrast band {band}"),
            mean(contrast.iter().map(|c| c[band])),
            want,
            0.01,
        );
    }
    let y = signal();
    let zcr = mean(
        centred_frames(&y, 2048, 512, Padding::Edge)
            .iter()
            .map(|f| f64::from(zero_crossing_rate(f))),
    );
    assert_within("zero-crossing rate", zcr, want("zcr_mean"), 1e-6);
    let level = mean(
        centred_frames(&y, 2048, 512, Padding::Zero)
            .iter()
            .map(|f| f64::from(rms(f))),
    );
    assert_within("rms", level, want("rms_mean"), 1e-5);
}
