# Baseline, from-scratch setting on ShapeNetPart (paper Table 2: 50.2 / 68.4 class / instance
# mIoU): random target weights, Point-MAE's fine-tuning recipe, no pathway. The primitive config
# as it is, named for the table.
_base_ = ['./_base_/partseg_vit-base-g128_1xb16-coslr-300e_shapenetpart-2048.py']

# the paper's row this config reproduces (tools/analysis/paper_rows.py, docs/reproduce.md)
__paper_rows__ = dict(table=2, setting='from-scratch', row='N/A',
                      columns=['ShapeNetPart mIoU_C', 'ShapeNetPart mIoU_I'])
