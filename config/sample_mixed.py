# Guide mode 4: mixed random+intelligent re-masking. The schedule sets the count N; positions with
# P([WRONG]) > 0.01 are taken first (the N most likely if there are more), random ones fill the rest.
use_intelligent_remasking = True  # enable intelligent remasking
use_mixed_remasking = True  # enable mixed mode
remasking_checkpoint_name = 'ckpt_remasking_naive_4400.pt'
remasking_confidence_threshold = 0.01  # threshold for intelligent candidates
remasking_schedule = 'linear'  # or 'exponential'
diffusion_iterations = 30  # fixed number of iterations
