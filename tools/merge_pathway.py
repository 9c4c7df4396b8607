"""Merge a trained M2PT checkpoint offline: config + training checkpoint → deploy checkpoint
(``W ← W + Σ λ W′``) + a plain config (``model.backbone.pathway=None``). Works for classifiers,
detectors and segmentors; the result is verified by a strict load into the plain config's model.

Example:
    python tools/merge_pathway.py CONFIG work_dirs/run/epoch_100.pth
    # → work_dirs/run/epoch_100_deploy.pth and work_dirs/run/<config>_deploy.py
"""
import argparse
import os.path as osp
from typing import TYPE_CHECKING, Optional, Sequence, Tuple

# torch and the OpenMMLab stack are imported after the arguments are checked
from m2pt_mm.utils.cli_checks import check_output_file, require_file, run_main

if TYPE_CHECKING:
    from mmengine.config import Config


def plain_config(cfg: 'Config') -> 'Config':
    """The same config without pathways (the deploy form; ``fix_weights`` needs a pathway)."""
    from mmengine.config import Config
    backbone = cfg.model.get('backbone')
    if backbone is None or 'pathway' not in backbone:
        raise KeyError('the config has no model.backbone.pathway; is it an M2PT config?')
    plain = Config(cfg.to_dict(), filename=cfg.filename)
    plain.model.backbone.pathway = None
    if plain.model.backbone.get('fix_weights'):
        plain.model.backbone.fix_weights = False
    return plain


def merge_checkpoint(config: str, checkpoint: str, out: Optional[str] = None,
                     out_config: Optional[str] = None, verify: bool = True) -> Tuple[str, str]:
    """Write the deploy checkpoint and the plain config; returns their paths."""
    from mmengine.config import Config
    from mmengine.registry import MODELS, DefaultScope

    from m2pt_mm.checkpoints import (
        CheckpointError,
        check_finite,
        load_checkpoint_file,
        load_weights,
        unwrap_state_dict,
    )
    from m2pt_mm.engine import deploy_path, write_deploy_checkpoint
    from m2pt_mm.pathway import collect_scales, is_pathway_param, merge_state_dict
    obj = load_checkpoint_file(checkpoint)
    state_dict, _ = unwrap_state_dict(obj, checkpoint)
    check_finite(state_dict, checkpoint)  # a NaN W, W′ or λ would make the deploy file NaN
    if not any(is_pathway_param(k) for k in state_dict):
        raise CheckpointError(f'{checkpoint} has no pathway parameters (aux_weight / '
                              'cross_modal_scale): nothing to merge; it may already be merged')
    scales = collect_scales(state_dict)
    cfg = plain_config(Config.fromfile(config))
    out = out or deploy_path(checkpoint)
    out_config = out_config or osp.join(
        osp.dirname(out), osp.splitext(osp.basename(config))[0] + '_deploy.py')
    if verify:  # before anything is written: a result that does not load is never saved
        with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmpretrain')):
            model = MODELS.build(cfg.model)
        load_weights(model, merge_state_dict(state_dict), f'{checkpoint} (merged)')
    write_deploy_checkpoint(state_dict, out, obj.get('meta', {}) if isinstance(obj, dict) else {},
                            merged_from=osp.basename(checkpoint))
    cfg.dump(out_config)
    values = [r.value for r in scales]
    print(f'merged {len(scales)} Cross-Modal Scales '
          f'(λ in [{min(values):+.4f}, {max(values):+.4f}])')
    return out, out_config


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description='Merge M2PT pathways into a deploy checkpoint')
    parser.add_argument('config', help='the M2PT config the checkpoint was trained with')
    parser.add_argument('checkpoint',
                        help='training checkpoint (with aux_weight / cross_modal_scale)')
    parser.add_argument('--out', help='deploy checkpoint (default: <checkpoint stem>_deploy.pth)')
    parser.add_argument('--out-config', help='plain config (default: <config stem>_deploy.py '
                        'beside the deploy checkpoint)')
    parser.add_argument('--no-verify', action='store_true',
                        help='skip the strict load of the result into the plain model')
    parser.add_argument('--force', action='store_true',
                        help='allow --out / --out-config to overwrite the input checkpoint / '
                        'config')
    args = parser.parse_args(argv)
    require_file(parser, args.config, 'config')
    require_file(parser, args.checkpoint, 'checkpoint')
    inputs = (args.config, args.checkpoint)
    check_output_file(parser, args.out, '--out', inputs, args.force, make_dirs=True)
    check_output_file(parser, args.out_config, '--out-config', inputs, args.force)
    out, out_config = merge_checkpoint(args.config, args.checkpoint, args.out, args.out_config,
                                       verify=not args.no_verify)
    print(f'deploy checkpoint: {out}\nplain config: {out_config}')


if __name__ == '__main__':
    run_main(main, 'merge_pathway.py')
