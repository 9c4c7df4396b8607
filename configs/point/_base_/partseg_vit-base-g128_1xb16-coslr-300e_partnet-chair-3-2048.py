# PartNet fine-grained part segmentation (sem_seg_h5, one category-level per run) with the
# ShapeNetPart recipe: Point-MAE has no PartNet recipe and the M2PT paper gives none, so the
# model, optimiser and schedule are those of ShapeNetPart. Differences: no object-category input
# (one category per model), xyz-only h5 clouds of 10000 points, PartNet's mIoU (label 0 "other"
# ignored). Set `category`/`level` (and `label_file`) for the other 23 category-levels; the
# paper's PartNet number is their mean.
_base_ = ['./partseg_vit-base-g128_1xb16-coslr-300e_shapenetpart-2048.py']

data_root = 'data/partnet/sem_seg_h5'
category, level = 'Chair', 3
label_file = '../stats/after_merging_label_ids/Chair-level-3.txt'  # relative to data_root

# Chair level 3: 39 fine-grained parts + "other" (PartNetDataset checks it against label_file)
num_classes = 40
model = dict(head=dict(num_classes=num_classes, num_categories=None))
partnet = dict(type='PartNetDataset', data_root=data_root, category=category, level=level,
               num_classes=num_classes, label_file=label_file)
train_dataloader = dict(dataset=dict(_delete_=True, split='train',
                                     pipeline=_base_.train_pipeline, **partnet))
val_dataloader = dict(dataset=dict(_delete_=True, split='test',
                                   pipeline=_base_.test_pipeline, **partnet))
test_dataloader = val_dataloader
val_evaluator = dict(_delete_=True, type='PartNetMIoU')
test_evaluator = val_evaluator
default_hooks = dict(checkpoint=dict(save_best='partnet/mIoU'))
