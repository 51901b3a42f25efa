# Round 9 (issues 19, 20, 21), with the shipped set of this round (ckpt_remasking_prism.pt the default
# remasker) and self-correction on by default: beside eval.py's default rows (README's main table),
# the guide's examples with and without self-correction, and the candidates for schedule mode's
# defaults that round 8 left open. 256 texts of 1024, bf16, seed 1337, one H200.
# $ python eval.py experiments/round9_rows.py --out_json=$OUT/round9_extra.json
num_samples = 256
_P, _N = 'ckpt_remasking_prism.pt', 'ckpt_remasking_naive_4400.pt'
_rows = ['mode=validation']
for _c in ('', ',correction_passes=0'):
    _tag = ' plain' if _c else ''
    _rows += [f'name=ex2 controlled mixed{_tag},mode=mixed,threshold=0.01,remasker={_N}{_c}',
              f'name=ex3 fast mixed{_tag},mode=mixed,threshold=0.05,remasking_schedule=exponential,diffusion_iterations=20,'
              f'remasker={_P}{_c}',
              f'name=ex4 baseline random{_tag},mode=random,diffusion_iterations=50{_c}',
              f'name=mode3 threshold 0.003{_tag},mode=threshold,threshold=0.003,remasker={_N}{_c}',
              f'name=mixed-prism 0.05 exponential 30{_tag},mode=mixed,threshold=0.05,remasking_schedule=exponential,'
              f'remasker={_P}{_c}']
_rows += [f'name=schedule-prism re-read margin,mode=schedule,remasker={_P},correction_by=margin',
          f'name=schedule-prism sel=4,mode=schedule,remasker={_P},selection_temperature=4.0',
          f'name=schedule-prism sel=5,mode=schedule,remasker={_P},selection_temperature=5.0',
          f'name=schedule-prism C=15,mode=schedule,remasker={_P},correction_passes=15',
          f'name=schedule-prism temp=0.95,mode=schedule,remasker={_P},temperature=0.95']
rows = ';'.join(_rows)
