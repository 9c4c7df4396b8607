# Evidence study (studies/m2pt_digits.py): the spectrograms-only control of OmniVec's joint
# pretraining (../omnivec/omnivec-mae_vit-tiny-p8_1xb64-coslr-20e_spectrogram-digits-32x32.py):
# the same network (both encoders: the image encoder and projection stay at their initial
# weights), the same steps (32 batches of 64 per epoch, 20 epochs), every batch from the
# spectrograms; the digits are not read.
_base_ = ['../omnivec/omnivec-mae_vit-tiny-p8_1xb64-coslr-20e_spectrogram-digits-32x32.py']

train_dataloader = dict(
    dataset=dict(sources=dict(_delete_=True,
                              spectrograms=_base_.train_dataloader.dataset.sources.spectrograms)))
