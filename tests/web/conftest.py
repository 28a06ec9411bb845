from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from assistant.pipeline import Assistant
from assistant.web import create_app
from core.settings import Settings
from tests.servers import serving


@pytest.fixture(scope="session")
def base_url(web_settings: Settings, assistant: Assistant) -> Iterator[str]:
    """The real app on a real uvicorn, sharing the session's assistant."""
    with serving(create_app(web_settings, assistant)) as url:
        yield url


@pytest.fixture
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=30) as c:
        yield c


