"""The reference's optional gzip filter, by the name its paste file uses
(``glance.api.middleware.gzip:GzipMiddleware``), so a pipeline that
names it loads. Responses are sent uncompressed; image data is already
compressed or is not worth the CPU, and JSON answers are small."""

from oslo_log import log as logging

LOG = logging.getLogger(__name__)


class GzipMiddleware:
    @classmethod
    def factory(cls, global_conf, **local_conf):
        LOG.warning('The paste pipeline names the gzip filter; responses '
                    'are sent uncompressed.')
        return lambda app: app
