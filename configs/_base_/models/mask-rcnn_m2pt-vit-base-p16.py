# Mask R-CNN (mmdet's own R-50-FPN model: RPN, RoI box and mask heads, their losses and train/test
# settings) with the M2PT ViT-B/16 as backbone and a ViT → pyramid neck in place of ResNet + FPN.
# No pathway here (the plain/MAE baseline); M2PT configs add `pathway=dict(aux_checkpoint=...)`.
_base_ = 'mmdet::_base_/models/mask-rcnn_r50_fpn.py'

__reproduce_notes__ = [
    "Patches are 16 × 16, as in MAE's ViT-B/16 weights and the official M2PT image code "
    "(`vit_base_patch16`); the paper's text (§3.1) says S = 14 by default.",
]

model = dict(
    backbone=dict(
        _delete_=True,
        type='mmpretrain.M2PTVisionTransformer',
        arch='base',
        img_size=1024,  # LSJ crops; other (padded) sizes interpolate the position embedding
        # 16 × 16 as MAE's ViT-B/16 weights and the official M2PT code; the paper's text says
        # S = 14 (§3.1)
        patch_size=16,
        drop_path_rate=0.1,  # ViTDet ViT-B
        out_type='featmap',  # (B, 768, H/16, W/16) maps, the cls token dropped
        out_indices=(11, ),  # ViTDet: the simple feature pyramid is built from the last block
        final_norm=False,  # ViTDet feeds the raw last block to the pyramid
        tokenizer=dict(type='ImageTokenizer')),
    neck=dict(
        _delete_=True,
        type='mmpretrain.ViTPyramidNeck',
        in_channels=768,  # ViT-B width; checked against the maps on every call
        out_channels=256,  # what the RPN / RoI heads of the mmdet base expect
        rescales=(4, 2, 1, 0.5),  # strides 4, 8, 16, 32 (+ a max-pooled 64): the heads' strides
        num_outs=5,
        norm_cfg=dict(type='SyncBN', requires_grad=True)))
