# mmseg's MAE UperNet backbone as mmseg builds it (`mmseg::mae/mae-base_upernet_8xb2-amp-160k_
# ade20k-512x512.py`, mmseg's `MAE` backbone = BEiT's blocks): layer scale with init_values=1.0 on
# both residual branches and a relative position bias in every block, zero at the start, next to
# the absolute positions. A delta over ./upernet_vit-base-p16_8xb2-amp-160k_ade20k-512x512.py,
# which stays the default: the M2PT paper's Table 1 ADE20K rows (MAE 46.1 mIoU → M2PT-Point 47.9)
# are compared on it — a plain ViT whose block is exactly the classifier's and the auxiliary
# models', so the pathway is the only change, and a merged M2PT classifier loads with no new keys.
# Differences from mmseg's MAE that remain:
# - the relative position bias is ViTDet's decomposed per-axis one (`use_rel_pos`, tables of
#   2·32−1 rows per axis, query-dependent), not BEiT's full (2·32−1)²+3 per-head table, and the
#   class token gets no relative term (BEiT's table has three class-token entries);
# - layer scales start at 1.0 whether or not the checkpoint has them (as mmseg reading MAE).
_base_ = './upernet_vit-base-p16_8xb2-amp-160k_ade20k-512x512.py'

model = dict(backbone=dict(layer_scale_init_value=1.0, use_rel_pos=True))

# mmseg's layer-decay constructor exempts every 1-D parameter (the layer scales) from weight decay
optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys={'.gamma1': dict(decay_mult=0.),
                                    '.gamma2': dict(decay_mult=0.)}))
