"""A local stand-in for Telegram's Bot API, for tests, benchmarks and ``lunchbot demo``."""

from bot.sandbox.models import ApiCall, Button, CallbackAnswer, RateLimits, SimMessage
from bot.sandbox.people import SimGroup, SimUser
from bot.sandbox.server import BotApiSandbox

__all__ = [
    "ApiCall",
    "BotApiSandbox",
    "Button",
    "CallbackAnswer",
    "RateLimits",
    "SimGroup",
    "SimMessage",
    "SimUser",
]
