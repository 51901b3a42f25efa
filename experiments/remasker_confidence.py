# Run at commit dceb6bc (git checkout dceb6bc): its sample.py has the experimental knob confidence_weight, which
# lost and left main in the next commit (README, "Choosing what to re-mask", attempt 8).
# eval.py rows of round 6 (issue 12): schedule mode choosing by the remasker's P([WRONG]) times the
# unmasking model's (1 - P(token))^w, on fill-once's counts (end_ratio 1/30), nothing kept re-masked:
# does the remasker add to the unmasker's free confidence? 59 passes a row, as fill-once-confidence-59.
num_samples = 256
_M = 'ckpt_remasking_model.pt'
_rows = ['mode=validation',
         'name=fill-once-conf-30,mode=fill_once_confidence,diffusion_iterations=30',
         'name=fill-once-conf-59,mode=fill_once_confidence,diffusion_iterations=59']
# the unmasker's confidence alone at the effective temperatures of the rows below (selection / weight)
_rows += [f'name=fill-once-conf-30 sel={_s},mode=fill_once_confidence,diffusion_iterations=30,selection_temperature={_s}'
          for _s in (0.5, 0.75, 1.0, 1.5, 2.0)]
for _w in (0.5, 1.0, 2.0, 4.0):
    for _s in (2.0, 3.0):
        _rows.append(f'name=schedule-model x conf^{_w} sel={_s},mode=schedule,remasker={_M},end_ratio={1 / 30!r},'
                     f'confidence_weight={_w},selection_temperature={_s}')
rows = ';'.join(_rows)
