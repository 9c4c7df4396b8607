# Paper Table 5 ablation: Cross-Modal Scale λ initialised to 1e-2 instead of 0.
_base_ = './m2pt_vit-base-p16-point_mae-pre_8xb128-coslr-100e_in1k.py'

model = dict(backbone=dict(pathway=dict(scale_init=1e-2)))

# the paper's row this config reproduces (tools/analysis/paper_rows.py, docs/reproduce.md)
__paper_rows__ = dict(table=5, setting='ablation', row='all four, λ₀=1e-2, learnable',
                      columns=['top-1'])
