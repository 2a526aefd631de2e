"""``POST /api/v1/text/analyze``: the emotion and extreme-risk signals of one Chinese text."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

import anyio
from litestar import Request, Response, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Body

from app.domain.emotion import analyze
from app.domain.forms import N_, REQUIRED
from app.routes.api_responses import writes
from app.web import json_errors

MAX_TEXT = 20_000
ANY = {"scope": "any"}


@dataclass
class SignalOut:
    kind: str
    phrase: str
    start: int
    end: int


@dataclass
class AnalysisOut:
    emotion: str
    intensity: float
    signals: list[SignalOut] = field(default_factory=list)


TEXT_SCHEMA = {
    "type": "object",
    "required": ["text"],
    "properties": {"text": {"type": "string", "minLength": 1, "maxLength": MAX_TEXT}},
}


def validate_text(body: Any) -> tuple[str | None, dict[str, str]]:
    """The text of a request body, or a message for the ``text`` field."""
    if not isinstance(body, dict) or body.get("text") is None:
        return None, {"text": REQUIRED}
    text = body["text"]
    if not isinstance(text, str):
        return None, {"text": N_("Must be a string.")}
    if not text.strip():
        return None, {"text": REQUIRED}
    if len(text) > MAX_TEXT:
        return None, {"text": N_("Too long (at most 20,000 characters).")}
    return text, {}


TEXT_BODY = Body(
    title="TextIn",
    description='`{"text": "..."}`: up to 20,000 characters of Chinese text.',
    schema_extra=TEXT_SCHEMA,
)


@post(
    "/api/v1/text/analyze",
    opt=ANY,
    tags=["emotion"],
    status_code=200,
    responses={
        200: ResponseSpec(
            data_container=AnalysisOut, generate_examples=False, description="The analysis."
        ),
        **writes(ANY, 422),
    },
)
async def analyze_text(
    request: Request,
    data: Annotated[Any, TEXT_BODY],
) -> Response:
    """Dominant emotion (anger, anxiety, sadness, calm, satisfied), intensity 0–1 and the
    extreme-risk signals with the phrase and its offsets ``text[start:end]``."""
    text, errors = validate_text(data)
    if errors:
        return json_errors(errors)
    # off the event loop (CPU work; tens of milliseconds more if the model reads the encoder)
    result = await anyio.to_thread.run_sync(analyze, text)
    return Response(result.to_dict(), status_code=200)


ROUTES = [analyze_text]
