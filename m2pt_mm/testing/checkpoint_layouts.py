"""AudioMAE, Point-MAE and VideoMAE checkpoints written with the official key names and shapes
(those of the projects' released files) at any small size: the converter tests and the config
run test read them as they would the released files."""
from collections import OrderedDict

import torch

#: The converter tests' default shape: 4 blocks of 32 dims (2 heads), MLP 64.
C, DEPTH, MLP = 32, 4, 64
#: audio: 64 frames × 32 mel bins in 8×8 patches; video: 2×8×8 tubelets; point: groups of 8
FRAMES, MELS, PATCH, GROUP_SIZE = 64, 32, 8, 8


def randn(*shape):
    return torch.randn(*shape) * 0.2


def norm_params(sd, name, dims=C):
    sd[f'{name}.weight'] = 1 + randn(dims)
    sd[f'{name}.bias'] = randn(dims)


def bn_params(sd, name, dims):
    norm_params(sd, name, dims)
    sd[f'{name}.running_mean'] = randn(dims)
    sd[f'{name}.running_var'] = 0.5 + torch.rand(dims)
    sd[f'{name}.num_batches_tracked'] = torch.tensor(100)


def timm_blocks(sd, prefix, depth=DEPTH, dims=C, mlp=MLP, qkv='bias'):
    """timm-style blocks ``{prefix}{i}.*``; ``qkv``: 'bias' (timm), 'none' (Point-MAE) or
    'qv' (VideoMAE's q_bias / v_bias)."""
    for i in range(depth):
        p = f'{prefix}{i}.'
        norm_params(sd, p + 'norm1', dims)
        sd[p + 'attn.qkv.weight'] = randn(3 * dims, dims)
        if qkv == 'bias':
            sd[p + 'attn.qkv.bias'] = randn(3 * dims)
        elif qkv == 'qv':
            sd[p + 'attn.q_bias'] = randn(dims)
            sd[p + 'attn.v_bias'] = randn(dims)
        sd[p + 'attn.proj.weight'] = randn(dims, dims)
        sd[p + 'attn.proj.bias'] = randn(dims)
        norm_params(sd, p + 'norm2', dims)
        sd[p + 'mlp.fc1.weight'] = randn(mlp, dims)
        sd[p + 'mlp.fc1.bias'] = randn(mlp)
        sd[p + 'mlp.fc2.weight'] = randn(dims, mlp)
        sd[p + 'mlp.fc2.bias'] = randn(dims)


# ---------------------------------------------------------------- official layouts (tiny)
def audiomae_pretrain(seed=0, dims=C, depth=DEPTH, mlp=MLP, frames=FRAMES, mels=MELS,
                      patch=PATCH):
    """AudioMAE ``pretrained.pth``: {'model': MAE encoder (1-channel patches, (T/p·F/p + 1)-row
    position table) + Swin-style decoder}."""
    torch.manual_seed(seed)
    sd = OrderedDict()
    sd['cls_token'] = randn(1, 1, dims)
    sd['pos_embed'] = randn(1, (frames // patch) * (mels // patch) + 1, dims)
    sd['patch_embed.proj.weight'] = randn(dims, 1, patch, patch)
    sd['patch_embed.proj.bias'] = randn(dims)
    timm_blocks(sd, 'blocks.', depth=depth, dims=dims, mlp=mlp)
    norm_params(sd, 'norm', dims)
    sd['mask_token'] = randn(1, 1, 16)
    sd['decoder_pos_embed'] = randn(1, sd['pos_embed'].shape[1], 16)
    sd['decoder_embed.weight'] = randn(16, dims)
    sd['decoder_embed.bias'] = randn(16)
    sd['decoder_blocks.0.attn.tau'] = randn(1, 2, 1, 1)
    sd['decoder_blocks.0.attn.meta_mlp.fc1.weight'] = randn(32, 2)
    sd['decoder_blocks.0.attn.qkv.weight'] = randn(48, 16)
    norm_params(sd, 'decoder_norm', 16)
    sd['decoder_pred.weight'] = randn(patch * patch, 16)
    sd['decoder_pred.bias'] = randn(patch * patch)
    return {'model': sd}


def audiomae_finetuned(seed=0):
    """AudioMAE fine-tuned: no ``norm``; ``fc_norm`` + ``head`` (527 classes on AudioSet)."""
    sd = audiomae_pretrain(seed)['model']
    sd = OrderedDict((k, v) for k, v in sd.items()
                     if not (k.startswith('decoder')
                             or k in ('mask_token', 'norm.weight', 'norm.bias')))
    norm_params(sd, 'fc_norm')
    sd['head.weight'] = randn(527, C)
    sd['head.bias'] = randn(527)
    return {'model': sd}


def point_mae_encoder(sd, prefix, dims=C, depth=DEPTH, mlp=MLP):
    """Point-MAE's tokenizer (mini-PointNet + position MLP), bias-free-qkv blocks and norm."""
    for conv, shapes in (('first_conv', ((128, 3), (256, 128))),
                         ('second_conv', ((512, 512), (dims, 512)))):
        (out0, in0), (out3, in3) = shapes
        sd[f'{prefix}encoder.{conv}.0.weight'] = randn(out0, in0, 1)
        sd[f'{prefix}encoder.{conv}.0.bias'] = randn(out0)
        bn_params(sd, f'{prefix}encoder.{conv}.1', out0)
        sd[f'{prefix}encoder.{conv}.3.weight'] = randn(out3, in3, 1)
        sd[f'{prefix}encoder.{conv}.3.bias'] = randn(out3)
    sd[f'{prefix}pos_embed.0.weight'] = randn(128, 3)
    sd[f'{prefix}pos_embed.0.bias'] = randn(128)
    sd[f'{prefix}pos_embed.2.weight'] = randn(dims, 128)
    sd[f'{prefix}pos_embed.2.bias'] = randn(dims)
    timm_blocks(sd, f'{prefix}blocks.blocks.', depth=depth, dims=dims, mlp=mlp, qkv='none')
    norm_params(sd, f'{prefix}norm', dims)


def point_mae_pretrain(seed=0, dims=C, mlp=MLP, data_parallel=False, depth=DEPTH,
                       group_size=GROUP_SIZE):
    """Point-MAE ``pretrain.pth``: {'base_model', 'optimizer', 'epoch', 'metrics',
    'best_metrics'}."""
    torch.manual_seed(seed)
    sd = OrderedDict()
    point_mae_encoder(sd, 'MAE_encoder.', dims=dims, mlp=mlp, depth=depth)
    sd['mask_token'] = randn(1, 1, dims)
    sd['decoder_pos_embed.0.weight'] = randn(128, 3)
    sd['decoder_pos_embed.0.bias'] = randn(128)
    sd['decoder_pos_embed.2.weight'] = randn(dims, 128)
    sd['decoder_pos_embed.2.bias'] = randn(dims)
    timm_blocks(sd, 'MAE_decoder.blocks.', depth=1, dims=dims, mlp=mlp, qkv='none')
    norm_params(sd, 'MAE_decoder.norm', dims)
    sd['increase_dim.0.weight'] = randn(3 * group_size, dims, 1)
    sd['increase_dim.0.bias'] = randn(3 * group_size)
    if data_parallel:
        sd = OrderedDict((f'module.{k}', v) for k, v in sd.items())
    optimizer = {'state': {}, 'param_groups': [{'lr': 5e-4, 'params': [0]}]}
    return {'base_model': sd, 'optimizer': optimizer,
            'epoch': 300, 'metrics': {}, 'best_metrics': {}}


def point_mae_finetuned(seed=0, num_classes=40):
    """Point-MAE fine-tuned ``PointTransformer`` (``modelnet_1k.pth``): no prefix, plus
    ``cls_token``, ``cls_pos`` and ``cls_head_finetune``."""
    torch.manual_seed(seed)
    sd = OrderedDict()
    sd['cls_token'] = randn(1, 1, C)
    sd['cls_pos'] = randn(1, 1, C)
    point_mae_encoder(sd, '')
    sd['cls_head_finetune.0.weight'] = randn(256, 2 * C)
    sd['cls_head_finetune.0.bias'] = randn(256)
    bn_params(sd, 'cls_head_finetune.1', 256)
    sd['cls_head_finetune.4.weight'] = randn(256, 256)
    sd['cls_head_finetune.4.bias'] = randn(256)
    bn_params(sd, 'cls_head_finetune.5', 256)
    sd['cls_head_finetune.8.weight'] = randn(num_classes, 256)
    sd['cls_head_finetune.8.bias'] = randn(num_classes)
    return {'base_model': sd, 'epoch': 300, 'metrics': {'acc': 93.8}}


def videomae_finetuned(seed=0):
    """VideoMAE fine-tuned: 3-D patch embedding, q/v biases, ``fc_norm`` (mean pooling), head;
    no cls token and no saved position table."""
    torch.manual_seed(seed)
    sd = OrderedDict()
    sd['patch_embed.proj.weight'] = randn(C, 3, 2, PATCH, PATCH)
    sd['patch_embed.proj.bias'] = randn(C)
    timm_blocks(sd, 'blocks.', qkv='qv')
    norm_params(sd, 'fc_norm')
    sd['head.weight'] = randn(400, C)
    sd['head.bias'] = randn(400)
    return {'module': sd}


def videomae_pretrain(seed=0, dims=C, depth=DEPTH, mlp=MLP, patch=PATCH):
    """VideoMAE pretraining: ``encoder.*`` (with ``encoder.norm``), a 384→16-wide decoder."""
    torch.manual_seed(seed)
    sd = OrderedDict()
    sd['encoder.patch_embed.proj.weight'] = randn(dims, 3, 2, patch, patch)
    sd['encoder.patch_embed.proj.bias'] = randn(dims)
    timm_blocks(sd, 'encoder.blocks.', depth=depth, dims=dims, mlp=mlp, qkv='qv')
    norm_params(sd, 'encoder.norm', dims)
    timm_blocks(sd, 'decoder.blocks.', depth=1, dims=16, mlp=32, qkv='qv')
    norm_params(sd, 'decoder.norm', 16)
    sd['decoder.head.weight'] = randn(3 * 2 * patch * patch, 16)
    sd['decoder.head.bias'] = randn(3 * 2 * patch * patch)
    sd['encoder_to_decoder.weight'] = randn(16, dims)
    sd['mask_token'] = randn(1, 1, 16)
    return {'model': sd}
