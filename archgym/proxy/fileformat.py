"""The proxy file format: one zip archive of JSON metadata, NumPy arrays in safetensors and model
texts (LightGBM's own text format), readable without executing anything from the file.

:func:`pack` writes the archive from a proxy's metadata and its regressor's payload; :func:`unpack`
checks an archive (format tag, version, the members it may hold) and returns them. Pickle and
joblib files (older proxies, or anything else) are refused with a message saying why, since
loading them would run code they carry. :class:`~archgym.proxy.core.ProxyModel` turns the parts
into a model; this module knows nothing of fitting.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Mapping
from typing import Any

import numpy as np

from archgym.errors import ProxyFileError

FILE_FORMAT = "archgym-proxy"
FILE_VERSION = 2  # 1: joblib pickles (refused); 2: zip of JSON + safetensors + LightGBM text
META_MEMBER = "proxy.json"
ARRAYS_MEMBER = "arrays.safetensors"
_BLOB_NAME = re.compile(r"[A-Za-z0-9_.-]+\.txt")
#: how pickles (protocol 2+) and compressed joblib files start (for the message only: nothing is
#: ever unpickled, whatever this says)
_PICKLE_HEADS = (
    b"\x80",
    b"x\x01",
    b"x\x5e",
    b"x\x9c",
    b"x\xda",
    b"\x1f\x8b",
    b"\x04\x22\x4d\x18",
    b"\xfd7zXZ",
    b"BZh",
)


def pack(meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray], blobs: Mapping[str, str]) -> bytes:
    """The bytes of a proxy file: ``meta`` (JSON; the list of ``blobs`` is added), ``arrays``
    (safetensors) and ``blobs`` (text members), in a zip with fixed timestamps (same model, same
    bytes)."""
    from safetensors.numpy import save as save_arrays

    members: dict[str, bytes] = {
        META_MEMBER: json.dumps({**meta, "blobs": sorted(blobs)}, indent=1, sort_keys=True).encode()
    }
    if arrays:
        members[ARRAYS_MEMBER] = save_arrays({k: np.ascontiguousarray(v) for k, v in arrays.items()})
    members.update({name: text.encode() for name, text in blobs.items()})
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def _check_archive(data: bytes, where: str) -> None:
    if data.startswith(_PICKLE_HEADS):
        raise ProxyFileError(
            f"{where} is a pickle/joblib file: refusing to load it, since unpickling runs code the "
            "file carries. archgym proxies are zip archives of JSON, safetensors and LightGBM text "
            "(retrain with `archgym proxy train`)"
        )
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise ProxyFileError(
            f"{where} is not an archgym proxy file (expected a zip archive with {META_MEMBER})"
        )


def _check_meta(meta: Any, names: set[str], where: str) -> list[str]:
    """The text members ``meta`` lists, after checking its format tag, version and the members."""
    if not isinstance(meta, dict) or meta.get("format") != FILE_FORMAT:
        raise ProxyFileError(f"{where} is not an archgym proxy file ({META_MEMBER} lacks the format tag)")
    if int(meta.get("version", 0)) != FILE_VERSION:
        raise ProxyFileError(
            f"{where} has proxy file version {meta.get('version')}; this archgym reads version "
            f"{FILE_VERSION} (retrain it with this version)"
        )
    blobs = [str(b) for b in meta.get("blobs", [])]
    bad = [b for b in blobs if not _BLOB_NAME.fullmatch(b)]
    extra = names - {META_MEMBER, ARRAYS_MEMBER, *blobs}
    if bad or extra:
        raise ProxyFileError(f"{where}: unexpected member(s) {', '.join(sorted(bad + sorted(extra)))}")
    return blobs


def unpack(data: bytes, where: str = "proxy") -> tuple[dict[str, Any], dict[str, np.ndarray], dict[str, str]]:
    """``(metadata, arrays, text members)`` of a proxy file's bytes.

    Raises:
        ProxyFileError: a pickle, not a zip, no or foreign metadata, another version, unexpected
            members, or a damaged archive, saying which.
    """
    from safetensors.numpy import load as load_arrays

    _check_archive(data, where)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
            if META_MEMBER not in names:
                raise ProxyFileError(f"{where} is not an archgym proxy file (no {META_MEMBER} inside)")
            meta = json.loads(zf.read(META_MEMBER))
            blobs = _check_meta(meta, names, where)
            arrays = load_arrays(zf.read(ARRAYS_MEMBER)) if ARRAYS_MEMBER in names else {}
            texts = {b: zf.read(b).decode() for b in blobs}
    except ProxyFileError:
        raise
    except Exception as exc:  # a damaged archive or corrupt arrays: the file, not a bug
        raise ProxyFileError(
            f"{where} is not a readable archgym proxy file ({type(exc).__name__}: {exc})"
        ) from exc
    return meta, arrays, texts
