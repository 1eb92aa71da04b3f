"""The Frictionless Data Package descriptor of the curated dataset, derived from loader.schema.

``data/datapackage.json`` is this descriptor written out (``python -m loader.datapackage >
data/datapackage.json``); a test keeps the two equal, so the published description of every CSV
column is always the one the validator and the database use.
"""

from __future__ import annotations

import json

from loader import schema
from loader.dataset import SPECS

_TYPES = {"text": "string", "integer": "integer", "decimal": "number", "number": "number", "date": "date", "boolean": "boolean"}


def descriptor() -> dict:
    resources = []
    for name, spec in SPECS.items():
        table = schema.metadata.tables[f"{schema.SCHEMA}.{name}"]
        fields = []
        for col in spec.columns:
            constraints: dict = {"required": col.required}
            if col.minimum is not None:
                constraints["minimum"] = col.minimum
            if col.kind == "decimal":
                constraints["pattern"] = r"-?[0-9]+\.[0-9]{2}"
            fields.append(
                {"name": col.name, "type": _TYPES[col.kind], "description": table.c[col.name].comment, "constraints": constraints}
            )
        foreign_keys = [
            {"fields": col.name, "reference": {"resource": col.references[0], "fields": col.references[1]}}
            for col in spec.columns
            if col.references
        ]
        resources.append(
            {
                "name": name,
                "path": spec.file_name,
                "profile": "tabular-data-resource",
                "format": "csv",
                "encoding": "utf-8",
                "description": table.comment,
                "schema": {
                    "fields": fields,
                    "primaryKey": list(spec.primary_key),
                    **({"foreignKeys": foreign_keys} if foreign_keys else {}),
                    "missingValues": [""],
                },
            }
        )
    return {
        "profile": "tabular-data-package",
        "name": "doorstroom-sv221-2024",
        "title": "Doorstroom naar het normaal economisch circuit: schriftelijke vraag nr. 221 (2 februari 2024)",
        "description": "Every printed figure of the answer to written question 221 of the Flemish Parliament, one row "
        "per printed cell, with the dimensions the document uses. Total members are coded _T. See CURATION.md.",
        "sources": [{"title": "Vlaams Parlement, schriftelijke vraag nr. 221 van 2 februari 2024", "path": "https://docs.vlaamsparlement.be/pfile?id=2042937"}],
        "resources": resources,
    }


def render() -> str:
    return json.dumps(descriptor(), ensure_ascii=False, indent=2) + "\n"


if __name__ == "__main__":
    print(render(), end="")
