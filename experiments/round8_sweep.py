# Round 8: temperatures 0.9 and 0.95 of the families of experiments/round8_rows.py that could win (1.0 is there).
# $ python eval.py experiments/round8_sweep.py --sweep=temperature --out_json=$OUT/round8_temperature.json
num_samples = 256
sweep_values = '0.9,0.95'
_G = 'out/gpu/'
_FOC = 'mode=fill_once_confidence'
rows = ';'.join(['mode=validation',
                 f'name=foc-59 C=20,{_FOC},diffusion_iterations=59,correction_passes=20',
                 'name=schedule-model C=10,mode=schedule,remasker=ckpt_remasking_model.pt,correction_passes=10'] +
                [f'name=foc-39 C=20 by {_n},{_FOC},diffusion_iterations=39,correction_passes=20,correction_by=remasker,'
                 f'remasker={_G}ckpt_remasking_{_n}.pt' for _n in ('prism', 'prism_p')] +
                [f'name=schedule-{_n},mode=schedule,remasker={_G}ckpt_remasking_{_n}.pt' for _n in ('prism', 'prism_p')])
