"""The ground floor every stage imports: the one settings object (``core.settings.Settings``).

The stages (``ingest``, ``assistant``, ``bots``) import this package; the roof, ``coalition`` (the CLI and
the ASGI entry), imports the stages. Nothing here imports a stage.
"""
