# A quick look at quality on a laptop CPU: the held-out text, the field's baselines and the guide's
# modes at their defaults, 8 texts of 256 characters a row (wide intervals: a look, not a measurement).
# $ python eval.py config/eval_quick.py        # about a minute and a half on 2 CPU cores
num_samples = 8
sequence_length = 256
batch_size = 8
rows = ';'.join([
    'mode=validation',
    'name=fill-once-59 plain,mode=fill_once,diffusion_iterations=59,correction_passes=0',
    'name=fill-once-conf-59 plain,mode=fill_once_confidence,diffusion_iterations=59,correction_passes=0',
    'name=self-correction-59,mode=fill_once_confidence,diffusion_iterations=59',
    'name=python sample.py,mode=schedule,unmasker=ckpt_fill_and_judge.pt,remasker=ckpt_fill_and_judge.pt',
    'name=mixed,mode=mixed,unmasker=ckpt_fill_and_judge.pt,remasker=ckpt_fill_and_judge.pt',
])
