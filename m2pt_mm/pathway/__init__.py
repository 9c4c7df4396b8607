"""Multimodal Pathway: Cross-Modal Re-parameterization over any ``nn.Module`` (torch only)."""
from .pathway import (MMPRETRAIN_LAYERS, ORDERS, TIMM_LAYERS, ScaleRecord, attach_pathway,
                      aux_block_index, collect_scales, format_scale_table, freeze_all_but_scales,
                      is_pathway_param, is_scale_param, load_aux_weights, merge_pathways, merge_state_dict)
from .reparam_linear import CrossModalReparamLinear, aux_param_name

__all__ = [
    'CrossModalReparamLinear', 'aux_param_name', 'attach_pathway', 'load_aux_weights', 'merge_pathways',
    'merge_state_dict', 'collect_scales', 'format_scale_table', 'ScaleRecord',
    'freeze_all_but_scales', 'is_pathway_param', 'is_scale_param', 'aux_block_index',
    'TIMM_LAYERS', 'MMPRETRAIN_LAYERS', 'ORDERS'
]
