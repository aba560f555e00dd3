"""Data sets: `digits` (scikit-learn, default), `shapes` (32×32) and `scenes` (64×64 camera-scale;
procedural, with boxes), MNIST/Fashion/CIFAR files.

Use `load_dataset(name, root=None, seed=0, test_only=False)`; `list_datasets()` describes what is available.
"""

from cosim.data.catalog import list_datasets, load_dataset
from cosim.data.dataset import Dataset, DatasetInfo

__all__ = ["Dataset", "DatasetInfo", "list_datasets", "load_dataset"]
