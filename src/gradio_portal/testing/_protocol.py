"""What the browser sends to a mounted Blocks: shared by the sync and the async events clients."""

from __future__ import annotations

import secrets
from typing import Any

from gradio_portal.navigation.browser import PAGE_HEADER

__all__ = ["PAGE_HEADER", "event_body", "event_ids", "fn_index", "join_path", "new_session_hash"]


def new_session_hash() -> str:
    """A new page's session hash: events sharing one share the page's ``gr.State`` values."""
    return secrets.token_hex(8)


def event_ids(config: dict[str, Any]) -> dict[str, int]:
    """``api_name`` -> event id, from a Blocks' ``/config``."""
    return {
        str(dependency["api_name"]): int(dependency["id"])
        for dependency in config["dependencies"]
        if dependency.get("api_name")
    }


def fn_index(config: dict[str, Any], api_name: str) -> int:
    """The id of the event registered with ``api_name``; KeyError naming the ones there are."""
    for dependency in config["dependencies"]:
        if dependency.get("api_name") == api_name:
            return int(dependency["id"])
    names = [d.get("api_name") for d in config["dependencies"]]
    raise KeyError(f"no event named {api_name!r}; the Blocks has {names}")


def join_path(mount: str, page: str) -> str:
    """``queue/join`` under ``mount``; the browser's carries the page's query string."""
    query = page.partition("?")[2]
    return mount + "/gradio_api/queue/join" + (f"?{query}" if query else "")


def event_body(fn_index: int, data: list[Any], session_hash: str) -> dict[str, Any]:
    """The JSON body of ``queue/join`` and ``run/predict``, as Gradio's frontend sends it."""
    return {
        "data": data,
        "fn_index": fn_index,
        "session_hash": session_hash,
        "event_data": None,
        "trigger_id": None,
    }
