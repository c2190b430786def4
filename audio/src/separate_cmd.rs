//! `sfa separate`: the separation engine from the command line, with a progress bar on stderr.

use std::{path::PathBuf, sync::atomic::AtomicBool, time::Instant};

use sfa_audio::{
    Limits, decode,
    separate::{Model, Progress, SampleFormat, separate},
};

#[derive(clap::Args)]
pub struct Args {
    pub file: PathBuf,
    /// Where the stems go, as <stem>.wav.
    #[arg(long)]
    out: PathBuf,
    /// The model: a folder of that name in the models directory, holding manifest.json.
    #[arg(long, default_value = "htdemucs")]
    model: String,
    /// The models directory (scripts/run and scripts/test install HTDemucs there).
    #[arg(long, env = "SFA_MODEL_DIR", default_value = "data/models")]
    models: PathBuf,
    /// wav16, wav24 or f32.
    #[arg(long, default_value = "wav24")]
    format: SampleFormat,
}

const BAR: usize = 30;

pub fn run(args: &Args) -> Result<(), String> {
    let started = Instant::now();
    let model = Model::shared(&args.models.join(&args.model)).map_err(|err| err.to_string())?;
    eprintln!(
        "model {} ready in {:.1} s",
        model.manifest().name,
        started.elapsed().as_secs_f64()
    );
    let source = std::fs::File::open(&args.file).map_err(|err| err.to_string())?;
    let audio = decode(source, &Limits::default())
        .map_err(|err| err.to_string())?
        .audio;
    let separating = Instant::now();
    let bar = |p: Progress| {
        let filled = BAR * p.done / p.chunks.max(1);
        eprint!(
            "\r[{}{}] chunk {}/{}, {:.0} s",
            "#".repeat(filled),
            ".".repeat(BAR - filled),
            p.done,
            p.chunks,
            separating.elapsed().as_secs_f64()
        );
    };
    let separation = separate(
        &audio,
        &model,
        &args.out,
        args.format,
        bar,
        &AtomicBool::new(false),
    )
    .map_err(|err| err.to_string())?;
    let seconds = separating.elapsed().as_secs_f64();
    eprintln!();
    if separation.resumed_at > 0 {
        eprintln!(
            "resumed at chunk {} of {}",
            separation.resumed_at + 1,
            separation.chunks
        );
    }
    eprintln!(
        "{:.1} s of audio in {seconds:.1} s ({:.2}× real time); stems sum to the mix within {:.1} dB",
        audio.duration_seconds(),
        seconds / audio.duration_seconds().max(f64::MIN_POSITIVE),
        separation.residual_db
    );
    for stem in &separation.stems {
        let clipped = match stem.levels.clipped {
            0 => String::new(),
            n => format!(", {n} samples clipped"),
        };
        eprintln!(
            "{:<8} peak {:>6.1} dBFS{clipped}  {}",
            stem.name,
            20.0 * f64::from(stem.levels.peak).log10(),
            stem.path.display()
        );
    }
    Ok(())
}
