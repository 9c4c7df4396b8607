"""Multimodal Pathway: Cross-Modal Re-parameterization over any ``nn.Module`` (torch only).

``merge`` holds the naming rules and the one merge of ``W + Σ λ W′`` (its dtype policy);
``reparam_linear`` the layer; ``pathway`` attaching, loading, merging and reporting over a model.
"""
from .merge import (
    aux_param_name,
    is_pathway_param,
    is_scale_param,
    merge_reparam,
    merge_state_dict,
    scale_branch,
)
from .pathway import (
    MMPRETRAIN_LAYERS,
    ORDERS,
    TIMM_LAYERS,
    ScaleRecord,
    attach_pathway,
    aux_block_index,
    collect_scales,
    format_scale_table,
    freeze_all_but_scales,
    load_aux_weights,
    merge_pathways,
)
from .reparam_linear import CrossModalReparamLinear

__all__ = [
    'CrossModalReparamLinear', 'aux_param_name', 'attach_pathway', 'load_aux_weights',
    'merge_pathways', 'merge_reparam', 'merge_state_dict', 'scale_branch', 'collect_scales',
    'format_scale_table', 'ScaleRecord', 'freeze_all_but_scales', 'is_pathway_param',
    'is_scale_param', 'aux_block_index', 'TIMM_LAYERS', 'MMPRETRAIN_LAYERS', 'ORDERS'
]
