"""A study file's mistakes are refused, each in one line naming the entry and field, before any
run starts; the shipped study files are valid."""
import textwrap
from pathlib import Path

import pytest

from m2pt_mm.study import StudyError, load_study, select_arms
from m2pt_mm.study.runner import Planner
from m2pt_mm.study.spec import deep_merge
from tests.helpers import ROOT, run_tool

PLAIN = 'configs/demo/vit-tiny-p8_scratch_1xb64-coslr-20e_digits-32x32.py'
MAE = 'configs/demo/mae_vit-tiny-p8_1xb64-coslr-20e_spectrogram-32x32.py'


def write_study(tmp_path: Path, arms: str, extra: str = '') -> str:
    path = tmp_path / 'study.py'
    path.write_text(textwrap.dedent(f'''\
        work_dir = {str(tmp_path / 'work')!r}
        data = dict(digits=dict(type='digits'))
        regimes = [dict(name='full', train_list='meta/train.txt')]
        seeds = dict(final=[0, 1], tune=[100], pretrain=[0])
        tuning = [dict(name='lr', key='optim_wrapper.optimizer.lr', values=[1e-3, 3e-3])]
        stages = [dict(name='mae', config={MAE!r})]
        ''') + arms + extra)
    return str(path)


@pytest.mark.parametrize('arms,message', [
    (f"arms = [dict(name='a', config={PLAIN!r}, optoins={{}})]",
     "arms 'a': unknown field(s) ['optoins']"),
    (f"arms = [dict(name='a', config={PLAIN!r}), dict(name='b', config='configs/nope.py')]",
     "arms 'b': config 'configs/nope.py' does not exist"),
    (f"arms = [dict(name='a', config={PLAIN!r}), dict(name='a', config={PLAIN!r})]",
     "arms 'a': duplicate name"),
    (f"arms = [dict(name='a', config={PLAIN!r}, options={{'load_from': '@pretrain'}})]",
     "arms 'a': refers to stage 'pretrain', which is not among the stages ['mae']"),
    (f"arms = [dict(name='a', config={PLAIN!r}, tune=['wd'])]",
     "arms 'a': tunes ['wd'], which the tuning grid does not define"),
    (f"arms = [dict(name='a', config={PLAIN!r})]\nbaseline = 'b'",
     "baseline 'b' is not an arm"),
    (f"arms = [dict(name='a', config={PLAIN!r})]\nregims = []",
     "unknown section(s) ['regims']"),
])
def test_study_file_mistakes(tmp_path, arms, message):
    with pytest.raises(StudyError) as info:
        load_study(write_study(tmp_path, arms), root=str(ROOT))
    assert message in str(info.value) and '\n' not in str(info.value)


def test_cli_names_the_mistake_before_any_run(tmp_path):
    path = write_study(tmp_path, f"arms = [dict(name='a', config={PLAIN!r}, optoins={{}})]")
    result = run_tool('analysis/study.py', path, check=False)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "study.py: error: arms 'a': unknown field(s) ['optoins']; expected some of "
        "['config', 'label', 'name', 'options', 'role', 'tune', 'tune_as']")
    assert not (tmp_path / 'work').exists()  # nothing written, nothing run


def test_only_keeps_the_arms_their_tuning_and_stages(tmp_path):
    study = load_study(str(ROOT / 'studies/m2pt_digits.py'), root=str(ROOT))
    subset = select_arms(study, ['m2pt_spectrograms_ep5', 'baseline'])
    assert [a.name for a in subset.arms] == ['baseline', 'm2pt_spectrograms',
                                             'm2pt_spectrograms_ep5']
    assert [s.name for s in subset.stages] == ['mae_spectrograms']
    assert ('m2pt_spectrograms_ep5', 'baseline') in subset.comparisons
    with pytest.raises(StudyError, match=r"--only \['omnivc'\]: not an arm"):
        select_arms(study, ['omnivc'])


def test_the_evidence_study_plan():
    """The shipped study: arms, grid and seeds as its file says (what the README's tables are)."""
    study = load_study(str(ROOT / 'studies/m2pt_digits.py'), root=str(ROOT))
    planner = Planner(study, '/nonexistent')
    stages = planner.stages()
    assert len(stages) == 30  # 7 stages × 3 seeds, 3 of them once per regime
    assert len(planner.grid('baseline')) == 3 and len(planner.grid('m2pt_random')) == 9
    assert not planner.tuned('m2pt_spectrograms_ep5')  # reuses m2pt_spectrograms' choice
    assert study.tune_on == ['full'] and len(planner.tuning({r.id: dict(
        status='ok', checkpoint='x.pth') for r in stages})) == 3 * 3 * 5 + 9 * 3 * 5
    assert study.final_seeds == dict(full=[0, 1, 2, 3, 4], pct10=list(range(10)))
    mae_digits = [r for r in stages if r.name == 'mae_digits']
    assert {r.options['train_dataloader.dataset.ann_file'] for r in mae_digits} == {
        'meta/train.txt', 'meta/train-10pct.txt'}
    quick = load_study(str(ROOT / 'studies/m2pt_digits.py'), quick=True, root=str(ROOT))
    assert [a.name for a in quick.arms] == [a.name for a in study.arms]  # every arm
    assert quick.values == dict(train_indices=8, eval_indices=8)
    assert [r.name for r in quick.regimes] == ['full']


def test_quick_overlay_merges_named_entries():
    base = dict(arms=[dict(name='a', options={'x': 1, 'y': 2}), dict(name='b')], seeds=[0, 1])
    out = deep_merge(base, dict(arms=[dict(name='a', options={'y': 3})], seeds=[0]))
    assert out == dict(arms=[dict(name='a', options={'x': 1, 'y': 3}), dict(name='b')], seeds=[0])


def test_make_demo_is_a_slice_of_the_study():
    """`make demo`'s study file: two arms of the evidence study, its spectrogram MAE (one seed),
    all training images, seeds 0-2, the configs' own learning rates."""
    demo = load_study(str(ROOT / 'studies/demo_digits.py'), root=str(ROOT))
    study = load_study(str(ROOT / 'studies/m2pt_digits.py'), root=str(ROOT))
    assert [a.name for a in demo.arms] == ['baseline', 'm2pt_spectrograms']
    for arm in demo.arms:
        assert arm.options == study.arm(arm.name).options and arm.tune == ()
    assert [s.name for s in demo.stages] == ['mae_spectrograms']
    assert [r.name for r in demo.regimes] == ['full'] and demo.final_seeds == {'full': [0, 1, 2]}
    planner = Planner(demo, '/nonexistent')
    assert len(planner.stages()) == 1 and planner.tuning({}) == []
    assert demo.comparisons == [('m2pt_spectrograms', 'baseline')]
