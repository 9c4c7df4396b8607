# `make demo`: the first experience of the toolbox, a subset of the evidence study
# (m2pt_digits.py, same data, recipe and runner): the MAE on synthetic spectrograms (one seed),
# then the tiny ViT trained from scratch on the digits as a plain ViT and with a pathway to that
# MAE in every block linear, seeds 0, 1, 2, all training images, the configs' own learning rates
# (no tuning). A few minutes on 2 CPU cores; results in work_dirs/demo/results.{md,json} and
# figures/. Which arms help, with controls and confidence intervals: the whole study.
_base_ = ['./m2pt_digits.py']

work_dir = 'work_dirs/demo'
regimes = [_base_.regimes[0]]
seeds = dict(_delete_=True, final=[0, 1, 2], pretrain=[0])
tuning = []
arms = [arm for arm in _base_.arms if arm['name'] in ('baseline', 'm2pt_spectrograms')]
comparisons = [('m2pt_spectrograms', 'baseline')]
quick = None
description = [
    '`make demo`: M2PT on the digits, aux = MAE on synthetic spectrograms',
    'Target: scikit-learn digits, 32×32, 1,077 train / 360 val / 360 test; numbers on test, '
    'seeds 0-2, no tuning: a first look, not evidence (see studies/m2pt_digits.py).',
]
