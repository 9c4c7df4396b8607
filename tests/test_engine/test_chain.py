"""The chain of commands a config's paper row takes (m2pt_mm.engine.chain): what the guide prints
and the config run test runs — the test protocol of each row, the merged checkpoint's options, the
publish step of every file another config reads."""
import pytest

from m2pt_mm.engine import chain
from m2pt_mm.engine.chain import PUBLISH, TEST, TRAIN, CheckpointRef, Step

PROBE = ('configs/classification/m2pt_vit-base-p16-point_mae-pre_8xb2048-amp-linear-coslr-90e_'
         'in1k.py')
SEG = 'configs/segmentation/upernet_m2pt-vit-base-p16-point_mae-pre_8xb2-amp-160k_ade20k-512x512.py'
VIDEO = 'configs/video/m2pt_vit-base-p16-point_videomae-pre_64xb12-amp-150e_k400-16x4.py'
POINT = 'configs/point/vit-base-g128_point-mae-pre_1xb16-coslr-300e_shapenetpart-2048.py'
IN1K = 'configs/classification/m2pt_vit-base-p16-point_mae-pre_8xb128-coslr-100e_in1k.py'


def commands(config):
    return chain.render(chain.train_chain(config, chain.load(config)))


def test_a_fix_row_tests_its_merged_probe_without_pathway_and_without_fix_weights():
    assert commands(PROBE) == [
        f'bash tools/dist_train.sh {PROBE} 8',
        f'bash tools/dist_test.sh {PROBE} work_dirs/m2pt_vit-base-p16-point_mae-pre_8xb2048-amp-'
        'linear-coslr-90e_in1k/epoch_90_deploy.pth 8 --cfg-options model.backbone.pathway=None '
        'model.backbone.fix_weights=False']


def test_segmentation_is_tested_single_scale_and_video_with_its_views():
    # every mmseg config inherits SegTTAModel; the paper tests ADE20K single-scale
    seg, video = commands(SEG)[-1], commands(VIDEO)[-1]
    assert '--tta' not in seg and seg.endswith('iter_160000_deploy.pth 8 --cfg-options '
                                               'model.backbone.pathway=None')
    assert ' --tta ' in video


def test_the_best_checkpoint_is_tested_where_the_upstream_project_reports_it():
    assert commands(POINT)[-1] == (
        f'python tools/test.py {POINT} work_dirs/vit-base-g128_point-mae-pre_1xb16-coslr-300e_'
        'shapenetpart-2048/best_part-seg_instance_mIoU_epoch_*[0-9].pth')


def test_a_config_whose_run_another_config_reads_publishes_it_under_that_name():
    steps = chain.train_chain(IN1K, chain.load(IN1K))
    assert [s.tool for s in steps] == [TRAIN, TEST, PUBLISH]
    assert chain.render(steps)[-1] == (
        'python tools/model_converters/publish_model.py work_dirs/m2pt_vit-base-p16-point_mae-pre_'
        '8xb128-coslr-100e_in1k/epoch_100_deploy.pth checkpoints/m2pt --out-name '
        'm2pt_vit-base-p16-point_mae-pre_in1k_deploy.pth')
    for path, source in chain.SOURCES.items():
        made = chain.source_steps(path)
        if source.config is None:
            assert source.public and made == [], path
        else:  # train, then publish under the name the configs read
            assert [s.tool for s in made] == [TRAIN, PUBLISH], path
            assert f'{made[1].out_dir}/{made[1].out_name}' == path


def test_every_checkpoint_a_config_reads_has_a_source():
    for config in chain.run_test_configs():
        for path in chain.checkpoints_read(chain.load(config)):
            made_by = chain.producer(path)
            assert path in chain.SOURCES or made_by in chain.run_test_configs(), (config, path)


def test_a_step_gives_the_tools_their_arguments():
    step = Step(TEST, 'c.py', 8, CheckpointRef('work_dirs/c', 'last', deploy=True),
                cfg_options=('a=1', ), tta=True)
    assert step.argv('shrunk.py', lambda ref: f'{ref.work_dir}/x_deploy.pth') == [
        'shrunk.py', 'work_dirs/c/x_deploy.pth', '--tta', '--cfg-options', 'a=1']
    assert step.command(lambda ref: 'ckpt.pth') == \
        'bash tools/dist_test.sh c.py ckpt.pth 8 --tta --cfg-options a=1'


def test_a_paper_test_protocol_with_an_unknown_key_is_named(tmp_path, monkeypatch):
    monkeypatch.setattr(chain, 'ROOT', tmp_path)
    (tmp_path / 'x.py').write_text("__paper_test__ = dict(checkpoint='best', views=5)\n")
    with pytest.raises(ValueError, match=r"x.py: __paper_test__ has unknown keys \['views'\]"):
        chain.paper_test('x.py')
    (tmp_path / 'x.py').write_text("__paper_test__ = dict(checkpoint='first')\n")
    with pytest.raises(ValueError, match="checkpoint must be 'last' or 'best', got 'first'"):
        chain.paper_test('x.py')
