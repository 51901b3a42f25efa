# eval.py rows for README's iteration and temperature sweeps: every mode's family once.
# $ python eval.py config/eval_sweep.py --sweep=iterations --plot=assets/quality_iterations.png --out_csv=assets/quality_iterations.csv
# $ python eval.py config/eval_sweep.py --sweep=temperature --sweep_values=0.5,0.7,0.8,0.9,1.0,1.2 --plot=assets/quality_temperature.png --out_csv=assets/quality_temperature.csv
num_samples = 128
rows = ';'.join([
    'mode=validation',
    'name=random,mode=random',
    'name=schedule-naive,mode=schedule,remasker=ckpt_remasking_naive_4400.pt',
    'name=mixed-naive,mode=mixed,threshold=0.01,remasker=ckpt_remasking_naive_4400.pt',
    'name=schedule-model,mode=schedule,remasker=ckpt_remasking_model.pt',
    'name=mixed-model,mode=mixed,threshold=0.01,remasker=ckpt_remasking_model.pt',
    'name=confidence,mode=confidence',
])
