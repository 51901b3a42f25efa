#!/usr/bin/env bash
# Round 9 (issues 19, 20, 21), one call on one H200 with the shipped set of this round: eval.py's
# default rows (README's main table: assets/quality_main.json), experiments/round9_rows.py, the
# infill benchmark (assets/infill_h200.txt) and the remasker benchmark (assets/remasker_h200.txt).
# $ OUT=out/round9 bash experiments/round9.sh
set -u
OUT=${OUT:-out/round9}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
python eval.py --out_json="$OUT/quality_main.json" > "$OUT/quality_main.txt" 2>&1
python eval.py experiments/round9_rows.py --out_json="$OUT/round9_extra.json" > "$OUT/round9_extra.txt" 2>&1
python eval.py --benchmark=infill --sequence_length=256 --num_samples=256 > "$OUT/infill_h200.txt" 2>&1
python eval.py --benchmark=remasker --num_sequences=64 --thresholds=0.005,0.01,0.05,0.2,0.5 > "$OUT/remasker_h200.txt" 2>&1
for f in quality_main round9_extra; do grep -v '^{' "$OUT/$f.txt" | sed -n '/^row  /,/^$/p'; done
grep -v '^{' "$OUT/infill_h200.txt" | head -40
