"""Print the Cross-Modal Scales λ of a checkpoint (block × layer × aux) and draw a heatmap.

Works on any checkpoint with pathway parameters: mmengine training checkpoints, bare state dicts,
M2PT zoo (timm layout) files.

Example:
    python tools/analysis/print_scales.py work_dirs/run/epoch_100.pth --out-png scales.png
"""
import argparse
from typing import TYPE_CHECKING, List, Optional, Sequence

# torch is imported after the arguments are checked
from m2pt_mm.utils.cli_checks import check_output_file, require_file, run_main

if TYPE_CHECKING:
    from m2pt_mm.pathway import ScaleRecord


def plot_scales(records: List['ScaleRecord'], path: str, title: Optional[str] = None) -> None:
    """One heatmap per auxiliary model: rows blocks, columns layers, colour λ (diverging)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    import numpy as np
    num_aux = max(r.aux for r in records) + 1
    layers = list(dict.fromkeys(r.layer for r in records))
    blocks = sorted({r.block for r in records if r.block is not None})
    limit = max(abs(r.value) for r in records) or 1.0
    fig, axes = plt.subplots(1, num_aux, figsize=(1.2 + 1.1 * len(layers) * num_aux,
                                                  1.2 + 0.35 * len(blocks)), squeeze=False)
    for k, ax in enumerate(axes[0]):
        grid = np.full((len(blocks), len(layers)), np.nan)
        for r in records:
            if r.aux == k and r.block is not None:
                grid[blocks.index(r.block), layers.index(r.layer)] = r.value
        image = ax.imshow(grid, cmap='coolwarm', vmin=-limit, vmax=limit, aspect='auto')
        ax.set_xticks(range(len(layers)), layers)
        ax.set_yticks(range(len(blocks)), [str(b) for b in blocks])
        ax.set_xlabel('layer')
        ax.set_ylabel('block')
        ax.set_title(f'aux {k}' if num_aux > 1 else 'λ')
        for i in range(len(blocks)):
            for j in range(len(layers)):
                if not np.isnan(grid[i, j]):
                    ax.text(j, i, f'{grid[i, j]:+.2g}', ha='center', va='center', fontsize=7)
        fig.colorbar(image, ax=ax, shrink=0.8)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description='Print / plot Cross-Modal Scales λ')
    parser.add_argument('checkpoint')
    parser.add_argument('--out-png', help='write a heatmap PNG here')
    parser.add_argument('--precision', type=int, default=4)
    args = parser.parse_args(argv)
    require_file(parser, args.checkpoint, 'checkpoint')
    check_output_file(parser, args.out_png, '--out-png', [args.checkpoint])
    from m2pt_mm.checkpoints import CheckpointError, load_checkpoint_file, unwrap_state_dict
    from m2pt_mm.pathway import collect_scales, format_scale_table
    state_dict, _ = unwrap_state_dict(load_checkpoint_file(args.checkpoint), args.checkpoint)
    records = collect_scales(state_dict)
    if not records:
        raise CheckpointError(f'{args.checkpoint}: no Cross-Modal Scales (aux_weight / '
                              'cross_modal_scale): a merged (deploy) or plain checkpoint; give the '
                              'training checkpoint of an M2PT run')
    print(format_scale_table(records, args.precision))
    values = [r.value for r in records]
    print(f'{len(values)} scales: mean |λ| = {sum(map(abs, values)) / len(values):.4g}, '
          f'min {min(values):+.4g}, max {max(values):+.4g}')
    if args.out_png:
        plot_scales(records, args.out_png, title=args.checkpoint)
        print(f'heatmap: {args.out_png}')


if __name__ == '__main__':
    run_main(main, 'print_scales.py')
