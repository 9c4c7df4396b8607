# What every tiny config (configs/demo/ and the `-tiny-` configs of audio/, video/, point/, mae/)
# sets on top of its full-size recipe so that it runs on a CPU in seconds to minutes, for tests,
# CPU demos and acceptance runs: data loading in the main process, a log line every iteration,
# a checkpoint every epoch of which only the last is kept (a killed run resumes, the disk does not
# fill), a fixed seed; and the tiny ViT's blocks with the auxiliary model of `make demo` that fits
# them. (The pretraining smoke configs of mae/ are smaller still and use only the run settings.)
#
# mmengine refuses a key that two bases both define, and every recipe defines its dataloaders,
# hooks and randomness, so these are named values the tiny configs reference
# (`**_base_.tiny_dataloader`, `default_hooks = _base_.tiny_hooks`, ...), not keys that merge by
# themselves. The schedule length stays in each tiny config (epochs or iterations).

# no worker processes: one CPU process, nothing to keep alive between epochs
tiny_dataloader = dict(num_workers=0, persistent_workers=False)

# iteration-based configs add `by_epoch=False, interval=max_iters` to the checkpoint hook
tiny_hooks = dict(
    logger=dict(interval=1), checkpoint=dict(interval=1, max_keep_ckpts=1, save_best=None))

# CPU runs repeat exactly for a seed (the study runner gives each run one thread);
# deterministic=True would also force deterministic kernels, which on GPU need
# CUBLAS_WORKSPACE_CONFIG
tiny_randomness = dict(seed=0, deterministic=False)

# The blocks of every tiny ViT (`arch=dict(_delete_=True, **_base_.tiny_arch)`): 4 × 64, 4 heads,
# MLP 128, as configs/_base_/models/m2pt_vit-tiny-p8.py (a model base, which cannot list this file)
tiny_arch = dict(embed_dims=64, num_layers=4, num_heads=4, feedforward_channels=128)

# The blocks of the pretraining smoke configs of mae/, smaller still: they only show that a
# pretraining step runs (`arch=dict(_delete_=True, **_base_.smoke_arch)`)
smoke_arch = dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64)

# W′ of every tiny M2PT config: the MAE-pretrained spectrogram ViT of `make demo`
# (configs/demo/mae_vit-tiny-p8_..., tiny_arch). Only its block linears are read, so any checkpoint
# of these blocks fits: override model.backbone.pathway.aux_checkpoint=PATH.
tiny_aux_checkpoint = 'work_dirs/demo/aux_mae/epoch_20.pth'
