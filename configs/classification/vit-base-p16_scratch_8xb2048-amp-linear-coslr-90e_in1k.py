# From-scratch baseline of paper Table 1, "fix acc" (ViT, 14.5): the linear probe of a randomly
# initialised, frozen ViT-B/16 (seeded by `randomness`). The paper does not give this row's recipe;
# it is the pretrained rows' probe, without the MAE weights.
_base_ = './_base_/mae-linear_vit-base-p16_8xb2048-amp-coslr-90e_in1k.py'

model = dict(backbone=dict(init_cfg=None))

# the paper's row this config reproduces (tools/analysis/paper_rows.py, docs/reproduce.md)
__paper_rows__ = dict(table=1, setting='from-scratch', row='ViT', columns=['fix acc'])
