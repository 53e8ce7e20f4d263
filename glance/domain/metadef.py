"""Rules of the metadata definitions catalog that are not policy.

A protected namespace cannot be deleted, and nothing inside it can be
deleted either (its objects, properties, tags or resource type
associations), whoever asks: an admin first unprotects it.
"""

from glance.common import exception


def check_deletable(namespace, what=None):
    """Forbidden if namespace (a row) is protected.

    what: (kind, name) of the definition inside it to be deleted, or
    None for the namespace itself.
    """
    if not namespace.get('protected'):
        return
    if what is None:
        raise exception.Forbidden(
            'Metadata definition namespace %s is protected and cannot be '
            'deleted.' % namespace['namespace'])
    raise exception.Forbidden(
        'Metadata definition %s %s is protected and cannot be deleted.'
        % what)
