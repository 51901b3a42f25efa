# eval.py rows for the iteration and temperature sweeps: the baselines (plain, no self-correction),
# self-correction and every mode at the defaults, and the guide's literal rule (sample.GUIDE_RULE) for
# random and mixed mode. 256 texts a point.
# Rows without a remasker run 59 iterations, those with one 30 (59 passes): equal compute at T = 30.
# $ python eval.py config/eval_sweep.py --sweep=temperature --out_json=assets/quality_temperature.json \
#       --plot=assets/quality_temperature.png
# $ python eval.py config/eval_sweep.py --sweep=iterations --out_json=assets/quality_iterations.json \
#       --plot=assets/quality_iterations.png
# (--sweep=iterations sets every row's diffusion_iterations to each value in turn)
import sample as _sample

num_samples = 256
sweep_values = ''  # the sweep's defaults (eval.SWEEP_DEFAULTS)
_N, _P = 'ckpt_remasking_naive_4400.pt', 'ckpt_remasking_prism.pt'
_GUIDE = ','.join(f'{k}={v!r}' for k, v in _sample.GUIDE_RULE.items())
rows = ';'.join([
    'mode=validation',
    'name=fill-once,mode=fill_once,diffusion_iterations=59,correction_passes=0',
    'name=fill-once-confidence,mode=fill_once_confidence,diffusion_iterations=59,correction_passes=0',
    'name=self-correction,mode=fill_once_confidence,diffusion_iterations=59',
    'name=confidence,mode=confidence,diffusion_iterations=59',
    'name=random,mode=random,diffusion_iterations=59',
    f'name=guide random,mode=random,diffusion_iterations=59,{_GUIDE}',
    f'name=schedule-prism,mode=schedule,remasker={_P}',
    f'name=mixed-prism,mode=mixed,remasker={_P}',
    f'name=mixed-naive,mode=mixed,remasker={_N}',
    f'name=guide mixed-naive,mode=mixed,remasker={_N},{_GUIDE}',
    f'name=guide schedule-naive,mode=schedule,remasker={_N},{_GUIDE}',
])
