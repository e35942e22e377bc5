"""Every file the platform hands out (attachments, the roster, the 台账, the 会议记录) leaves through
`file_response`, with the same headers:

- `Content-Disposition: attachment` with the name as RFC 5987 `filename*=utf-8''…` when it is not
  plain ASCII (Django's `content_disposition_header`): the browser saves it, never shows it inline;
- `X-Content-Type-Options: nosniff`: the browser keeps the declared type (an uploaded text file
  holding HTML stays text);
- `Cache-Control: private, no-store`: no proxy or browser cache keeps a copy of personal data.
"""

from django.http import FileResponse, HttpResponse
from django.utils.http import content_disposition_header

from dangjian.core.uploads import OCTET_STREAM, display_name


def file_response(content, *, filename: str, content_type: str = OCTET_STREAM) -> HttpResponse:
    """`content` is bytes, or an open binary file (streamed, then closed)."""
    if isinstance(content, bytes | bytearray):
        response = HttpResponse(content, content_type=content_type)
    else:
        response = FileResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, display_name(filename))
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
