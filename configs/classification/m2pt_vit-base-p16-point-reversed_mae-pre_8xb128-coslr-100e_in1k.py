# Paper Table 6: reversed order of the auxiliary blocks (target block i ↔ aux block 11 - i).
_base_ = './m2pt_vit-base-p16-point_mae-pre_8xb128-coslr-100e_in1k.py'

model = dict(backbone=dict(pathway=dict(order='reversed')))

# the paper's row this config reproduces (tools/analysis/paper_rows.py, docs/reproduce.md)
__paper_rows__ = dict(table=6, setting='ablation', row='reversed order, aux pretrained 300 epochs',
                      columns=['top-1'])
