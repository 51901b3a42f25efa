# Guide mode 3: threshold-based intelligent re-masking. Every position with P([WRONG]) > 0.003 is
# re-masked; a sequence with none has converged, and generation stops once all have.
use_intelligent_remasking = True
use_mixed_remasking = False
remasking_checkpoint_name = 'ckpt_remasking_naive_4400.pt'
remasking_confidence_threshold = 0.003  # probability threshold
diffusion_iterations = 30  # at most 30 iterations (safety limit)
