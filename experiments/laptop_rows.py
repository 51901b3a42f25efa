# eval.py rows of the laptop recipes (experiments/laptop_recipes.sh): what the laptop pair writes on the
# 2-core CPU beside fill-once and fill_once_confidence of the laptop unmasker at equal passes, and the
# naive target at that size. 64 texts of 128 characters a row (a block of these models).
# $ python eval.py experiments/laptop_rows.py --out_json=out/laptop/laptop_cpu.json
num_samples = 64
sequence_length = 128
batch_size = 64
device = 'cpu'
checkpoint_name = 'out/unmasking_cpu/ckpt_unmasking_cpu.pt'
_FJ = 'out/remasking_cpu/ckpt_remasking_cpu.pt'
_NAIVE = 'out/remasking_naive_cpu/ckpt_remasking_naive_cpu.pt'
_ONE = f'unmasker={_FJ},remasker={_FJ}'
_PLAIN = 'correction_passes=0'
rows = ';'.join([
    'mode=validation',
    f'name=fill-once-30 plain,mode=fill_once,diffusion_iterations=30,{_PLAIN}',
    f'name=fill-once-59 plain,mode=fill_once,diffusion_iterations=59,{_PLAIN}',
    f'name=fill-once-conf-30 plain,mode=fill_once_confidence,diffusion_iterations=30,{_PLAIN}',
    f'name=fill-once-conf-59 plain,mode=fill_once_confidence,diffusion_iterations=59,{_PLAIN}',
    'name=self-correction-30,mode=fill_once_confidence,diffusion_iterations=30,correction_passes=10',
    'name=self-correction-59,mode=fill_once_confidence,diffusion_iterations=59',
    f'name=the pair: schedule-30 (python sample.py),mode=schedule,{_ONE}',
    f'name=the pair: schedule-59,mode=schedule,diffusion_iterations=59,{_ONE}',
    f'name=the pair: mixed-30,mode=mixed,{_ONE}',
    f'name=naive: schedule-30,mode=schedule,remasker={_NAIVE}',
    f'name=naive: mixed-30,mode=mixed,remasker={_NAIVE}',
])
