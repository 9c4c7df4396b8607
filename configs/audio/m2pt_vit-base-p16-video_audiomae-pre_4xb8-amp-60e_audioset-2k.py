# M2PT-Video of paper Table 3 (pretrained setting, paper: 35.5 vs. AudioMAE 35.3): AudioMAE
# target W, the video ViT-B/16 as auxiliary model W′ (only its block linears are taken, so its
# tokenizer does not matter), all four linears of every block, normal order, λ from 0, all
# trainable.
_base_ = './_base_/audiomae-ft_vit-base-p16_4xb8-amp-60e_audioset-2k.py'

aux_checkpoint = 'checkpoints/m2pt/video_vit-base-p16.pth'

model = dict(backbone=dict(pathway=dict(aux_checkpoint=aux_checkpoint)))

# the paper's row this config reproduces (tools/analysis/paper_rows.py, docs/reproduce.md)
__paper_rows__ = dict(table=3, setting='pretrained', row='M2PT-Video',
                      columns=['AudioSet-2k top-1'])
