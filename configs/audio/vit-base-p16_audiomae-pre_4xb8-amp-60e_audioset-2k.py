# AudioMAE baseline of paper Table 3 (pretrained setting, 35.3 under the table's header "Top-1
# Acc."; AudioMAE's AudioSet metric, evaluated here, is mAP): AudioMAE-pretrained ViT-B/16
# fine-tuned with AudioMAE's AS-20K recipe, no pathway.
_base_ = './_base_/audiomae-ft_vit-base-p16_4xb8-amp-60e_audioset-2k.py'

# the paper's row this config reproduces (tools/analysis/paper_rows.py, docs/reproduce.md)
__paper_rows__ = dict(table=3, setting='pretrained', row='AudioMAE', columns=['AudioSet-2k top-1'])
