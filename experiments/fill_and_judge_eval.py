# eval.py rows that measure the model that fills and judges (checkpoints/ckpt_fill_and_judge.pt) at full
# size on one GPU, beside everything shipped: 256 texts of 1024 a row, equal forward passes (59, what the
# guide's 30 iterations cost with a remasker of its own; 30 where a row says so). "fj" rows name it as
# both models (one pass an iteration), "fj unmasker" rows as the unmasking model alone.
# $ python eval.py experiments/fill_and_judge_eval.py --out_json=assets/fill_and_judge_2000it_h100.json
# On 2026-12-06 (at 811f476, with the 2000-iteration model) it also held four rows of the PRISM remasker, which
# left checkpoints/ then (commit c0fe409 holds its file; RESULTS.md has the rows).
num_samples = 256
_FJ = 'ckpt_fill_and_judge.pt'
_N = 'ckpt_remasking_naive_4400.pt'
_M = f'unmasker={_FJ},remasker={_FJ}'  # one model, one pass an iteration
_U = f'unmasker={_FJ}'
_BY = 'correction_by=remasker,correction_inside=True'
_PLAIN = 'correction_passes=0'
_GUIDE = "random_from='all',selection_temperature=0.0,max_remask_kept=None,correction_passes=0"
rows = ';'.join([
    'mode=validation',
    # what is shipped today
    f'name=fill-once-59 plain,mode=fill_once,diffusion_iterations=59,{_PLAIN}',
    f'name=fill-once-conf-59 plain,mode=fill_once_confidence,diffusion_iterations=59,{_PLAIN}',
    'name=self-correction-59,mode=fill_once_confidence,diffusion_iterations=59',
    'name=confidence-59,mode=confidence,diffusion_iterations=59',
    'name=random-59,mode=random,diffusion_iterations=59',
    f'name=mixed-naive (example 2),mode=mixed,remasker={_N}',
    f'name=threshold-naive ex1,mode=threshold,threshold=0.005,diffusion_iterations=100,remasker={_N}',
    # the model that fills and judges, one pass an iteration, in the guide's modes
    f'name=fj schedule-59 C20,mode=schedule,diffusion_iterations=59,{_M},{_BY},correction_passes=20',
    f'name=fj schedule-59 C30,mode=schedule,diffusion_iterations=59,{_M},{_BY},correction_passes=30',
    f'name=fj schedule-59 C45,mode=schedule,diffusion_iterations=59,{_M},{_BY},correction_passes=45',
    f'name=fj schedule-59 C30 share 0.005,mode=schedule,diffusion_iterations=59,{_M},{_BY},correction_passes=30,'
    f'correction_share=0.005',
    f'name=fj schedule-59 C30 after,mode=schedule,diffusion_iterations=59,{_M},correction_by=remasker,'
    f'correction_passes=30',
    f'name=fj schedule-59 margin,mode=schedule,diffusion_iterations=59,{_M}',
    f'name=fj schedule-59 kept cap 0.01 plain,mode=schedule,diffusion_iterations=59,{_M},max_remask_kept=0.01,'
    f'{_PLAIN}',
    f'name=fj schedule-59 plain,mode=schedule,diffusion_iterations=59,{_M},{_PLAIN}',
    f'name=fj schedule-30 C10,mode=schedule,diffusion_iterations=30,{_M},{_BY},correction_passes=10',
    f'name=fj mixed-59 C30,mode=mixed,diffusion_iterations=59,{_M},{_BY},correction_passes=30',
    f'name=fj mixed-30 C10 (example 2 by it),mode=mixed,diffusion_iterations=30,{_M},{_BY},correction_passes=10',
    f'name=fj threshold ex1,mode=threshold,threshold=0.005,diffusion_iterations=100,{_M}',
    f'name=fj threshold ex1 fresh by fill,mode=threshold,threshold=0.005,diffusion_iterations=100,{_M},'
    f'fresh_score=fill',
    f'name=fj threshold 0.5,mode=threshold,threshold=0.5,diffusion_iterations=59,{_M}',
    f'name=fj random-59,mode=random,diffusion_iterations=59,{_U}',
    f'name=fj guide schedule-59,mode=schedule,diffusion_iterations=59,{_M},{_GUIDE}',
    # the model as an unmasking model alone, and beside the shipped remaskers
    f'name=fj unmasker fill-once-conf-59 plain,mode=fill_once_confidence,diffusion_iterations=59,{_U},{_PLAIN}',
    f'name=fj unmasker self-correction-59,mode=fill_once_confidence,diffusion_iterations=59,{_U}',
    f'name=fj unmasker mixed-naive (example 2),mode=mixed,{_U},remasker={_N}',
])
