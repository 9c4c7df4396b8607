"""OmniVec, the toolbox's second strategy: one transformer trunk trained jointly on every
modality (image, depth, audio, video, point cloud, text), built from the tokenizers and the ViT
block classes of the M2PT backbone, so that its trunk is an M2PT auxiliary model and a
single-modality OmniVec exports to a plain ``M2PTVisionTransformer``."""
from .data_preprocessor import OmniVecDataPreprocessor
from .encoder import OmniVecEncoder
from .export import export_single_modality
from .heads import HEAD_INPUTS, OmniVecMAEHead, OmniVecMLMHead, OmniVecPretrainHead, TrunkOutput
from .meta import MODALITIES, MetaTokens, meta_fields
from .omnivec import OmniVec
from .projection import FiLMProjection
from .trunk import OmniVecTrunk
from .vectorizer import Vectorizer

__all__ = ['OmniVec', 'OmniVecEncoder', 'OmniVecTrunk', 'MetaTokens', 'meta_fields', 'MODALITIES',
           'FiLMProjection', 'Vectorizer', 'OmniVecPretrainHead', 'OmniVecMAEHead',
           'OmniVecMLMHead', 'TrunkOutput', 'HEAD_INPUTS', 'export_single_modality',
           'OmniVecDataPreprocessor']
