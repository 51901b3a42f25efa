# Beyond the guide: self-correction by the trained remasker ckpt_remasking_prism.pt, the guide's answer
# to the unmasking model re-reading its own text (README "Quality": as good at the same passes).
# fill_once_confidence writes the text in the first 39 of 49 iterations; in each of the last 10 the
# remasking model judges every kept token and the 1% of highest P([WRONG]) is re-masked and drawn
# again: 49 unmasking + 10 remasking passes, 59, what the guide's 30 iterations cost.
use_fill_once = True
use_confidence_remasking = True
use_mixed_remasking = False
remasking_confidence_threshold = None
remasking_checkpoint_name = 'ckpt_remasking_prism.pt'
diffusion_iterations = 49
correction_passes = 10
correction_share = 0.01
correction_by = 'remasker'
correction_inside = False
