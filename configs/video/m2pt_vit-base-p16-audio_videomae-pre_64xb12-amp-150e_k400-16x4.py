# M2PT-Audio of paper Table 4 (pretrained setting, paper: 82.3 vs. VideoMAE 81.5 top-1): VideoMAE
# target W, the audio ViT-B/16 as auxiliary model W′ (only its block linears are taken, so its
# tokenizer does not matter), all four linears of every block, normal order, λ from 0, all
# trainable. The paper has no from-scratch video setting (§4.4).
_base_ = './_base_/videomae-ft_vit-base-p16_64xb12-150e_k400-16x4.py'

aux_checkpoint = 'checkpoints/m2pt/audio_vit-base-p16.pth'

model = dict(backbone=dict(pathway=dict(aux_checkpoint=aux_checkpoint)))
# fp16 mixed precision as VideoMAE's fine-tuning (its dynamic loss scale)
optim_wrapper = dict(type='AmpOptimWrapper', loss_scale='dynamic')

# the paper's row this config reproduces (tools/analysis/paper_rows.py, docs/reproduce.md)
__paper_rows__ = dict(table=4, setting='pretrained', row='M2PT-Audio', columns=['K400 top-1'])
