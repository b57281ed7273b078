"""Many keys of a dict looked up at once (pure): the clustering's term ranks and numbers,
and a group's idf, go from strings to numpy arrays this way."""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

T = TypeVar("T", bound=np.generic)


def looked_up(mapping: Mapping[str, Any], keys: Sequence[str], dtype: type[T]) -> npt.NDArray[T]:
    """``mapping[k]`` of each of ``keys``, as an array: an ``itemgetter`` of them all looks
    them up in one call in C (half the time of ``fromiter`` over a ``map``). A key it lacks
    raises ``KeyError``."""
    if len(keys) < 2:  # (an itemgetter of one key gives its value, not a tuple)
        return np.array([mapping[k] for k in keys], dtype=dtype)
    return np.array(operator.itemgetter(*keys)(mapping), dtype=dtype)
