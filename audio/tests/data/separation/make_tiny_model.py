"""Writes tiny-htdemucs/model.onnx: a graph with HTDemucs' inputs and outputs (names, shapes, layout) whose
sources are each a quarter of the input spectrogram and whose time branch is silent. The tests run the whole
host pipeline through it: its stems must each be a quarter of the mix and sum back to it.

Run once, when the contract changes, in a throwaway virtualenv:
    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install numpy onnx
    /tmp/venv/bin/python audio/tests/data/separation/make_tiny_model.py
"""
import json
import pathlib

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SOURCES, SEGMENT, BINS, FRAMES = 4, 343980, 2048, 336
OUT = pathlib.Path(__file__).parent / "tiny-htdemucs"


def const(name, array):
    return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(array, name))


nodes = [
    const("quarter", np.array(0.25, np.float32)),
    const("zero", np.array(0.0, np.float32)),
    const("axis", np.array([1], np.int64)),
    const("spec_shape", np.array([1, SOURCES, 4, BINS, FRAMES], np.int64)),
    const("time_shape", np.array([1, SOURCES, 2, SEGMENT], np.int64)),
    helper.make_node("Unsqueeze", ["onnx::ReduceMean_1", "axis"], ["spec_1"]),
    helper.make_node("Mul", ["spec_1", "quarter"], ["spec_q"]),
    helper.make_node("Expand", ["spec_q", "spec_shape"], ["output"]),
    helper.make_node("Unsqueeze", ["input", "axis"], ["wave_1"]),
    helper.make_node("Mul", ["wave_1", "zero"], ["wave_0"]),
    helper.make_node("Expand", ["wave_0", "time_shape"], ["5073"]),
]
graph = helper.make_graph(
    nodes,
    "tiny-htdemucs",
    [
        helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 2, SEGMENT]),
        helper.make_tensor_value_info("onnx::ReduceMean_1", TensorProto.FLOAT, [1, 4, BINS, FRAMES]),
    ],
    [
        helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, SOURCES, 4, BINS, FRAMES]),
        helper.make_tensor_value_info("5073", TensorProto.FLOAT, [1, SOURCES, 2, SEGMENT]),
    ],
)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
model.ir_version = 8
onnx.checker.check_model(model)
OUT.mkdir(exist_ok=True)
onnx.save(model, OUT / "model.onnx")
manifest = {
    "name": "tiny-htdemucs",
    "file": "model.onnx",
    "stems": ["drums", "bass", "other", "vocals"],
    "sample_rate": 44100,
    "segment_samples": SEGMENT,
    "n_fft": 4096,
    "hop": 1024,
}
(OUT / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
print(OUT / "model.onnx", (OUT / "model.onnx").stat().st_size, "bytes")
