# eval.py rows for the iteration and temperature sweeps: the baselines (plain, no self-correction),
# self-correction and every mode at the defaults, and the guide's literal rule (sample.GUIDE_RULE) for
# random and mixed mode. 256 texts a point.
# Rows without a remasker run 59 iterations, as the model that fills and judges does (59 passes); the
# naive remasker's rows 30 (59 passes with the remasker's): equal compute.
# $ python eval.py config/eval_sweep.py --sweep=temperature --out_json=assets/quality_temperature.json \
#       --plot=assets/quality_temperature.png
# $ python eval.py config/eval_sweep.py --sweep=iterations --out_json=assets/quality_iterations.json \
#       --plot=assets/quality_iterations.png
# (--sweep=iterations sets every row's diffusion_iterations to each value in turn)
import sample as _sample

num_samples = 256
sweep_values = ''  # the sweep's defaults (eval.SWEEP_DEFAULTS)
_N, _FJ = 'ckpt_remasking_naive_4400.pt', 'ckpt_fill_and_judge.pt'
_ONE = f'unmasker={_FJ},remasker={_FJ}'  # one pass an iteration
_GUIDE = ','.join(f'{k}={v!r}' for k, v in _sample.GUIDE_RULE.items())
rows = ';'.join([
    'mode=validation',
    'name=fill-once,mode=fill_once,diffusion_iterations=59,correction_passes=0',
    'name=fill-once-confidence,mode=fill_once_confidence,diffusion_iterations=59,correction_passes=0',
    'name=self-correction,mode=fill_once_confidence,diffusion_iterations=59',
    'name=confidence,mode=confidence,diffusion_iterations=59',
    'name=random,mode=random,diffusion_iterations=59',
    f'name=guide random,mode=random,diffusion_iterations=59,{_GUIDE}',
    f'name=schedule,mode=schedule,diffusion_iterations=59,{_ONE}',
    f'name=mixed,mode=mixed,diffusion_iterations=59,{_ONE}',
    f'name=mixed-naive,mode=mixed,unmasker={_FJ},remasker={_N}',
    f'name=guide mixed-naive,mode=mixed,unmasker={_FJ},remasker={_N},{_GUIDE}',
    f'name=guide schedule-naive,mode=schedule,unmasker={_FJ},remasker={_N},{_GUIDE}',
])
