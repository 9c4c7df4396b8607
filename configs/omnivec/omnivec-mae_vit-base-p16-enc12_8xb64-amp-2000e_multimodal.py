# OmniVec stage 1 with modality encoders of the paper's depth. §3.1 and Table 1 put each modality
# through the network of its publication (ViT-B, AST, ViViT, Simple3D-former, BERT: transformers
# of 12 blocks x 768) before the shared trunk. The default configs keep only each encoder's
# tokenizer and positions (encoder depth 0), the form a one-modality OmniVec exports to a plain
# ViT with; here every encoder also has 12 blocks of the trunk's size. Which is which:
#   depth 0 (omnivec-mae_vit-base-p16_*): exportable (tools/model_converters/omnivec_export.py);
#   depth 12 (this file): the paper's layout; not exportable (the converter refuses encoder
#   blocks), and the blocks start from random weights, as the trunk does: the published
#   networks' weights are not loaded (their layouts differ per modality and the paper does not
#   say it loads them).
_base_ = ['./omnivec-mae_vit-base-p16_8xb64-amp-2000e_multimodal.py']

model = dict(
    encoders=dict(
        image=dict(depth=12, num_heads=12, feedforward_channels=3072),
        depth=dict(depth=12, num_heads=12, feedforward_channels=3072),
        audio=dict(depth=12, num_heads=12, feedforward_channels=3072),
        video=dict(depth=12, num_heads=12, feedforward_channels=3072),
        point=dict(depth=12, num_heads=12, feedforward_channels=3072),
        text=dict(depth=12, num_heads=12, feedforward_channels=3072)))
