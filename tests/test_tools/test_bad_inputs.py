"""Inputs that used to do the wrong thing silently, or fail with a message naming nothing, are
refused early with one line naming the file, key or option."""
import os
import subprocess
import sys

import pytest
import torch
from mmpretrain.registry import MODELS

import m2pt_mm.models  # noqa: F401  registers M2PTVisionTransformer
from m2pt_mm.checkpoints import CheckpointError
from m2pt_mm.datasets.checks import check_image_list_files
from m2pt_mm.engine import save_atomic, write_deploy_checkpoint
from m2pt_mm.testing.tiny import tiny_backbone_cfg, write_image_folder
from tests.helpers import ROOT, call_tool


# ---------------------------------------------------------------- the backbone's arguments
def test_fix_weights_without_pathway_is_an_error():
    with pytest.raises(ValueError, match=r'fix_weights=True needs a pathway.*frozen_stages=4'):
        MODELS.build(tiny_backbone_cfg(fix_weights=True))


def test_deploy_with_pathway_warns_that_the_pathway_is_ignored(aux_timm_file):
    with pytest.warns(UserWarning, match=r'deploy=True.*ignores pathway'):
        model = MODELS.build(tiny_backbone_cfg(pathway=dict(aux_checkpoint=aux_timm_file[0]),
                                               deploy=True))
    assert model.pathway_cfgs == []


@pytest.mark.parametrize('key, value, message', [
    ('scale_init', 'abc', r"scale_init must be a number \(λ₀\), got 'abc'"),
    ('aux_trainable', 'no', r"aux_trainable='no'; expected True or False")])
def test_pathway_values_of_the_wrong_type_name_the_key(key, value, message):
    with pytest.raises(TypeError, match=message):
        MODELS.build(tiny_backbone_cfg(pathway={'allow_zero_aux': True, key: value}))


# ---------------------------------------------------------------- command-line arguments
def test_cfg_options_of_the_wrong_type_name_the_key(tiny_cls_configs):
    with pytest.raises(ValueError, match=r"train_cfg\.max_epochs='two': expected a value of type "
                       r"int like the config's value 3"):
        call_tool('train', tiny_cls_configs['m2pt'], '--cfg-options', 'train_cfg.max_epochs=two')


def test_cfg_options_item_without_equals_is_named(tiny_cls_configs, capsys):
    with pytest.raises(SystemExit):
        call_tool('train', tiny_cls_configs['m2pt'], '--cfg-options', 'train_cfg.max_epochs')
    assert "--cfg-options 'train_cfg.max_epochs': expected KEY=VALUE" in capsys.readouterr().err


def test_metrics_out_is_checked_before_the_evaluation(tiny_cls_configs, tmp_path, capsys):
    with pytest.raises(SystemExit):
        call_tool('test', tiny_cls_configs['plain'], tiny_cls_configs['plain'],  # never read
                  '--metrics-out', tmp_path / 'no_such_dir' / 'm.json')
    assert f"directory '{tmp_path / 'no_such_dir'}' does not exist" in capsys.readouterr().err


@pytest.mark.parametrize('tool, args, message', [
    ('train.py', ['missing.py'], "config 'missing.py' does not exist"),
    ('train.py', ['configs/demo/vit-tiny-p8_scratch_1xb64-coslr-20e_digits-32x32.py',
                  '--cfg-options', 'load_from=no.pth'], "load_from checkpoint 'no.pth' does not"),
    ('test.py', ['configs/demo/vit-tiny-p8_scratch_1xb64-coslr-20e_digits-32x32.py', 'no.pth'],
     "checkpoint 'no.pth' does not exist"),
    ('model_converters/publish_model.py', ['no.pth', 'out'], "checkpoint 'no.pth' does not exist"),
    ('analysis/print_scales.py', ['no.pth'], "checkpoint 'no.pth' does not exist")])
def test_missing_files_answer_before_torch_is_imported(tool, args, message):
    # the tool's main module runs as the command line does; torch must not have been imported
    # (before: 5-7 s of imports for a missing checkpoint)
    code = (f'import runpy, sys\nsys.argv = {[tool] + args!r}\ntry:\n'
            f'    runpy.run_path("tools/{tool}", run_name="__main__")\nexcept SystemExit as e:\n'
            '    print("exit", e.code, "torch" in sys.modules)\n')
    result = subprocess.run([sys.executable, '-c', code], cwd=ROOT, capture_output=True, text=True,
                            timeout=60, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert result.stdout.strip() == 'exit 2 False', result.stdout + result.stderr
    assert message in result.stderr


def test_user_errors_are_one_line_without_traceback(capsys):
    from m2pt_mm.utils.cli_checks import run_main

    def main(argv):
        raise CheckpointError("'x.pth' is not a torch checkpoint:\n  Unsupported operand 80")

    with pytest.raises(SystemExit) as exit_info:
        run_main(main, 'tool.py')
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == ("tool.py: error: 'x.pth' is not a torch checkpoint: "
                                       'Unsupported operand 80\n')


@pytest.mark.parametrize('error, line', [
    (RuntimeError('mat1 and mat2 shapes cannot be multiplied\n(2x3 and 4x5)'),
     'tool.py: error: RuntimeError: mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5) (not '
     'an input this tool checks; M2PT_TRACEBACK=1 prints the traceback)\n'),
    (AssertionError('The output file must be a pkl file.'),
     'tool.py: error: AssertionError: The output file must be a pkl file. (not an input this tool '
     'checks; M2PT_TRACEBACK=1 prints the traceback)\n')])
def test_library_errors_are_one_line_with_exit_status_1(error, line, capsys, monkeypatch):
    from m2pt_mm.utils.cli_checks import run_main

    def main(argv):
        raise error

    monkeypatch.delenv('M2PT_TRACEBACK', raising=False)
    with pytest.raises(SystemExit) as exit_info:
        run_main(main, 'tool.py')
    assert exit_info.value.code == 1
    assert capsys.readouterr().err == line
    monkeypatch.setenv('M2PT_TRACEBACK', '1')
    with pytest.raises(type(error)):
        run_main(main, 'tool.py')


def test_a_nan_loss_is_a_mistake_of_ours_named_in_one_line():
    from m2pt_mm.engine.hooks.finite_loss_hook import NonFiniteLossError
    assert issubclass(NonFiniteLossError, FloatingPointError)  # what callers catch
    assert NonFiniteLossError.__module__.startswith('m2pt_mm.')  # run_main: one line, exit 2


def test_dump_must_be_a_pkl_file_and_test_py_offers_no_force(tiny_cls_configs, tmp_path, capsys):
    with pytest.raises(SystemExit):
        call_tool('test', tiny_cls_configs['plain'], tiny_cls_configs['plain'],
                  '--dump', tmp_path / 'preds.json')
    assert (f"--dump '{tmp_path / 'preds.json'}': expected a .pkl file name"
            in capsys.readouterr().err)
    with pytest.raises(SystemExit):
        call_tool('test', tiny_cls_configs['plain'], tiny_cls_configs['plain'],
                  '--metrics-out', tiny_cls_configs['plain'])
    err = capsys.readouterr().err
    assert 'refusing to overwrite it (choose another file)' in err and '--force' not in err


def test_print_scales_of_a_deploy_checkpoint_is_one_line(tmp_path, capsys):
    path = tmp_path / 'epoch_3_deploy.pth'
    write_deploy_checkpoint({'layers.0.attn.qkv.weight': torch.zeros(6, 2)}, str(path))
    with pytest.raises(CheckpointError, match=r'no Cross-Modal Scales .*: a merged \(deploy\) or '
                       'plain checkpoint'):
        call_tool('analysis/print_scales', path)


def test_omnivec_export_of_another_models_config_is_named(tiny_cls_configs, tmp_path):
    ckpt = tmp_path / 'epoch_1.pth'
    torch.save({'state_dict': {'w': torch.zeros(1)}}, ckpt)
    with pytest.raises(ValueError, match=r'builds ImageClassifier, not an OmniVec model'):
        call_tool('model_converters/omnivec_export', tiny_cls_configs['plain'], ckpt,
                  tmp_path / 'out.pth', '--modality', 'image')


# ---------------------------------------------------------------- files a tool writes
def test_converter_refuses_to_overwrite_its_input_unless_forced(aux_timm_file, capsys):
    src, _ = aux_timm_file
    before = open(src, 'rb').read()
    with pytest.raises(SystemExit):
        call_tool('model_converters/convert_checkpoint', src, src)
    assert 'refusing to overwrite it' in capsys.readouterr().err
    assert open(src, 'rb').read() == before
    call_tool('model_converters/convert_checkpoint', src, src, '--force')
    assert 'backbone.layers.0.attn.qkv.weight' in torch.load(src, weights_only=True)['state_dict']


def test_merge_pathway_refuses_out_equal_to_the_training_checkpoint(tiny_cls_configs, tmp_path,
                                                                    capsys):
    ckpt = tmp_path / 'epoch_3.pth'
    torch.save({'state_dict': {}}, ckpt)
    with pytest.raises(SystemExit):
        call_tool('merge_pathway', tiny_cls_configs['m2pt'], ckpt, '--out', ckpt)
    assert f"--out '{ckpt}' is this command's input" in capsys.readouterr().err


def test_failed_atomic_write_leaves_no_temp_file(tmp_path):
    (tmp_path / 'target.pth').mkdir()  # the final rename fails: a directory is in the way
    with pytest.raises(OSError):
        save_atomic({'w': torch.zeros(3)}, tmp_path / 'target.pth')
    assert sorted(p.name for p in tmp_path.iterdir()) == ['target.pth']


def test_resume_from_a_deploy_checkpoint_is_named(tmp_path):
    from m2pt_mm.engine.cli import check_resumable
    path = tmp_path / 'epoch_3_deploy.pth'
    write_deploy_checkpoint({'layers.0.attn.qkv.weight': torch.zeros(6, 2)}, str(path))
    with pytest.raises(CheckpointError, match=r"epoch_3_deploy\.pth': a merged deploy checkpoint "
                       r"\(no \['message_hub'\]\); resume from a training checkpoint"):
        check_resumable(str(path))


# ---------------------------------------------------------------- images of a list
def test_corrupt_image_of_a_folder_dataset_is_named(tmp_path):
    root = write_image_folder(tmp_path / 'data', num_per_class=(2, 1))
    (root / 'train' / 'vertical' / '1.png').write_bytes(b'<html>404 Not Found</html>')
    with pytest.raises(FileNotFoundError, match=r"vertical/1\.png \(not an image file: starts with "
                       r"b'<html>40'\)"):
        check_image_list_files(dict(type='CustomDataset', data_root=str(root), data_prefix='train'))


def test_bad_inputs_tool_tabulates_what_the_user_reads(capsys):
    # two cases answered before torch is imported: cheap enough for the default suite
    rows = call_tool('analysis/bad_inputs', '--only', 'missing-config', 'cfg-key-without-equals')
    assert rows[2:] == [
        "| unclear cfg-key-without-equals | `python tools/train.py $PLAIN_CFG --cfg-options "
        "train_cfg.max_epochs` | train.py: error: --cfg-options 'train_cfg.max_epochs': expected "
        "KEY=VALUE, e.g. train_cfg.max_epochs=10 |",
        "| unclear missing-config | `python tools/train.py configs/no_such_config.py` | train.py: "
        "error: config 'configs/no_such_config.py' does not exist |"]


def test_library_deprecation_notices_are_filtered_in_one_place(capsys):
    import warnings

    from mmengine.logging import MMLogger, print_log

    from m2pt_mm.utils.cli_checks import filter_library_warnings
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        filter_library_warnings()
        warnings.warn('pkg_resources is deprecated as an API. See ...', UserWarning)
        warnings.warn('a warning of ours', UserWarning)
    assert [str(w.message) for w in caught] == ['a warning of ours']
    MMLogger.get_instance('notices_test', log_level='INFO')
    print_log('"FileClient" will be deprecated in future.', logger='notices_test', level=30)
    print_log('a line of ours', logger='notices_test', level=30)
    out = capsys.readouterr().out
    assert 'a line of ours' in out and 'FileClient' not in out


# ---------------------------------------------------------------- numbers given as words
def test_number_arguments_given_as_words_name_the_argument():
    # before: "could not convert string to float: 'abc'", naming no argument
    from m2pt_mm.datasets.transforms.depth import LoadRGBDFromFile
    from m2pt_mm.models.tokenizers.audio import AudioTokenizer
    with pytest.raises(TypeError, match=r"max_depth must be a number \(metres\), got 'ten'"):
        LoadRGBDFromFile(max_depth='ten')
    with pytest.raises(ValueError, match=r"must be in \[0, 1\), got \{'mask_t_prob': 'x'\}"):
        AudioTokenizer(embed_dims=32, mask_t_prob='x')
