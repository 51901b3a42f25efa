# eval.py rows of the CPU pilot of the model that fills and judges (experiments/fill_and_judge_pilot.sh):
# 64 texts of 256 a row, the shipped models' rows beside each pilot model's, at equal forward passes:
# 59 (what the guide's 30 iterations cost with a remasker of its own) and 30.
# $ OUT=out/pilot python eval.py experiments/fill_and_judge_rows.py --out_json=out/pilot/fill_and_judge_pilot.json
import os as _os

num_samples = 64
sequence_length = 256
batch_size = 64
device = 'cpu'
_OUT = _os.environ.get('OUT', 'out/pilot')
_P = 'ckpt_remasking_prism.pt'
_PLAIN = 'correction_passes=0'
_BY = 'correction_by=remasker,correction_inside=True'  # corrections by the judgment, inside the schedule


def _pilot(target):
    f = f'{_OUT}/{target}/ckpt_fj_{target}.pt'
    m = f'unmasker={f},remasker={f}'
    return [
        f'name={target}: schedule-59 by it C20,mode=schedule,diffusion_iterations=59,{m},{_BY},correction_passes=20',
        f'name={target}: schedule-59 by it C30,mode=schedule,diffusion_iterations=59,{m},{_BY},correction_passes=30',
        f'name={target}: schedule-59 by it C58,mode=schedule,diffusion_iterations=59,{m},{_BY},correction_passes=58',
        f'name={target}: mixed-59 by it C30,mode=mixed,diffusion_iterations=59,{m},{_BY},correction_passes=30',
        f'name={target}: schedule-59 kept cap 0.01 plain,mode=schedule,diffusion_iterations=59,{m},'
        f'max_remask_kept=0.01,{_PLAIN}',
        f'name={target}: schedule-30 by it C10,mode=schedule,diffusion_iterations=30,{m},{_BY},correction_passes=10',
        f'name={target}: schedule-30 by it C15,mode=schedule,diffusion_iterations=30,{m},{_BY},correction_passes=15',
        f'name={target}: threshold ex1,mode=threshold,threshold=0.005,diffusion_iterations=100,{m}',
        f'name={target}: threshold ex1 fresh by fill,mode=threshold,threshold=0.005,diffusion_iterations=100,{m},'
        f'fresh_score=fill',
        f'name={target}: as unmasker fill-once-conf-59 plain,mode=fill_once_confidence,diffusion_iterations=59,'
        f'unmasker={f},{_PLAIN}',
    ]


rows = ';'.join([
    'mode=validation',
    f'name=fill-once-59 plain,mode=fill_once,diffusion_iterations=59,{_PLAIN}',
    f'name=fill-once-conf-30 plain,mode=fill_once_confidence,diffusion_iterations=30,{_PLAIN}',
    f'name=fill-once-conf-59 plain,mode=fill_once_confidence,diffusion_iterations=59,{_PLAIN}',
    'name=self-correction-30,mode=fill_once_confidence,diffusion_iterations=30',
    'name=self-correction-59,mode=fill_once_confidence,diffusion_iterations=59',
    f'name=prism-correction-59,mode=fill_once_confidence,diffusion_iterations=49,correction_passes=10,'
    f'correction_by=remasker,remasker={_P}',
    f'name=prism-correction inside 59+30,mode=fill_once_confidence,diffusion_iterations=59,correction_passes=30,'
    f'{_BY},remasker={_P}',
    'name=random-59,mode=random,diffusion_iterations=59',
    'name=confidence-59,mode=confidence,diffusion_iterations=59',
    f'name=schedule-prism (python sample.py),mode=schedule,remasker={_P}',
    f'name=mixed-prism,mode=mixed,remasker={_P}',
    *_pilot('reread'),
    *_pilot('own_fill'),
])
