"""The protocol every array library implements, with the defaults of a CPU library.

A library module (``numpy.py``, ``torch.py``, ...) subclasses :class:`Library`, overrides
only what its library does differently, and the registry (``registry.py``) lists one
instance of it. The defaults describe a library that follows the Array API standard
to the letter and computes on the CPU: array-api-strict needs little more than them.
"""

from __future__ import annotations

import contextlib
import importlib
import os
from typing import Any

import array_api_compat
import numpy as np

#: What ``namespace`` and ``on_device_of`` skip among their arguments, besides None.
SCALARS = (bool, int, float, complex)


def first_line(exc: BaseException) -> str:
    """``"TypeName: first line of the message"``, for one-line reasons.

    Parameters
    ----------
    exc : BaseException
        The exception.

    Returns
    -------
    str
        Its type's name and the first line of its message.
    """
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def host_free_memory() -> int:
    """Available RAM in bytes.

    Returns
    -------
    int
        The bytes of RAM available (psutil's count where installed, else the free pages).
    """
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except ImportError:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))


class Library:
    """One array library: how to find it, convert to and from it, and reach its devices.

    Parameters
    ----------
    name : str
        The backend name users pass (``backends.get(name)``).
    namespace_module : str, optional
        The module of its Array API namespace (default: ``name``).

    Notes
    -----
    The protocol, by concern:

    - detection: :meth:`owns` (is ``x`` one of its arrays?), :meth:`why_unavailable`;
    - conversion: :meth:`namespace`, :meth:`asarray`, :meth:`to_numpy`, :meth:`check_dtype`;
    - devices: :meth:`resolve_device`, :meth:`as_device`, :meth:`default_device`,
      :meth:`is_accelerator`, :meth:`device_context`, :meth:`synchronize`,
      :meth:`accelerator_name`, :meth:`describe`;
    - memory: :meth:`free_memory`, :meth:`out_of_memory_types`, ``error_modules``.

    Random draws need nothing of a library: they are made on the host with NumPy and
    moved with :meth:`asarray`, so one seed gives the same numbers on every library.
    """

    #: Top-level modules whose errors may report an allocation failure in their text.
    error_modules: tuple[str, ...] = ()

    def __init__(self, name: str, namespace_module: str | None = None) -> None:
        self.name = name
        self.namespace_module = namespace_module or name

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # The protocol documents each method once: an override without a docstring of its
        # own shows the protocol's (as help() and the API reference would look it up).
        super().__init_subclass__(**kwargs)
        for attr, member in vars(cls).items():
            protocol = getattr(Library, attr, None)
            if callable(member) and member.__doc__ is None and protocol is not None:
                member.__doc__ = protocol.__doc__

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"

    # --- detection ---------------------------------------------------------------------

    def owns(self, x: Any) -> bool:
        """True if ``x`` is an array of this library (without importing the library).

        Parameters
        ----------
        x : object
            Any object.

        Returns
        -------
        bool
            Whether ``x`` is an array of this library.
        """
        if not array_api_compat.is_array_api_obj(x) or not hasattr(x, "__array_namespace__"):
            return False
        return getattr(x.__array_namespace__(), "__name__", None) == self.namespace_module

    def why_unavailable(self) -> str:
        """Empty string if the library runs here, else one line saying why not and what to do.

        Returns
        -------
        str
            ``""`` if the library can be used, else the reason and the fix.
        """
        try:
            importlib.import_module(self.namespace_module)
        except ImportError as exc:
            return f"{self.name} is not importable ({exc})"
        return ""

    # --- conversion --------------------------------------------------------------------

    def namespace(self) -> Any:
        """The library's Array API namespace (a module).

        Returns
        -------
        module
            The namespace (array-api-compat's wrapper where the library needs one).
        """
        return importlib.import_module(self.namespace_module)

    def asarray(self, obj: Any, dtype: Any, device: Any) -> Any:
        """``obj`` (host data or an array of this library) as an array on ``device``.

        Parameters
        ----------
        obj : object
            Host data (a list, a NumPy array, a scalar) or an array of this library.
        dtype : dtype or None
            The library's dtype to convert to; None keeps or infers it.
        device : object
            One of this library's devices (as ``as_device`` gives it), or None for its default.

        Returns
        -------
        array
            An array of this library on ``device``.
        """
        with self.device_context(device):
            return self.namespace().asarray(obj, dtype=dtype, device=device)

    def to_numpy(self, x: Any) -> np.ndarray:
        """One host copy of ``x``.

        Parameters
        ----------
        x : array
            An array of this library, on any device.

        Returns
        -------
        numpy.ndarray
            Its values on the host.
        """
        return np.asarray(x)

    def check_dtype(self, dtype: Any) -> None:
        """ValueError if the library cannot hold ``dtype`` as configured (default: it can).

        Parameters
        ----------
        dtype : dtype
            One of the library's dtypes.

        Raises
        ------
        ValueError
            If the library, as configured, cannot hold it (JAX without float64, say).
        """

    # --- devices -----------------------------------------------------------------------

    def resolve_device(self, device: str) -> Any:
        """The library's device object for a name such as ``"cpu"`` or ``"cuda:1"``.

        Parameters
        ----------
        device : str
            A device name, such as ``"cpu"``, ``"cuda"`` or ``"cuda:1"``.

        Returns
        -------
        object
            The library's device object.

        Raises
        ------
        ValueError
            If the name is not a device of this library (the default: no name is).
        """
        raise ValueError(f"device {device!r} is not valid for backend {self.name!r}")

    def as_device(self, device: Any) -> Any:
        """``device`` as the library's device object: a name resolved, None and objects kept.

        Parameters
        ----------
        device : str, device object or None
            A device name, one of the library's device objects, or None.

        Returns
        -------
        object
            The device object, or None.
        """
        return self.resolve_device(device) if isinstance(device, str) else device

    def default_device(self) -> Any:
        """The device new arrays land on when no ``device=`` is given.

        Returns
        -------
        object
            The library's default device.
        """
        return self.namespace().__array_namespace_info__().default_device()

    def is_accelerator(self, device: Any) -> bool:
        """True if ``device`` (one of this library's devices) is a GPU or another accelerator.

        Parameters
        ----------
        device : object
            One of this library's devices (as ``as_device`` gives it), or None for its default.

        Returns
        -------
        bool
            Whether it is a GPU or another accelerator.
        """
        return False

    def device_context(self, device: Any) -> contextlib.AbstractContextManager[Any]:
        """A context in which ``device`` is current, for calls that ignore ``device=``.

        Parameters
        ----------
        device : object
            One of this library's devices (as ``as_device`` gives it), or None for its default.

        Returns
        -------
        contextlib.AbstractContextManager
            A context manager making ``device`` current (here one that does nothing).
        """
        return contextlib.nullcontext()

    def synchronize(self, x: Any) -> None:
        """Wait until the work queued on ``x``'s device is done (a CPU library computes eagerly).

        Parameters
        ----------
        x : array
            An array of this library.
        """

    def accelerator_name(self, device: Any) -> str | None:
        """The accelerator ``device`` is (model and memory), or None on the CPU.

        Parameters
        ----------
        device : object
            One of this library's devices (as ``as_device`` gives it), or None for its default.

        Returns
        -------
        str or None
            The accelerator's model and memory, or None for a CPU device.
        """
        return None

    def describe(self) -> str:
        """One phrase on where the library computes here (for ``scratchml backends``).

        Returns
        -------
        str
            A phrase such as ``"CPU"`` or the accelerator's name.
        """
        return "CPU"

    # --- memory ------------------------------------------------------------------------

    def free_memory(self, device: Any) -> int:
        """Bytes free for new arrays on ``device`` (default: available RAM).

        Parameters
        ----------
        device : object
            One of this library's devices (as ``as_device`` gives it), or None for its default.

        Returns
        -------
        int
            The bytes free for new arrays.
        """
        return host_free_memory()

    def out_of_memory_types(self) -> tuple[type, ...]:
        """The library's own out-of-memory exception types (only if it is already imported).

        Returns
        -------
        tuple of type
            The exception types; empty when the library has none or is not imported.
        """
        return ()
