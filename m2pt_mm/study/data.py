"""The data a study reads, written once into ``WORK/data/<name>`` by the writers of
:mod:`m2pt_mm.testing` (real on-disk formats) and reused while its parameters stay the same."""
import json
import os
import os.path as osp
import shutil
from typing import Any, Callable, Dict

_STAMP = '.study_data.json'


def _digits(out: str, val_size: int = 360, test_size: int = 360,
            fractions: tuple = (0.1, )) -> Dict[str, Any]:
    from m2pt_mm.testing.digits import write_digits_imagenet, write_train_subset
    counts = write_digits_imagenet(out, val_size=val_size, test_size=test_size)
    for fraction in fractions:
        ann_file, n = write_train_subset(out, fraction)
        counts[osp.basename(ann_file)[:-4]] = n
    return counts


def _spectrograms(out: str, num: int = 2000) -> Dict[str, Any]:
    from m2pt_mm.testing.spectrograms import write_spectrograms
    write_spectrograms(out, num)
    return dict(spectrograms=num)


def _shapenet55(out: str, per_taxonomy: int = 200, num_points: int = 1024) -> Dict[str, Any]:
    from m2pt_mm.testing.modalities import write_shapenet55
    info = write_shapenet55(out, per_split=(per_taxonomy, 1), num_points=num_points)
    return dict(train=len(info['files']['train']), test=len(info['files']['val']))


WRITERS: Dict[str, Callable[..., Dict[str, Any]]] = dict(
    digits=_digits, spectrograms=_spectrograms, shapenet55=_shapenet55)


def prepare_data(data: Dict[str, Dict[str, Any]], data_dir: str,
                 log: Callable[[str], None] = print) -> Dict[str, Dict[str, Any]]:
    """Write every entry of ``data`` (``name → dict(type=..., **writer kwargs)``) under
    ``data_dir/name`` unless it is there with the same parameters; return what each holds.

    Raises:
        ValueError: a folder written with other parameters (it is not overwritten).
    """
    info = {}
    for name, entry in data.items():
        params = {k: v for k, v in entry.items() if k != 'type'}
        out = osp.join(data_dir, name)
        stamp = osp.join(out, _STAMP)
        if osp.isfile(stamp):
            with open(stamp) as f:
                written = json.load(f)
            if written['params'] != json.loads(json.dumps(params)):
                raise ValueError(f'{out} was written with {written["params"]}, the study asks for '
                                 f'{params}: remove the folder to rewrite it')
            info[name] = written['counts']
            log(f'data: {name} already in {out} ({written["counts"]})')
            continue
        if osp.isdir(out):  # a writer killed half-way: start again
            shutil.rmtree(out)
        counts = WRITERS[entry['type']](out, **params)
        with open(stamp + '.tmp', 'w') as f:
            json.dump(dict(params=params, counts=counts), f)
        os.replace(stamp + '.tmp', stamp)
        info[name] = counts
        log(f'data: wrote {name} to {out} ({counts})')
    return info
