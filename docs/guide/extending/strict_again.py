"""An array library: this file is all it takes (``backend="strict_again"``).

It registers array-api-strict's arrays under another name, so it stands in for a library
scratchml does not ship; a real one overrides what its library does differently (see
:class:`scratchml.backends.base.Library`: devices, synchronisation, memory).
"""

import array_api_compat
import numpy as np

from scratchml import backends
from scratchml.backends import Library


class StrictAgain(Library):
    """array-api-strict's arrays under another backend name."""

    def owns(self, x):
        return hasattr(x, "__array_namespace__") and (
            array_api_compat.is_array_api_strict_namespace(x.__array_namespace__())
        )

    def to_numpy(self, x):
        return np.from_dlpack(x)


backends.register(StrictAgain("strict_again", namespace_module="array_api_strict"))
