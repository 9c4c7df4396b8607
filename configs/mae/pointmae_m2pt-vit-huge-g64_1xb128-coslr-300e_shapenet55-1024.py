# The point auxiliary model of the ViT-H/14 M2PT configs: the ViT-L point model's recipe at
# ViT-H's block structure (32 blocks × 1280, 16 heads, MLP 5120), decoder tied to the width.
# Its last checkpoint is published as checkpoints/m2pt/pointmae_vit-huge-g64_shapenet55.pth.
_base_ = './pointmae_m2pt-vit-large-g64_1xb128-coslr-300e_shapenet55-1024.py'

model = dict(
    backbone=dict(arch=dict(embed_dims=1280, num_layers=32, num_heads=16,
                            feedforward_channels=5120)),
    neck=dict(embed_dim=1280, decoder_embed_dim=1280))
