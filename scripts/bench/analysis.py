"""Analysis benchmark: our `sfa analyze` against librosa 0.11 (and Essentia where it is installed) on songs
rendered by make_stems.py, in one run.

Prints, on the synthetic songs, tempo Acc1/Acc2, beat and downbeat F-measure and key weighted score; on the
Bach chorales, the key weighted score and downbeat F; on a second synthetic set rendered with another seed and
held out from tuning, the key weighted score; our integrated loudness against pyloudnorm's (a reference
BS.1770 meter); and the time ratio ours / librosa with the absolute times. Only ours finds downbeats. Run by
scripts/bench-analysis, which prepares the songs, the virtualenv and `sfa`. Usage: analysis.py SFA SONGS_DIR
BACH_DIR HELD_OUT_DIR. `BENCH_VERBOSE=1` lists every miss.

Timing: ours is one `sfa analyze --stdin` process given every file in turn, as a server's worker analyses
many files in one process and as librosa runs in this one: decoding and every feature of the Analysis JSON
(loudness, true peak, contrast, flatness, bandwidth, waveform, ...) included, and its JSON read back. One
`sfa analyze --json` process per file is timed too, process start included, and printed beside it.
librosa is timed twice over: "librosa" is the feature set this benchmark has always asked of it (tempo and
beats, STFT chroma + Krumhansl key, 13 MFCC, centroid, roll-off, ZCR, RMS); "librosa, same features" adds
what ours computes on top (bandwidth, flatness, contrast, onset rate, and integrated loudness with
pyloudnorm). Both ratios are printed. Each system runs its own pass over every file, warmed up first.
"""
import json
import os
import pathlib
import subprocess
import sys
import time

import librosa
import mir_eval
import numpy as np
import pyloudnorm
import soundfile

try:
    import essentia
    import essentia.standard as es

    essentia.log.infoActive = False
    essentia.log.warningActive = False
except ImportError:
    es = None

SFA = sys.argv[1]
SETS = {name: sorted(pathlib.Path(d).glob("*/ground_truth.json")) for name, d in
        (("synthetic", sys.argv[2]), ("bach", sys.argv[3]), ("held out", sys.argv[4]))}
VERBOSE = os.environ.get("BENCH_VERBOSE") == "1"
NAMES = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]
MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


def librosa_analysis(path):
    """Tempo and beats, STFT chroma + Krumhansl key, MFCC, centroid, roll-off, ZCR, RMS; the extra features
    ours has are timed apart. Returns (tempo, beats, key, extra seconds)."""
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
    started = time.perf_counter()
    librosa.feature.spectral_bandwidth(y=y, sr=sr)
    librosa.feature.spectral_flatness(y=y)
    librosa.feature.spectral_contrast(y=y, sr=sr)
    librosa.onset.onset_detect(y=y, sr=sr)
    reference_loudness(path)
    extra = time.perf_counter() - started
    return float(np.atleast_1d(tempo)[0]), np.asarray(beats), max(scores)[1], extra


def essentia_analysis(path):
    """Essentia's multi-feature beat tracker and its key extractor (EDMA profile)."""
    audio = es.MonoLoader(filename=str(path), sampleRate=44100)()
    bpm, beats, *_ = es.RhythmExtractor2013(method="multifeature")(audio)
    key, scale, _ = es.KeyExtractor(profileType="edma")(audio)
    return float(bpm), np.asarray(beats), f"{key} {scale}"


# Ours runs as the server's worker does, many files in one process (`sfa analyze --stdin`), as librosa runs in
# this one; a process per file is timed apart, for the record.
OURS = subprocess.Popen([SFA, "analyze", "--stdin"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def ours(path):
    OURS.stdin.write(f"{path}\n")
    OURS.stdin.flush()
    answer = json.loads(OURS.stdout.readline())
    if "error" in answer:
        raise RuntimeError(f"{path}: {answer['error']}")
    a = answer["analysis"]
    ours.loudness[str(path)] = a["loudness"]["integrated_lufs"]
    ours.downbeats[str(path)] = np.asarray(a["downbeats"])
    return (a["tempo"] or {}).get("bpm", 0.0), np.asarray(a["beats"]), (a["key"] or {}).get("name", "C major")


ours.loudness = {}
ours.downbeats = {}


def ours_per_process(path):
    """Seconds for one `sfa analyze --json` process: its start and its output included."""
    started = time.perf_counter()
    subprocess.run([SFA, "analyze", "--json", str(path)], check=True, capture_output=True)
    return time.perf_counter() - started


def reference_loudness(path):
    data, rate = soundfile.read(str(path))
    return pyloudnorm.Meter(rate).integrated_loudness(data)


def score(truth, tempo, beats, key):
    bpm = truth["tempo_bpm"]
    acc1 = abs(tempo / bpm - 1) <= 0.04
    acc2 = any(abs(tempo / (bpm * m) - 1) <= 0.04 for m in (1, 2, 3, 1 / 2, 1 / 3))
    ref = mir_eval.beat.trim_beats(np.asarray(truth["beats_s"]))
    f = mir_eval.beat.f_measure(ref, mir_eval.beat.trim_beats(beats))
    k = mir_eval.key.weighted_score(truth["key"], key)
    return np.array([acc1, acc2, f, k], dtype=float)


systems = {"ours": ours, "librosa": lambda p: librosa_analysis(p)[:3]}
if es is not None:
    systems["essentia"] = essentia_analysis
first = SETS["synthetic"][0].with_name("mix.wav")
songs = [(set_name, gt_path) for set_name, paths in SETS.items() for gt_path in paths]
# Each system is timed in a pass of its own over every file, so that one system's idle threads (numpy's
# BLAS pool spins for a while after each call) never share the two cores with another system's run.
results = {name: {} for name in systems}
seconds = {name: 0.0 for name in systems}
extra_seconds = 0.0
for name, run in systems.items():
    run(first)  # warm up caches, numba and the page cache, as in a server
    for _, gt_path in songs:
        mix = gt_path.with_name("mix.wav")
        started = time.perf_counter()
        if name == "librosa":
            *result, extra = librosa_analysis(mix)
            extra_seconds += extra
        else:
            result = run(mix)
        elapsed = time.perf_counter() - started
        if name == "librosa":
            elapsed -= extra
        seconds[name] += elapsed
        results[name][gt_path] = result
per_process_seconds = sum(ours_per_process(gt_path.with_name("mix.wav")) for _, gt_path in songs)

totals = {s: {name: np.zeros(4) for name in systems} for s in SETS}
downbeat_f = {s: [] for s in SETS}
for set_name, gt_path in songs:
    truth = json.loads(gt_path.read_text())
    mix = gt_path.with_name("mix.wav")
    for name in systems:
        result = results[name][gt_path]
        s = score(truth, *result)
        if name == "ours":
            downbeat_f[set_name].append(mir_eval.beat.f_measure(
                mir_eval.beat.trim_beats(np.asarray(truth["downbeats_s"])),
                mir_eval.beat.trim_beats(ours.downbeats[str(mix)])))
        totals[set_name][name] += s
        if VERBOSE and (s[0] < 1 or s[3] < 1):
            print(f"  {set_name} {gt_path.parent.name} {name}: tempo {result[0]:.1f} (truth "
                  f"{truth['tempo_bpm']:.1f}), key {result[2]} (truth {truth['key']}), beat F {s[2]:.2f}")

n = len(SETS["synthetic"])
print(f"{n} songs from {pathlib.Path(sys.argv[2]).name}, {len(SETS['bach'])} chorales from "
      f"{pathlib.Path(sys.argv[3]).name}, {len(SETS['held out'])} held-out songs from "
      f"{pathlib.Path(sys.argv[4]).name}")
print(f"{'':10}{'tempo Acc1':>12}{'Acc2':>8}{'beat F':>9}{'key':>8}{'Bach key':>10}{'held-out key':>14}"
      f"{'time (s)':>10}")
for name in systems:
    acc1, acc2, f, k = totals["synthetic"][name] / n
    bach = totals["bach"][name][3] / max(len(SETS["bach"]), 1)
    held_out = totals["held out"][name][3] / max(len(SETS["held out"]), 1)
    print(f"{name:10}{acc1:12.3f}{acc2:8.3f}{f:9.3f}{k:8.3f}{bach:10.3f}{held_out:14.3f}{seconds[name]:10.1f}")
print("downbeat F (ours; 4/4 assumed): " + ", ".join(
    f"{s} {np.mean(v):.3f}" for s, v in downbeat_f.items()))
print(f"librosa with the features only ours computed (bandwidth, flatness, contrast, onsets, pyloudnorm): "
      f"{seconds['librosa'] + extra_seconds:.1f} s")
same_features = seconds['librosa'] + extra_seconds
print(f"time ratio (ours / librosa, decode included, in one process each): "
      f"{seconds['ours'] / seconds['librosa']:.3f}")
print(f"time ratio (ours / librosa with the same features): {seconds['ours'] / same_features:.3f}")
print(f"ours with a process per file: {per_process_seconds:.1f} s, ratio {per_process_seconds / seconds['librosa']:.3f} "
      f"({per_process_seconds / same_features:.3f} with the same features)")
differences = [abs(lufs - reference_loudness(path)) for path, lufs in ours.loudness.items()]
print(f"integrated loudness, ours vs pyloudnorm over {len(differences)} files: largest difference "
      f"{max(differences):.3f} LU, mean {np.mean(differences):.3f} LU")
