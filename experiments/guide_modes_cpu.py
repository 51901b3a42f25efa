# The guide's modes on the 2-core CPU (32 texts of 512, float32; 2026-12-01, 18053cd): the rows whose
# defaults changed after the H200 run of b20cbf2 (correction_by='margin' everywhere), and the guide's
# example 3 as it is written (512 characters).
# $ python eval.py experiments/guide_modes_cpu.py --out_json=out/guide_modes_cpu.json
num_samples = 32
sequence_length = 512
batch_size = 8
device = 'cpu'
_P, _N = 'ckpt_remasking_prism.pt', 'ckpt_remasking_naive_4400.pt'
_EX3 = f'mode=mixed,threshold=0.05,remasking_schedule=exponential,diffusion_iterations=20,remasker={_P}'
rows = ';'.join([
    'mode=validation',
    'name=fill-once-conf-59,mode=fill_once_confidence,diffusion_iterations=59,correction_passes=0',
    'name=self-correction-59,mode=fill_once_confidence,diffusion_iterations=59',
    f'name=python sample.py,mode=schedule,remasker={_P}',
    f'name=schedule-prism plain,mode=schedule,remasker={_P},correction_passes=0',
    f'name=schedule-prism by-remasker,mode=schedule,remasker={_P},correction_by=remasker',
    f'name=mixed-prism,mode=mixed,remasker={_P}',
    f'name=mixed-prism plain,mode=mixed,remasker={_P},correction_passes=0',
    f'name=ex3 fast mixed,{_EX3}',
    f'name=ex3 fast mixed plain,{_EX3},correction_passes=0',
    f'name=ex3 fast mixed by-remasker,{_EX3},correction_by=remasker',
    f'name=schedule-naive,mode=schedule,remasker={_N}',
    f'name=schedule-naive plain,mode=schedule,remasker={_N},correction_passes=0',
    f'name=ex2 controlled mixed,mode=mixed,threshold=0.01,remasker={_N}',
    f'name=ex2 controlled mixed plain,mode=mixed,threshold=0.01,remasker={_N},correction_passes=0',
])
