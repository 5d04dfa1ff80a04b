"""The web chat's conversations, as kept in the browser (``gr.BrowserState``): plain JSON data.

The store is ``{"current": id, "order": [ids, newest first], "chats": {id: chat}, "browser": id}``
where a chat is ``{"title": first question, "messages": the chat messages, "turns": [Turn.to_dict()
or None, ...], "updated": time}``: the typed turns travel with the messages, so a follow-up after a
reload (or after switching back to a conversation) is resolved against the same turns, never
against rendered text.

Tabs of one browser share the one stored value, and each tab writes its whole copy: the last tab to
save used to wipe the conversations the others had made meanwhile. So every store a tab sends is
merged (:func:`merge`, newest version of each conversation) with the latest one the server saw from
the same browser (:class:`BrowserStores`, keyed by the browser's cookie, :mod:`qa.browser_id`, or
else a random ``browser`` id kept in the store) before it is shown and saved again.

>>> store = new_store()
>>> store, first = new_chat(store)
>>> [title for title, _ in choices(save(store, [{"role": "user", "content": "Who won?"}], [None]))]
['Who won?']
"""

from __future__ import annotations

import copy
import re
import secrets
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from qa.chat import message_text
from qa.conversation import Turn
from qa.types import answer_from_dict

#: conversations kept; the oldest go first
MAX_CHATS = 20
#: longest conversation title shown
TITLE_CHARS = 48
UNTITLED = "New chat"


def new_store() -> dict[str, Any]:
    return {"current": "", "order": [], "chats": {}}


def valid(store: Any) -> dict[str, Any]:
    """``store`` if it has the store's shape (what the browser sends back), else a new one."""
    if (isinstance(store, dict) and isinstance(store.get("chats"), dict) and isinstance(store.get("order"), list)
            and all(isinstance(c, dict) for c in store["chats"].values())):
        out = copy.deepcopy(store)
        out["order"] = [i for i in out["order"] if i in out["chats"]]
        if not (isinstance(out.get("browser"), str) and _BROWSER_ID.fullmatch(out["browser"])):
            out.pop("browser", None)
        return out
    return new_store()


_BROWSER_ID = re.compile(r"[0-9a-f]{32}")


def _updated(chat: dict[str, Any]) -> float:
    t = chat.get("updated")
    return float(t) if isinstance(t, (int, float)) and not isinstance(t, bool) else 0.0


def _said(chat: dict[str, Any]) -> list[tuple[Any, str]]:
    return [(m.get("role"), message_text(m)) for m in chat.get("messages") or [] if isinstance(m, dict)]


def merge(seen: Any, tab: Any, page: str | None = None) -> dict[str, Any]:
    """``tab``'s store with the conversations of ``seen`` (another tab's, saved meanwhile) added: of
    a conversation both hold, the one updated last; newest first, :data:`MAX_CHATS` kept; the tab's
    current conversation stays current. When another page (``page``: the saving page's id) went on
    with the tab's current conversation differently (a duplicated tab, or two tabs on one
    conversation), neither is lost: the tab's version goes on as a conversation of its own."""
    seen, tab = valid(seen), valid(tab)
    chats = dict(seen["chats"])
    for cid, chat in tab["chats"].items():
        old = chats.get(cid)
        if old is not None and cid == tab.get("current") and page and old.get("page") not in (None, page):
            mine, theirs = _said(chat), _said(old)
            if mine[:len(theirs)] != theirs and theirs[:len(mine)] != mine:  # both went on from a common start
                cid = uuid.uuid4().hex[:12]
                tab["current"] = cid
                old = None
        if old is None or _updated(chat) >= _updated(old):
            chats[cid] = {**chat, "page": page} if page and cid == tab.get("current") else chat
    # an empty "New chat" is kept only as the tab's own current one (each new tab makes one)
    chats = {cid: c for cid, c in chats.items() if c.get("messages") or cid == tab.get("current")}
    order = sorted(chats, key=lambda cid: -_updated(chats[cid]))[:MAX_CHATS]
    out = {**tab, "chats": {cid: chats[cid] for cid in order}, "order": order}
    if out.get("current") not in out["chats"]:
        out["current"] = order[0] if order else ""
    return out


class BrowserStores:
    """The latest store the server saw from each browser (by its ``browser`` id; the most recent
    :attr:`limit` browsers, in memory only): what :func:`merge` adds to a tab's copy."""

    def __init__(self, limit: int = 256):
        self.limit = limit
        self._stores: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def merged(self, store: Any, browser: str | None = None, page: str | None = None) -> dict[str, Any]:
        """``store`` merged with its browser's latest, then kept as that browser's latest. The browser
        is ``browser`` (its cookie, :mod:`qa.browser_id`), else the id kept in the store (a store
        without one gets a new one); ``page`` is the saving page's id (see :func:`merge`)."""
        store = valid(store)
        browser = browser or store.setdefault("browser", secrets.token_hex(16))
        with self._lock:
            out = merge(self._stores.get(browser), store, page)
            self._stores[browser] = out
            self._stores.move_to_end(browser)
            while len(self._stores) > self.limit:
                self._stores.popitem(last=False)
        return out


def new_chat(store: Any, reuse: bool = True) -> tuple[dict[str, Any], str]:
    """A new, empty conversation, made current (an empty current one is reused, unless ``reuse``
    is False: a new tab's, which another tab may have open)."""
    store = valid(store)
    cur = store["chats"].get(store.get("current", ""))
    if reuse and cur is not None and not cur.get("messages"):
        return store, store["current"]
    cid = uuid.uuid4().hex[:12]
    store["chats"][cid] = {"title": UNTITLED, "messages": [], "turns": [], "updated": time.time()}
    store["order"].insert(0, cid)
    store["current"] = cid
    for old in store["order"][MAX_CHATS:]:
        store["chats"].pop(old, None)
    store["order"] = store["order"][:MAX_CHATS]
    return store, cid


def current(store: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The store and its current conversation (one is made if there is none)."""
    store = valid(store)
    if store.get("current") not in store["chats"]:
        store, _ = new_chat(store)
    return store, store["chats"][store["current"]]


def switch(store: Any, cid: Any) -> dict[str, Any]:
    store = valid(store)
    if isinstance(cid, str) and cid in store["chats"]:
        store["current"] = cid
    return store


def _title(messages: Sequence[Any]) -> str:
    for m in messages:
        if isinstance(m, dict) and m.get("role") == "user" and message_text(m).strip():
            t = " ".join(message_text(m).split())
            return t if len(t) <= TITLE_CHARS else t[:TITLE_CHARS].rsplit(" ", 1)[0] + "…"
    return UNTITLED


def save(store: Any, messages: Any, turns: Sequence[Turn | None]) -> dict[str, Any]:
    """The current conversation's messages and turns, kept (as JSON data)."""
    store, chat = current(store)
    chat["messages"] = list(messages) if isinstance(messages, list) else []
    chat["turns"] = [_kept_turn(t) if t is not None else None for t in turns]
    chat["title"] = _title(chat["messages"])
    chat["updated"] = time.time()
    return store


def _kept_turn(turn: Turn) -> dict[str, Any]:
    """``turn.to_dict()`` with only the passages its reply shows (the nearest three of a refusal,
    those a citation was quoted from): the browser's storage is small, and the reply renders the same."""
    d = turn.to_dict()
    cites = turn.answer.citations

    def shown(i: int, h: Any) -> bool:
        c = h.chunk
        return (turn.answer.refused and i < 3) or any(
            x.chunk_id == c.chunk_id or (x.doc_id == c.doc_id and c.start <= x.start and x.end <= c.end) for x in cites)

    d["answer"]["passages"] = [h.to_dict() for i, h in enumerate(turn.answer.passages) if shown(i, h)]
    return d


def turns_of(chat: dict[str, Any]) -> list[Turn | None]:
    """The typed turns of a kept conversation (one that cannot be read back counts as no answer)."""
    out: list[Turn | None] = []
    for d in chat.get("turns") or []:
        try:
            out.append(Turn(question=str(d["question"]), searched_for=str(d["searched_for"]),
                            answer=answer_from_dict(d["answer"])))
        except (KeyError, TypeError, ValueError, AttributeError):
            out.append(None)
    return out


def choices(store: Any) -> list[tuple[str, str]]:
    """(title, id) of each conversation, newest first (titles repeat: the id tells them apart)."""
    store = valid(store)
    return [(str(store["chats"][i].get("title") or UNTITLED), i) for i in store["order"]]


def rewrite_of(turns: Sequence[Turn | None]) -> str:
    """What the last exchange searched for, when its follow-up was rewritten; "" otherwise."""
    last = turns[-1] if turns else None
    if last is None or " ".join(last.searched_for.split()) == " ".join(last.question.split()):
        return ""
    return last.searched_for
