# From-scratch baseline of paper Table 1: randomly initialised ViT-B/16, DeiT recipe.
_base_ = './_base_/deit_vit-base-p16_16xb64-300e_in1k.py'

# the paper's row this config reproduces (tools/analysis/paper_rows.py, docs/reproduce.md)
__paper_rows__ = dict(table=1, setting='from-scratch', row='ViT', columns=['tune acc'])
