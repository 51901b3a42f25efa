# Guide example 2: controlled mixed generation (recommended). Exactly 30 iterations; the re-mask count
# falls linearly from 100% to 10% of the sequence: after iteration i it is round(L * (1 - 0.9 * (i+1)/29)).
use_intelligent_remasking = True
use_mixed_remasking = True
remasking_checkpoint_name = 'ckpt_remasking_naive_4400.pt'
remasking_confidence_threshold = 0.01  # moderate threshold for candidates
remasking_schedule = 'linear'
diffusion_iterations = 30  # fixed iterations
start_ratio = 1.0
end_ratio = 0.1
