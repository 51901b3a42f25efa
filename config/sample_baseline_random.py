# Guide example 4: baseline random generation, for comparisons. 50 iterations; after iteration i,
# round(L * (1 - 0.9 * (i+1)/49)) uniformly random positions are re-masked.
use_intelligent_remasking = False
use_mixed_remasking = False
remasking_schedule = 'linear'
diffusion_iterations = 50
start_ratio = 1.0
end_ratio = 0.1
