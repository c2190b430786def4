//! Separation end to end through the files it writes. Most tests use `data/separation/tiny-htdemucs`, a
//! 729-byte graph with HTDemucs' inputs and outputs whose every source is a quarter of the mix, so the
//! whole host pipeline is checked exactly and fast: its stems must each be a quarter of the mix and sum back
//! to it. One test runs the real model (installed by scripts/test into $SFA_MODEL_DIR) on a synthetic mix.

use std::{
    path::{Path, PathBuf},
    sync::atomic::{AtomicBool, Ordering},
};

use sfa_audio::{
    Audio, Error,
    resample::resample,
    separate::{Model, Progress, SampleFormat, Separation, separate},
};

/// The model's segment and the stride between chunks (75% of it).
const SEGMENT: usize = 343_980;
const STRIDE: usize = 257_985;
/// The first samples are left out of sum checks: demucs' reflect padding at the very start of a track
/// makes them reconstruct less exactly (as separation.md notes).
const SKIP: usize = 4096;

fn tiny_model() -> Model {
    Model::shared(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/separation/tiny-htdemucs"))
        .expect("the tiny model loads")
}

/// Something with lows, highs, a small DC offset and noise, different on each channel.
fn mix(rate: u32, channels: u16, frames: usize) -> Audio {
    let tau = 2.0 * std::f64::consts::PI;
    let samples = (0..frames)
        .flat_map(|i| {
            let t = i as f64 / f64::from(rate);
            (0..channels).map(move |c| {
                let noise = ((i as u64 * 1_103_515_245 + 12_345 + u64::from(c)) % (1 << 31)) as f64
                    / (1u64 << 31) as f64
                    - 0.5;
                (0.3 * (tau * 110.0 * t + f64::from(c)).sin()
                    + 0.2 * (tau * 1760.0 * t).sin() * (tau * 0.5 * t).cos()
                    + 0.05 * noise
                    + 0.01) as f32
            })
        })
        .collect();
    Audio::from_interleaved(samples, rate, channels).expect("whole frames")
}

fn read(path: &Path) -> Audio {
    let reader = hound::WavReader::open(path).expect("a WAV file");
    let spec = reader.spec();
    let samples = match spec.sample_format {
        hound::SampleFormat::Float => reader.into_samples::<f32>().collect::<Result<Vec<_>, _>>(),
        hound::SampleFormat::Int => {
            let full = (1i64 << (spec.bits_per_sample - 1)) as f32 - 1.0;
            reader
                .into_samples::<i32>()
                .map(|s| s.map(|s| s as f32 / full))
                .collect()
        }
    }
    .expect("samples");
    Audio::from_interleaved(samples, spec.sample_rate, spec.channels).expect("whole frames")
}

fn run(audio: &Audio, model: &Model, out: &Path, format: SampleFormat) -> Result<Separation, Error> {
    separate(audio, model, out, format, |_| {}, &AtomicBool::new(false))
}

/// 10·log10(Σ want² / Σ (want − got)²) over the samples from `skip` frames on.
fn snr_db(want: &[f32], got: &[f32], channels: usize, skip: usize) -> f64 {
    let (signal, noise) = want[skip * channels..]
        .iter()
        .zip(&got[skip * channels..])
        .fold((0.0, 0.0), |(s, n), (&w, &g)| {
            (s + f64::from(w).powi(2), n + f64::from(w - g).powi(2))
        });
    10.0 * (signal / noise).log10()
}

/// The mean of the channels' mean: demucs adds it to every stem, so four stems sum to the mix plus three.
fn mean(audio: &Audio) -> f32 {
    (audio.samples().iter().map(|&x| f64::from(x)).sum::<f64>() / audio.samples().len() as f64) as f32
}

fn stems(separation: &Separation) -> Vec<Audio> {
    separation.stems.iter().map(|stem| read(&stem.path)).collect()
}

#[test]
fn each_stem_is_a_quarter_and_they_sum_back_to_the_mix() {
    let source = mix(44_100, 2, 2 * STRIDE + 12_345);
    let out = tempfile::tempdir().expect("a temporary folder");
    let separation = run(&source, &tiny_model(), out.path(), SampleFormat::F32).expect("separates");
    assert_eq!(separation.chunks, 3);
    // The whole track, its first samples included (see SKIP): the tiny model has no time branch to make up
    // for them as HTDemucs' does.
    assert!(
        separation.residual_db < -30.0,
        "residual {} dB",
        separation.residual_db
    );
    let names: Vec<&str> = separation.stems.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["drums", "bass", "other", "vocals"]);
    let mu = mean(&source);
    let quarter: Vec<f32> = source.samples().iter().map(|&x| 0.25 * (x - mu) + mu).collect();
    let stems = stems(&separation);
    for (stem, audio) in separation.stems.iter().zip(&stems) {
        let snr = snr_db(&quarter, audio.samples(), 2, SKIP);
        assert!(snr > 40.0, "{}: {snr:.1} dB from a quarter of the mix", stem.name);
        let peak = audio.samples().iter().fold(0.0f32, |m, x| m.max(x.abs()));
        assert_eq!(
            stem.levels.peak, peak,
            "{}: the reported peak is the file's",
            stem.name
        );
        assert_eq!(stem.levels.clipped, 0);
    }
    let sum: Vec<f32> = (0..source.samples().len())
        .map(|i| stems.iter().map(|s| s.samples()[i]).sum::<f32>() - 3.0 * mu)
        .collect();
    let snr = snr_db(source.samples(), &sum, 2, SKIP);
    assert!(snr > 40.0, "the stems sum back to the mix at {snr:.1} dB");
    assert!(
        !out.path().join(".partial").exists(),
        "the work folder is removed"
    );
}

#[test]
fn stems_have_the_source_rate_length_and_channels() {
    let model = tiny_model();
    // Mono and stereo, 44.1 and 48 kHz, shorter than a chunk, a whole number of strides and not, surround.
    for (rate, channels, frames, stem_channels) in [
        (44_100, 1, 2 * STRIDE, 1),
        (48_000, 2, 100_000, 2),
        (48_000, 1, SEGMENT + 1, 1),
        (44_100, 6, 50_000, 1),
    ] {
        let source = mix(rate, channels, frames);
        let out = tempfile::tempdir().expect("a temporary folder");
        let separation = run(&source, &model, out.path(), SampleFormat::Wav24).expect("separates");
        let stems = stems(&separation);
        for stem in &stems {
            assert_eq!(
                (stem.sample_rate(), stem.channels(), stem.frames()),
                (rate, stem_channels, frames),
                "{rate} Hz, {channels} channels, {frames} frames"
            );
        }
        if usize::from(channels) == usize::from(stem_channels) {
            // What survives the model's rate: above 22.05 kHz, a 48 kHz mix's noise cannot come back.
            let audible = resample(&resample(&source, 44_100).expect("resamples"), rate).expect("resamples");
            let want = &audible.samples()[..source.samples().len()];
            let mu = mean(&source);
            let sum: Vec<f32> = (0..source.samples().len())
                .map(|i| stems.iter().map(|s| s.samples()[i]).sum::<f32>() - 3.0 * mu)
                .collect();
            let snr = snr_db(want, &sum, usize::from(channels), SKIP);
            assert!(
                snr > 40.0,
                "{rate} Hz, {channels} channels: the stems sum back at {snr:.1} dB"
            );
        }
    }
}

fn partial(out: &Path, stem: &str) -> PathBuf {
    out.join(".partial").join(format!("{stem}.f32"))
}

#[test]
fn a_resumed_separation_writes_what_an_uninterrupted_one_does() {
    let model = tiny_model();
    let source = mix(44_100, 2, 3 * STRIDE + 1000);
    let whole = tempfile::tempdir().expect("a temporary folder");
    let expected = run(&source, &model, whole.path(), SampleFormat::Wav16).expect("separates");
    assert_eq!(expected.chunks, 4);

    let out = tempfile::tempdir().expect("a temporary folder");
    let cancel = AtomicBool::new(false);
    let mut seen = Vec::new();
    let stopped = separate(
        &source,
        &model,
        out.path(),
        SampleFormat::Wav16,
        |p: Progress| {
            seen.push(p.done);
            if p.done == 2 {
                cancel.store(true, Ordering::Relaxed);
            }
        },
        &cancel,
    );
    assert_eq!(stopped, Err(Error::Cancelled));
    assert_eq!(seen, [1, 2]);
    // As if the process died after writing some of the next chunk's frames but before its checkpoint.
    let bass = partial(out.path(), "bass");
    let mut bytes = std::fs::read(&bass).expect("a partial stem");
    bytes.extend_from_slice(&[0x7f; 4000]);
    std::fs::write(&bass, bytes).expect("writes");

    let resumed = run(&source, &model, out.path(), SampleFormat::Wav16).expect("resumes");
    assert_eq!(resumed.resumed_at, 2);
    assert_eq!(resumed.residual_db, expected.residual_db);
    for (got, want) in resumed.stems.iter().zip(&expected.stems) {
        assert_eq!(got.levels, want.levels);
        let got = std::fs::read(&got.path).expect("a stem");
        assert!(
            got == std::fs::read(&want.path).expect("a stem"),
            "{} differs",
            want.name
        );
    }
}

/// The real HTDemucs on one chunk of a mix whose sources are known. In CI (`CI=true`) the model must be
/// there: scripts/test installs it.
#[test]
fn the_real_model_separates_a_synthetic_mix() {
    let Some(dir) = std::env::var_os("SFA_MODEL_DIR").map(|d| PathBuf::from(d).join("htdemucs")) else {
        return missing("SFA_MODEL_DIR is not set");
    };
    if !dir.join("manifest.json").exists() {
        return missing(&format!("no model in {}", dir.display()));
    }
    let model = Model::shared(&dir).expect("the model loads");
    let sources = synthetic::sources(STRIDE);
    let frames = sources[0].len() / 2;
    let mixed: Vec<f32> = (0..2 * frames)
        .map(|i| sources.iter().map(|s| s[i]).sum())
        .collect();
    let source = Audio::from_interleaved(mixed.clone(), 44_100, 2).expect("whole frames");
    let out = tempfile::tempdir().expect("a temporary folder");
    let separation = run(&source, &model, out.path(), SampleFormat::F32).expect("separates");
    assert!(
        separation.residual_db < -20.0,
        "residual {} dB",
        separation.residual_db
    );
    for ((stem, want), got) in separation.stems.iter().zip(&sources).zip(stems(&separation)) {
        let sdr = snr_db(want, got.samples(), 2, 0);
        let baseline = snr_db(want, &mixed, 2, 0);
        eprintln!("{}: SDR {sdr:.1} dB, the mix scores {baseline:.1} dB", stem.name);
        assert!(
            sdr > baseline + 10.0,
            "{}: SDR {sdr:.1} dB against the mix's {baseline:.1} dB",
            stem.name
        );
    }
}

fn missing(why: &str) {
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{why}: in CI the real model must be installed (scripts/test does)"
    );
    eprintln!("skipping the real-model test: {why} (scripts/test installs the model)");
}

/// Four sources a listener would name: drums, bass, a pad and a voice-like line, stereo, 44.1 kHz.
mod synthetic {
    use std::f64::consts::TAU;

    const SR: f64 = 44_100.0;
    const BEAT: f64 = 0.5;

    fn noise(i: usize) -> f64 {
        ((i as u64 * 1_103_515_245 + 12_345) % (1 << 31)) as f64 / (1u64 << 31) as f64 - 0.5
    }

    /// A kick (a falling sine) on the beat and a snare (a noise burst) off it.
    fn drums(t: f64, i: usize) -> f64 {
        let beat = t % BEAT;
        let kick = (-beat * 30.0).exp() * (TAU * (50.0 + 100.0 * (-beat * 40.0).exp()) * beat).sin();
        let off = (t + BEAT / 2.0) % BEAT;
        let snare = (-off * 25.0).exp() * noise(i);
        0.5 * kick + 0.5 * snare
    }

    /// A sawtooth bass, a note a beat, on a low riff.
    fn bass(t: f64) -> f64 {
        let riff = [55.0, 55.0, 65.41, 73.42];
        let f = riff[(t / BEAT) as usize % riff.len()];
        0.25 * (2.0 * ((t * f) % 1.0) - 1.0)
    }

    /// A sustained chord of soft tones, in the middle of the spectrum.
    fn pad(t: f64) -> f64 {
        [261.63, 329.63, 392.0, 493.88]
            .iter()
            .map(|f| (TAU * f * t).sin() + 0.3 * (TAU * 2.0 * f * t).sin())
            .sum::<f64>()
            * 0.04
            * (0.6 + 0.4 * (TAU * 0.25 * t).sin())
    }

    /// A sung line: harmonics with vibrato and a vowel-like spectral envelope, a note every two beats.
    fn voice(t: f64) -> f64 {
        let melody = [392.0, 440.0, 493.88, 440.0];
        let note = (t / (2.0 * BEAT)) as usize;
        let f = melody[note % melody.len()];
        let phase = f * t + 0.02 * f / 5.5 * (TAU * 5.5 * t).sin();
        let envelope = (((t % (2.0 * BEAT)) * 20.0).min(1.0)) * 0.2;
        (1..12)
            .map(|h| {
                let fh = f * h as f64;
                let formant =
                    (-((fh - 700.0) / 300.0).powi(2)).exp() + 0.6 * (-((fh - 1200.0) / 400.0).powi(2)).exp();
                (0.2 + formant) * (TAU * phase * h as f64).sin() / h as f64
            })
            .sum::<f64>()
            * envelope
    }

    /// Interleaved stereo sources of `frames` frames, in the model's order, each panned a little.
    pub fn sources(frames: usize) -> [Vec<f32>; 4] {
        let render = |f: &dyn Fn(f64, usize) -> f64, pan: f64| -> Vec<f32> {
            (0..frames)
                .flat_map(|i| {
                    let x = f(i as f64 / SR, i);
                    [(x * (1.0 - pan)) as f32, (x * (1.0 + pan)) as f32]
                })
                .collect()
        };
        [
            render(&drums, 0.0),
            render(&|t, _| bass(t), 0.0),
            render(&|t, _| pad(t), 0.3),
            render(&|t, _| voice(t), -0.1),
        ]
    }
}
