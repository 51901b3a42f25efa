# Beyond the guide: self-correction, the best text without a remasker (README "Results"). fill_once_confidence
# writes the text in the first 39 of 59 passes; in each of the last 20 the unmasking model also
# masks 15% of the kept tokens at random and re-reads them, and the 1% of the text furthest below
# the likeliest token at its position (correction_by='margin') is re-masked and drawn again by the
# next pass. No remasking model: 59 passes, what the guide's 30 iterations cost with one.
# These are the defaults of fill_once_confidence mode with 59 iterations, written out.
checkpoint_name = 'ckpt_unmasking.pt'  # the unmasking model alone (the one that judges too: 0.03 bits worse here)
use_fill_once = True
use_confidence_remasking = True
use_mixed_remasking = False
remasking_confidence_threshold = None
diffusion_iterations = 59
correction_passes = None  # a third of the passes, 20 of 59 (none for a template's hole too short to correct 1% of)
correction_share = 0.01
correction_reread = 0.15
correction_by = 'margin'
correction_inside = False
