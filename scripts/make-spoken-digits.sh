#!/usr/bin/env bash
# Spoken-digit audio set for the audio label-efficiency benchmark and demos: the words "zero".."nine" spoken by
# synthetic speakers (espeak-ng voice × variant × speed × pitch), resampled with sox to 16 kHz mono PCM16, leading
# silence trimmed, at most 1 s, a random gain per clip. Writes OUT/train.tar and OUT/test.tar of <digit>/<speaker>.wav,
# split BY SPEAKER: no test speaker (voice+variant+speed+pitch) appears in train, and the test voices' variants differ.
#
#   scripts/make-spoken-digits.sh OUT [TRAIN_SPEAKERS=120] [TEST_SPEAKERS=30] [SEED=1]
#
# Needs espeak-ng and sox (Debian: apt-get install espeak-ng sox). Deterministic for a given SEED.
set -euo pipefail
out=${1:?usage: make-spoken-digits.sh OUT [TRAIN_SPEAKERS] [TEST_SPEAKERS] [SEED]}
n_train=${2:-120}
n_test=${3:-30}
seed=${4:-1}
command -v espeak-ng >/dev/null || { echo "espeak-ng is not installed (apt-get install espeak-ng)" >&2; exit 1; }
command -v sox >/dev/null || { echo "sox is not installed (apt-get install sox)" >&2; exit 1; }

words=(zero one two three four five six seven eight nine)
voices=(en-us en-gb en-gb-scotland en-029 en-gb-x-rp en-gb-x-gbclan en-gb-x-gbcwmd)
# Train and test speakers use disjoint voice variants, so the split is by speaker in timbre, not only in settings.
train_variants=(m1 m2 m3 m4 f1 f2 f3 klatt)
test_variants=(m5 m6 f4 f5 klatt2)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
RANDOM=$seed

speak() { # split index variants...
  local split=$1 count=$2; shift 2
  local variants=("$@")
  local i word voice variant speed pitch gain name
  for ((i = 0; i < count; i++)); do
    voice=${voices[RANDOM % ${#voices[@]}]}
    variant=${variants[RANDOM % ${#variants[@]}]}
    speed=$((120 + RANDOM % 100))
    pitch=$((20 + RANDOM % 60))
    name=$(printf '%s-%03d' "$split" "$i")
    for word in "${words[@]}"; do
      gain=0.$((40 + RANDOM % 60))
      mkdir -p "$work/$split/$word"
      espeak-ng -v "$voice+$variant" -s "$speed" -p "$pitch" -w "$work/raw.wav" "$word"
      sox -V1 "$work/raw.wav" -r 16000 -c 1 -b 16 "$work/$split/$word/$name.wav" silence 1 0.01 0.5% trim 0 1 vol "$gain"
    done
  done
}

speak train "$n_train" "${train_variants[@]}"
speak test "$n_test" "${test_variants[@]}"
mkdir -p "$out"
out=$(cd "$out" && pwd)
(cd "$work/train" && tar -cf "$out/train.tar" -- *)
(cd "$work/test" && tar -cf "$out/test.tar" -- *)
echo "wrote $out/train.tar ($((n_train * 10)) clips) and $out/test.tar ($((n_test * 10)) clips)"
