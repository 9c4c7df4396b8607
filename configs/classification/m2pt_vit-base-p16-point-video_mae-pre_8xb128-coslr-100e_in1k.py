# Two auxiliary models at once (beyond the paper, whose formula generalises to it):
# W + λ_point·W′_point + λ_video·W′_video, one λ per aux per layer.
_base_ = './_base_/mae-ft_vit-base-p16_8xb128-coslr-100e_in1k.py'

point_checkpoint = 'checkpoints/m2pt/point_vit-base-p16.pth'
video_checkpoint = 'checkpoints/m2pt/video_vit-base-p16.pth'

model = dict(
    backbone=dict(pathway=[
        dict(aux_checkpoint=point_checkpoint),
        dict(aux_checkpoint=video_checkpoint),
    ]))
