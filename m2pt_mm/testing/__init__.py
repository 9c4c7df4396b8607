"""Small data in the real on-disk formats and tiny models, shared by the tests, ``tools/data/``
and ``make demo``: one copy of each writer.

* :mod:`.digits` — scikit-learn's real digit scans as an ImageNet folder and as COCO/ADE20K scenes;
* :mod:`.spectrograms` — synthetic log-mel spectrogram images (the demo's auxiliary modality);
* :mod:`.modalities` — AudioSet, ESC-50, Kinetics-400, ModelNet40, ShapeNetPart, PartNet sets;
* :mod:`.tiny` — tiny ViTs with timm / MAE key names, checkpoints written in those layouts, the
  stripes image folder.

Importing this package imports none of the heavy optional readers (soundfile, av, h5py, cv2);
each writer imports what it needs.
"""
