"""Helpers for projects that build on m2pt_mm: :func:`register_config_scope` lets their configs
inherit ours as ``_base_ = ['m2pt_mm::<path under configs/>']``."""
from .config_scope import config_root, register_config_scope

__all__ = ['config_root', 'register_config_scope']
