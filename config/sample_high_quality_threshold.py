# Guide example 1: high-quality adaptive generation (threshold-based). A conservative threshold and a
# generous safety limit: generation stops when the remasker flags no position in any sequence.
use_intelligent_remasking = True
use_mixed_remasking = False
remasking_checkpoint_name = 'ckpt_remasking_naive_4400.pt'
remasking_confidence_threshold = 0.005  # conservative threshold
diffusion_iterations = 100  # safety limit
sequence_length = 1024
