# The CPU pilots' judged texts (experiments/pilot_cpu.sh): 32 texts of 256 a row at 59 passes, each pilot
# remasker as the corrector of fill_once_confidence and in the guide's schedule mode, beside
# fill_once_confidence alone and with self-correction, for the pilots in $PILOT (default out/pilot).
# Run as a script it prints the rows.
import os as _os

num_samples = 32
sequence_length = 256
batch_size = 8
device = 'cpu'
_P = _os.environ.get('PILOT', 'out/pilot')
_FOC = 'mode=fill_once_confidence'
_rows = ['mode=validation', f'name=foc-59,{_FOC},diffusion_iterations=59,correction_passes=0',
         f'name=foc-59 C=20,{_FOC},diffusion_iterations=59,correction_passes=20,correction_by=margin']
for _t in ('loo', 'critic', 'prism'):
    _r = f'remasker={_P}/ckpt_remasking_{_t}.pt'
    _rows += [f'name=foc-49 C=10 by {_t},{_FOC},diffusion_iterations=49,correction_passes=10,correction_by=remasker,{_r}',
              f'name=schedule-{_t} C=10 by it,mode=schedule,correction_passes=10,correction_by=remasker,{_r}']
rows = ';'.join(_rows)
if __name__ == '__main__' and 'configure' not in globals():  # run as a script, not read by eval.py
    print(rows)
