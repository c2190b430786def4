//! A separation model: its manifest (what the graph expects and returns) and tract's plan for it.
//!
//! A model lives in a folder of its own: `manifest.json` and the ONNX file it names. Any export with
//! HTDemucs' contract works (see ../shared/design/separation.md): a waveform chunk and its spectrogram in, a
//! spectrogram and a waveform per source out; the shapes are checked against the manifest when the plan is
//! built, so a mismatched export is refused at load rather than mid-track.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{Arc, Mutex, OnceLock},
};

use serde::Deserialize;
use tract_linalg::multithread::{Executor, multithread_tract_scope};
use tract_onnx::prelude::*;

use super::{spec::Spectrogram, wide_sums::widen};
use crate::Error;

/// The model's stereo input: mono is duplicated, stems folded back.
pub const CHANNELS: usize = 2;

/// ONNX names of the graph's inputs and outputs, from the HTDemucs export.
const WAVE_IN: &str = "input";
const SPEC_IN: &str = "onnx::ReduceMean_1";
const SPEC_OUT: &str = "output";
const WAVE_OUT: &str = "5073";

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Manifest {
    pub name: String,
    /// The ONNX file, relative to the manifest.
    pub file: PathBuf,
    /// Source names in the graph's output order.
    pub stems: Vec<String>,
    pub sample_rate: u32,
    pub segment_samples: usize,
    pub n_fft: usize,
    pub hop: usize,
}

impl Manifest {
    /// The manifest in the model folder `dir`, checked to describe an HTDemucs-like model.
    pub fn read(dir: &Path) -> Result<Self, Error> {
        let manifest_path = dir.join("manifest.json");
        let text = std::fs::read_to_string(&manifest_path)
            .map_err(|err| Error::Model(format!("{}: {err}", manifest_path.display())))?;
        let manifest: Manifest = serde_json::from_str(&text)
            .map_err(|err| Error::Model(format!("{}: {err}", manifest_path.display())))?;
        if manifest.n_fft != 4 * manifest.hop || manifest.stems.is_empty() || manifest.segment_samples == 0 {
            return Err(Error::Model(format!(
                "{}: the manifest does not describe an HTDemucs-like model (n_fft = 4 hops, at least one stem)",
                manifest_path.display()
            )));
        }
        Ok(manifest)
    }
}

/// The models installed under `models_dir`: each folder with a readable manifest whose graph file is there,
/// by folder name, in name order. A folder that is half-installed is left out rather than offered.
pub fn installed(models_dir: &Path) -> Vec<(String, Manifest)> {
    let Ok(entries) = std::fs::read_dir(models_dir) else {
        return Vec::new();
    };
    let mut models: Vec<(String, Manifest)> = entries
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let manifest = Manifest::read(&entry.path()).ok()?;
            entry
                .path()
                .join(&manifest.file)
                .is_file()
                .then_some((name, manifest))
        })
        .collect();
    models.sort_by(|a, b| a.0.cmp(&b.0));
    models
}

/// A loaded model: cheap to clone, the plan shared.
#[derive(Clone)]
pub struct Model {
    inner: Arc<Inner>,
}

struct Inner {
    manifest: Manifest,
    spectrogram: Spectrogram,
    plan: Arc<TypedRunnableModel>,
    /// The threads the plan's matrix products share out, one per core.
    executor: Executor,
    /// Positions of the inputs (waveform, spectrogram) and outputs (spectrogram, waveform) in the plan.
    inputs: [usize; 2],
    outputs: [usize; 2],
}

/// One chunk's result: per source, a spectrogram and a waveform.
pub struct Output {
    values: TVec<TValue>,
    outputs: [usize; 2],
}

impl Output {
    pub fn spectrograms(&self) -> Result<&[f32], Error> {
        plain(&self.values[self.outputs[0]])
    }

    pub fn waveforms(&self) -> Result<&[f32], Error> {
        plain(&self.values[self.outputs[1]])
    }
}

fn plain(value: &TValue) -> Result<&[f32], Error> {
    value
        .to_plain_array_view::<f32>()
        .map_err(|err| Error::Model(format!("an output is not f32: {err}")))?
        .to_slice()
        .ok_or_else(|| Error::Model("an output is not contiguous".to_owned()))
}

fn model_error(context: &str) -> impl Fn(TractError) -> Error + '_ {
    move |err| Error::Model(format!("{context}: {err:#}"))
}

impl Model {
    /// The model in `dir`, built once per process: parsing and optimising the graph takes seconds, and every
    /// separation after the first reuses the plan.
    pub fn shared(dir: &Path) -> Result<Self, Error> {
        static LOADED: OnceLock<Mutex<HashMap<PathBuf, Model>>> = OnceLock::new();
        let mut loaded = LOADED
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(model) = loaded.get(dir) {
            return Ok(model.clone());
        }
        let model = Self::load(dir)?;
        loaded.insert(dir.to_owned(), model.clone());
        Ok(model)
    }

    /// Reads `dir/manifest.json` and builds the plan for the graph it names.
    pub fn load(dir: &Path) -> Result<Self, Error> {
        let manifest = Manifest::read(dir)?;
        let spectrogram = Spectrogram::new(manifest.n_fft, manifest.hop, manifest.segment_samples);
        let path = dir.join(&manifest.file);
        let graph = onnx()
            .model_for_path(&path)
            .map_err(model_error(&path.display().to_string()))?;
        let inputs = [WAVE_IN, SPEC_IN].map(|name| {
            graph
                .input_outlets()
                .ok()
                .and_then(|outlets| outlets.iter().position(|o| graph.node(o.node).name == name))
        });
        let outputs = [SPEC_OUT, WAVE_OUT].map(|name| {
            graph
                .output_outlets()
                .ok()
                .and_then(|outlets| outlets.iter().position(|o| graph.outlet_label(*o) == Some(name)))
        });
        let (Some(wave_in), Some(spec_in), Some(spec_out), Some(wave_out)) =
            (inputs[0], inputs[1], outputs[0], outputs[1])
        else {
            return Err(Error::Model(format!(
                "{}: the graph lacks one of the inputs {WAVE_IN:?}, {SPEC_IN:?} or outputs {SPEC_OUT:?}, {WAVE_OUT:?}",
                path.display()
            )));
        };
        let mut typed = graph
            .into_typed()
            .and_then(|typed| typed.into_decluttered())
            .map_err(model_error("reading the graph"))?;
        widen(&mut typed).map_err(model_error("widening the graph's sums"))?;
        let typed = typed
            .into_optimized()
            .map_err(model_error("optimising the graph"))?;
        let (sources, segment) = (manifest.stems.len(), manifest.segment_samples);
        let (bins, frames) = (spectrogram.bins(), spectrogram.frames());
        let want = [
            (true, wave_in, vec![1, CHANNELS, segment]),
            (true, spec_in, vec![1, 2 * CHANNELS, bins, frames]),
            (false, spec_out, vec![1, sources, 2 * CHANNELS, bins, frames]),
            (false, wave_out, vec![1, sources, CHANNELS, segment]),
        ];
        for (is_input, ix, shape) in want {
            let fact = if is_input {
                typed.input_fact(ix)
            } else {
                typed.output_fact(ix)
            }
            .map_err(model_error("reading the graph's shapes"))?;
            if fact.shape.as_concrete() != Some(shape.as_slice()) {
                return Err(Error::Model(format!(
                    "{}: a tensor has the shape {:?} where the manifest implies {shape:?}",
                    path.display(),
                    fact.shape
                )));
            }
        }
        let plan = typed
            .into_runnable()
            .map_err(model_error("preparing the graph to run"))?;
        Ok(Self {
            inner: Arc::new(Inner {
                manifest,
                spectrogram,
                plan,
                executor: Executor::multithread_with_name(
                    std::thread::available_parallelism().map_or(1, usize::from),
                    "sfa-separation",
                ),
                inputs: [wave_in, spec_in],
                outputs: [spec_out, wave_out],
            }),
        })
    }

    pub fn manifest(&self) -> &Manifest {
        &self.inner.manifest
    }

    pub fn spectrogram(&self) -> &Spectrogram {
        &self.inner.spectrogram
    }

    /// Runs the graph on one chunk (channels one after another) and its spectrogram.
    pub fn run(&self, wave: &[f32], spec: &[f32]) -> Result<Output, Error> {
        let inner = &self.inner;
        let shapes = [
            vec![1, CHANNELS, inner.manifest.segment_samples],
            vec![
                1,
                2 * CHANNELS,
                inner.spectrogram.bins(),
                inner.spectrogram.frames(),
            ],
        ];
        let mut tensors = [wave, spec]
            .iter()
            .zip(&shapes)
            .map(|(data, shape)| Tensor::from_shape(shape, data).map(TValue::from))
            .collect::<TractResult<Vec<_>>>()
            .map_err(model_error("preparing a chunk"))?;
        if inner.inputs == [1, 0] {
            tensors.swap(0, 1);
        }
        let values = multithread_tract_scope(inner.executor.clone(), || {
            inner.plan.run(tensors.into_iter().collect())
        })
        .map_err(model_error("running the model"))?;
        Ok(Output {
            values,
            outputs: inner.outputs,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(file: &str) -> String {
        format!(
            r#"{{"name": "m", "file": "{file}", "stems": ["drums", "bass", "other", "vocals", "guitar", "piano"],
                "sample_rate": 44100, "segment_samples": 343980, "n_fft": 4096, "hop": 1024}}"#
        )
    }

    #[test]
    fn only_complete_model_folders_are_installed() {
        let dir = tempfile::tempdir().expect("temp dir");
        for (folder, manifest_text, graph) in [
            ("six", Some(manifest("six.onnx")), Some("six.onnx")),
            ("four", Some(manifest("m.onnx")), Some("m.onnx")),
            ("no-graph", Some(manifest("absent.onnx")), None),
            ("broken", Some("{ not json".to_owned()), None),
            ("empty", None, None),
        ] {
            let path = dir.path().join(folder);
            std::fs::create_dir(&path).expect("folder");
            if let Some(text) = manifest_text {
                std::fs::write(path.join("manifest.json"), text).expect("manifest");
            }
            if let Some(graph) = graph {
                std::fs::write(path.join(graph), b"onnx").expect("graph");
            }
        }
        let names: Vec<_> = installed(dir.path()).into_iter().map(|(name, _)| name).collect();
        assert_eq!(names, ["four", "six"]);
        assert!(installed(&dir.path().join("nowhere")).is_empty());
        assert!(Manifest::read(&dir.path().join("broken")).is_err());
    }
}
