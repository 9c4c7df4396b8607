# AudioMAE's AudioSet-20K fine-tuning recipe (./audiomae-ft_vit-base-p16_4xb8-60e_audioset-2k.py)
# with AMP, as AudioMAE trains (main_finetune_as.py: fp16 autocast + NativeScaler, a dynamic
# loss scale). The paper rows inherit this one.
_base_ = './audiomae-ft_vit-base-p16_4xb8-60e_audioset-2k.py'

optim_wrapper = dict(type='AmpOptimWrapper', loss_scale='dynamic')
