# Issue 19: top_k and top_p (the unmasking model's draws) against temperature on the bits-against-entropy
# frontier, on the 2-core CPU, 32 texts of 512 a row, fill_once_confidence at 59 passes with the default
# self-correction and plain.
# $ python eval.py experiments/sampling_knobs_cpu.py --out_json=out/sampling_knobs_cpu.json
num_samples = 32
sequence_length = 512
batch_size = 8
device = 'cpu'
_SC = 'mode=fill_once_confidence,diffusion_iterations=59'
rows = ';'.join(['mode=validation'] + [f'name=self-correction {_k},{_SC},{_v}' for _k, _v in (
    ('temp=1.0', 'temperature=1.0'), ('temp=0.95', 'temperature=0.95'), ('temp=0.9', 'temperature=0.9'),
    ('top_p=0.95', 'top_p=0.95'), ('top_p=0.9', 'top_p=0.9'), ('top_k=20', 'top_k=20'), ('top_k=10', 'top_k=10'))] +
    [f'name=plain top_p=0.9,{_SC},top_p=0.9,correction_passes=0', f'name=plain temp=0.9,{_SC},temperature=0.9,correction_passes=0'])
