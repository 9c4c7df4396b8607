"""Table 8 as four chains: each tiny OmniVec-k stage 2 reads the stage-1 file of its own
pretraining (one-source for OmniVec-1/-2, mixed for -3/-4), each stage 1 writes into its own work
dir, and the commands are the chain's (:func:`m2pt_mm.engine.chain.train_chain`), run in-process
through ``tools/train.py`` in a folder laid out as the configs assume."""
import contextlib
import re
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

pytest.importorskip('tokenizers')  # the text modality's vocabulary

import m2pt_mm.datasets  # noqa: E402,F401
import m2pt_mm.engine  # noqa: E402,F401
import m2pt_mm.evaluation  # noqa: E402,F401
import m2pt_mm.models  # noqa: E402,F401
from m2pt_mm.engine.chain import TRAIN, train_chain, work_dir  # noqa: E402
from tests.helpers import ROOT, call_tool  # noqa: E402

CONFIGS = 'configs/omnivec'
MIXED = f'{CONFIGS}/omnivec-mae_vit-tiny-p8_1xb10-2e_tiny-multimodal.py'
ONESRC = f'{CONFIGS}/omnivec-mae_vit-tiny-p8_1xb10-onesrc-2e_tiny-multimodal.py'
VARIANTS = {
    1: (f'{CONFIGS}/omnivec-1_vit-tiny-p8_omnivec-mae-onesrc-pre_1xb10-onesrc-4e_'
        'tiny-multimodal.py', ONESRC),
    2: (f'{CONFIGS}/omnivec-2_vit-tiny-p8_omnivec-mae-onesrc-pre_1xb10-onesrc-tg-4e_'
        'tiny-multimodal.py', ONESRC),
    3: (f'{CONFIGS}/omnivec-3_vit-tiny-p8_omnivec-mae-pre_1xb10-4e_tiny-multimodal.py', MIXED),
    4: (f'{CONFIGS}/omnivec-4_vit-tiny-p8_omnivec-mae-pre_1xb10-tg-4e_tiny-multimodal.py', MIXED),
}
# one batch per epoch: the configs' own epoch counts, so the files keep the names load_from reads
SHORT = ('train_dataloader.sampler.batches_per_epoch=1', 'default_hooks.logger.interval=1')


def run_train(cwd: Path, config: str) -> None:
    step, = [s for s in train_chain(config, Config.fromfile(str(ROOT / config)), test=False)
             if s.tool == TRAIN]
    with contextlib.chdir(cwd):
        call_tool('train', *step.argv(str(ROOT / config), str), '--no-validate',
                  '--cfg-options', *SHORT)


def trunk(state: dict) -> dict:
    return {k: v for k, v in state.items() if k.startswith('trunk.')}


@pytest.fixture(scope='module')
def chains(tmp_path_factory):
    from m2pt_mm.testing.omnivec import write_omnivec_tiny
    cwd = tmp_path_factory.mktemp('table8')
    write_omnivec_tiny(cwd / 'data' / 'omnivec-tiny')
    for stage1 in (MIXED, ONESRC):
        run_train(cwd, stage1)
    for config, _ in VARIANTS.values():
        run_train(cwd, config)
    return cwd


@pytest.mark.slow
def test_table8_variants_each_start_from_their_own_stage1_file(chains):
    stage1 = {}
    for config in (MIXED, ONESRC):
        path = chains / work_dir(config) / 'epoch_2.pth'  # each stage 1 in its own work dir
        stage1[config] = trunk(torch.load(path, map_location='cpu', weights_only=True)
                               ['state_dict'])
    # the two pretrainings differ (else the check below could not tell them apart)
    key = 'trunk.layers.0.attn.qkv.weight'
    assert not torch.equal(stage1[MIXED][key], stage1[ONESRC][key])
    for variant, (config, own) in VARIANTS.items():
        cfg = Config.fromfile(str(ROOT / config))
        assert cfg.load_from == f'{work_dir(own)}/epoch_2.pth', (variant, cfg.load_from)
        # the weights the variant's Runner starts from are its own stage 1's, exactly
        cfg.work_dir = str(chains / 'load_check' / str(variant))
        with contextlib.chdir(chains):
            runner = Runner.from_cfg(cfg)
            runner.load_or_resume()
        loaded = trunk(runner.model.state_dict())
        assert loaded.keys() == stage1[own].keys()
        for name, value in stage1[own].items():
            torch.testing.assert_close(loaded[name], value, rtol=0, atol=0, msg=name)
        # and its run trained from there: the log names its own stage-1 file
        log = next((chains / work_dir(config)).rglob('*.log')).read_text()
        assert re.search(rf'Load checkpoint from {re.escape(cfg.load_from)}', log), variant
        assert (chains / work_dir(config) / 'epoch_4.pth').is_file()


@pytest.mark.slow
def test_table8_variants_switch_grouping_and_mixing_as_the_paper(chains):
    for variant, (config, _) in VARIANTS.items():
        log = next((chains / work_dir(config)).rglob('*.log')).read_text()
        grouped = "task group 'dense'" in log
        assert grouped == (variant in (2, 4)), variant
        cfg = Config.fromfile(str(ROOT / config))
        mixing = cfg.train_dataloader.sampler.get('mode', 'mixed') == 'mixed'
        assert mixing == (variant in (3, 4)), variant
