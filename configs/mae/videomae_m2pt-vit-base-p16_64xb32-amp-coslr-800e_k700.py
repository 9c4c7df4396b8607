# The video auxiliary model of the paper ("pretrained with VideoMAE on Kinetics-700", §4.1): the
# Kinetics-400 recipe of ./videomae_m2pt-vit-base-p16_64xb8-amp-coslr-800e_k400.py on Kinetics-700
# (the same mmaction-style list format, 700 classes; labels unused) with VideoMAE's own batch and
# learning rate: 64 GPUs × 32 clips = 2048, lr = 1.5e-4 × 2048 / 256 = 1.2e-3 (VideoMAE's linear
# scaling of its base lr). The paper gives no epoch count for this model: 800 as the recipe.
_base_ = ['./videomae_m2pt-vit-base-p16_64xb8-amp-coslr-800e_k400.py']

train_dataloader = dict(
    batch_size=32,
    dataset=dict(data_root='data/kinetics700', ann_file='kinetics700_train_list_videos.txt',
                 num_classes=700))

batch_size = 64 * 32
optim_wrapper = dict(optimizer=dict(lr=1.5e-4 * batch_size / 256))
auto_scale_lr = dict(base_batch_size=batch_size)
