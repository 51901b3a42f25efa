# A first look, on one GPU, at what each full-size model that fills and judges writes (256 texts of 1024
# a row), beside the unmasker's baselines at the same passes (experiments/fill_and_judge_gpu.sh runs it).
# On 2026-12-06 (at 811f476) it also held two rows of the PRISM remasker, which left checkpoints/ then: the
# corrector inside the last 30 of 59 fills, and `python sample.py` of that day (RESULTS.md has them).
# $ OUT=out/fj_gpu python eval.py experiments/fill_and_judge_look.py --out_json=out/fj_gpu/look.json
import os as _os

num_samples = 256
_OUT = _os.environ.get('OUT', 'out/fj_gpu')
_BY = 'correction_by=remasker,correction_inside=True'


def _rows(target):
    f = f'{_OUT}/{target}/ckpt_fj_{target}.pt'
    m = f'unmasker={f},remasker={f}'
    return [f'name={target}: schedule-59 by it C30,mode=schedule,diffusion_iterations=59,{m},{_BY},'
            f'correction_passes=30',
            f'name={target}: schedule-30 by it C10,mode=schedule,diffusion_iterations=30,{m},{_BY},'
            f'correction_passes=10',
            f'name={target}: mixed-59 by it C30,mode=mixed,diffusion_iterations=59,{m},{_BY},correction_passes=30',
            f'name={target}: fill-once-conf-59 plain,mode=fill_once_confidence,diffusion_iterations=59,unmasker={f},'
            f'correction_passes=0']


rows = ';'.join([
    'mode=validation',
    'name=fill-once-conf-59 plain,mode=fill_once_confidence,diffusion_iterations=59,correction_passes=0',
    'name=self-correction-59,mode=fill_once_confidence,diffusion_iterations=59',
    'name=self-correction-30,mode=fill_once_confidence,diffusion_iterations=30,correction_passes=10',
    *_rows('reread'),
    *_rows('own_fill'),
])
