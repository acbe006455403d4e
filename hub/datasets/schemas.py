"""marshmallow schemas of the shared-data API's request bodies and headers."""

from __future__ import annotations

import re

from marshmallow import RAISE, Schema, fields, validate

# Administrative-procedure codes (e.g. 1.001234, 2.002154.000.00.00.H12) and official ids.
HEADER_TOKEN = re.compile(r"^[A-Za-z0-9._:/\-]{1,64}$")
MAX_QUERY_BODY = 64 * 1024


class QueryBodySchema(Schema):
    """The body of POST /api/v1/datasets/{id}/query: {"params": {...}}."""

    class Meta:
        unknown = RAISE

    params = fields.Dict(
        keys=fields.String(validate=validate.Length(max=100)),
        required=True,
        error_messages={"invalid": "Must be an object."},
    )


QUERY_BODY = QueryBodySchema()
