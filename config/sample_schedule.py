# Guide mode 2: intelligent schedule-based re-masking. The schedule sets how many positions to re-mask;
# the remasking model picks which: the N with the highest P([WRONG]).
# No threshold is set, and that is what selects this mode (a number would select threshold mode).
use_intelligent_remasking = True
use_mixed_remasking = False
remasking_confidence_threshold = None
remasking_checkpoint_name = 'ckpt_remasking_naive_4400.pt'  # path to remasking model
remasking_schedule = 'linear'  # or 'exponential'
diffusion_iterations = 30  # exactly 30 iterations
