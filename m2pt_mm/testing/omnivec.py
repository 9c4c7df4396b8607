"""The tiny multi-modal data of the OmniVec configs (``configs/omnivec/*tiny*``), in one call.

Command line: ``python -m m2pt_mm.testing.omnivec data/omnivec-tiny``.
"""
from pathlib import Path
from typing import Union

from .digits import write_digits_imagenet
from .modalities import write_esc50, write_kinetics, write_modelnet40, write_shapenetpart
from .text import write_text_cls


def write_omnivec_tiny(root: Union[str, Path], vocab_size: int = 256) -> dict:
    """Write ``digits/``, ``esc50/``, ``kinetics/``, ``modelnet40/``, ``shapenetpart/`` and
    ``text/`` (with its WordPiece ``vocab.json``) under ``root``, the layout the tiny configs read.

    Returns:
        Each writer's result by folder name; ``text`` also has ``vocab_file``.
    """
    from m2pt_mm.text_vocab import build_text_vocab  # needs `tokenizers`
    root = Path(root)
    info = dict(digits=write_digits_imagenet(str(root / 'digits')),
                esc50=write_esc50(root / 'esc50'), kinetics=write_kinetics(root / 'kinetics'),
                modelnet40=write_modelnet40(root / 'modelnet40'),
                shapenetpart=write_shapenetpart(root / 'shapenetpart'),
                text=write_text_cls(root / 'text'))
    corpus = Path(info['text']['corpus']).read_text(encoding='utf-8').splitlines()
    info['text']['vocab_file'] = str(build_text_vocab(corpus, vocab_size, root / 'text' /
                                                      'vocab.json'))
    return info


if __name__ == '__main__':
    import argparse
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('root', help='output folder, e.g. data/omnivec-tiny')
    write_omnivec_tiny(parser.parse_args().root)
