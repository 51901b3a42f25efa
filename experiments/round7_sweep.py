# Round 7: the temperature sweep (bits against entropy) of each family of experiments/round7_rows.py
# that could win: temperature 1.0 is in that table, these are 0.8, 0.9 and 0.95.
# $ python eval.py experiments/round7_sweep.py --sweep=temperature --out_json=$OUT/round7_temperature.json
num_samples = 256
sweep_values = '0.8,0.9,0.95'
_G = 'out/gpu/'
_FOC = 'mode=fill_once_confidence'
_rows = ['mode=validation', 'name=fill-once-59,mode=fill_once,diffusion_iterations=59',
         f'name=foc-59,{_FOC},diffusion_iterations=59',
         f'name=foc-59 C=14,{_FOC},diffusion_iterations=59,correction_passes=14',
         f'name=foc-59 C=29,{_FOC},diffusion_iterations=59,correction_passes=29',
         'name=schedule-model,mode=schedule,remasker=ckpt_remasking_model.pt']
for _name in ('loo', 'critic', 'prism'):
    _path = f'{_G}ckpt_remasking_{_name}.pt'
    _rows += [f'name=foc-49 C=10 by {_name},{_FOC},diffusion_iterations=49,correction_passes=10,correction_by=remasker,'
              f'remasker={_path}', f'name=schedule-{_name},mode=schedule,remasker={_path}']
rows = ';'.join(_rows)
