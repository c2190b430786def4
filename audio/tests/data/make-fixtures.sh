#!/usr/bin/env bash
# Regenerates the decoding fixtures: 0.25 s of tones in every format and variant the decoder must read,
# plus a few it must refuse by name. Needs Debian's ffmpeg and sox. The files are committed (a few hundred
# KB in all), so the tests need neither.
set -euo pipefail
cd "$(dirname "$0")"
export LC_ALL=C

tone() { # rate channels output.wav : a different pitch in each channel, 0.25 s
    local rate=$1 channels=$2 out=$3 synth=()
    for c in $(seq 1 "$channels"); do synth+=(sine $((220 * c))); done
    sox -n -r "$rate" -c "$channels" -b 32 -e floating-point "$out" synth 0.25 "${synth[@]}" gain -6
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tone 44100 2 "$tmp/stereo44.wav"
tone 48000 1 "$tmp/mono48.wav"
tone 22050 1 "$tmp/mono22.wav"
tone 48000 6 "$tmp/six48.wav"
# A tiny PNG cover (1x1, red), written byte for byte: no image tool needed.
printf '\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef\x00\x00\x00\x00IEND\xaeB`\x82' >"$tmp/cover.png"

ff() { ffmpeg -hide_banner -loglevel error -y "$@"; }
ff -i "$tmp/stereo44.wav" -c:a pcm_u8 wav-u8-stereo-44100.wav
ff -i "$tmp/stereo44.wav" -c:a pcm_s16le wav-s16-stereo-44100.wav
ff -i "$tmp/mono48.wav" -c:a pcm_s24le wav-s24-mono-48000.wav
ff -i "$tmp/stereo44.wav" -c:a pcm_s32le wav-s32-stereo-44100.wav
ff -i "$tmp/stereo44.wav" -c:a pcm_f32le wav-f32-stereo-44100.wav
# More than two channels: ffmpeg writes WAVE_FORMAT_EXTENSIBLE.
ff -i "$tmp/six48.wav" -c:a pcm_s24le wav-extensible-s24-6ch-48000.wav
ff -i "$tmp/stereo44.wav" -c:a pcm_s16be aiff-s16-stereo-44100.aiff
ff -i "$tmp/stereo44.wav" -c:a flac -sample_fmt s16 flac-s16-stereo-44100.flac
ff -i "$tmp/mono48.wav" -c:a flac -sample_fmt s32 -bits_per_raw_sample 24 flac-s24-mono-48000.flac
ff -i "$tmp/stereo44.wav" -i "$tmp/cover.png" -map 0:a -map 1:v -c:a libmp3lame -b:a 128k -c:v copy \
    -id3v2_version 3 -metadata title="Tone Study" -metadata artist="Test Artist" -metadata album="Fixtures" \
    -metadata:s:v comment="Cover (front)" mp3-cbr-id3-cover-stereo-44100.mp3
ff -i "$tmp/mono22.wav" -c:a libmp3lame -q:a 4 mp3-vbr-mono-22050.mp3
ff -i "$tmp/stereo44.wav" -c:a libvorbis -q:a 3 -metadata title="Vorbis Tone" vorbis-stereo-44100.ogg
# ffmpeg puts `moov` after the audio unless told otherwise: both layouts are tested.
ff -i "$tmp/stereo44.wav" -c:a aac -b:a 96k -metadata title="AAC Tone" aac-moov-at-end-stereo-44100.m4a
ff -i "$tmp/stereo44.wav" -c:a aac -b:a 96k -movflags +faststart aac-faststart-stereo-44100.m4a
ff -i "$tmp/stereo44.wav" -c:a alac alac-stereo-44100.m4a
# Refused by name.
ff -i "$tmp/stereo44.wav" -c:a libopus -b:a 64k opus-stereo.opus
ff -i "$tmp/stereo44.wav" -c:a libopus -b:a 64k opus-stereo.webm
ls -l
