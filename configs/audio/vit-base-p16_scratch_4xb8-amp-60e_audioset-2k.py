# From-scratch baseline of paper Table 3 (11.0): random target W, the same recipe as the
# pretrained setting ("identical configurations" for baseline and M2PT, paper §4.1), except that
# layer-wise lr decay is off: it exists to protect pretrained lower blocks, which a random
# initialisation does not have.
_base_ = './_base_/audiomae-ft_vit-base-p16_4xb8-amp-60e_audioset-2k.py'

model = dict(backbone=dict(init_cfg=None))
optim_wrapper = dict(paramwise_cfg=dict(layer_decay_rate=1.0))

# the paper's row this config reproduces (tools/analysis/paper_rows.py, docs/reproduce.md)
__paper_rows__ = dict(table=3, setting='from-scratch', row='N/A', columns=['AudioSet-2k top-1'])
