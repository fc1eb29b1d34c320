"""Errors of the uploads feature."""

from __future__ import annotations

from aipaint.errors import AipaintError
from aipaint.i18n import Text


class UploadInvalid(AipaintError):
    """The file is too large, not a media file, or not a format the parameter accepts."""

    status_code = 422
    code = "invalid_upload"

    def __init__(self, reason: str, *, status_code: int = 422) -> None:
        self.reason = reason
        self.status_code = status_code
        super().__init__(Text(zh=f"文件不可用：{reason}", en=f"The file cannot be used: {reason}"))
