"""A LangChain RecordManager kept in a Chroma collection, so a team's server holds it too."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from langchain_core.indexing import RecordManager

from rag.index import store

if TYPE_CHECKING:
    from chromadb.api import ClientAPI

_BATCH = 1000


class ChromaRecordManager(RecordManager):
    """Which chunk keys were written from which source file, and when.

    The records live beside the chunks (in the same embedded store or on the same server),
    so every user of a shared server sees one ledger and no local file can fall out of step.
    """

    def __init__(self, client: ClientAPI, collection_name: str) -> None:
        super().__init__(namespace=collection_name)
        self._client = client
        self._name = collection_name
        self._collection: Any = None

    def create_schema(self) -> None:
        self._collection = self._client.get_or_create_collection(self._name, embedding_function=None)

    @property
    def collection(self) -> Any:
        if self._collection is None:
            self.create_schema()
        return self._collection

    def get_time(self) -> float:
        return time.time()

    def update(
        self,
        keys: Sequence[str],
        *,
        group_ids: Sequence[str | None] | None = None,
        time_at_least: float | None = None,
    ) -> None:
        if not keys:
            return
        now = max(self.get_time(), time_at_least or 0.0)
        groups = list(group_ids) if group_ids is not None else [None] * len(keys)
        for i in range(0, len(keys), _BATCH):
            part = list(keys[i : i + _BATCH])
            # Chroma merges metadata on upsert: a refresh without a group keeps the group it had.
            metas: list[dict[str, Any]] = [
                {"updated_at": now} if g is None else {"group_id": g, "updated_at": now} for g in groups[i : i + _BATCH]
            ]
            self.collection.upsert(ids=part, embeddings=[[0.0]] * len(part), metadatas=metas)

    def exists(self, keys: Sequence[str]) -> list[bool]:
        found: set[str] = set()
        for i in range(0, len(keys), _BATCH):
            found.update(self.collection.get(ids=list(keys[i : i + _BATCH]), include=[])["ids"])
        return [k in found for k in keys]

    def list_keys(
        self,
        *,
        before: float | None = None,
        after: float | None = None,
        group_ids: Sequence[str] | None = None,
        limit: int | None = None,
    ) -> list[str]:
        clauses: list[dict[str, Any]] = []
        if before is not None:
            clauses.append({"updated_at": {"$lt": before}})
        if after is not None:
            clauses.append({"updated_at": {"$gt": after}})
        if group_ids is not None:
            clauses.append({"group_id": {"$in": list(group_ids)}})
        where: dict[str, Any] | None = None
        if len(clauses) == 1:
            where = clauses[0]
        elif clauses:
            where = {"$and": clauses}
        ids: list[str] = self.collection.get(where=where, limit=limit, include=[])["ids"]
        return ids

    def delete_keys(self, keys: Sequence[str]) -> None:
        for i in range(0, len(keys), _BATCH):
            self.collection.delete(ids=list(keys[i : i + _BATCH]))

    def groups(self) -> dict[str, set[str]]:
        """Every source with records, and the chunk keys recorded for it (one read of the whole ledger)."""
        data = store.get_all(self.collection, ["metadatas"])
        keys: dict[str, set[str]] = {}
        for key, meta in zip(data["ids"], data["metadatas"] or [], strict=True):
            keys.setdefault(str((meta or {}).get("group_id", "")), set()).add(key)
        return keys

    async def acreate_schema(self) -> None:
        self.create_schema()

    async def aget_time(self) -> float:
        return self.get_time()

    async def aupdate(
        self,
        keys: Sequence[str],
        *,
        group_ids: Sequence[str | None] | None = None,
        time_at_least: float | None = None,
    ) -> None:
        self.update(keys, group_ids=group_ids, time_at_least=time_at_least)

    async def aexists(self, keys: Sequence[str]) -> list[bool]:
        return self.exists(keys)

    async def alist_keys(
        self,
        *,
        before: float | None = None,
        after: float | None = None,
        group_ids: Sequence[str] | None = None,
        limit: int | None = None,
    ) -> list[str]:
        return self.list_keys(before=before, after=after, group_ids=group_ids, limit=limit)

    async def adelete_keys(self, keys: Sequence[str]) -> None:
        self.delete_keys(keys)
