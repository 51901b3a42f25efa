"""Redraw eval.py's CSV and plot from its JSON result (for runs on machines without matplotlib):
    $ python experiments/draw.py assets/quality_temperature.json   # writes .csv and .png beside it
JSON written before 2026-12-06 names the passes 'forward_passes' and the fills 'unmasker_passes'
(and counts remasker passes apart): they are read under today's names.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import eval as evaluation  # noqa: E402

OLD_NAMES = {'forward_passes': 'passes', 'unmasker_passes': 'fills'}


def today(row):
    metrics = {OLD_NAMES.get(k, k): v for k, v in row['metrics'].items()
               if k not in ('remasker_passes', 'iterations') or 'forward_passes' not in row['metrics']}
    return {**row, 'metrics': metrics}


for path in sys.argv[1:]:
    with open(path, encoding='utf-8') as f:
        rows = [today(r) for r in json.load(f)['rows']]
    stem = os.path.splitext(path)[0]
    evaluation.write_csv(stem + '.csv', rows)
    evaluation.plot_results(stem + '.png', rows)
    print(f"{stem}.csv, {stem}.png: {len(rows)} rows")
