//! Stem separation: the host side of HTDemucs around its ONNX core, ported from demucs (see
//! ../shared/design/separation.md and htdemucs_reference.py there).
//!
//! The track is normalised as a whole, cut into the model's chunks, each chunk's spectrogram and waveform
//! run through the graph, the sources' spectrograms turned back into waveforms and the chunks overlap-added.
//! Finished regions go straight to disk, so memory is bounded by a chunk, not the track; a checkpoint after
//! every chunk lets an interrupted separation resume (see `work`).

mod adopt;
mod chunks;
#[cfg(test)]
mod golden;
mod model;
mod spec;
mod wide_sums;
mod work;
pub(crate) mod writer;

use std::{
    borrow::Cow,
    path::{Path, PathBuf},
    sync::atomic::{AtomicBool, Ordering},
};

pub use adopt::{adopt, excerpt, write_wav};
pub use model::{Manifest, Model, installed};
pub use writer::{Levels, SampleFormat};

use chunks::{Layout, OverlapAdd};
use model::CHANNELS;
use work::{Checkpoint, Input, WorkDir};
use writer::StemWriter;

use crate::{
    Audio, Error,
    resample::{resample, to_mono},
};

/// Frames read back at a time when a partial stem becomes its file.
const WRITE_BLOCK: usize = 1 << 16;

/// How far a separation has come: called after each chunk is safely on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub done: usize,
    pub chunks: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Stem {
    pub name: String,
    pub path: PathBuf,
    pub levels: Levels,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Separation {
    /// In the model's order, each with the source's sample rate, length and channel count (two for
    /// stereo, one for anything else: more than two channels are downmixed).
    pub stems: Vec<Stem>,
    /// How far the sum of the stems is from the mix, in dB relative to the mix (after demucs' known offset
    /// of (stems − 1) × the mix's mean), measured at the model's rate.
    pub residual_db: f64,
    pub chunks: usize,
    /// The chunk this run started at: 0 unless it resumed an interrupted one.
    pub resumed_at: usize,
}

/// Separates `audio` into `out_dir/<stem>.wav`, resuming the work a previous call left there for the same
/// input. `cancel` is checked before each chunk; a cancelled separation can be resumed the same way.
pub fn separate(
    audio: &Audio,
    model: &Model,
    out_dir: &Path,
    format: SampleFormat,
    mut progress: impl FnMut(Progress),
    cancel: &AtomicBool,
) -> Result<Separation, Error> {
    let manifest = model.manifest();
    let mix = model_input(audio, manifest.sample_rate)?;
    let (mean, std) = normalisation(&mix);
    let input = Input {
        frames: mix.frames(),
        mean,
        std,
    };
    let sources = manifest.stems.len();
    let layout = Layout::new(manifest.segment_samples, mix.frames());
    let overlap = layout.segment - layout.stride;
    let (mut work, resumed) = WorkDir::open(out_dir, &manifest.stems, input)?;
    let mut ola = OverlapAdd::new(layout.segment, sources * CHANNELS);
    let mut state = resumed.unwrap_or(Checkpoint {
        next_chunk: 0,
        frames_done: 0,
        residual_energy: 0.0,
        mix_energy: 0.0,
        tail: Vec::new(),
    });
    ola.restore(&state.tail);
    let resumed_at = state.next_chunk;
    for chunk in resumed_at..layout.count() {
        if cancel.load(Ordering::Relaxed) {
            return Err(Error::Cancelled);
        }
        let wave = layout.extract(chunk, mix.samples(), CHANNELS, |x| {
            ((f64::from(x) - mean) / std) as f32
        });
        ola.add(
            &run_chunk(model, &wave)?,
            layout.margin(chunk),
            layout.length(chunk),
        );
        let finished = ola.take(layout.finished(chunk));
        let stems: Vec<Vec<f32>> = finished
            .chunks_exact(CHANNELS)
            .map(|channels| {
                (0..channels[0].len())
                    .flat_map(|i| channels.iter().map(move |row| (row[i] * std + mean) as f32))
                    .collect()
            })
            .collect();
        let mix_frames = &mix.samples()[CHANNELS * state.frames_done..][..stems[0].len()];
        let offset = (sources - 1) as f64 * mean;
        for (i, &x) in mix_frames.iter().enumerate() {
            let sum: f64 = stems.iter().map(|stem| f64::from(stem[i])).sum();
            state.residual_energy += (sum - offset - f64::from(x)).powi(2);
            state.mix_energy += f64::from(x).powi(2);
        }
        work.append(&stems)?;
        state.next_chunk = chunk + 1;
        state.frames_done += stems[0].len() / CHANNELS;
        state.tail = ola.tail(overlap);
        work.commit(&state, input)?;
        progress(Progress {
            done: chunk + 1,
            chunks: layout.count(),
        });
    }
    let stems = write_stems(&work, manifest, audio, out_dir, format)?;
    work.remove()?;
    let tiny = f64::MIN_POSITIVE;
    Ok(Separation {
        stems,
        residual_db: 10.0 * ((state.residual_energy + tiny) / (state.mix_energy + tiny)).log10(),
        chunks: layout.count(),
        resumed_at,
    })
}

/// The track as the model takes it: stereo at its rate. More than two channels are mixed down to one
/// first (the model knows nothing of surround layouts), and one channel is played on both sides.
fn model_input(audio: &Audio, rate: u32) -> Result<Cow<'_, Audio>, Error> {
    let fewer = if audio.channels() > 2 {
        Cow::Owned(to_mono(audio))
    } else {
        Cow::Borrowed(audio)
    };
    let resampled = if fewer.sample_rate() == rate {
        fewer
    } else {
        Cow::Owned(resample(&fewer, rate)?)
    };
    if resampled.channels() == 2 {
        return Ok(resampled);
    }
    let doubled = resampled.samples().iter().flat_map(|&x| [x, x]).collect();
    Ok(Cow::Owned(Audio::from_interleaved(doubled, rate, 2)?))
}

/// demucs' whole-track normalisation: the mean and standard deviation of the channels' mean. Silence keeps
/// a deviation of 1, where demucs would divide by zero.
fn normalisation(mix: &Audio) -> (f64, f64) {
    let reference: Vec<f64> = mix
        .samples()
        .chunks_exact(CHANNELS)
        .map(|frame| frame.iter().map(|&x| f64::from(x)).sum::<f64>() / CHANNELS as f64)
        .collect();
    let n = reference.len().max(1) as f64;
    let mean = reference.iter().sum::<f64>() / n;
    let std = (reference.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
    (mean, if std > 0.0 { std } else { 1.0 })
}

/// One chunk (channels one after another) through the model: for each source and channel, a segment of
/// waveform, the spectrogram branch turned back into samples and added to the time branch.
fn run_chunk(model: &Model, wave: &[f32]) -> Result<Vec<f64>, Error> {
    let spectrogram = model.spectrogram();
    let output = model.run(wave, &spectrogram.forward(wave))?;
    let times = output.waveforms()?;
    let per_source = times.len() / model.manifest().stems.len();
    let mut stems = Vec::with_capacity(times.len());
    for (spec, time) in output
        .spectrograms()?
        .chunks_exact(spectrogram.size(CHANNELS))
        .zip(times.chunks_exact(per_source))
    {
        let mut x = spectrogram.inverse(spec, CHANNELS);
        for (x, t) in x.iter_mut().zip(time) {
            *x += f64::from(*t);
        }
        stems.extend(x);
    }
    Ok(stems)
}

/// Turns each partial stem into its file at the source's rate, length and channel count.
fn write_stems(
    work: &WorkDir,
    manifest: &Manifest,
    audio: &Audio,
    out_dir: &Path,
    format: SampleFormat,
) -> Result<Vec<Stem>, Error> {
    let channels = if audio.channels() == 2 { 2 } else { 1 };
    manifest
        .stems
        .iter()
        .map(|name| {
            let path = out_dir.join(format!("{name}.wav"));
            let mut writer = StemWriter::create(&path, format, audio.sample_rate(), channels)?;
            let failed = |err: hound::Error| Error::Output(format!("{}: {err}", path.display()));
            if audio.sample_rate() == manifest.sample_rate {
                work.read_part(name, WRITE_BLOCK, |frames| {
                    writer.write_stereo(frames).map_err(failed)
                })?;
            } else {
                // Resampling holds one stem at a time; only inputs at other rates than the model's pay it.
                let mut samples = Vec::new();
                work.read_part(name, WRITE_BLOCK, |frames| {
                    samples.extend_from_slice(frames);
                    Ok(())
                })?;
                let stem = Audio::from_interleaved(samples, manifest.sample_rate, 2)?;
                let back = resample(&stem, audio.sample_rate())?;
                let kept = back.samples().len().min(2 * audio.frames());
                writer.write_stereo(&back.samples()[..kept]).map_err(failed)?;
                writer
                    .write_stereo(&vec![0.0; 2 * audio.frames() - kept])
                    .map_err(failed)?;
            }
            Ok(Stem {
                name: name.clone(),
                levels: writer.finish(&path)?,
                path,
            })
        })
        .collect()
}
