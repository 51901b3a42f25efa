# Beyond the guide: the field's plain masked-diffusion sampler (MDLM's; LLaDA's "random remasking"),
# the baseline every re-masking rule has to beat. Each [MASK] is filled once and kept: every pass
# fills all [MASK]s, keeps a random L/T of the new tokens and re-masks the rest. No remasking model,
# so an iteration is one forward pass: 59 iterations cost what the guide's 30 do with a remasker.
checkpoint_name = 'ckpt_unmasking.pt'  # the unmasking model alone (the one that judges too: 0.03 bits worse here)
use_fill_once = True
use_mixed_remasking = False
remasking_confidence_threshold = None
diffusion_iterations = 59
correction_passes = 0  # plain: no self-correction (config/sample_self_correction.py adds it)
