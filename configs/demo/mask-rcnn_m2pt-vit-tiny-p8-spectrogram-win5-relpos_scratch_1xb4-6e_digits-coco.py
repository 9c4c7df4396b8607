# The tiny M2PT Mask R-CNN (the `_base_`) with the ViTDet backbone options of the
# configs/detection/*-win14-relpos_* configs: window attention (5×5 windows on the 16×16 token
# grid of 128² canvases, so every windowed block pads to 20×20, as ViTDet pads 64×64 grids for
# 14×14 windows), global attention in blocks 1 and 3 (the last of each group, as ViTDet-B's 2, 5,
# 8, 11), relative position bias, no class token. Its plain form (what the deploy checkpoint
# loads into): `--cfg-options model.backbone.pathway=None`.
_base_ = ['./mask-rcnn_m2pt-vit-tiny-p8-spectrogram_scratch_1xb4-6e_digits-coco.py']

model = dict(
    backbone=dict(with_cls_token=False, window_size=5, global_attn_indexes=(1, 3),
                  use_rel_pos=True))
