#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dangjian.settings")
    # manage.py is the developer's tool: with no SECRET_KEY in the environment it runs in
    # development mode (dev keys, DEBUG). Production serves through dangjian/wsgi.py, which has no
    # such default and refuses to start without SECRET_KEY and AUDIT_HMAC_KEY.
    if "SECRET_KEY" not in os.environ:
        os.environ.setdefault("DEBUG", "1")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
