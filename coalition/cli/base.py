"""The ``coalition`` command group and the helpers its commands share."""

from __future__ import annotations

import click

from core.settings import Settings


def load_settings() -> Settings:
    try:
        return Settings()
    except Exception as exc:  # pydantic ValidationError: name the variable, no traceback
        raise click.ClickException(f"bad configuration: {exc}") from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="coalition-assistant")
def main() -> None:
    """Coalition Assistant: grounded, cited answers over Global Coalition for Social Justice documents."""


def parse_filters(values: tuple[str, ...]) -> dict[str, str]:
    filters: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise click.BadParameter(f"{item!r} is not key=value", param_hint="--filter")
        filters[key.strip()] = value.strip()
    return filters
