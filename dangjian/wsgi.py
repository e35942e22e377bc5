import os

from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dangjian.settings")
application = get_wsgi_application()


# The personal-data keys are checked before the first request: a server without them must not
# start (manage.py commands report the same through the system check dangjian.E010).
_key_errors = [str(message) for message in run_checks(tags=["personal_data_keys"]) if message.is_serious()]
if _key_errors:
    raise ImproperlyConfigured("; ".join(_key_errors))
