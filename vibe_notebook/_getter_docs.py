"""The getters' docstrings: shared options and column lists from the schemas."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from ._fields import SCHEMAS
from ._labels import column_types
from ._pull_plan import LAST_MODIFIED

__all__ = ["document", "mirror"]

_OPTIONS_DOC = """Parameters
        ----------
        since, until : str, date or datetime, optional
            Rows whose {by} is at or after ``since`` and before ``until``
            (a half-open range: since="2026-01-01", until="2026-02-01" is
            January). Times without a zone are read in ``tz`` (else UTC).
        by : str, optional
            The date field since= and until= look at.
        filter : dict, optional
            The platform's filter, passed through, e.g. ``{{"stageId": "WON",
            "amount": {{"$gte": 1000}}}}``.
        select : list of str, optional
            Only these fields (``id`` is always fetched). Custom fields
            (``UF_CRM_*``, ``ufCrm*``) are accepted.
        limit : int, optional
            At most this many rows, the lowest ids first: a quick sample.
        tz : str or tzinfo, optional
            Convert the datetime columns to this zone (they are UTC).
        progress : bool, optional
            True always shows a progress bar, False never; by default one
            appears when the pull takes more than a second.

        Returns
        -------
        pandas.DataFrame
            ``attrs`` holds the provenance: portal, base_url, entity,
            filter, fetched_at, rows and requests.

        Raises
        ------
        ConfigurationError
            For an argument mistake, before anything is sent."""


def _column_doc(entity: str) -> str:
    labels = set(column_types(entity)) - set(SCHEMAS[entity])
    lines = []
    for name, dtype in column_types(entity).items():
        note = "  (label)" if name in labels else ""
        lines.append(f"        {name} : {dtype}{note}")
    lines.append("        ... and any custom field, as the platform sent it.")
    return "\n".join(lines).lstrip()


def document(method: Callable[..., Any], entity: str) -> None:
    """Fill in the ``{options}`` and ``{columns}`` of a getter's docstring."""
    by = LAST_MODIFIED.get(entity) or "date field named by by="
    method.__doc__ = (method.__doc__ or "").format(
        options=_OPTIONS_DOC.format(by=f"``{by}``").strip(),
        columns=_column_doc(entity),
    )


def mirror(target: Callable[..., Any], source: Callable[..., Any]) -> None:
    """Give ``target`` the docstring and keyword signature of ``source``."""
    target.__doc__ = source.__doc__
    signature = inspect.signature(source)
    params = [p for p in signature.parameters.values() if p.name != "self"]
    return_type = signature.return_annotation
    target.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=params, return_annotation=return_type
    )
