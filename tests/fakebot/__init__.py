"""A fake Telegram Bot API server and a Bot API request validator for end-to-end tests."""

from . import apispec
from .apispec import (
    SPEC_PATH,
    ApiSpec,
    ParsedText,
    assert_requests_valid,
    load_spec,
    parse_html,
    parse_text,
    require_api_spec,
    spec_available,
    validate_request,
    validate_requests,
)
from .server import (
    DEFAULT_TOKEN,
    ApiError,
    BotMessage,
    FakeBotApi,
    FakeUser,
    Request,
    StoredFile,
    polling,
)

__all__ = [
    "DEFAULT_TOKEN",
    "SPEC_PATH",
    "ApiError",
    "ApiSpec",
    "BotMessage",
    "FakeBotApi",
    "FakeUser",
    "ParsedText",
    "Request",
    "StoredFile",
    "apispec",
    "assert_requests_valid",
    "load_spec",
    "parse_html",
    "parse_text",
    "polling",
    "require_api_spec",
    "spec_available",
    "validate_request",
    "validate_requests",
]
