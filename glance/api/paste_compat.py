"""The paste factories a reference glance-api-paste.ini names.

Operators keep their paste file when they move to this service. The
reference's file builds each flavor from a ``urlmap`` composite
(``glance.api:root_app_factory``) whose ``/`` is a composite that picks
its pipeline by ``[paste_deploy] flavor`` (``glance.api:pipeline_factory``),
and mounts the version document at ``/`` and the v2 application at ``/v2``.
glance.api re-exports these two factories under the reference's names;
the other names it uses live next to what they stand for
(glance.api.versions.create_resource, glance.api.v2.router.API,
glance.api.middleware.version_negotiation,
glance.api.middleware.context.UnauthenticatedContextMiddleware).
"""

from oslo_config import cfg
from paste import urlmap

CONF = cfg.CONF

DEFAULT_PIPELINE = 'default'


def root_app_factory(loader, global_conf, **local_conf):
    """A urlmap composite: each path prefix to the app it names."""
    return urlmap.urlmap_factory(loader, global_conf, **local_conf)


def pipeline_factory(loader, global_conf, **local_conf):
    """The pipeline that the configured flavor names, built bottom up.

    The composite's keys are flavors (``default`` for the empty one);
    each value is a pipeline: filter names, then the app.
    """
    flavor = CONF.paste_deploy.flavor or DEFAULT_PIPELINE
    try:
        names = local_conf[flavor].split()
    except KeyError:
        raise RuntimeError('The paste file has no pipeline for flavor %r '
                           '(it offers: %s).'
                           % (flavor, ', '.join(sorted(local_conf))))
    app = loader.get_app(names[-1])
    for name in reversed(names[:-1]):
        app = loader.get_filter(name)(app)
    return app
