# The temperature sweep of the model that fills and judges beside the shipped baselines (one GPU, 256
# texts of 1024 a point): the curves of bits per character against entropy that matched-entropy
# comparisons read.
# $ python eval.py experiments/fill_and_judge_sweep.py --out_json=assets/fill_and_judge_temperature_h100.json
num_samples = 256
sweep = 'temperature'
sweep_values = '0.9,0.95,1.0,1.05,1.1'
_FJ = 'ckpt_fill_and_judge.pt'
_M = f'unmasker={_FJ},remasker={_FJ}'
_BY = 'correction_by=remasker,correction_inside=True'
rows = ';'.join([
    'mode=validation',
    'name=fill-once-conf-59 plain,mode=fill_once_confidence,diffusion_iterations=59,correction_passes=0',
    'name=self-correction-59,mode=fill_once_confidence,diffusion_iterations=59',
    f'name=fj schedule-59 C30,mode=schedule,diffusion_iterations=59,{_M},{_BY},correction_passes=30',
    f'name=fj schedule-59 C20,mode=schedule,diffusion_iterations=59,{_M},{_BY},correction_passes=20',
])
