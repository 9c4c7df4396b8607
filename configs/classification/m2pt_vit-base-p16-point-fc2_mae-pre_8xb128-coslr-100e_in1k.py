# Paper Table 5 ablation: re-parameterise only the fc2 linear of each block.
_base_ = './m2pt_vit-base-p16-point_mae-pre_8xb128-coslr-100e_in1k.py'

model = dict(backbone=dict(pathway=dict(layers=['fc2'])))

# the paper's row this config reproduces (tools/analysis/paper_rows.py, docs/reproduce.md)
__paper_rows__ = dict(table=5, setting='ablation', row='FFN 2nd only, λ₀=0, learnable',
                      columns=['top-1'])
