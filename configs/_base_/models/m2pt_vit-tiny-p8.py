# A tiny M2PT ViT classifier (4 blocks × 64 dims, 32×32 inputs in 8×8 patches) for tests,
# examples and CPU demos. Same structure as ViT-B; only the sizes differ.
_base_ = ['./m2pt_vit-base-p16.py']

model = dict(
    backbone=dict(
        arch=dict(_delete_=True, embed_dims=64, num_layers=4, num_heads=4,
                  feedforward_channels=128),
        img_size=32,
        patch_size=8,
        drop_path_rate=0.),
    head=dict(num_classes=10, in_channels=64))
