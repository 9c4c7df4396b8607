"""Fixed label tables shared by the point-cloud datasets and their metrics."""
from collections import OrderedDict
from typing import Dict, List

#: ShapeNetPart: object category → its global part ids (50 parts over 16 categories), in the
#: category order of ``synsetoffset2category.txt`` (which is also the object-class index order
#: Point-MAE / PointNet++ use). The part ids are those of the benchmark's ``*.txt`` files.
SHAPENETPART_SEG_CLASSES: Dict[str, List[int]] = OrderedDict([
    ('Airplane', [0, 1, 2, 3]),
    ('Bag', [4, 5]),
    ('Cap', [6, 7]),
    ('Car', [8, 9, 10, 11]),
    ('Chair', [12, 13, 14, 15]),
    ('Earphone', [16, 17, 18]),
    ('Guitar', [19, 20, 21]),
    ('Knife', [22, 23]),
    ('Lamp', [24, 25, 26, 27]),
    ('Laptop', [28, 29]),
    ('Motorbike', [30, 31, 32, 33, 34, 35]),
    ('Mug', [36, 37]),
    ('Pistol', [38, 39, 40]),
    ('Rocket', [41, 42, 43]),
    ('Skateboard', [44, 45, 46]),
    ('Table', [47, 48, 49]),
])
