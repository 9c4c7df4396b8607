# Table 2's (and Table 8's OmniVec-4) AudioSet (A) column: the stage-2 network without fine-tuning.
# The stage-2 network has no AudioSet head (Table 7 trains ESC-50 for audio), so it is scored
# through a linear probe: the 527-class head of the AudioSet fine-tuning trains on AudioSet-2M
# while every other parameter (audio encoder, meta tokens, projection, trunk, vectorizer) keeps
# its stage-2 value (learning rate and decay multiplied by 0: AdamW leaves such a parameter
# exactly as loaded). The paper does not say how it scores AudioSet without fine-tuning.
_base_ = ['./omnivec_vit-base-p16_omnivec-4-pre_8xb64-amp-100e_audioset-2m.py']

__paper_rows__ = [
    dict(paper='OmniVec', table=2, setting='pretrained', row='OmniVec', columns=['AudioSet (A)']),
    dict(paper='OmniVec', table=8, setting='ablation', row='OmniVec-4', columns=['AudioSet (A)'])]

frozen = dict(lr_mult=0., decay_mult=0.)
model = dict(trunk=dict(drop_path_rate=0.))  # the frozen trunk's features as at test time
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={
    'encoders.': frozen, 'meta.': frozen, 'projections.': frozen, 'trunk.': frozen,
    'vectorizer.': frozen,
    # the longest matching key decides: these would otherwise give the trunk's tokens a rate
    'cls_token': frozen, 'pos_embed': frozen, 'none_embed': frozen}))
