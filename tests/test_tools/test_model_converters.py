import copy
import subprocess
import sys
from pathlib import Path

import torch
from mmpretrain.models import VisionTransformer
from torch.testing import assert_close

from tests.conftest import TINY, TINY_IMG, TINY_PATCH

ROOT = Path(__file__).resolve().parents[2]


def test_convert_checkpoint_cli_output_loads_strict_into_stock_vit(target_mae_file, tmp_path):
    src, encoder = target_mae_file
    dst = tmp_path / 'out' / 'mae_vit-tiny.pth'
    result = subprocess.run([sys.executable, 'tools/model_converters/convert_checkpoint.py', src, str(dst)],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert 'timm/timm-mae-pretrain-with-decoder' in result.stdout
    ckpt = torch.load(dst, weights_only=True)
    assert 'mask_token' in ckpt['meta']['dropped']
    backbone = {k[len('backbone.'):]: v for k, v in ckpt['state_dict'].items()}
    vit = VisionTransformer(arch=copy.deepcopy(TINY), img_size=TINY_IMG, patch_size=TINY_PATCH)
    vit.load_state_dict(backbone, strict=True)
    assert_close(vit.layers[3].attn.proj.weight.detach(), encoder['blocks.3.attn.proj.weight'])
    assert not list(tmp_path.glob('out/*.tmp'))
