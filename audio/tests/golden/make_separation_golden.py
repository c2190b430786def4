"""Computes the goldens that tests/separation_golden.rs compares our separation host code against, with
htdemucs_reference.py (the numpy port of demucs' host code checked against the model).

Run once, when a definition changes, in a throwaway virtualenv:
    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install numpy
    /tmp/venv/bin/python audio/tests/golden/make_separation_golden.py ../shared/design
The inputs are defined by formula here and in the Rust test, so no audio file is needed.
"""
import json
import pathlib
import sys

import numpy as np

sys.path.insert(0, sys.argv[1] if len(sys.argv) > 1 else str(pathlib.Path(__file__).parents[3] / "../shared/design"))
import htdemucs_reference as ref  # noqa: E402

LENGTH = 5000  # samples a channel: 5 frames, short enough to keep the golden small
BIN_STEP = 16  # the goldens keep every 16th bin
SAMPLE_STEP = 10  # and every 10th sample


def lcg(n, seed):
    i = np.arange(n, dtype=np.int64) + seed
    return ((i * 1103515245 + 12345) % 2**31) / 2**31 - 0.5


def signal():
    t = np.arange(LENGTH, dtype=np.float64) / ref.SR
    rows = [
        0.5 * np.sin(2 * np.pi * 440.0 * t + c) + 0.2 * np.sin(2 * np.pi * 3000.5 * t) + 0.05 * lcg(LENGTH, 7 * c)
        for c in range(2)
    ]
    return np.stack(rows).astype(np.float32)


def spectrogram():
    # One source's spectrogram in the graph's layout [4, 2048, frames], values from the generator.
    frames = -(-LENGTH // ref.HL)
    return lcg(4 * 2048 * frames, 3).reshape(4, 2048, frames).astype(np.float32)


mag = ref.magnitude(ref.spec(signal().astype(np.float64)[None]))[0]  # [4, 2048, frames]
wave = ref.ispec(spectrogram()[None, None], LENGTH)[0, 0]  # [2, LENGTH]

seg = ref.SEG
w = np.concatenate([np.arange(1, seg // 2 + 2), np.arange(seg - seg // 2 - 1, 0, -1)])[:seg].astype(np.float64)
w /= w.max()
picks = [0, 1, 2, 1000, seg // 2 - 1, seg // 2, seg // 2 + 1, seg // 2 + 2, seg - 2, seg - 1]

golden = {
    "length": LENGTH,
    "bin_step": BIN_STEP,
    "sample_step": SAMPLE_STEP,
    "spec": mag[:, ::BIN_STEP, :].ravel().tolist(),
    "ispec": wave[:, ::SAMPLE_STEP].ravel().tolist(),
    "segment": seg,
    "weight_indices": picks,
    "weights": w[picks].tolist(),
}
out = pathlib.Path(__file__).parent / "separation.json"
out.write_text(json.dumps(golden) + "\n")
print(out, out.stat().st_size, "bytes")
