"""tools/analysis/study.py on the evidence study at ``--quick`` size: every arm trained through
mmengine's Runner and evaluated, the statistics, tables and figures written; a study killed in
the middle continues where it stopped, skipping (and saying) what was finished."""
import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from tests.helpers import ROOT, call_tool

pytest.importorskip('sklearn', reason='the digits ship with scikit-learn')

STUDY = 'studies/m2pt_digits.py'


def tables(path: Path) -> str:
    """results.md without the lines that describe this invocation (date, wall time)."""
    return '\n'.join(line for line in path.read_text().splitlines()
                     if not line.startswith(('Run:', 'Runs:')))


@pytest.fixture(scope='module')
def quick_study(tmp_path_factory):
    work = tmp_path_factory.mktemp('study')
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        call_tool('analysis/study', STUDY, '--quick', '--work-dir', work)
    return work, out.getvalue()


def test_quick_study_runs_every_arm(quick_study):
    work, stdout = quick_study
    results = json.loads((work / 'results.json').read_text())
    arms = results['analysis']['arms']
    assert sorted(arms) == sorted([
        'baseline', 'm2pt_spectrograms', 'm2pt_random', 'm2pt_points', 'm2pt_digits',
        'pretrained', 'pretrained_m2pt', 'omnivec', 'omnivec_digits', 'omnivec_spectrograms',
        'm2pt_spectrograms_ep5', 'm2pt_spectrograms_ep10'])
    finals = [r for r in results['runs'].values() if r['phase'] == 'final']
    assert len(finals) == 12 * 2 and all(r['status'] == 'ok' for r in finals)
    for record in finals:
        assert 0 <= record['metrics']['test'] <= 100 and 0 <= record['metrics']['val'] <= 100
        assert Path(work, record['resolved_config']).is_file()  # mmengine's dump of the config
    plain = arms['baseline']['full']['deploy_params']
    for arm in ('m2pt_spectrograms', 'm2pt_random', 'm2pt_points', 'pretrained_m2pt'):
        a = arms[arm]['full']
        # W′ and λ double the block linears while training; the merged model is the plain ViT
        assert a['params'] > plain and a['deploy_params'] == plain
        assert sorted(a['final_abs_lambda']) == ['0', '1', '2', '3']
    assert arms['baseline']['full']['final_abs_lambda'] is None
    # each arm's stage checkpoint is the one its definition names
    runs = results['runs']
    assert runs['final/m2pt_random/full/seed0']['options'][
        'model.backbone.pathway.aux_checkpoint'] == 'runs/stage/random_vit/all/seed0/init.pth'
    assert runs['final/m2pt_spectrograms_ep5/full/seed1']['options'][
        'model.backbone.pathway.aux_checkpoint'] == \
        'runs/stage/mae_spectrograms/all/seed0/epoch_1.pth'
    assert runs['final/omnivec_digits/full/seed0']['options']['load_from'] == \
        'runs/stage/omnivec_digits/full/seed0/epoch_1.pth'
    for name in ('top1', 'differences', 'lambda'):
        with Image.open(work / 'figures' / f'{name}.png') as image:
            assert image.size[0] > 300
    text = (work / 'results.md').read_text()
    assert text.count('| M2PT, aux random ViT − baseline (scratch) |') == 1
    assert 'Paired differences' in text and 'λ at the end of training' in text
    assert stdout.count('final/') >= 24  # one progress line per run


def _children(pid: int) -> list:
    """The PIDs whose parent is ``pid`` (Linux ``/proc``)."""
    out = []
    for stat in Path('/proc').glob('[0-9]*/stat'):
        try:
            fields = stat.read_text().rsplit(')', 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def test_a_second_study_in_the_same_folder_is_refused(tmp_path, capsys):
    from m2pt_mm.study.runner import study_lock
    with study_lock(str(tmp_path)):
        result = subprocess.run([sys.executable, 'tools/analysis/study.py', STUDY, '--quick',
                                 '--work-dir', str(tmp_path)], cwd=ROOT, capture_output=True,
                                text=True)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f'study.py: error: {tmp_path} is in use by another study (process {os.getpid()}, '
        f'{tmp_path}/study.lock); wait for it or stop it')
    assert not (tmp_path / 'runs').exists()


def _start(args, cwd=ROOT):
    return subprocess.Popen([sys.executable, 'tools/analysis/study.py', *map(str, args)], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)


def test_killed_study_continues_where_it_stopped(tmp_path, capsys, quick_study):
    args = [STUDY, '--quick', '--only', 'baseline', '--jobs', '1', '--no-figures']
    killed = tmp_path / 'killed'
    proc = _start(args + ['--work-dir', killed])
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if '] final/baseline/full/seed0:' in line:  # one final run done, the next one started
            workers = _children(proc.pid)
            os.kill(proc.pid, signal.SIGKILL)  # the study process only, as the OOM killer would
            break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, ''.join(lines)
    assert workers and not (killed / 'results.md').exists()
    deadline = time.time() + 10
    while any(Path(f'/proc/{pid}').exists() for pid in workers) and time.time() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in workers if Path(f'/proc/{pid}').exists()]  # they died with it

    capsys.readouterr()
    call_tool('analysis/study', *args, '--work-dir', killed)
    resumed = capsys.readouterr().out
    assert 'final: skipped 1 of 2 runs already finished (final/baseline/full/seed0)' in resumed
    assert 'final: 1 run(s) to do' in resumed
    first = tables(killed / 'results.md')
    call_tool('analysis/study', *args, '--work-dir', killed)
    again = capsys.readouterr().out
    assert 'final: skipped 2 of 2 runs already finished' in again
    assert tables(killed / 'results.md') == first and 'baseline (scratch)' in first

    # the killed-and-continued runs = the same runs of the uninterrupted quick study
    runs = [json.loads((d / 'results.json').read_text())['runs'] for d in (killed, quick_study[0])]
    for seed in (0, 1):
        key = f'final/baseline/full/seed{seed}'
        assert runs[0][key]['options'] == runs[1][key]['options']
        assert runs[0][key]['metrics'] == runs[1][key]['metrics']
