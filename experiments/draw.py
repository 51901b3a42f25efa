"""Redraw eval.py's CSV and plot from its JSON result (for runs on machines without matplotlib):
    $ python experiments/draw.py assets/quality_temperature.json   # writes .csv and .png beside it
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import eval as evaluation  # noqa: E402

for path in sys.argv[1:]:
    rows = json.load(open(path, encoding='utf-8'))['rows']
    stem = os.path.splitext(path)[0]
    evaluation.write_csv(stem + '.csv', rows)
    evaluation.plot_results(stem + '.png', rows)
    print(f"{stem}.csv, {stem}.png: {len(rows)} rows")
