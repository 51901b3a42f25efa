# The default mode (schedule, the model that fills and judges, 30 iterations: 30 passes) beside the unmasking
# model's own baselines at the same 30 passes, over temperatures, so that they compare at matched entropy
# (one GPU, 256 texts of 1024 a point; experiments/defaults_gpu.sh runs it).
# $ python eval.py experiments/defaults_sweep.py --out_json=assets/quality_default_temperature.json
num_samples = 256
sweep = 'temperature'
sweep_values = '0.9,0.95,1.0,1.05'
rows = ';'.join([
    'mode=validation',
    'name=fill-once-conf-30 plain,mode=fill_once_confidence,diffusion_iterations=30,correction_passes=0',
    'name=self-correction-30,mode=fill_once_confidence,diffusion_iterations=30,correction_passes=10',
    'name=python sample.py,mode=schedule,unmasker=ckpt_fill_and_judge.pt,remasker=ckpt_fill_and_judge.pt',
])
