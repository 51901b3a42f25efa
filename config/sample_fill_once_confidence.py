# Beyond the guide: fill-once's low-confidence variant (LLaDA's "low-confidence remasking", with
# MaskGIT's noise), plain: the best text of every mode here at equal forward passes without
# self-correction (README "Results"), the baseline self-correction is measured against.
# Each [MASK] is filled once and kept: every pass fills all [MASK]s and keeps L/T of the new tokens;
# the rest are re-masked, drawn in proportion to (1 - P(token))^(1/selection_temperature) under the
# unmasking model, so the confident tend to stay (selection_temperature 0 keeps the most confident
# outright, and collapses).
# No remasking model, so 59 iterations cost what the guide's 30 do with a remasker.
checkpoint_name = 'ckpt_unmasking.pt'  # the unmasking model alone (the one that judges too: 0.03 bits worse here)
use_fill_once = True
use_confidence_remasking = True
use_mixed_remasking = False
remasking_confidence_threshold = None
diffusion_iterations = 59
correction_passes = 0  # plain: no self-correction (config/sample_self_correction.py adds it)
