# (b′) M2PT-Point with mmseg's MAE backbone options (layer scale 1.0 + relative position
# bias): the layer-scale/rel-pos MAE baseline next door plus the pathway (W′ = the point ViT-B/16,
# all four linears, λ from 0). Not a paper row: the paper's ADE20K numbers correspond to the
# plain ./upernet_m2pt-vit-base-p16-point_mae-pre_8xb2-amp-160k_ade20k-512x512.py.
# Video / audio W′: the same over the MAE variant with their aux_checkpoint (as the plain
# siblings, e.g. ./upernet_m2pt-vit-base-p16-video_mae-pre_8xb2-amp-160k_ade20k-512x512.py).
_base_ = './upernet_vit-base-p16-layerscale-relpos_mae-pre_8xb2-amp-160k_ade20k-512x512.py'

# auxiliary W′: see the README table "Checkpoints" for which public file goes here
aux_checkpoint = 'checkpoints/m2pt/point_vit-base-p16.pth'

model = dict(backbone=dict(pathway=dict(aux_checkpoint=aux_checkpoint)))
