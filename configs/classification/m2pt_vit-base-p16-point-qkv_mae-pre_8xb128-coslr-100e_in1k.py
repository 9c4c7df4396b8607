# Paper Table 5 ablation: re-parameterise only the qkv linear of each block.
_base_ = './m2pt_vit-base-p16-point_mae-pre_8xb128-coslr-100e_in1k.py'

model = dict(backbone=dict(pathway=dict(layers=['qkv'])))

# the paper's row this config reproduces (tools/analysis/paper_rows.py, docs/reproduce.md)
__paper_rows__ = dict(table=5, setting='ablation', row='QKV only, λ₀=0, learnable',
                      columns=['top-1'])
