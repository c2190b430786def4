"""Computes the librosa goldens that tests/librosa_golden.rs compares against.

Run once, when a definition changes, in a throwaway virtualenv:
    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install librosa==0.11.0
    /tmp/venv/bin/python audio/tests/golden/make_golden.py
The input is defined by formula here and in the Rust test, so no audio file is needed.
"""
import json
import pathlib

import librosa
import numpy as np

SR = 22050


def signal():
    # Two steady tones, a slow sweep, a decaying click every half second and hiss: something for every feature.
    t = np.arange(2 * SR, dtype=np.float64) / SR
    x = 0.3 * np.sin(2 * np.pi * 440.0 * t)
    x += 0.2 * np.sin(2 * np.pi * 1234.5 * t)
    x += 0.1 * np.sin(2 * np.pi * (200.0 * t + 400.0 * t * t))
    x += 0.2 * np.exp(-40.0 * (t % 0.5)) * np.sin(2 * np.pi * 3000.0 * t)
    # A faint hiss from a linear congruential generator, so that no band is empty: in an empty band the
    # weakest bins are rounding noise, which differs between FFT libraries.
    i = np.arange(len(t), dtype=np.int64)
    x += 0.01 * (((i * 1103515245 + 12345) % 2**31) / 2**31 - 0.5)
    return x.astype(np.float32)


y = signal()
mfcc = librosa.feature.mfcc(y=y, sr=SR, n_mfcc=13)
S = np.abs(librosa.stft(y, n_fft=2048, hop_length=512))
golden = {
    "librosa": librosa.__version__,
    "frames": int(mfcc.shape[1]),
    "mfcc_mean": mfcc.mean(axis=1).tolist(),
    # Tuning fixed at A440: the estimation of tuning is compared separately.
    "chroma_mean": librosa.feature.chroma_stft(y=y, sr=SR, tuning=0.0).mean(axis=1).tolist(),
    "mfcc_frame_20": mfcc[:, 20].tolist(),
    "onset_strength": librosa.onset.onset_strength(y=y, sr=SR).tolist(),
    "contrast_mean": librosa.feature.spectral_contrast(S=S, sr=SR).mean(axis=1).tolist(),
    "centroid_mean": float(librosa.feature.spectral_centroid(S=S, sr=SR).mean()),
    "rolloff_mean": float(librosa.feature.spectral_rolloff(S=S, sr=SR, roll_percent=0.85).mean()),
    "bandwidth_mean": float(librosa.feature.spectral_bandwidth(S=S, sr=SR).mean()),
    "flatness_mean": float(librosa.feature.spectral_flatness(S=S).mean()),
    "zcr_mean": float(librosa.feature.zero_crossing_rate(y).mean()),
    "rms_mean": float(librosa.feature.rms(y=y).mean()),
}
path = pathlib.Path(__file__).with_name("librosa.json")
path.write_text(json.dumps(golden, indent=1) + "\n")
print(f"wrote {path}")
