//! `sfa`: the audio engine from the command line.
//!
//! `sfa analyze FILE [--json]` decodes a file and prints its analysis: a summary for people, or the JSON
//! shape that `analysis_results.features` stores. `sfa analyze --stdin` stays running and analyses each
//! file named on a line of its input, answering each with one line of JSON, as a server's worker does many
//! files in one process (the benchmark times it so).
//!
//! `sfa separate FILE --out DIR [--model NAME] [--format wav16|wav24|f32]` splits it into stems.

use std::{io::Write, path::PathBuf, process::ExitCode, time::Instant};

use clap::{Parser, Subcommand};
use sfa_audio::{
    Analysis, Limits,
    analysis::{Phase, analyze_with_progress},
    decode,
};

#[derive(Parser)]
#[command(name = "sfa", version, about = "Sound Forge Alchemy's audio engine")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Tempo, beats, key, loudness and the spectral picture of an audio file.
    Analyze {
        #[arg(required_unless_present = "stdin")]
        file: Option<PathBuf>,
        /// Print the analysis as JSON (the shape the app stores) instead of a summary.
        #[arg(long)]
        json: bool,
        /// Read file names from standard input, one a line, and answer each with a line of JSON:
        /// `{"file": …, "analysis": …}` or `{"file": …, "error": …}`.
        #[arg(long, conflicts_with_all = ["file", "json"])]
        stdin: bool,
    },
    /// Splits an audio file into stems (drums, bass, other, vocals), one WAV each in DIR. Run again with
    /// the same DIR, an interrupted separation resumes where it stopped.
    Separate(separate_cmd::Args),
}

mod separate_cmd;

fn main() -> ExitCode {
    let (file, outcome) = match Cli::parse().command {
        Command::Analyze { stdin: true, .. } => (PathBuf::from("-"), run_stdin()),
        Command::Analyze { file, json, .. } => {
            let file = file.unwrap_or_default();
            let outcome = run(&file, json);
            (file, outcome)
        }
        Command::Separate(args) => (args.file.clone(), separate_cmd::run(&args)),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("sfa: {}: {message}", file.display());
            ExitCode::FAILURE
        }
    }
}

fn run(file: &PathBuf, json: bool) -> Result<(), String> {
    let started = Instant::now();
    eprintln!("decoding {}", file.display());
    let (title, analysis) = analyse(file, |phase| {
        let step = Phase::ALL.iter().position(|p| *p == phase).unwrap_or(0) + 1;
        eprint!("\ranalysing: {step}/{} {phase:?}          ", Phase::ALL.len());
    })?;
    eprintln!(
        "\rdone in {:.1} s                              ",
        started.elapsed().as_secs_f64()
    );
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &analysis)
            .map_err(|err| err.to_string())
            .and_then(|()| writeln!(out).map_err(|err| err.to_string()))
    } else {
        summary(&mut out, &title, &analysis).map_err(|err| err.to_string())
    }
}

/// Decodes and analyses `file`; returns its title tag and the analysis.
fn analyse(file: &PathBuf, progress: impl FnMut(Phase)) -> Result<(Option<String>, Analysis), String> {
    let source = std::fs::File::open(file).map_err(|err| err.to_string())?;
    let decoded = decode(source, &Limits::default()).map_err(|err| err.to_string())?;
    let analysis = analyze_with_progress(&decoded.audio, progress).map_err(|err| err.to_string())?;
    Ok((decoded.tags.title, analysis))
}

/// One line of `--stdin`'s answers. Serialised as it is, not through `serde_json::Value`, which would
/// print every f32 with an f64's digits.
#[derive(serde::Serialize)]
struct Answer<'a> {
    file: std::borrow::Cow<'a, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    analysis: Option<&'a Analysis>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a String>,
}

fn run_stdin() -> Result<(), String> {
    use std::{io::BufRead, os::unix::ffi::OsStringExt};
    let mut out = std::io::stdout().lock();
    // A path is bytes, not always UTF-8, and may end in spaces: only the line ending is taken off.
    for line in std::io::stdin().lock().split(b'\n') {
        let mut line = line.map_err(|err| err.to_string())?;
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        let file = PathBuf::from(std::ffi::OsString::from_vec(line));
        let outcome = analyse(&file, |_| {});
        let answer = Answer {
            file: file.to_string_lossy(),
            analysis: outcome.as_ref().ok().map(|(_, analysis)| analysis),
            error: outcome.as_ref().err(),
        };
        serde_json::to_writer(&mut out, &answer).map_err(|err| err.to_string())?;
        writeln!(out)
            .and_then(|()| out.flush())
            .map_err(|err| err.to_string())?;
    }
    Ok(())
}

fn summary(out: &mut impl Write, title: &Option<String>, a: &Analysis) -> std::io::Result<()> {
    if let Some(title) = title {
        writeln!(out, "{title}")?;
    }
    let minutes = (a.duration_seconds / 60.0).floor();
    writeln!(
        out,
        "duration   {minutes:.0}:{:04.1}",
        a.duration_seconds - 60.0 * minutes
    )?;
    match &a.tempo {
        Some(t) => writeln!(
            out,
            "tempo      {:.1} BPM (or {:.1} / {:.1}), confidence {:.2}, {} beats, {} bars{}",
            t.bpm,
            t.half,
            t.double,
            t.confidence,
            a.beats.len(),
            a.downbeats.len(),
            a.downbeats
                .first()
                .map_or_else(String::new, |d| format!(" from {d:.2} s"))
        )?,
        None => writeln!(out, "tempo      none found")?,
    }
    match &a.key {
        Some(k) => writeln!(
            out,
            "key        {} ({}, {}), confidence {:.2}",
            k.name, k.camelot, k.open_key, k.confidence
        )?,
        None => writeln!(out, "key        none found")?,
    }
    let db = |v: Option<f64>, unit: &str| {
        v.map_or_else(|| "not measurable".to_owned(), |v| format!("{v:.1} {unit}"))
    };
    writeln!(
        out,
        "loudness   integrated {}, range {:.1} LU, true peak {}",
        db(a.loudness.integrated_lufs, "LUFS"),
        a.loudness.range_lu,
        db(a.loudness.true_peak_dbtp, "dBTP")
    )?;
    writeln!(
        out,
        "energy     {:.2}, {:.1} onsets a second",
        a.energy, a.onset_rate
    )?;
    writeln!(
        out,
        "spectrum   centroid {:.0} Hz, roll-off {:.0} Hz, bandwidth {:.0} Hz, flatness {:.3}, ZCR {:.3}",
        a.spectral.centroid_hz,
        a.spectral.rolloff_hz,
        a.spectral.bandwidth_hz,
        a.spectral.flatness,
        a.zero_crossing_rate
    )
}
