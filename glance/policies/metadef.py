"""Rules for the metadata definitions catalog (/v2/metadefs).

Everyone with the reader role may read the public namespaces and those
of their own project; every write is metadef_admin (admin only by
default). The target is the namespace (project_id = its owner,
visibility = its visibility).
"""

from oslo_policy import policy

from glance.policies import base

_rule = base.rule
_NS = '/v2/metadefs/namespaces'
_ONE_NS = _NS + '/{namespace_name}'
_OBJ = _ONE_NS + '/objects'
_PROP = _ONE_NS + '/properties'
_TAG = _ONE_NS + '/tags'
_RT = _ONE_NS + '/resource_types'

_READ = ("%s or (role:reader and (project_id:%%(project_id)s or "
         "'public':%%(visibility)s))" % base.ADMIN)
_WRITE = 'rule:metadef_admin'

rules = [
    policy.RuleDefault('metadef_default', '',
                       description='Base rule of metadef reads.'),
    policy.RuleDefault('metadef_admin', base.ADMIN,
                       description='Who may change the metadef catalog.'),

    _rule('get_metadef_namespace', _READ, 'Show a namespace.',
          [('GET', _ONE_NS)]),
    _rule('get_metadef_namespaces', base.ADMIN_OR_PROJECT_READER,
          'List namespaces.', [('GET', _NS)]),
    _rule('modify_metadef_namespace', _WRITE, 'Change a namespace.',
          [('PUT', _ONE_NS)]),
    _rule('add_metadef_namespace', _WRITE, 'Create a namespace.',
          [('POST', _NS)]),
    # Emptying a namespace of its objects or properties counts as
    # deleting part of the namespace (as in the reference).
    _rule('delete_metadef_namespace', _WRITE,
          'Delete a namespace, or all its objects or properties.',
          [('DELETE', _ONE_NS), ('DELETE', _OBJ), ('DELETE', _PROP)]),

    _rule('get_metadef_object', _READ, 'Show an object.',
          [('GET', _OBJ + '/{object_name}')]),
    _rule('get_metadef_objects', _READ, 'List the objects of a namespace.',
          [('GET', _OBJ)]),
    _rule('modify_metadef_object', _WRITE, 'Change an object.',
          [('PUT', _OBJ + '/{object_name}')]),
    _rule('add_metadef_object', _WRITE, 'Create an object.',
          [('POST', _OBJ)]),
    _rule('delete_metadef_object', _WRITE, 'Delete an object.',
          [('DELETE', _OBJ + '/{object_name}')]),

    # The target of a list is the caller's own project.
    _rule('list_metadef_resource_types', _READ,
          'List resource types.', [('GET', '/v2/metadefs/resource_types')]),
    _rule('get_metadef_resource_type', _READ,
          'List the resource type associations of a namespace.',
          [('GET', _RT)]),
    _rule('add_metadef_resource_type_association', _WRITE,
          'Associate a resource type with a namespace.',
          [('POST', _RT)]),
    _rule('remove_metadef_resource_type_association', _WRITE,
          'Remove a resource type association.',
          [('DELETE', _RT + '/{name}')]),

    _rule('get_metadef_property', _READ, 'Show a property.',
          [('GET', _PROP + '/{property_name}')]),
    _rule('get_metadef_properties', _READ,
          'List the properties of a namespace.', [('GET', _PROP)]),
    _rule('modify_metadef_property', _WRITE, 'Change a property.',
          [('PUT', _PROP + '/{property_name}')]),
    _rule('add_metadef_property', _WRITE, 'Create a property.',
          [('POST', _PROP)]),
    _rule('remove_metadef_property', _WRITE, 'Delete a property.',
          [('DELETE', _PROP + '/{property_name}')]),

    _rule('get_metadef_tag', _READ, 'Show a tag.',
          [('GET', _TAG + '/{tag_name}')]),
    _rule('get_metadef_tags', _READ, 'List the tags of a namespace.',
          [('GET', _TAG)]),
    _rule('modify_metadef_tag', _WRITE, 'Change a tag.',
          [('PUT', _TAG + '/{tag_name}')]),
    _rule('add_metadef_tag', _WRITE, 'Create a tag.',
          [('POST', _TAG + '/{tag_name}')]),
    _rule('add_metadef_tags', _WRITE, 'Create tags in bulk.',
          [('POST', _TAG)]),
    _rule('delete_metadef_tag', _WRITE, 'Delete a tag.',
          [('DELETE', _TAG + '/{tag_name}')]),
    _rule('delete_metadef_tags', _WRITE, 'Delete all tags of a namespace.',
          [('DELETE', _TAG)]),
]


def list_rules():
    return rules
