"""Version negotiation under the name a reference paste file gives it
(``glance.api.middleware.version_negotiation:VersionNegotiationFilter``);
the filter itself is glance.api.versions.VersionNegotiation."""

from glance.api import versions

VersionNegotiationFilter = versions.VersionNegotiation
