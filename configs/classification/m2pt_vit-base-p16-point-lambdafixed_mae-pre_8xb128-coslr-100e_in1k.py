# Paper Table 5 ablation: λ not learnable, fixed at its initial value 1e-2 (the paper's row:
# init 10^-2, trainable ✗, 83.5 top-1).
_base_ = './m2pt_vit-base-p16-point_mae-pre_8xb128-coslr-100e_in1k.py'

model = dict(backbone=dict(pathway=dict(scale_init=1e-2, scale_trainable=False)))

# the paper's row this config reproduces (tools/analysis/paper_rows.py, docs/reproduce.md)
__paper_rows__ = dict(table=5, setting='ablation', row='all four, λ₀=1e-2, fixed',
                      columns=['top-1'])
