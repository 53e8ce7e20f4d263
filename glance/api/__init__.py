"""The API: router, version document, middleware, v2 controllers."""

# The reference's paste files name these two factories on this package.
from glance.api.paste_compat import pipeline_factory  # noqa: F401
from glance.api.paste_compat import root_app_factory  # noqa: F401
