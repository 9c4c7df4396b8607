"""Convert an external ViT checkpoint of any supported layout to m2pt_mm (mmpretrain) names.

Layouts: timm, MAE (± decoder, fine-tuned), AudioMAE, the M2PT zoo, Point-MAE, VideoMAE,
mmpretrain (see ``m2pt_mm/checkpoints/formats.py``; the reader detects which).

The output is an mmpretrain-style checkpoint ``{'state_dict': {'backbone.*': ...}, 'meta': ...}``
usable as ``init_cfg=dict(type='Pretrained', checkpoint=OUT)`` of ``M2PTVisionTransformer``, as
``pathway.aux_checkpoint``, or by stock mmpretrain ``VisionTransformer`` (prefix ``backbone.``).
M2PT-trained checkpoints (``aux_weight`` / ``cross_modal_scale`` keys) are merged first.
Decoders, mask tokens and classification heads are dropped (and listed).

Example:
    python tools/model_converters/convert_checkpoint.py \\
        mae_pretrain_vit_base.pth mae_vit-base-p16.pth
"""
import argparse
import os.path as osp
from typing import Optional, Sequence

# torch and the OpenMMLab stack are imported after the arguments are checked
from m2pt_mm.utils.cli_checks import check_output_file, require_file, run_main


def convert_file(src: str, dst: str) -> str:
    """Read ``src`` (any supported layout), write ``dst``; returns the reader's summary."""
    from m2pt_mm.checkpoints import read_checkpoint
    from m2pt_mm.engine import save_atomic
    ckpt = read_checkpoint(src)
    state_dict = {f'backbone.{k}': v.contiguous() for k, v in ckpt.state_dict.items()}
    save_atomic({'state_dict': state_dict,
                 'meta': dict(source=osp.basename(src), format=ckpt.format, dropped=ckpt.dropped)},
                dst)
    return ckpt.summary()


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='source checkpoint (timm, MAE, AudioMAE, M2PT zoo, Point-MAE, '
                        'VideoMAE, mmpretrain)')
    parser.add_argument('dst', help='output checkpoint path')
    parser.add_argument('--force', action='store_true', help='allow dst to overwrite src')
    args = parser.parse_args(argv)
    require_file(parser, args.src, 'src checkpoint')
    check_output_file(parser, args.dst, 'dst', [args.src], args.force,
                      make_dirs=True)
    print(convert_file(args.src, args.dst))
    print(f'saved {args.dst}')


if __name__ == '__main__':
    run_main(main, 'convert_checkpoint.py')
