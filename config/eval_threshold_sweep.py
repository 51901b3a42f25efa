# eval.py rows for the threshold sweep (RESULTS.md, "threshold mode and the guide's example 1"):
# threshold mode with each remasker, at most 100 iterations, over the thresholds below.
# $ python eval.py config/eval_threshold_sweep.py --out_json=assets/quality_threshold.json \
#       --plot=assets/quality_threshold.png
num_samples = 256
sweep = 'threshold'
sweep_values = '0.001,0.003,0.005,0.01,0.05,0.2,0.5,0.9'
rows = ';'.join([
    'mode=validation',
    'name=threshold-naive,mode=threshold,threshold=0.01,diffusion_iterations=100,unmasker=ckpt_fill_and_judge.pt,'
    'remasker=ckpt_remasking_naive_4400.pt',
    'name=threshold,mode=threshold,threshold=0.01,diffusion_iterations=100,unmasker=ckpt_fill_and_judge.pt,'
    'remasker=ckpt_fill_and_judge.pt',
])
