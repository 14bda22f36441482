"""Opens the files PersistenceTests.testExportForPython writes with the
`safetensors` package and checks every tensor's shape and values against the
expected.json the test writes beside them.

    SAFETENSORS_EXPORT=/tmp/st swift test --filter testExportForPython
    python Tests/NeuralNetworksTests/Reference/check_safetensors.py /tmp/st
"""
import json
import sys
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file

directory = Path(sys.argv[1])
expected = json.loads((directory / "expected.json").read_text())
checked = 0
for name, tensors in expected.items():
    loaded = load_file(str(directory / f"{name}.safetensors"))
    for key, entry in tensors.items():
        array = loaded[key]
        shape = [int(s) for s in entry["shape"]]
        assert list(array.shape) == shape, f"{name}/{key}: shape {array.shape} != {shape}"
        assert array.dtype == np.float32, f"{name}/{key}: dtype {array.dtype}"
        assert np.array_equal(array.reshape(-1), np.array(entry["values"], dtype=np.float32)), f"{name}/{key}: values differ"
        checked += 1
    print(f"{name}.safetensors: {len(loaded)} tensors ({', '.join(sorted(loaded))})")
print(f"ok: {checked} tensors match in shape, dtype and value")
