# M2PT-Image on ShapeNetPart (paper Table 2: 85.6 / 87.5): the pretrained baseline plus a
# Multimodal Pathway in every block linear, W′ from the MAE ImageNet ViT-B/16
# (facebookresearch/mae); λ starts at 0 and is learnt.
_base_ = ['./vit-base-g128_point-mae-pre_1xb16-coslr-300e_shapenetpart-2048.py']

aux_checkpoint = 'checkpoints/mae_pretrain_vit_base.pth'

model = dict(backbone=dict(pathway=dict(aux_checkpoint=aux_checkpoint)))

# the paper's row this config reproduces (tools/analysis/paper_rows.py, docs/reproduce.md)
__paper_rows__ = dict(table=2, setting='pretrained', row='M2PT-Image',
                      columns=['ShapeNetPart mIoU_C', 'ShapeNetPart mIoU_I'])
