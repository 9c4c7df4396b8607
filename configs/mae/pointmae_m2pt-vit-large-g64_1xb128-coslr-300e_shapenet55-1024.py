# The point auxiliary model of the ViT-L/16 M2PT configs: the Point-MAE recipe of the ViT-B point
# model (same data, masking, loss and schedule) at ViT-L's block structure (24 blocks × 1024,
# 16 heads, MLP 4096), so that its blocks pair with MAE's ViT-L/16 block by block. The decoder
# stays tied to the encoder's width, as Point-MAE ties it to trans_dim (16 heads: 6 do not
# divide 1024). Its last checkpoint is published as
# checkpoints/m2pt/pointmae_vit-large-g64_shapenet55.pth (docs/reproduce.md).
_base_ = './pointmae_m2pt-vit-base-g64_1xb128-coslr-300e_shapenet55-1024.py'

model = dict(
    backbone=dict(arch=dict(embed_dims=1024, num_layers=24, num_heads=16,
                            feedforward_channels=4096)),
    neck=dict(embed_dim=1024, decoder_embed_dim=1024, decoder_num_heads=16))
# Table 6's intermediate checkpoints are the ViT-B model's
default_hooks = dict(checkpoint=dict(keep_epochs=()))
