"""``coalition serve``: the web app (API, chat page, and Slack's HTTP endpoint when configured)."""

from __future__ import annotations

import click

from coalition.cli.base import load_settings, main


@main.command()
@click.option("--host", default=None, help="Address to bind (default COALITION_HOST, 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Port (default COALITION_PORT, 8000).")
@click.option("--reload", is_flag=True, help="Restart when the code changes (development).")
def serve(host: str | None, port: int | None, reload: bool) -> None:
    """Serve the chat page at / and the API (OpenAPI at /docs); the index loads once at start-up.

    \b
    Example:
        coalition serve                      # http://127.0.0.1:8000
        COALITION_API_KEY=... coalition serve --host 0.0.0.0 --port 8080
    """
    import uvicorn

    settings = load_settings()
    host, port = host or settings.host, port or settings.port
    click.echo(f"Coalition Assistant on http://{host}:{port}  (API docs: /docs)", err=True)
    if reload:
        uvicorn.run("coalition.asgi:app", host=host, port=port, reload=True, log_level="info")
        return
    from coalition.asgi import build

    uvicorn.run(build(settings), host=host, port=port, log_level="info", access_log=False)
