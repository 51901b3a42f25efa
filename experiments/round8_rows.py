# Round 8 (issues 19, 20, 21), eval.py rows at README's main-table size (256 texts of 1024, bf16, seed
# 1337, one H200): self-correction in each of the guide's modes at their defaults (30 iterations; C
# of them correcting), the guide's examples with and without it, and the PRISM-style remaskers of
# experiments/round8_train.sh as the guide's remasker and as the corrector.
# $ python eval.py experiments/round8_rows.py --out_json=$OUT/round8_main.json
num_samples = 256
_G = 'out/gpu/'
_M, _N = 'ckpt_remasking_model.pt', 'ckpt_remasking_naive_4400.pt'
_FOC = 'mode=fill_once_confidence'
_GUIDE = "random_from='all',selection_temperature=0.0,max_remask_kept=None"
_rows = ['mode=validation', f'name=foc-59,{_FOC},diffusion_iterations=59']
for _C in (0, 6, 10, 15):  # the guide's modes at the defaults, with C of their 30 iterations correcting
    _c = f'correction_passes={_C}'
    _rows += [f'name=schedule-model C={_C},mode=schedule,remasker={_M},{_c}',
              f'name=mixed-model C={_C},mode=mixed,remasker={_M},{_c}',
              f'name=random-30 C={_C},mode=random,diffusion_iterations=30,{_c}']
for _C in (0, 10):
    _c = f'correction_passes={_C}'
    _rows += [f'name=mixed-naive C={_C},mode=mixed,remasker={_N},{_c}',  # example 2's setting
              f'name=ex3 fast mixed C={_C},mode=mixed,remasker={_M},threshold=0.05,remasking_schedule=exponential,'
              f'diffusion_iterations=20,{_c}',
              f'name=ex4 random-50 C={_C},mode=random,diffusion_iterations=50,{_c}',
              f'name=threshold-naive ex1 C={_C},mode=threshold,threshold=0.005,diffusion_iterations=100,remasker={_N},{_c}',
              f'name=threshold-model 0.5 C={_C},mode=threshold,threshold=0.5,remasker={_M},{_c}']
_rows += [f'name=guide schedule-model,mode=schedule,remasker={_M},{_GUIDE}',
          f'name=foc-59 C=20,{_FOC},diffusion_iterations=59,correction_passes=20',
          f'name=foc-59 C=24,{_FOC},diffusion_iterations=59,correction_passes=24',
          f'name=foc-59 C=20 margin,{_FOC},diffusion_iterations=59,correction_passes=20,correction_by=margin',
          f'name=confidence-59 C=20,mode=confidence,diffusion_iterations=59,correction_passes=20',
          f'name=fill-once-59 C=20,mode=fill_once,diffusion_iterations=59,correction_passes=20']
for _name in ('prism', 'prism_p'):
    _r = f'remasker={_G}ckpt_remasking_{_name}.pt'
    _rows += [f'name=schedule-{_name},mode=schedule,{_r}',
              f'name=schedule-{_name} sel=6,mode=schedule,{_r},selection_temperature=6.0',
              f'name=mixed-{_name},mode=mixed,{_r}',
              f'name=schedule-{_name} C=10,mode=schedule,{_r},correction_passes=10',
              f'name=schedule-{_name} C=10 by it,mode=schedule,{_r},correction_passes=10,correction_by=remasker',
              f'name=foc-49 C=10 by {_name},{_FOC},diffusion_iterations=49,correction_passes=10,correction_by=remasker,{_r}',
              f'name=foc-45 C=14 by {_name},{_FOC},diffusion_iterations=45,correction_passes=14,correction_by=remasker,{_r}',
              f'name=foc-39 C=20 by {_name},{_FOC},diffusion_iterations=39,correction_passes=20,correction_by=remasker,{_r}',
              f'name=threshold-{_name} ex1,mode=threshold,threshold=0.005,diffusion_iterations=100,{_r}']
rows = ';'.join(_rows)
