"""What kind of checkpoint a file or a loaded object is: one home for the questions the tools and
hooks ask before they use one (a training checkpoint to resume, a merged deploy one, a folder of
shards). Standard library only, so a tool can ask before it imports torch."""
import os
import os.path as osp
import re
from typing import Any, List, Optional

#: What mmengine saves in a checkpoint that ``--resume`` can continue from.
TRAINING_KEYS = ('meta', 'state_dict', 'message_hub')


def is_deploy(checkpoint: Any) -> bool:
    """Whether a loaded checkpoint says it is merged (``meta['deploy']``, written by
    ``write_deploy_checkpoint``)."""
    return isinstance(checkpoint, dict) and bool((checkpoint.get('meta') or {}).get('deploy'))


def missing_training_state(checkpoint: Any) -> List[str]:
    """The :data:`TRAINING_KEYS` a loaded checkpoint lacks (empty: it can be resumed from)."""
    return [k for k in TRAINING_KEYS if not (isinstance(checkpoint, dict) and k in checkpoint)]


def weights_only_kind(checkpoint: Any) -> str:
    """How to name a checkpoint that holds weights only, in an error."""
    return 'a merged deploy checkpoint' if is_deploy(checkpoint) else 'not a training checkpoint'


def sharded_checkpoint_kind(path: str) -> Optional[str]:
    """What a checkpoint folder holds when it is sharded: FSDP's per-rank files
    (``FSDPStrategy`` with ``state_dict_cfg='local'``) or a ``torch.distributed.checkpoint``
    folder; None for anything else (a file, or a folder of neither)."""
    if not osp.isdir(path):
        return None
    shards = sorted((n for n in os.listdir(path) if re.fullmatch(r'rank\d+\.pth', n)),
                    key=lambda n: int(n[4:-4]))
    if shards:
        names = shards[0] if len(shards) == 1 else f'{shards[0]} ... {shards[-1]}'
        return (f"a folder of per-rank FSDP shards ({names}, written with "
                "strategy.state_dict_cfg='local')")
    if osp.isfile(osp.join(path, '.metadata')):
        return 'a sharded torch.distributed.checkpoint folder'
    return None
