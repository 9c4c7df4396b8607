# ESC-50 baseline: AudioMAE-pretrained ViT-B/16, no pathway.
_base_ = './_base_/audiomae-ft_vit-base-p16_4xb8-amp-60e_esc50-fold1.py'
