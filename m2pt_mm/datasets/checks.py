"""Checks of a config's data before a run starts, for failures the libraries report late or
obscurely: an empty list reaches mmengine as "need at least one array to concatenate", and a
missing or empty image of a COCO json or of an ImageNet-style list only when its batch is loaded,
maybe hours in.

Covered, through wrappers and each source of an OmniVec ``MultiSourceDataset``: COCO-style
datasets (the json and every image it lists), mmpretrain's image-list datasets (``CustomDataset``,
``ImageNet`` and their subclasses: every ``img_path`` of the list, as the dataset itself resolves
it), every dataset's list being non-empty, and every OmniVec source's task having a head. Images
are checked to exist, to be non-empty readable files and to start with the signature of an image
format (one 12-byte read each); decoding each one fully (a file truncated after its header) is the
data loader's job.
"""
import json
import os
import os.path as osp
from typing import Any, Dict, Iterator, List, Tuple

#: mmpretrain dataset types whose samples are image files listed by the dataset itself
_IMAGE_LIST_TYPES = ('CustomDataset', 'ImageNet', 'ImageNet21k')


#: Keys under which a dataset config holds other datasets (wrappers such as ``RepeatDataset``,
#: ``ConcatDataset``, OmniVec's ``MultiSourceDataset``): its leaves are checked, not itself.
_WRAPPED = ('dataset', 'datasets', 'sources')


def _datasets(cfg: Any) -> Iterator[Tuple[str, str, Dict[str, Any]]]:
    """``(dataloader name, label, dataset cfg)`` of every dataset of the dataloaders, through
    wrappers (``dataset=``, ``datasets=``) and OmniVec sources (``sources={name:
    dict(dataset=...)}``; label ``"source 'name'"``, else ``''``)."""
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(name)
        stack = [('', loader.get('dataset'))] if loader else []
        while stack:
            label, ds = stack.pop()
            if not isinstance(ds, dict):
                continue
            stack.extend([(label, ds.get('dataset'))] +
                         [(label, inner) for inner in ds.get('datasets') or []] +
                         [(f'source {source!r}', (spec or {}).get('dataset'))
                          for source, spec in (ds.get('sources') or {}).items()])
            yield name, label, ds


#: Leading bytes of the image formats OpenCV / Pillow decode (JPEG, PNG, GIF, BMP, TIFF, WebP,
#: JPEG 2000, PNM); WebP's 'RIFF' header is followed by the size, then 'WEBP'.
_IMAGE_SIGNATURES = (b'\xff\xd8\xff', b'\x89PNG\r\n\x1a\n', b'GIF87a', b'GIF89a', b'BM',
                     b'II*\x00', b'MM\x00*', b'RIFF', b'\x00\x00\x00\x0cjP  ', b'\xffO\xffQ',
                     b'P1', b'P2', b'P3', b'P4', b'P5', b'P6')


def _bad_images(paths: List[str]) -> List[str]:
    """The paths that are missing, empty, unreadable or not an image file, each with the reason."""
    bad = []
    for path in paths:
        if not osp.isfile(path):
            bad.append(f'{path} (missing)')
        elif osp.getsize(path) == 0:
            bad.append(f'{path} (empty)')
        elif not os.access(path, os.R_OK):
            bad.append(f'{path} (not readable)')
        else:
            with open(path, 'rb') as f:
                head = f.read(12)
            if not head.startswith(_IMAGE_SIGNATURES):
                bad.append(f'{path} (not an image file: starts with {head[:8]!r})')
    return bad


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
    bad = _bad_images([osp.join(img_dir, im['file_name']) for im in coco['images']])
    if bad:
        raise FileNotFoundError(f'{ann_file} lists {len(bad)} image(s) that cannot be read under '
                                f'{img_dir}, e.g. {bad[:3]}')
    return len(coco['images'])


def _data_list(dataset_cfg: Dict[str, Any], scope: str) -> Tuple[Any, List[dict]]:
    """The dataset built without loading (``lazy_init``) and its samples, as it lists them."""
    from mmengine.registry import DefaultScope
    from mmpretrain.registry import DATASETS
    cfg = dict(dataset_cfg, lazy_init=True, pipeline=[])
    with DefaultScope.overwrite_default_scope(scope):
        dataset = DATASETS.build(cfg)
    return dataset, dataset.load_data_list()


def check_not_empty(dataset_cfg: Dict[str, Any], where: str, scope: str = 'mmpretrain') -> int:
    """Refuse a dataset whose list has no sample (``where`` names the dataloader and source);
    returns the number of samples."""
    _, samples = _data_list(dataset_cfg, scope)
    _refuse_empty(dataset_cfg, samples, where)
    return len(samples)


def _refuse_empty(dataset_cfg: Dict[str, Any], samples: List[dict], where: str) -> None:
    if not samples:
        files = {k: dataset_cfg[k] for k in ('data_root', 'ann_file', 'split', 'data_prefix')
                 if dataset_cfg.get(k)}
        raise ValueError(f'{where}: {dataset_cfg.get("type")} lists no sample ({files}); check '
                         'its annotation file or split')


def check_image_list_files(dataset_cfg: Dict[str, Any], scope: str = 'mmpretrain',
                           where: str = 'the dataset') -> int:
    """Check every image of an mmpretrain image-list dataset (``CustomDataset``, ``ImageNet``),
    with the list read and the paths joined by the dataset class itself (``lazy_init``).

    Raises:
        FileNotFoundError: images missing, empty or unreadable (names the first ones and the list).
        ValueError: the list has no sample (``where`` names the dataloader and source).

    Returns:
        The number of images.
    """
    dataset, samples = _data_list(dataset_cfg, scope)
    _refuse_empty(dataset_cfg, samples, where)
    bad = _bad_images([sample['img_path'] for sample in samples if 'img_path' in sample])
    if bad:
        source = dataset_cfg.get('ann_file') or dataset.img_prefix
        raise FileNotFoundError(f'{dataset_cfg["type"]} {source}: {len(bad)} of {len(samples)} '
                                f'image(s) cannot be read, e.g. {bad[:3]}')
    return len(samples)


def check_dataset_files(cfg: Any,
                        dataloaders: Tuple[str, ...] = ('train_dataloader', 'val_dataloader',
                                                        'test_dataloader')) -> None:
    """Check the local datasets of ``cfg``'s ``dataloaders`` (:func:`check_coco_files`,
    :func:`check_image_list_files`, :func:`check_not_empty`) and that every OmniVec source's task
    has a head (:func:`check_source_tasks`)."""
    scope = cfg.get('default_scope') or 'mmpretrain'
    for name, label, ds in _datasets(cfg):
        if name not in dataloaders:
            continue
        check_source_tasks(cfg, name, ds)
        kind = str(ds.get('type', ''))
        root = ds.get('data_root') or ''
        where = ' '.join(filter(None, [name, label]))
        if any(ds.get(k) for k in _WRAPPED) or '://' in root or ds.get('backend_args'):
            continue  # a wrapper (its leaves are checked), or remote storage (its backend reports)
        if 'Coco' in kind and ds.get('ann_file'):
            ann_file = (ds['ann_file'] if osp.isabs(ds['ann_file'])
                        else osp.join(root, ds['ann_file']))
            img_dir = osp.join(root, (ds.get('data_prefix') or {}).get('img', ''))
            check_coco_files(ann_file, img_dir)  # refuses an empty annotation list itself
        elif kind.split('.')[-1] in _IMAGE_LIST_TYPES:
            check_image_list_files(ds, scope, where)  # one read of the list for both checks
        elif 'type' in ds:
            check_not_empty(ds, where, scope)


def check_source_tasks(cfg: Any, loader: str, dataset_cfg: Dict[str, Any]) -> None:
    """Refuse OmniVec sources whose task has no head in ``cfg.model.heads`` (the first batch of
    that task would fail, maybe hours in)."""
    heads = (cfg.get('model') or {}).get('heads')
    sources = dataset_cfg.get('sources')
    if not isinstance(heads, dict) or not isinstance(sources, dict):
        return
    orphans = {name: spec.get('task') for name, spec in sources.items()
               if isinstance(spec, dict) and spec.get('task') not in heads}
    if orphans:
        raise KeyError(f'{loader}: source(s) {sorted(orphans)} have task(s) '
                       f'{sorted(set(map(str, orphans.values())))} without a head in model.heads '
                       f'(heads: {sorted(heads)})')
