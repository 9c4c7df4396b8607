"""The README's scripts run as written."""
import re

from tests.helpers import ROOT


def readme_block(marker: str) -> str:
    text = (ROOT / 'README.md').read_text()
    blocks = re.findall(r'```python\n(.*?)```', text, flags=re.S)
    return next(b for b in blocks if marker in b)


def test_readme_zero_inference_cost_script(monkeypatch, capsys):
    code = readme_block('switch_to_deploy')
    monkeypatch.chdir(ROOT)  # the script reads configs/ relative to the repository
    exec(compile(code, 'README.md', 'exec'), {'__name__': '__main__'})
    match = re.search(r'max \|Δ\| of features = (\S+)', capsys.readouterr().out)
    assert match and float(match.group(1)) <= 1e-5
