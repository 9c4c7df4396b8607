"""Publish a checkpoint: keep its state dict and a minimal meta, drop the training state
(optimiser, parameter schedulers, message hub), and write it atomically, as mmpretrain's
``tools/model_converters/publish_model.py`` does.

By default the file is named ``<input stem>-<sha256[:8]>.pth`` (the hash of the written file, so
``sha256sum`` checks a download). ``--out-name`` writes exactly the name a downstream config of
this repository reads instead, e.g. the Table 6 aux checkpoints::

    python tools/model_converters/publish_model.py \\
        work_dirs/pointmae_m2pt-vit-base-g64_1xb128-coslr-300e_shapenet55-1024/epoch_20.pth \\
        checkpoints/m2pt --out-name pointmae_vit-base-g64_shapenet55-ep20.pth

A training checkpoint of an M2PT run keeps W, W′ and λ (any reader of this package merges them);
publish its ``*_deploy.pth`` twin for a plain downstream model (detection, segmentation, a
classifier without pathway).
"""
import argparse
import hashlib
import os.path as osp
from typing import Any, Dict, Optional, Sequence

# torch is imported after the arguments are checked
from m2pt_mm.utils.cli_checks import require_file, run_main

#: The meta entries a published checkpoint keeps: where in training it was taken, what it is.
PUBLISHED_META = ('epoch', 'iter', 'dataset_meta', 'deploy', 'merged_from')


def _refuse_own_input(out: str, in_file: str, force: bool) -> None:
    """Publishing into the input's own path would replace a training checkpoint (optimiser,
    schedulers, message hub) by its weights: only with ``--force``."""
    if not force and osp.exists(out) and osp.samefile(out, in_file):
        raise ValueError(f'{out!r} is the checkpoint being published; refusing to overwrite it '
                         'with its weights only (choose another OUT_DIR or --out-name, or pass '
                         '--force)')


def publish(in_file: str, out_dir: str, out_name: Optional[str] = None,
            force: bool = False) -> str:
    """Write the published copy of ``in_file`` into ``out_dir``; returns its path.

    Args:
        in_file: A checkpoint (mmengine training or deploy checkpoint, or a bare state dict).
        out_dir: Folder of the published file (created if missing).
        out_name: Exact file name; default ``<in_file stem>-<sha256[:8]>.pth``.
        force: Allow the published file to replace ``in_file`` itself.
    """
    if out_name is not None and (osp.basename(out_name) != out_name
                                 or not out_name.endswith('.pth')):
        raise ValueError(f'--out-name must be a file name ending in .pth (the folder is '
                         f'OUT_DIR), got {out_name!r}')
    if out_name is not None:
        _refuse_own_input(osp.join(out_dir, out_name), in_file, force)
    from m2pt_mm.checkpoints import load_checkpoint_file, unwrap_state_dict
    from m2pt_mm.engine import AtomicLocalBackend, checkpoint_bytes, deploy_path
    from m2pt_mm.pathway import is_pathway_param
    checkpoint = load_checkpoint_file(in_file)
    state_dict, container = unwrap_state_dict(checkpoint, in_file)
    # a bare state dict has no container (container == ''): nothing beside it to drop or keep
    top: Dict[str, Any] = checkpoint if container else {}
    meta: Dict[str, Any] = top.get('meta') or {}
    published = dict(state_dict=state_dict,
                     meta=dict({k: meta[k] for k in PUBLISHED_META if k in meta},
                               published_from=osp.basename(in_file)))
    data = checkpoint_bytes(published)
    sha256 = hashlib.sha256(data).hexdigest()
    out = osp.join(out_dir, out_name or f'{osp.splitext(osp.basename(in_file))[0]}-'
                                        f'{sha256[:8]}.pth')
    _refuse_own_input(out, in_file, force)
    AtomicLocalBackend().put(data, out)  # the package's atomic write, of the bytes just hashed
    dropped = sorted(k for k in top if k != 'meta' and not container.startswith(f'[{k!r}]'))
    print(f'published {in_file} → {out} (sha256 {sha256}; {len(state_dict)} tensors'
          f'{"; dropped " + ", ".join(dropped) if dropped else ""})')
    if any(is_pathway_param(k) for k in state_dict):
        print(f'note: {in_file} holds pathway parameters (W, W′, λ); a plain downstream model '
              f'loads its deploy twin {deploy_path(in_file)}')
    return out


def main(argv: Optional[Sequence[str]] = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('in_file', help='checkpoint to publish (e.g. work_dir/epoch_20.pth or '
                        'work_dir/epoch_100_deploy.pth)')
    parser.add_argument('out_dir', help='folder of the published file')
    parser.add_argument('--out-name', help='exact file name a downstream config reads (default: '
                        '<in_file stem>-<sha256[:8]>.pth)')
    parser.add_argument('--force', action='store_true',
                        help='allow the published file to replace the input checkpoint')
    args = parser.parse_args(argv)
    require_file(parser, args.in_file, 'checkpoint')
    if osp.exists(args.out_dir) and not osp.isdir(args.out_dir):
        parser.error(f'OUT_DIR {args.out_dir!r} is a file; expected a folder')
    return publish(args.in_file, args.out_dir, args.out_name, args.force)


if __name__ == '__main__':
    run_main(main, 'publish_model.py')
