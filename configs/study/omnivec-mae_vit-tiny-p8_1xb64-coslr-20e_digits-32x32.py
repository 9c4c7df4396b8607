# Evidence study (studies/m2pt_digits.py): the digits-only control of OmniVec's joint
# pretraining (../omnivec/omnivec-mae_vit-tiny-p8_1xb64-coslr-20e_spectrogram-digits-32x32.py):
# the same network (both encoders, so the fine-tuning loads the same parts), the same steps
# (32 batches of 64 per epoch, 20 epochs), every batch from the digit images; the spectrograms
# are not read.
_base_ = ['../omnivec/omnivec-mae_vit-tiny-p8_1xb64-coslr-20e_spectrogram-digits-32x32.py']

train_dataloader = dict(
    dataset=dict(sources=dict(_delete_=True,
                              digits=_base_.train_dataloader.dataset.sources.digits)))
