# Paper Table 6, aux pretraining length: M2PT-Point of Table 1 (MAE ImageNet target, normal
# order) with W′ from the epoch-300 checkpoint of the point aux pretraining (paper: 83.93).
# The last epoch of the same run as the 20- and 220-epoch rows, so that the three rows differ in
# the pretraining length only; the Table 1 config (m2pt_vit-base-p16-point_mae-pre_...) reads the
# public point model instead.
# The checkpoint: configs/mae/pointmae_m2pt-vit-base-g64_1xb128-coslr-300e_shapenet55-1024.py
# keeps epoch_300.pth; publish it under this name with
#   python tools/model_converters/publish_model.py \
#       work_dirs/pointmae_m2pt-vit-base-g64_1xb128-coslr-300e_shapenet55-1024/epoch_300.pth \
#       checkpoints/m2pt --out-name pointmae_vit-base-g64_shapenet55-ep300.pth
_base_ = './m2pt_vit-base-p16-point_mae-pre_8xb128-coslr-100e_in1k.py'

aux_checkpoint = 'checkpoints/m2pt/pointmae_vit-base-g64_shapenet55-ep300.pth'

model = dict(backbone=dict(pathway=dict(aux_checkpoint=aux_checkpoint)))

# the paper's row this config reproduces (tools/analysis/paper_rows.py, docs/reproduce.md)
__paper_rows__ = dict(table=6, setting='ablation', row='normal order, aux pretrained 300 epochs',
                      columns=['top-1'])
