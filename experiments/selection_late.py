# eval.py rows for the late-state remasker (experiments/train_remasking_late.py), round 3 of issue 12:
# threshold mode as the guide's example 1 and the selection rules of selection_grid.py with it.
num_samples = 256
_L = 'ckpt_remasking_late.pt'
_rows = ['mode=validation', 'name=fill-once-59,mode=fill_once,diffusion_iterations=59']
_rows += [f'name=threshold-late th={_th},mode=threshold,remasker={_L},threshold={_th},diffusion_iterations=100'
          for _th in (0.005, 0.01, 0.05, 0.2)]
_rows += [f'name=schedule-late cap={_cap} sel={_s},mode=schedule,remasker={_L},max_remask_kept={_cap},'
          f'selection_temperature={_s}' for _cap in (0.0, 0.01) for _s in (0.5, 1.0, 2.0)]
_rows += [f'name=mixed-late th={_th} filled cap=0 sel=1.0,mode=mixed,remasker={_L},threshold={_th},'
          f'random_from=filled,max_remask_kept=0.0,selection_temperature=1.0' for _th in (0.01, 0.5)]
rows = ';'.join(_rows)
