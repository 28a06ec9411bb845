"""``coalition serve``: the web app (API, chat page, and Slack's HTTP endpoint when configured)."""

from __future__ import annotations

import os

import click

from coalition.cli.base import load_settings, main


@main.command()
@click.option("--host", default=None, help="Address to bind (default COALITION_HOST, 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Port (default COALITION_PORT, 8000).")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="Server processes sharing the port (default COALITION_WORKERS, 1); each loads the model and indexes.")
@click.option("--reload", is_flag=True, help="Restart when the code changes (development).")
def serve(host: str | None, port: int | None, workers: int | None, reload: bool) -> None:
    """Serve the chat page at / and the API (OpenAPI at /docs); the index loads once at start-up, and again
    whenever `coalition ingest` completes a new one (COALITION_RELOAD_SECONDS).

    \b
    Example:
        coalition serve                      # http://127.0.0.1:8000
        coalition serve --workers 2          # two processes on one port (memory: see the README)
        COALITION_API_KEY=... coalition serve --host 0.0.0.0 --port 8080
    """
    import uvicorn

    settings = load_settings()
    host, port = host or settings.host, port or settings.port
    workers = workers or settings.workers
    click.echo(f"Coalition Assistant on http://{host}:{port}  (API docs: /docs)"
               + (f", {workers} workers" if workers > 1 else ""), err=True)
    if reload:  # the default header limits (the protocol goes to the reloader by name)
        uvicorn.run("coalition.asgi:app", host=host, port=port, reload=True, log_level="info",
                    http="assistant.web.server:HeaderLimits")
        return
    from assistant.db import DatabaseError
    from assistant.web.server import server_config
    from bots.slack.config import SlackConfigError
    from coalition.asgi import build

    if workers > 1:
        from assistant.web.server import serve_workers

        # each worker is a fresh process that builds the app from the environment: it must see --workers
        os.environ["COALITION_WORKERS"] = str(workers)
        try:
            serve_workers(settings.model_copy(update={"workers": workers}), host, port)
        except (SlackConfigError, DatabaseError) as exc:
            raise click.ClickException(str(exc)) from None
        return
    try:
        app = build(settings)
    except (SlackConfigError, DatabaseError) as exc:
        raise click.ClickException(str(exc)) from None
    uvicorn.Server(server_config(app, settings, host, port, log_level="info", access_log=False)).run()


@main.command()
def slack() -> None:
    """Run the Slack bot in Socket Mode (no public URL needed).

    Needs SLACK_BOT_TOKEN (xoxb-…) and SLACK_APP_TOKEN (xapp-…, with connections:write). For HTTP mode
    instead, set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET and run `coalition serve`: Slack then posts
    to /slack/events.

    \b
    Example:
        SLACK_BOT_TOKEN=xoxb-… SLACK_APP_TOKEN=xapp-… coalition slack
    """
    import logging

    from assistant.errors import IndexNotReady
    from assistant.feedback import FeedbackStore
    from assistant.pipeline import Assistant
    from bots.slack.app import build_app
    from bots.slack.config import SlackConfigError, require

    settings = load_settings()
    try:
        app_token = require(settings, "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN")["SLACK_APP_TOKEN"]
        assistant = Assistant.from_settings(settings)
    except (SlackConfigError, IndexNotReady) as exc:
        raise click.ClickException(str(exc)) from None
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from assistant.db import DatabaseError

    try:
        store = FeedbackStore.from_settings(settings)
    except DatabaseError as exc:
        raise click.ClickException(str(exc)) from None
    bolt = build_app(settings, lambda: assistant, store, socket_mode=True)
    click.echo("Coalition Assistant is connecting to Slack (Socket Mode)…", err=True)
    SocketModeHandler(bolt, app_token).start()
