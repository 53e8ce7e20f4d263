"""WSGI entry point for operators who run their own server.

    uwsgi --http :9292 --module glance.wsgi.api:application

Configuration is found as for glance-api (glance-api.conf in ~/.glance,
~/, /etc/glance, /etc), or in the files named by OS_GLANCE_CONFIG_FILES
(comma-separated).
"""

import os

from glance.api import app

_files = os.environ.get('OS_GLANCE_CONFIG_FILES')
_argv = []
for _file in filter(None, (_files or '').split(',')):
    _argv += ['--config-file', _file]

application = app.init_application(_argv)
