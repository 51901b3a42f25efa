# eval.py rows of the CPU pilot of the model that fills and judges (experiments/fill_and_judge_pilot.sh):
# 32 texts of 256 a row on the 2-core CPU, each pilot model's rows beside the unmasker's baselines at
# equal forward passes: 59 (what the guide's 30 iterations cost with a remasker of its own) and 30.
# $ OUT=out/pilot python eval.py experiments/fill_and_judge_rows.py --out_json=out/pilot/fill_and_judge_pilot.json
import os as _os

num_samples = 32
sequence_length = 256
batch_size = 32
device = 'cpu'
_OUT = _os.environ.get('OUT', 'out/pilot')
_PLAIN = 'correction_passes=0'
_BY = 'correction_by=remasker'  # corrections by the pass's own P([WRONG]), after the schedule


def _pilot(target):
    f = f'{_OUT}/{target}/ckpt_fj_{target}.pt'
    m = f'unmasker={f},remasker={f}'
    return [
        f'name={target}: schedule-59 C30,mode=schedule,diffusion_iterations=59,{m},{_BY},correction_passes=30',
        f'name={target}: schedule-59 C30 inside,mode=schedule,diffusion_iterations=59,{m},{_BY},'
        f'correction_inside=True,correction_passes=30',
        f'name={target}: mixed-59 C30,mode=mixed,diffusion_iterations=59,{m},{_BY},correction_passes=30',
        f'name={target}: schedule-30 C10,mode=schedule,diffusion_iterations=30,{m},{_BY},correction_passes=10',
        f'name={target}: threshold ex1,mode=threshold,threshold=0.005,diffusion_iterations=100,{m}',
        f'name={target}: as unmasker fill-once-conf-59 plain,mode=fill_once_confidence,diffusion_iterations=59,'
        f'unmasker={f},{_PLAIN}',
    ]


rows = ';'.join([
    'mode=validation',
    f'name=fill-once-59 plain,mode=fill_once,diffusion_iterations=59,{_PLAIN}',
    f'name=fill-once-conf-30 plain,mode=fill_once_confidence,diffusion_iterations=30,{_PLAIN}',
    f'name=fill-once-conf-59 plain,mode=fill_once_confidence,diffusion_iterations=59,{_PLAIN}',
    'name=self-correction-30,mode=fill_once_confidence,diffusion_iterations=30,correction_passes=10',
    'name=self-correction-59,mode=fill_once_confidence,diffusion_iterations=59',
    'name=self-correction-59 temperature 0.95,mode=fill_once_confidence,diffusion_iterations=59,temperature=0.95',
    *_pilot('reread'),
    *_pilot('own_fill'),
])
