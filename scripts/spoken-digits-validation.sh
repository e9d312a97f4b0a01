#!/usr/bin/env bash
# Speaker-held-out validation set from the TRAIN split of a spoken-digit folder (scripts/make-spoken-digits.sh):
# the bench's --validation holds out random clips, so the same speaker would sit on both sides; this holds out whole
# speakers instead. Speakers train-NNN with NNN >= HOLD_FROM go to OUT/test.tar (the validation side), the rest to
# OUT/train.tar. The source's test.tar is never read. Then: bench/label-efficiency.ts --data OUT --modality SEQUENCE.
#
#   scripts/spoken-digits-validation.sh SRC OUT [HOLD_FROM=80]
set -euo pipefail
src=${1:?usage: spoken-digits-validation.sh SRC OUT [HOLD_FROM]}
out=${2:?usage: spoken-digits-validation.sh SRC OUT [HOLD_FROM]}
hold_from=${3:-80}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/all" "$work/train" "$work/test" "$out"
tar -xf "$src/train.tar" -C "$work/all"
for dir in "$work/all"/*/; do
  label=$(basename "$dir")
  mkdir -p "$work/train/$label" "$work/test/$label"
  for f in "$dir"*.wav; do
    n=$(basename "$f" .wav)
    id=${n##*-}
    if ((10#$id >= hold_from)); then cp "$f" "$work/test/$label/"; else cp "$f" "$work/train/$label/"; fi
  done
done
out=$(cd "$out" && pwd)
(cd "$work/train" && tar -cf "$out/train.tar" -- *)
(cd "$work/test" && tar -cf "$out/test.tar" -- *)
echo "wrote $out/train.tar ($(find "$work/train" -name '*.wav' | wc -l) clips) and $out/test.tar ($(find "$work/test" -name '*.wav' | wc -l) clips, held-out speakers)"
