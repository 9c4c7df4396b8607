"""Checks of a config's dataset files before a run starts, for failures the libraries report
late or obscurely (an empty COCO annotation list reaches mmengine as "need at least one array to
concatenate"; a missing image only when its batch is loaded, maybe hours in)."""
import json
import os.path as osp
from typing import Any, Dict, Iterator, List, Tuple


def _coco_datasets(cfg: Any) -> Iterator[Tuple[str, Dict[str, Any]]]:
    """``(dataloader name, dataset cfg)`` of every COCO-style dataset, through wrappers such as
    ``RepeatDataset`` (``dataset=``) and ``ConcatDataset`` (``datasets=``)."""
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(name)
        stack = [loader.get('dataset')] if loader else []
        while stack:
            ds = stack.pop()
            if not isinstance(ds, dict):
                continue
            stack.extend([ds.get('dataset')] + list(ds.get('datasets') or []))
            if 'Coco' in str(ds.get('type', '')) and ds.get('ann_file'):
                yield name, ds


def check_coco_files(ann_file: str, img_dir: str) -> int:
    """Check a COCO instance json and its images.

    Raises:
        FileNotFoundError: the json or any image it lists is missing (names the first ones).
        ValueError: the json is not COCO instance format or has no annotations.

    Returns:
        The number of images.
    """
    if not osp.isfile(ann_file):
        raise FileNotFoundError(f'COCO annotation file {ann_file} does not exist')
    try:
        with open(ann_file) as f:
            coco = json.load(f)
    except json.JSONDecodeError as e:
        raise ValueError(f'{ann_file} is not valid JSON: {e}') from e
    missing_keys = [k for k in ('images', 'annotations', 'categories') if k not in coco]
    if missing_keys:
        raise ValueError(f'{ann_file} is not a COCO instance file: no {missing_keys} '
                         f'(top-level keys: {sorted(coco)[:8]})')
    if not coco['annotations']:
        raise ValueError(f"{ann_file}: 'annotations' is empty; training and COCO evaluation need "
                         f"at least one annotated object ({len(coco['images'])} images listed)")
    missing: List[str] = [im['file_name'] for im in coco['images']
                          if not osp.isfile(osp.join(img_dir, im['file_name']))]
    if missing:
        raise FileNotFoundError(f'{ann_file} lists {len(missing)} image(s) not found under '
                                f'{img_dir}, e.g. {missing[:3]}')
    return len(coco['images'])


def check_dataset_files(cfg: Any, dataloaders: Tuple[str, ...] = ('train_dataloader', 'val_dataloader',
                                                                  'test_dataloader')) -> None:
    """Run :func:`check_coco_files` on every local COCO dataset of ``cfg``'s ``dataloaders``."""
    for name, ds in _coco_datasets(cfg):
        if name not in dataloaders:
            continue
        root = ds.get('data_root') or ''
        if '://' in root or ds.get('backend_args'):
            continue  # remote storage: the library's file backend reports what is missing
        ann_file = ds['ann_file'] if osp.isabs(ds['ann_file']) else osp.join(root, ds['ann_file'])
        img_dir = osp.join(root, (ds.get('data_prefix') or {}).get('img', ''))
        check_coco_files(ann_file, img_dir)
