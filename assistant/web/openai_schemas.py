"""Bodies of the OpenAI-compatible API (``/v1``): the chat-completions request as chat clients send it,
the completion and its stream chunks as the ``openai`` SDK reads them, and OpenAI's error object."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from assistant.models import Citation

MODEL = "coalition-assistant"
CREATED = 1_764_547_200  # 2025-12-01: when the model (this assistant) was first served


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None


class ChatRequest(BaseModel):
    """``POST /v1/chat/completions``. Parameters not listed (temperature, top_p, max_tokens, stop, seed,
    user, …) are accepted and ignored: the answer is extractive and deterministic."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(description=f"'{MODEL}' (GET /v1/models)")
    messages: list[ChatMessage] = Field(min_length=1, description="The last user turn is the question; earlier "
                                                                  "user and assistant turns are its history")
    stream: bool = False
    stream_options: dict[str, Any] | None = None
    n: int | None = Field(None, description="Only 1")
    tools: list[Any] | None = Field(None, description="Not supported: refused when given")
    functions: list[Any] | None = Field(None, description="Not supported: refused when given")
    tool_choice: Any = None
    function_call: Any = None
    response_format: dict[str, Any] | None = Field(None, description="Only {'type': 'text'}")
    logprobs: bool | None = Field(None, description="Not supported: refused when true")


class ReplyMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str
    citations: list[SourceCitation] = Field(default_factory=list, description="The cited passages, numbered as "
                                                                                 "the [n] markers of the content")


class SourceCitation(Citation):
    link: str = Field("", description="The chat page's source viewer at the cited passage")


class Choice(BaseModel):
    index: int = 0
    message: ReplyMessage
    finish_reason: Literal["stop"] = "stop"
    logprobs: None = None


class Usage(BaseModel):
    """Word counts (the assistant has no tokenizer of its own), so clients that show usage show something."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class Coalition(BaseModel):
    answer_id: str = Field(description="Pass to POST /feedback")
    abstained: bool
    audience: str


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str = MODEL
    choices: list[Choice]
    usage: Usage
    coalition: Coalition


class Model(BaseModel):
    id: str = MODEL
    object: Literal["model"] = "model"
    created: int = CREATED
    owned_by: str = "global-coalition-for-social-justice"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[Model]


class ErrorBody(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class OpenAIError(BaseModel):
    """OpenAI's error shape: ``{"error": {"message", "type", "param", "code"}}``."""

    error: ErrorBody


ReplyMessage.model_rebuild()
