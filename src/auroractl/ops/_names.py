"""Shared naming for catalog objects identified by schema and name."""

from __future__ import annotations


class SchemaNamed:
    """Mixin for frozen dataclasses with ``schema`` and ``name`` fields."""

    schema: str
    name: str

    @property
    def label(self) -> str:
        """schema.name, for people."""
        return f"{self.schema}.{self.name}"

    @property
    def qualified(self) -> tuple[str, str]:
        """(schema, name), for the ``ident`` filter."""
        return (self.schema, self.name)
