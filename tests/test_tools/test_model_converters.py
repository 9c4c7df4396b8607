import copy

import torch
from mmpretrain.models import VisionTransformer
from torch.testing import assert_close

from m2pt_mm.testing.tiny import TINY, TINY_IMG, TINY_PATCH
from tests.helpers import call_tool


def test_convert_checkpoint_output_loads_strict_into_stock_vit(target_mae_file, tmp_path, capsys):
    src, encoder = target_mae_file
    dst = tmp_path / 'out' / 'mae_vit-tiny.pth'
    call_tool('model_converters/convert_checkpoint', src, dst)
    assert 'timm/timm-mae-pretrain-with-decoder' in capsys.readouterr().out
    ckpt = torch.load(dst, weights_only=True)
    assert 'mask_token' in ckpt['meta']['dropped']
    backbone = {k[len('backbone.'):]: v for k, v in ckpt['state_dict'].items()}
    vit = VisionTransformer(arch=copy.deepcopy(TINY), img_size=TINY_IMG, patch_size=TINY_PATCH)
    vit.load_state_dict(backbone, strict=True)
    assert_close(vit.layers[3].attn.proj.weight.detach(), encoder['blocks.3.attn.proj.weight'])
    assert not list(tmp_path.glob('out/*.tmp'))
