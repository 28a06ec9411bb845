"""The OpenAI-compatible API: ``POST /v1/chat/completions`` (plain and ``stream: true``) and ``GET /v1/models``,
so Open WebUI, LibreChat, the ``openai`` SDK and editors' assistants can ask the assistant.

The last user message is the question and earlier user and assistant turns its history. The reply keeps
the ``[n]`` markers and ends with a *Sources* list (locator, quote, link to the page's source viewer); the
full citations also travel as ``message.citations``. Keys are the API keys of ``X-API-Key``, sent as
``Authorization: Bearer <key>``, with their audiences. Errors have OpenAI's shape (``app.py``).

Example::

    client = openai.OpenAI(base_url="http://127.0.0.1:8000/v1", api_key="<key>")
    client.chat.completions.create(model="coalition-assistant", messages=[{"role": "user", "content": "How do we join?"}])
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Request
from fastapi.responses import StreamingResponse

from assistant.audience import Audience, key_audience
from assistant.errors import BadQuestion, Unauthorized
from assistant.models import Answer, Turn
from assistant.pipeline import Assistant
from assistant.text import sentences
from assistant.web.deps import StoreDep
from assistant.web.documents import source_link
from assistant.web.limits import RateLimit, check_history
from assistant.web.openai_schemas import (
    MODEL,
    ChatCompletion,
    ChatMessage,
    ChatRequest,
    Choice,
    Coalition,
    Model,
    ModelList,
    OpenAIError,
    ReplyMessage,
    SourceCitation,
    Usage,
)

SOURCES = "\n\nSources:\n"  # where our reply's sources list begins (left out again when it comes back as history)


async def bearer_audience(request: Request, authorization: Annotated[str | None, Header()] = None,
                          x_api_key: Annotated[str | None, Header()] = None) -> Audience:
    """The caller's audience from ``Authorization: Bearer <key>`` (or ``X-API-Key``); 401 otherwise."""
    key = x_api_key
    if authorization:
        scheme, _, token = authorization.partition(" ")
        key = token.strip() if scheme.lower() == "bearer" else None
    try:
        audience = key_audience(request.app.state.settings, key)
    except Unauthorized as exc:
        raise HTTPException(401, f"{exc}: send Authorization: Bearer <key>",
                            headers={"WWW-Authenticate": "Bearer"}) from None
    request.state.audience = audience
    return audience


router = APIRouter(prefix="/v1", tags=["openai"], dependencies=[Depends(bearer_audience), RateLimit], responses={
    400: {"model": OpenAIError}, 401: {"model": OpenAIError}, 404: {"model": OpenAIError},
    413: {"model": OpenAIError}, 429: {"model": OpenAIError}, 503: {"model": OpenAIError}})


@router.get("/models", response_model=ModelList)
def models() -> ModelList:
    """The one model: the assistant."""
    return ModelList(data=[Model()])


@router.get("/models/{model_id}", response_model=Model)
def model(model_id: str) -> Model:
    if model_id != MODEL:
        raise HTTPException(404, f"The model '{model_id}' does not exist; use '{MODEL}'")
    return Model()


@router.post("/chat/completions", response_model=ChatCompletion, responses={
    200: {"content": {"text/event-stream": {}}, "description": "with stream: chat.completion.chunk events"}})
def chat_completions(body: ChatRequest, request: Request, audience: Annotated[Audience, Depends(bearer_audience)],
                     store: StoreDep) -> ChatCompletion | StreamingResponse:
    """Answer the last user message (earlier turns are its history) with cited sources."""
    _refuse_unsupported(body)
    question, history = _conversation(body.messages)
    assistant: Assistant | None = request.app.state.assistant
    if assistant is None:
        raise HTTPException(503, f"the index is not ready: {request.app.state.not_ready}")
    settings = request.app.state.settings
    check_history(history, settings)
    answer = assistant.answer(question, history=history, audience=audience)
    answer_id = store.record_answer(question.strip(), answer, channel="openai", history=history,
                                    audience=str(audience))
    base = settings.public_url or str(request.base_url)
    citations = [SourceCitation(**c.model_dump(), link=source_link(base, c)) for c in answer.citations]
    content = answer.answer + _sources(citations)
    prompt = sum(len(m.split()) for m in [question, *(t.content for t in history)])
    completion = ChatCompletion(
        id=f"chatcmpl-{answer_id}", created=int(time.time()),
        choices=[Choice(message=ReplyMessage(content=content, citations=citations))],
        usage=Usage(prompt_tokens=prompt, completion_tokens=len(content.split()),
                    total_tokens=prompt + len(content.split())),
        coalition=Coalition(answer_id=answer_id, abstained=answer.abstained, audience=str(audience)))
    if not body.stream:
        return completion
    usage = bool((body.stream_options or {}).get("include_usage"))
    return StreamingResponse(_chunks(completion, answer, usage), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


def _refuse_unsupported(body: ChatRequest) -> None:
    """What cannot be honoured is refused rather than silently ignored (a client would act on it)."""
    if body.model != MODEL:
        raise HTTPException(404, f"The model '{body.model}' does not exist; use '{MODEL}'")
    if body.tools or body.functions or body.tool_choice not in (None, "none") or body.function_call not in (None, "none"):
        raise BadQuestion("tools and function calling are not supported: the assistant answers from its documents")
    if body.n is not None and body.n != 1:
        raise BadQuestion(f"n={body.n}: only one choice (n=1) is supported")
    if body.response_format and body.response_format.get("type", "text") != "text":
        raise BadQuestion(f"response_format {body.response_format.get('type')!r} is not supported; only 'text'")
    if body.logprobs:
        raise BadQuestion("logprobs are not supported")


def _text(message: ChatMessage) -> str:
    if message.content is None or isinstance(message.content, str):
        return message.content or ""
    if any(part.type != "text" for part in message.content):
        raise BadQuestion("only text content is supported (no images, audio or files)")
    return "\n".join(part.text or "" for part in message.content)


def _conversation(messages: list[ChatMessage]) -> tuple[str, list[Turn]]:
    """(the question: the last message, a user's; the earlier user and assistant turns). System and
    developer messages are ignored: the assistant's behaviour is not the caller's to change."""
    if messages[-1].role != "user":
        raise BadQuestion(f"the last message must be the user's question, not a {messages[-1].role!r} message")
    history: list[Turn] = []
    for message in messages[:-1]:
        if message.role in ("user", "assistant"):
            text = _text(message)
            if message.role == "assistant":
                text = text.split(SOURCES, 1)[0]  # our own sources list is not part of what was said
            if text.strip():
                history.append(Turn(role=message.role, content=text))
    return _text(messages[-1]), history


def _sources(citations: list[SourceCitation]) -> str:
    if not citations:
        return ""
    lines = [f"[{c.n}] {c.locator} — “{c.quote.strip()}” ({c.link})" for c in citations]
    return SOURCES + "\n".join(lines)


def _chunks(completion: ChatCompletion, answer: Answer, usage: bool) -> Iterator[str]:
    """OpenAI's stream: a role chunk, the content a sentence at a time, the sources, then a last chunk with
    ``finish_reason`` and the citations; with ``stream_options.include_usage`` a usage chunk; ``[DONE]``."""
    head = {"id": completion.id, "object": "chat.completion.chunk", "created": completion.created, "model": MODEL}

    def chunk(delta: dict[str, object], finish: str | None = None) -> str:
        data = head | {"choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]}
        return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    text, pos = answer.answer, 0
    for _, end in sentences(text):
        yield chunk({"content": text[pos:end]})
        pos = end
    rest = completion.choices[0].message.content[pos:]
    if rest:
        yield chunk({"content": rest})
    citations = [c.model_dump() for c in completion.choices[0].message.citations]
    yield chunk({"citations": citations, "coalition": completion.coalition.model_dump()}, finish="stop")
    if usage:
        yield f"data: {json.dumps(head | {'choices': [], 'usage': completion.usage.model_dump()})}\n\n"
    yield "data: [DONE]\n\n"
