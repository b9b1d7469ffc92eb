"""Migration operations every app may use."""

from django.db.migrations.operations import AddIndex


class AddIndexWithoutLock(AddIndex):
    """AddIndex that lets writes go on: `CREATE INDEX CONCURRENTLY` on PostgreSQL, a plain index elsewhere.

    A plain CREATE INDEX blocks every INSERT, UPDATE and DELETE on the table until it is built, minutes on a
    table of ten million messages. The migration using it must say `atomic = False` (PostgreSQL refuses a
    concurrent build inside a transaction).
    """

    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.add_index(model, self.index, concurrently=True)
        else:
            schema_editor.add_index(model, self.index)

    def database_backwards(self, app_label, schema_editor, from_state, to_state) -> None:
        model = from_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.remove_index(model, self.index, concurrently=True)
        else:
            schema_editor.remove_index(model, self.index)
