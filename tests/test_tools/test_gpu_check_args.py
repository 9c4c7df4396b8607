"""tools/analysis/gpu_check.sh refuses an OUT_DIR it cannot use before it writes anything (on a
lent GPU machine a run that writes to / spends the budget)."""
import subprocess

import pytest

from tests.helpers import ROOT


@pytest.mark.parametrize('out,message', [
    ('', "OUT_DIR must be a folder name, got ''"),
    ('--quick', "OUT_DIR must be a folder name, got '--quick'"),
    ('FILE', "exists and is not a folder"),
])
def test_unusable_out_dir_is_refused(tmp_path, out, message):
    if out == 'FILE':
        out = str(tmp_path / 'a_file')
        (tmp_path / 'a_file').write_text('x')
    result = subprocess.run(['bash', 'tools/analysis/gpu_check.sh', out, '--install-only'],
                            cwd=ROOT, capture_output=True, text=True,
                            timeout=30)
    assert result.returncode == 2 and message in result.stderr
    assert not (ROOT / 'steps').exists() and not list(tmp_path.glob('*/steps'))

