# The ViT-H/14 M2PT-Point run sharded: FSDP2Strategy (one fully_shard unit per block, W, W′ and λ
# together) through mmengine's FlexibleRunner, and the pathway's memory-lean merge (`recompute`:
# W + λW′ is rebuilt in backward instead of kept, 2.3 GiB of fp32 for the 32 blocks), which pays
# here because sharding is chosen when memory is short. Launch: tools/dist_train.sh CONFIG 8.
_base_ = './m2pt_vit-huge-p14-point_mae-pre_8xb128-coslr-50e_in1k.py'

model = dict(backbone=dict(pathway=dict(recompute=True)))

runner_type = 'FlexibleRunner'
strategy = dict(type='FSDP2Strategy')
