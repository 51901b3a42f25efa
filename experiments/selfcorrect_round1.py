# Self-correction, round 1 (issue 19), on the 2-core CPU: eval.py rows at 59 unmasking passes, 32 texts of 512.
# $ python eval.py experiments/selfcorrect_round1.py --out_json=out/selfcorrect_round1.json
num_samples = 32
sequence_length = 512
batch_size = 1  # the fastest per text on the CPU
device = 'cpu'
_FOC = 'mode=fill_once_confidence,diffusion_iterations=59'
rows = ';'.join([
    'mode=validation',
    f'name=foc-59,{_FOC}',
    'name=fill-once-59,mode=fill_once,diffusion_iterations=59',
    f'name=foc-59 temp=0.95,{_FOC},temperature=0.95',
    f'name=foc-59 temp=0.9,{_FOC},temperature=0.9',
    f'name=foc C=10,{_FOC},correction_passes=10',
    f'name=foc C=14,{_FOC},correction_passes=14',
    f'name=foc C=20,{_FOC},correction_passes=20',
    f'name=foc C=29,{_FOC},correction_passes=29',
    f'name=foc C=14 margin,{_FOC},correction_passes=14,correction_by=margin',
    f'name=foc C=29 margin,{_FOC},correction_passes=29,correction_by=margin',
    f'name=foc C=14 drawn,{_FOC},correction_passes=14,correction_by=drawn',
    f'name=foc C=14 share=0.02,{_FOC},correction_passes=14,correction_share=0.02',
    f'name=foc C=14 share=0.005,{_FOC},correction_passes=14,correction_share=0.005',
    f'name=foc C=14 reread=0.3,{_FOC},correction_passes=14,correction_reread=0.3',
    f'name=foc C=14 inside,{_FOC},correction_passes=14,correction_inside=True',
])
