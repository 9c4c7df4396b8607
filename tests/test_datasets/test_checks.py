"""Dataset files are checked before a run starts: image lists (mmpretrain CustomDataset/ImageNet,
read by the dataset class itself) and COCO (in tests/test_det_seg)."""
import pytest
from mmengine.config import Config

from m2pt_mm.datasets.checks import check_dataset_files, check_image_list_files
from m2pt_mm.testing.tiny import write_image_folder


def _list_cfg(root, ann_file='meta/train.txt'):
    return dict(type='CustomDataset', data_root=str(root), data_prefix='train', ann_file=ann_file)


@pytest.fixture
def image_list(tmp_path):
    root = write_image_folder(tmp_path / 'data')
    lines = [f'{p.parent.name}/{p.name} {int(p.parent.name == "vertical")}\n'
             for p in sorted((root / 'train').rglob('*.png'))]
    (root / 'meta').mkdir()
    (root / 'meta' / 'train.txt').write_text(''.join(lines))
    return root


def test_intact_list_and_folder_pass(image_list):
    assert check_image_list_files(_list_cfg(image_list)) == 16
    assert check_image_list_files(_list_cfg(image_list, ann_file='')) == 16  # folder mode


def test_missing_and_empty_images_are_named_before_the_run(image_list):
    (image_list / 'train' / 'horizontal' / '3.png').unlink()
    (image_list / 'train' / 'vertical' / '5.png').write_bytes(b'')
    cfg = Config(dict(train_dataloader=dict(dataset=dict(
        type='RepeatDataset', times=2, dataset=_list_cfg(image_list)))))
    with pytest.raises(FileNotFoundError) as err:
        check_dataset_files(cfg)
    message = str(err.value)
    assert 'meta/train.txt' in message and '2 of 16 image(s)' in message
    assert 'horizontal/3.png (missing)' in message and 'vertical/5.png (empty)' in message
    # the same config without the train loader is not checked there
    check_dataset_files(cfg, ('val_dataloader', ))
