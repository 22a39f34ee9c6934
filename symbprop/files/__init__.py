"""Files on disk, read with limits and written atomically.

In: paths.  Out: text, YAML data, NumPy arrays; or files that appear whole or not at all.

- ``atomic``: write to a temporary file beside the target, then rename over it.
- ``yamltext``: YAML as users write it, from a bounded regular file.
- ``npz``: NPZ archives, written compressed and atomically, read back whole.
- ``params``: trained parameters (``train --save``), checked against their model on load.
"""
