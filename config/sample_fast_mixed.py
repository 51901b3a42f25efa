# Guide example 3: fast mixed generation. Half the length and 20 iterations; the exponential schedule
# drops the re-mask count fast early on; a higher threshold gives fewer, surer candidates.
use_intelligent_remasking = True
use_mixed_remasking = True
remasking_confidence_threshold = 0.05  # higher threshold for fewer candidates
remasking_schedule = 'exponential'
diffusion_iterations = 20  # shorter generation
sequence_length = 512
