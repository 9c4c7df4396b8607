# OmniVec stage 2 of the evidence study (studies/m2pt_digits.py): fine-tuning digit
# classification from the jointly pretrained network (omnivec-mae_vit-tiny-p8_1xb64-coslr-20e_
# spectrogram-digits-32x32.py, through load_from): its image encoder, meta tokens, image projection
# and trunk, and a fresh head. Everything else is the plain baseline's, inherited
# (configs/demo/vit-tiny-p8_scratch_1xb64-coslr-20e_digits-32x32.py): data, pipelines (random
# shifts), sampler, normalisation, AdamW recipe, schedule, epochs, seed, and the head (mmpretrain's
# VisionTransformerClsHead on the trunk's class token after its final norm, starting at zero).
# The model keeps OmniVec's parts: the projection (FiLM on the meta vector, then LayerNorm)
# between the tokenizer and the trunk.
# The audio encoder, its projection and both MAE decoders of stage 1 are not in this model: the
# checkpoint check reports them as unused.
# Override with --cfg-options:
#   load_from=PATH                                                  the stage-1 checkpoint
#   {train,val,test}_dataloader.dataset.sources.digits.dataset.data_root=DIR   the digits folder
#   randomness.seed=S                                               the training seed
_base_ = ['../demo/vit-tiny-p8_scratch_1xb64-coslr-20e_digits-32x32.py']

load_from = 'work_dirs/study/runs/stage/omnivec_mix/full/seed0/epoch_20.pth'

model = dict(
    _delete_=True,
    type='OmniVec',
    trunk=dict(arch=_base_.tiny_arch, drop_path_rate=0.),
    encoders=dict(image=dict(tokenizer=dict(type='ImageTokenizer', img_size=32, patch_size=8))),
    vectorizer=None,
    heads=dict(digits_cls=dict(_base_.model.head, modality='image', input='cls')))

data_preprocessor = dict(
    _delete_=True,
    type='OmniVecDataPreprocessor',
    preprocessors=dict(image=dict(_base_.data_preprocessor, type='ClsDataPreprocessor')))

# the baseline's datasets as the one source of a multi-source dataset, grouped by omnivec_collate
digits = dict(modality='image', task='digits_cls', task_group='simple')
train_dataloader = dict(
    collate_fn=dict(type='omnivec_collate'),
    dataset=dict(_delete_=True, type='MultiSourceDataset',
                 sources=dict(digits=dict(dataset=_base_.train_dataloader.dataset, **digits))))
val_dataloader = dict(
    collate_fn=dict(type='omnivec_collate'),
    dataset=dict(_delete_=True, type='MultiSourceDataset',
                 sources=dict(digits=dict(dataset=_base_.val_dataloader.dataset, **digits))))
test_dataloader = val_dataloader

# the decay rules of the baseline plus OmniVec's own "none" meta embeddings (norms: none already)
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={'none_embed': dict(decay_mult=0.)}))

# no pathway for the M2PT hooks; the checkpoint check reports (not refuses) the keys of stage 1
# that this model does not have
custom_hooks = [
    dict(type='CheckpointCheckHook', strict=False),
    # as ../_base_/m2pt_runtime.py: exact resume with random augmentation, NaN loss stops
    dict(type='ResumableRandomnessHook'),
    dict(type='FiniteLossHook', interval=1),
]
