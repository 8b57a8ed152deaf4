"""Helpers shared by the fixture generators."""
import json
import os

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class FixtureWriter:
    """Collects named tensors and writes them as one JSON file under Tests/<target>/Fixtures/."""

    def __init__(self, target, name):
        self.path = os.path.join(ROOT, target, "Fixtures", name + ".json")
        self.tensors = {}

    def add(self, key, value):
        array = value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)
        array = array.astype(np.float32)
        assert key not in self.tensors, key
        self.tensors[key] = {"shape": list(array.shape), "data": [float(v) for v in array.reshape(-1)]}

    def write(self):
        with open(self.path, "w") as f:
            json.dump(self.tensors, f, separators=(",", ":"))
