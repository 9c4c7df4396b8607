# The tiny Mask R-CNN with a Multimodal Pathway in every block linear: W from scratch, W′ from the
# MAE-pretrained spectrogram ViT of `make demo` (4 × 64; any 4 × 64 checkpoint works: override
# model.backbone.pathway.aux_checkpoint=PATH), λ = 0 at the start and learnt.
_base_ = ['./mask-rcnn_vit-tiny-p8_scratch_1xb4-6e_digits-coco.py']

model = dict(backbone=dict(pathway=dict(aux_checkpoint=_base_.tiny_aux_checkpoint)))
