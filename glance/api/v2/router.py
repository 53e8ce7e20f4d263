"""The v2 application under the name a reference paste file gives it.

A reference paste file mounts ``glance.api.v2.router:API.factory`` at
``/v2`` of a urlmap, which moves ``/v2`` from PATH_INFO to SCRIPT_NAME.
Our router matches whole paths (``/v2/images``), so the prefix is put
back before routing.
"""

from glance.api import router

PREFIX = '/v2'


class API:
    def __init__(self):
        self.router = router.API()

    @classmethod
    def factory(cls, global_conf, **local_conf):
        return cls()

    def __call__(self, environ, start_response):
        script_name = environ.get('SCRIPT_NAME', '')
        if script_name.endswith(PREFIX):
            environ['SCRIPT_NAME'] = script_name[:-len(PREFIX)]
            environ['PATH_INFO'] = PREFIX + environ.get('PATH_INFO', '')
        return self.router(environ, start_response)
