# The guide's literal re-masking rule, in place of the defaults that the measurements chose (RESULTS.md):
# random picks from every generated position, the highest P([WRONG]) first, no cap on re-masking
# tokens kept by earlier iterations, and no self-correction. Combine it with any mode or preset:
# $ python sample.py config/sample_guide_rule.py --use_mixed_remasking=True
# $ python sample.py config/sample_mixed.py config/sample_guide_rule.py
random_from = 'all'
selection_temperature = 0.0
max_remask_kept = None
correction_passes = 0
