# eval.py rows for README's table of the selection knobs (issue 12, final round): the selection
# temperature and the cap on re-masking kept tokens around the defaults, 256 texts a row, 59 passes.
import sample as _sample

num_samples = 256
_N, _M = 'ckpt_remasking_naive_4400.pt', 'ckpt_remasking_model.pt'
_FOC = f'mode=confidence,diffusion_iterations=59,end_ratio={1 / 59!r}'
_rows = ['mode=validation', 'name=fill-once-59,mode=fill_once,diffusion_iterations=59']
for _s in (0.0, 1.0, 2.0, 3.0, 4.0, 8.0):
    _rows += [f'name=schedule-model sel={_s},mode=schedule,remasker={_M},selection_temperature={_s}',
              f'name=mixed-model sel={_s},mode=mixed,remasker={_M},selection_temperature={_s}',
              f'name=confidence-59 sel={_s},mode=confidence,diffusion_iterations=59,selection_temperature={_s}',
              f'name=fill-once-conf-59 sel={_s},{_FOC},max_remask_kept=0.0,selection_temperature={_s}']
for _s in (8.0, 16.0):
    _rows.append(f'name=schedule-naive sel={_s},mode=schedule,remasker={_N},selection_temperature={_s}')
for _cap in (None, 0.01, 0.03):
    _rows += [f'name=schedule-model cap={_cap},mode=schedule,remasker={_M},max_remask_kept={_cap}',
              f'name=confidence-59 cap={_cap},mode=confidence,diffusion_iterations=59,max_remask_kept={_cap}']
for _f in ('all', 'filled'):
    _rows.append(f'name=mixed-naive from={_f},mode=mixed,remasker={_N},random_from={_f!r}')
rows = ';'.join(_rows)
