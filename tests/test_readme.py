"""The README's scripts run as written."""
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_block(marker: str) -> str:
    text = (ROOT / 'README.md').read_text()
    blocks = re.findall(r'```python\n(.*?)```', text, flags=re.S)
    return next(b for b in blocks if marker in b)


def test_readme_zero_inference_cost_script():
    code = readme_block('switch_to_deploy')
    result = subprocess.run([sys.executable, '-c', code], cwd=ROOT, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    match = re.search(r'max \|Δ\| of features = (\S+)', result.stdout)
    assert match and float(match.group(1)) <= 1e-5, result.stdout
