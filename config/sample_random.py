# Guide mode 1: random re-masking (basic mode). No remasking model is loaded; the linear schedule
# re-masks round(L * r) uniformly random positions after each of the first T-1 iterations.
use_intelligent_remasking = False
remasking_checkpoint_name = None  # no remasking model needed
