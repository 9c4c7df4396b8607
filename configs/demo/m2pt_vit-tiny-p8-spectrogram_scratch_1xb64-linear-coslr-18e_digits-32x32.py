# The paper's *fix* setting at `make demo` size: MAE's linear probe
# (../classification/_base_/mae-linear_vit-base-p16_8xb2048-amp-coslr-90e_in1k.py) of the M2PT
# digits model (m2pt_vit-tiny-p8-spectrogram_scratch_...): W (from scratch, seeded) and W′ (the
# MAE-pretrained spectrogram ViT) frozen, only the Cross-Modal Scales λ and the linear head train,
# behind a BatchNorm without affine on the class token. The probe's optimiser: LARS, momentum 0.9,
# weight decay 0, λ and the head bias outside the LARS adaptation, linear warm-up for a ninth of
# the schedule (MAE: 10 of 90 epochs), then cosine to 0. The lr is ViT-B's 6.4, not 0.1 × 64 / 256:
# LARS moves the head by at most eta × lr = 0.64 % of its norm a step, and in these 414 steps the
# scaled lr 0.025 left the head untrained (18.9 % top-1, chance 10 %). λ, outside LARS, takes plain
# SGD steps at this lr. The digits' pipelines stay (crops of 32×32 scans, no flips); no AMP on CPU.
# Override with --cfg-options as the M2PT digits config (data_root, seed, aux_checkpoint), and
#   optim_wrapper.paramwise_cfg.custom_keys.cross_modal_scale.lr_mult=M   λ's own lr (× M)
_base_ = ['./m2pt_vit-tiny-p8-spectrogram_scratch_1xb64-coslr-20e_digits-32x32.py']

max_epochs = 18
warmup_epochs = 2

model = dict(
    backbone=dict(fix_weights=True),
    neck=dict(_delete_=True, type='ClsBatchNormNeck', input_features=_base_.tiny_arch.embed_dims),
    head=dict(init_cfg=[dict(type='TruncNormal', layer='Linear', std=0.01)]))

optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='LARS', lr=6.4, weight_decay=0., momentum=0.9),
    constructor='PathwayLayerDecayOptimWrapperConstructor',
    paramwise_cfg=dict(
        layer_decay_rate=1.0,
        custom_keys={
            '.bias': dict(lars_exclude=True),
            'cross_modal_scale': dict(lars_exclude=True),
        }))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=0., by_epoch=True, begin=warmup_epochs,
         end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
