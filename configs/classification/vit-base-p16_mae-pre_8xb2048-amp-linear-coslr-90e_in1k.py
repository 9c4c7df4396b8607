# Baseline of the "fix acc" column of paper Table 1 (MAE*, 65.6): MAE's linear probe of the
# MAE-pretrained ViT-B/16, only the classifier trains.
_base_ = './_base_/mae-linear_vit-base-p16_8xb2048-amp-coslr-90e_in1k.py'

# the paper's row this config reproduces (tools/analysis/paper_rows.py, docs/reproduce.md)
__paper_rows__ = dict(table=1, setting='pretrained', row='MAE*', columns=['fix acc'])
