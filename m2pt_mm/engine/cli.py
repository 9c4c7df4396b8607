"""What tools/train.py and tools/test.py share: the common arguments and the config they set."""
import argparse
import os.path as osp
from typing import Any, List

from mmengine.config import Config, DictAction

from m2pt_mm.engine.distributed import setup_cpu_distributed
from m2pt_mm.utils.config_scope import register_config_scope


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """``--work-dir``, ``--cfg-options``, ``--launcher``, ``--local_rank`` (as OpenMMLab tools)."""
    parser.add_argument('--work-dir', help='directory for logs (and checkpoints)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, e.g. optim_wrapper.optimizer.lr=1e-3')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def load_config(path: str, args: argparse.Namespace) -> Config:
    """Read ``path`` and apply the common arguments; the work dir defaults to
    ``./work_dirs/<config name>``. A distributed run without CUDA gets gloo on CPU."""
    register_config_scope()  # a config of another project may inherit `m2pt_mm::...` bases
    cfg = Config.fromfile(path)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(path))[0])
    setup_cpu_distributed(cfg)
    return cfg


def _pathway_cfgs(cfg: Config) -> List[Any]:
    backbone = cfg.get('model', {}).get('backbone') or {}
    pathway = backbone.get('pathway') if isinstance(backbone, dict) else None
    if pathway is None:
        return []
    return [pathway] if isinstance(pathway, dict) else list(pathway)


def allow_zero_aux_before_loading(cfg: Config) -> None:
    """A run that loads or resumes trained weights reads W′ from them: let pathways without an
    ``aux_checkpoint`` start at zero (``allow_zero_aux``) instead of failing in ``init_weights``."""
    for pathway in _pathway_cfgs(cfg):
        if pathway.get('aux_checkpoint') is None:
            pathway['allow_zero_aux'] = True
