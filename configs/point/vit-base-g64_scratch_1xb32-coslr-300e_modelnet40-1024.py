# Baseline, from-scratch setting on ModelNet40: random target weights, Point-MAE's fine-tuning
# recipe, no pathway. The primitive config as it is, named for the table.
_base_ = ['./_base_/cls_vit-base-g64_1xb32-coslr-300e_modelnet40-1024.py']
