# Baseline of paper Table 1 ("tune acc"): MAE-pretrained ViT-B/16 fine-tuned on ImageNet-1K.
_base_ = './_base_/mae-ft_vit-base-p16_8xb128-coslr-100e_in1k.py'

# the paper's row this config reproduces (tools/analysis/paper_rows.py, docs/reproduce.md)
__paper_rows__ = dict(table=1, setting='pretrained', row='MAE*', columns=['tune acc'])
