# `make demo`, M2PT: the baseline's tiny ViT and recipe (same data, schedule, budget), with a
# Multimodal Pathway in every block linear (qkv, proj, fc1, fc2): x·(W + λW′)ᵀ, W from scratch,
# W′ from the MAE-pretrained spectrogram ViT (mae_vit-tiny-p8_..._spectrogram-32x32.py), λ = 0 at
# the start and learnt.
# Override with --cfg-options (besides the baseline's data_root and seed keys):
#   model.backbone.pathway.aux_checkpoint=PATH   the auxiliary checkpoint (any supported layout)
_base_ = ['./vit-tiny-p8_scratch_1xb64-coslr-20e_digits-32x32.py']

model = dict(backbone=dict(pathway=dict(aux_checkpoint=_base_.tiny_aux_checkpoint)))
