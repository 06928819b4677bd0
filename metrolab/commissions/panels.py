"""What other apps add to a commission's page: functions `extend(user, commission)` giving
template variables. Methods adds the commission's deviations (MethodsConfig.ready)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

DetailExtender = Callable[[Any, Any], dict[str, Any]]
detail_extenders: list[DetailExtender] = []
