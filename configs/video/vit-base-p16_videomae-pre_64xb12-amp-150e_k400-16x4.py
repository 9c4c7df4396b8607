# VideoMAE baseline of paper Table 4 (81.5 top-1): VideoMAE-pretrained ViT-B/16 fine-tuned with
# VideoMAE's K400 recipe, no pathway.
_base_ = './_base_/videomae-ft_vit-base-p16_64xb12-150e_k400-16x4.py'

# fp16 mixed precision as VideoMAE's fine-tuning (its dynamic loss scale)
optim_wrapper = dict(type='AmpOptimWrapper', loss_scale='dynamic')

# the paper's row this config reproduces (tools/analysis/paper_rows.py, docs/reproduce.md)
__paper_rows__ = dict(table=4, setting='pretrained', row='VideoMAE', columns=['K400 top-1'])
