# Beyond the guide: the confidence baseline (LLaDA's and MaskGIT's rule). On the schedule, re-mask
# the tokens to which the unmasking model gave the lowest probability when it sampled them. It needs
# no remasking model, so it runs one forward pass per iteration where the guide's intelligent
# modes run two: 59 iterations cost what the guide's 30 do.
checkpoint_name = 'ckpt_unmasking.pt'  # the unmasking model alone (the one that judges too: 0.03 bits worse here)
use_confidence_remasking = True
use_mixed_remasking = False
remasking_confidence_threshold = None
remasking_schedule = 'linear'
diffusion_iterations = 59
start_ratio = 1.0
end_ratio = 0.1
