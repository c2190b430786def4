"""The separation benchmark's reference side and scoring, called by scripts/bench-separation.

    separation.py reference REFERENCE_DIR MODEL SONG_DIR OUT_DIR   separate mix.wav with onnxruntime + numpy
    separation.py score SONG_DIR OURS_DIR REFERENCE_DIR            parity and SDR per stem, as a table

REFERENCE_DIR holds htdemucs_reference.py (../shared/design). Stems are float WAV files named <stem>.wav.
"""
import json
import sys
import time

import numpy as np
import soundfile as sf

STEMS = ["drums", "bass", "other", "vocals"]


def db(signal, noise):
    return 10 * np.log10(np.sum(signal**2) / max(np.sum(noise**2), 1e-20))


def reference(reference_dir, model, song, out):
    import os

    import onnxruntime as ort

    sys.path.insert(0, reference_dir)
    import htdemucs_reference as ref

    mix, rate = sf.read(os.path.join(song, "mix.wav"), dtype="float32", always_2d=True)
    assert rate == ref.SR, rate
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])

    def run_core(chunk, mag):
        return session.run(["output", "5073"], {"input": chunk, "onnx::ReduceMean_1": mag})

    started = time.time()
    stems = ref.separate(mix.T.copy(), run_core, log=lambda *_: None)
    seconds = time.time() - started
    os.makedirs(out, exist_ok=True)
    for name, stem in zip(STEMS, stems):
        sf.write(os.path.join(out, f"{name}.wav"), stem.T, rate, subtype="FLOAT")
    print(json.dumps({"seconds": seconds, "duration": len(mix) / rate}))


def score(song, ours, theirs):
    import os

    # parity: the reference stem over our difference from it; "of mix": that difference against the mix, which
    # tells the model's own rounding (spread over all stems) from an error in one stem's host code.
    print(f"{'stem':<8} {'parity':>8} {'of mix':>8} {'SDR ours':>9} {'SDR ref':>8} {'SDR mix':>8}")
    mix, _ = sf.read(os.path.join(song, "mix.wav"), dtype="float64", always_2d=True)
    for name in STEMS:
        truth, _ = sf.read(os.path.join(song, f"{name}.wav"), dtype="float64", always_2d=True)
        a, _ = sf.read(os.path.join(ours, f"{name}.wav"), dtype="float64", always_2d=True)
        b, _ = sf.read(os.path.join(theirs, f"{name}.wav"), dtype="float64", always_2d=True)
        print(
            f"{name:<8} {db(b, a - b):>7.1f}  {db(mix, a - b):>7.1f}  {db(truth, truth - a):>8.2f}  {db(truth, truth - b):>7.2f}"
            f"  {db(truth, truth - mix):>7.2f}"
        )


if __name__ == "__main__":
    {"reference": reference, "score": score}[sys.argv[1]](*sys.argv[2:])
