"""Analysis benchmark: our `sfa analyze` against librosa 0.11 on songs rendered by make_stems.py, in one run.

Prints tempo Acc1/Acc2, beat F-measure, key weighted score for both, and the time ratio (ours / librosa)
with absolute times. Run by scripts/bench-analysis, which prepares the songs, the virtualenv and `sfa`.
"""
import json
import pathlib
import subprocess
import sys
import time

import librosa
import mir_eval
import numpy as np

SFA, SONGS = sys.argv[1], sorted(pathlib.Path(sys.argv[2]).glob("*/ground_truth.json"))
NAMES = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]
MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


def librosa_analysis(path):
    """The same features with librosa: tempo and beats, STFT chroma + Krumhansl key, MFCC, spectral."""
    y, sr = librosa.load(path, sr=22050, mono=True)
    tempo, beats = librosa.beat.beat_track(y=y, sr=sr, units="time")
    chroma = librosa.feature.chroma_stft(y=y, sr=sr).mean(axis=1)
    scores = [(np.corrcoef(chroma, np.roll(p, t))[0, 1], f"{NAMES[t]} {m}")
              for t in range(12) for p, m in ((MAJOR, "major"), (MINOR, "minor"))]
    librosa.feature.mfcc(y=y, sr=sr, n_mfcc=13)
    librosa.feature.spectral_centroid(y=y, sr=sr)
    librosa.feature.spectral_rolloff(y=y, sr=sr)
    librosa.feature.zero_crossing_rate(y)
    librosa.feature.rms(y=y)
    return float(np.atleast_1d(tempo)[0]), np.asarray(beats), max(scores)[1]


def ours(path):
    out = subprocess.run([SFA, "analyze", "--json", str(path)], check=True, capture_output=True, text=True)
    a = json.loads(out.stdout)
    return (a["tempo"] or {}).get("bpm", 0.0), np.asarray(a["beats"]), (a["key"] or {}).get("name", "C major")


def score(truth, tempo, beats, key):
    bpm = truth["tempo_bpm"]
    acc1 = abs(tempo / bpm - 1) <= 0.04
    acc2 = any(abs(tempo / (bpm * m) - 1) <= 0.04 for m in (1, 2, 3, 1 / 2, 1 / 3))
    ref = mir_eval.beat.trim_beats(np.asarray(truth["beats_s"]))
    f = mir_eval.beat.f_measure(ref, mir_eval.beat.trim_beats(beats))
    k = mir_eval.key.weighted_score(truth["key"], key)
    return np.array([acc1, acc2, f, k], dtype=float)


librosa_analysis(str(SONGS[0].with_name("mix.wav")))  # warm up librosa's caches and numba, as in a server
totals = {"ours": np.zeros(4), "librosa": np.zeros(4)}
seconds = {"ours": 0.0, "librosa": 0.0}
for gt_path in SONGS:
    truth = json.loads(gt_path.read_text())
    mix = gt_path.with_name("mix.wav")
    for name, run in (("ours", ours), ("librosa", librosa_analysis)):
        started = time.perf_counter()
        result = run(mix)
        seconds[name] += time.perf_counter() - started
        totals[name] += score(truth, *result)
n = len(SONGS)
print(f"{n} songs from {pathlib.Path(sys.argv[2]).name}")
print(f"{'':10}{'tempo Acc1':>12}{'Acc2':>8}{'beat F':>9}{'key':>8}{'time (s)':>10}")
for name in ("ours", "librosa"):
    acc1, acc2, f, k = totals[name] / n
    print(f"{name:10}{acc1:12.3f}{acc2:8.3f}{f:9.3f}{k:8.3f}{seconds[name]:10.1f}")
print(f"time ratio (ours / librosa, our decode and process start included): {seconds['ours'] / seconds['librosa']:.3f}")
