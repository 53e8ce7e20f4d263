"""Gabbi fixtures: a fresh glance-api server for each YAML file.

(And JSONPatchHandler, which lets gabbi send and read the JSON-patch
media types of PATCH /v2/images/{id} as JSON.)

A YAML file names its server in ``fixtures:``:

    GlanceServer              the defaults
    GlanceServerSmallQuotas   image_property_quota = 4, image_tag_quota = 3

``for_backend(backend, port)`` returns the fixture module handed to
gabbi for one database backend: the same fixture names, bound to that
backend and to the port the tests of that backend were built with.
"""

import sys
import types
import unittest

from gabbi import fixture
from gabbi.handlers import jsonhandler

from glance.tests.functional import server as server_lib

SMALL_QUOTAS = {'DEFAULT': {'image_property_quota': 4,
                            'image_tag_quota': 3}}


class JSONPatchHandler(jsonhandler.JSONHandler):
    """JSON, including application/openstack-images-v2.N-json-patch."""

    @staticmethod
    def accepts(content_type):
        media_type = content_type.split(';', 1)[0].strip().lower()
        return (media_type.endswith('-json-patch') or
                jsonhandler.JSONHandler.accepts(content_type))


class _ServerFixture(fixture.GabbiFixture):
    backend = 'sqlite'
    port = None
    options = None

    def start_fixture(self):
        self.server = server_lib.Server(self.backend, options=self.options,
                                        port=self.port)
        try:
            self.server.start()
        except server_lib.BackendUnavailable as e:
            self.server.cleanup()
            if server_lib.require_all_dbs():
                raise
            raise unittest.SkipTest('%s backend unavailable: %s'
                                    % (self.backend, e))
        except BaseException:
            self.server.cleanup()
            raise

    def stop_fixture(self):
        errors = self.server.log_errors()
        if errors:
            # Shown with the report of a failing test of the suite.
            sys.stdout.write('glance-api log (%s) had errors:\n%s\n'
                             % (self.backend, errors[-20000:]))
        self.server.cleanup_in_background()


def for_backend(backend, port):
    def bind(name, options=None):
        return type(name, (_ServerFixture,),
                    {'backend': backend, 'port': port, 'options': options})

    return types.SimpleNamespace(
        GlanceServer=bind('GlanceServer'),
        GlanceServerSmallQuotas=bind('GlanceServerSmallQuotas',
                                     SMALL_QUOTAS),
    )
