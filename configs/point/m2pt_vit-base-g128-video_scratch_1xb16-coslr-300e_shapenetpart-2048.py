# M2PT-Video, from-scratch setting on ShapeNetPart (paper Table 2: 50.8 / 68.8): random target W,
# W′ from the M2PT zoo video ViT-B/16 (VideoMAE-pretrained), λ from 0.
_base_ = ['./vit-base-g128_scratch_1xb16-coslr-300e_shapenetpart-2048.py']

aux_checkpoint = 'checkpoints/m2pt/video_vit-base-p16.pth'

model = dict(backbone=dict(pathway=dict(aux_checkpoint=aux_checkpoint)))

# the paper's row this config reproduces (tools/analysis/paper_rows.py, docs/reproduce.md)
__paper_rows__ = dict(table=2, setting='from-scratch', row='M2PT-Video',
                      columns=['ShapeNetPart mIoU_C', 'ShapeNetPart mIoU_I'])
