"""The service's own WSGI middleware (version negotiation is in
glance.api.versions).

oslo.middleware's base class inspects the signature of process_response
on every request (inspect.getfullargspec, the costliest step of a small
request through the pipeline). Its middleware objects live as long as
the process, so the answer is cached per bound method here; what is
called, and with what, is unchanged.
"""

import functools
import inspect

from oslo_middleware import base as _oslo_middleware_base

if not hasattr(_oslo_middleware_base.getfullargspec, 'cache_info'):
    _oslo_middleware_base.getfullargspec = functools.lru_cache(maxsize=64)(
        inspect.getfullargspec)
