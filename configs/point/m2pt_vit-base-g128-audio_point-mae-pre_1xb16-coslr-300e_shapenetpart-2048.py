# M2PT-Audio on ShapeNetPart (paper Table 2: 85.6 / 87.5): the pretrained baseline plus a
# Multimodal Pathway in every block linear, W′ from the M2PT zoo audio ViT-B/16
# (AudioMAE-pretrained); λ starts at 0 and is learnt.
_base_ = ['./vit-base-g128_point-mae-pre_1xb16-coslr-300e_shapenetpart-2048.py']

aux_checkpoint = 'checkpoints/m2pt/audio_vit-base-p16.pth'

model = dict(backbone=dict(pathway=dict(aux_checkpoint=aux_checkpoint)))

# the paper's row this config reproduces (tools/analysis/paper_rows.py, docs/reproduce.md)
__paper_rows__ = dict(table=2, setting='pretrained', row='M2PT-Audio',
                      columns=['ShapeNetPart mIoU_C', 'ShapeNetPart mIoU_I'])
