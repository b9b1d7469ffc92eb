"""Lookups every app may use; registered when the notifications app is ready (the bottom of the house)."""

import json

from django.db.models import CharField, Lookup


@CharField.register_lookup
class AnyOf(Lookup):
    """`name__any_of=[...]`: `__in` for a batch's hundreds of values, passed as one parameter.

    `__in` has Django prepare and the driver quote each value on its own (a tenth of a batch's
    time). PostgreSQL gets one array (a constant to the planner, so a filter on it is hashed even
    when a fresh table's statistics lead the planner away from the index); SQLite one JSON array.
    """

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s)", [*lhs_params, [str(value) for value in self.rhs]]
        return f"{lhs} IN (SELECT value FROM json_each(%s))", [*lhs_params, json.dumps(list(self.rhs))]
