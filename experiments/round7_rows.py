# Round 7 (issues 19, 20, 21), eval.py rows at README's main-table size (256 texts of 1024, bf16, seed
# 1337, one H200): the baselines at equal passes, self-correction at its defaults and around them, and
# each new remasker in the guide's schedule and mixed modes (at the defaults, with the kept-token rule,
# and as the corrector of self-correction), at equal passes (59) and equal fills (30 unmasking passes).
# $ python eval.py experiments/round7_rows.py --out_json=$OUT/round7_main.json
import sample as _sample

num_samples = 256
_G = 'out/gpu/'  # where experiments/round7_train.sh left the new remaskers
_M, _N = 'ckpt_remasking_model.pt', 'ckpt_remasking_naive_4400.pt'
_NEW = {'loo': _G + 'ckpt_remasking_loo.pt', 'critic': _G + 'ckpt_remasking_critic.pt',
        'prism': _G + 'ckpt_remasking_prism.pt'}
_FOC = 'mode=fill_once_confidence'
_rows = [
    'mode=validation',
    'name=fill-once-30,mode=fill_once,diffusion_iterations=30',
    'name=fill-once-59,mode=fill_once,diffusion_iterations=59',
    f'name=foc-30,{_FOC},diffusion_iterations=30',
    f'name=foc-59,{_FOC},diffusion_iterations=59',
    'name=random-59,mode=random,diffusion_iterations=59',
    f'name=schedule-model,mode=schedule,remasker={_M}',
    f'name=mixed-model,mode=mixed,remasker={_M}',
]
for _C in (10, 14, 20, 29):  # self-correction on fill_once_confidence, 59 passes
    _rows.append(f'name=foc-59 C={_C},{_FOC},diffusion_iterations=59,correction_passes={_C}')
for _extra in ('correction_by=margin', 'correction_share=0.005', 'correction_share=0.02', 'correction_reread=0.3',
              'correction_inside=True', 'correction_by=drawn'):
    _rows.append(f'name=foc-59 C=14 {_extra},{_FOC},diffusion_iterations=59,correction_passes=14,{_extra}')
_rows += [
    f'name=foc-30 C=10,{_FOC},diffusion_iterations=30,correction_passes=10',  # equal fills with the remasker rows
    f'name=schedule-model C=10,mode=schedule,remasker={_M},correction_passes=10,diffusion_iterations=40',  # 40 + 29
]
for _name, _path in [('model', _M)] + list(_NEW.items()):
    _rows += [
        f'name=foc-49 C=10 by {_name},{_FOC},diffusion_iterations=49,correction_passes=10,correction_by=remasker,remasker={_path}',
        f'name=foc-30 C=10 by {_name},{_FOC},diffusion_iterations=30,correction_passes=10,correction_by=remasker,remasker={_path}',
    ]
for _name, _path in _NEW.items():
    _rows += [
        f'name=schedule-{_name},mode=schedule,remasker={_path}',
        f'name=mixed-{_name},mode=mixed,remasker={_path}',
        f'name=schedule-{_name} kept=0.01,mode=schedule,remasker={_path},max_remask_kept=0.01',
        f'name=schedule-{_name} fill-once counts kept=0.01,mode=schedule,remasker={_path},max_remask_kept=0.01,end_ratio={1 / 30!r}',
        f'name=threshold-{_name} ex1,mode=threshold,threshold=0.005,diffusion_iterations=100,remasker={_path}',
    ]
_rows.append(f'name=threshold-naive ex1,mode=threshold,threshold=0.005,diffusion_iterations=100,remasker={_N}')
rows = ';'.join(_rows)
