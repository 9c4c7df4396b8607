"""Export one modality of a trained OmniVec model to a plain ViT (M2PT's or mmpretrain's).

The modality's encoder (depth 0: tokenizer + positions), its meta-conditioned projection for the
given input shape and its LayerNorm fold into the ViT's tokenizer, position table and
``pre_norm``; the shared trunk's blocks keep their names (``m2pt_mm.models.omnivec.export``).
The output is ``{'state_dict': {'backbone.*': ...}, 'meta': {'backbone_cfg': ..., ...}}``: it
initialises ``M2PTVisionTransformer(**backbone_cfg)`` (``init_cfg=dict(type='Pretrained',
checkpoint=OUT)``, or ``load_state_dict(..., strict=True)`` after stripping ``backbone.``) and
serves as a ``pathway.aux_checkpoint``. With ``--target mmpretrain`` (image-like modalities)
the backbone is mmpretrain's stock ``VisionTransformer(pre_norm=True)`` instead, the tokenizer's
bias folded into ``pos_embed`` (its patch embedding has no bias).

Example:
    python tools/model_converters/omnivec_export.py configs/omnivec/CONFIG.py \
        work_dirs/x/epoch_10.pth image_vit.pth --modality image --shape 3 224 224
"""
import argparse
import os.path as osp
import pprint
from typing import List, Optional, Sequence

# torch and the OpenMMLab stack are imported after the arguments are checked
from m2pt_mm.utils.cli_checks import check_output_file, require_file, run_main


def export_file(config: str, checkpoint: str, modality: str, out: str,
                input_shape: Optional[Sequence[int]] = None,
                out_type: str = 'cls_token', target: str = 'm2pt') -> dict:
    """Build the config's OmniVec model, load ``checkpoint`` (``weights_only``, strict), export
    ``modality`` for ``target`` (``'m2pt'`` or ``'mmpretrain'``) and write ``out``; returns the
    backbone config."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS

    import m2pt_mm.datasets  # noqa: F401  registers what the config's model may name
    import m2pt_mm.models  # noqa: F401
    from m2pt_mm.checkpoints import load_checkpoint_file, load_weights, unwrap_state_dict
    from m2pt_mm.engine import save_atomic
    from m2pt_mm.models.omnivec import export_single_modality
    cfg = Config.fromfile(config)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    model = MODELS.build(cfg.model)
    if type(model).__name__ != 'OmniVec':
        raise ValueError(f'{config} builds {type(model).__name__}, not an OmniVec model: '
                         'give the OmniVec config the checkpoint was trained with')
    state_dict, _ = unwrap_state_dict(load_checkpoint_file(checkpoint), checkpoint)
    load_weights(model, state_dict, checkpoint)
    model.eval()
    state, backbone_cfg = export_single_modality(model, modality, input_shape, out_type, target)
    save_atomic({'state_dict': {f'backbone.{k}': v.contiguous() for k, v in state.items()},
                 'meta': dict(backbone_cfg=backbone_cfg, modality=modality,
                              source=osp.basename(checkpoint), config=osp.basename(config))},
                out)
    return backbone_cfg


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='the OmniVec config the checkpoint was trained with')
    parser.add_argument('checkpoint', help='OmniVec checkpoint (mmengine)')
    parser.add_argument('out', help='output checkpoint path')
    parser.add_argument('--modality', required=True, help='modality to export (image, depth, '
                        'audio, video, point, text)')
    parser.add_argument('--shape', type=int, nargs='+', default=None,
                        help="one sample's input shape, no batch axis (default: the tokenizer's "
                        'configured size; point clouds need it, e.g. 1024 3)')
    parser.add_argument('--out-type', default='cls_token',
                        help="out_type of the exported backbone (default 'cls_token')")
    parser.add_argument('--target', choices=('m2pt', 'mmpretrain'), default='m2pt',
                        help="the backbone class: M2PTVisionTransformer (default, every "
                        "modality) or mmpretrain's VisionTransformer (image, depth, audio)")
    parser.add_argument('--force', action='store_true', help='allow out to overwrite an input')
    args = parser.parse_args(argv)
    require_file(parser, args.config, 'config')
    require_file(parser, args.checkpoint, 'checkpoint')
    check_output_file(parser, args.out, 'out', [args.config, args.checkpoint], args.force,
                      make_dirs=True)
    backbone_cfg = export_file(args.config, args.checkpoint, args.modality, args.out, args.shape,
                               args.out_type, args.target)
    print(f'backbone config:\n{pprint.pformat(backbone_cfg, sort_dicts=False)}')
    print(f'saved {args.out}')


if __name__ == '__main__':
    run_main(main, 'omnivec_export.py')
