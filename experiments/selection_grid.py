# eval.py rows of round 3 (issue 12): selection rules at equal forward passes, 256 samples a row.
# Every remasker row runs 30 iterations: 30 unmasker + 29 remasker passes = 59, the passes of
# fill-once-59. See experiments/selection.sh and README "Choosing what to re-mask".
num_samples = 256
_N, _M = 'ckpt_remasking_naive_4400.pt', 'ckpt_remasking_model.pt'
_rows = ['mode=validation',
         'name=fill-once-30,mode=fill_once,diffusion_iterations=30',
         'name=fill-once-59,mode=fill_once,diffusion_iterations=59']
_rows += [f'name=fill-once-59 temp={_t},mode=fill_once,diffusion_iterations=59,temperature={_t}' for _t in (0.85, 0.9, 0.95)]
_rows += [f'name=random-{_T} {_f},mode=random,diffusion_iterations={_T},random_from={_f}'
          for _T in (30, 59) for _f in ('all', 'filled')]
# fill-once keeping the most confident (LLaDA's low-confidence re-masking), drawn at a temperature
_rows += [f'name=fill-once-conf-59 sel={_s},mode=confidence,diffusion_iterations=59,end_ratio={1 / 59!r},'
          f'max_remask_kept=0.0,selection_temperature={_s}' for _s in (0.0, 0.25, 0.5, 1.0, 2.0)]
for _r, _name in ((_N, 'naive'), (_M, 'model')):
    for _cap in (None, 0.0, 0.01):
        for _s in (0.0, 0.5, 1.0, 2.0, 4.0):
            _rows.append(f'name=schedule-{_name} cap={_cap} sel={_s},mode=schedule,remasker={_r},'
                         f'max_remask_kept={_cap},selection_temperature={_s}')
    for _s in (1.0, 2.0, 4.0):  # the count of fill-once: L/T a pass, to the end
        _rows.append(f'name=schedule-{_name} cap=0 end=1/30 sel={_s},mode=schedule,remasker={_r},'
                     f'max_remask_kept=0.0,end_ratio={1 / 30!r},selection_temperature={_s}')
    for _th in ((0.01,) if _name == 'naive' else (0.01, 0.5)):
        for _cap in (None, 0.0):
            for _s in (0.0, 1.0, 4.0):
                _rows.append(f'name=mixed-{_name} th={_th} filled cap={_cap} sel={_s},mode=mixed,remasker={_r},'
                             f'threshold={_th},random_from=filled,max_remask_kept={_cap},selection_temperature={_s}')
    _rows.append(f'name=threshold-{_name} ex1,mode=threshold,remasker={_r},threshold=0.005,diffusion_iterations=100')
rows = ';'.join(_rows)
