"""Rules for tasks, discovery and the cache API.

Every /v2/tasks call is first gated by tasks_api_access (admin only by
default); get_task, get_tasks, add_task and modify_task then default to
rule:default.
"""

from glance.policies import base

_rule = base.rule
# The reference's legacy defaults of these rules, which grant no more
# than the new ones.
_LEGACY_DEFAULT = ('rule:default', 'X')
_LEGACY_CACHE = ('rule:manage_image_cache', 'X')


rules = [
    _rule('tasks_api_access', base.ADMIN,
          'Gate for every /v2/tasks call.',
          [('GET', '/v2/tasks'), ('POST', '/v2/tasks'),
           ('GET', '/v2/tasks/{task_id}'),
           ('DELETE', '/v2/tasks/{task_id}')]),
    _rule('get_task', 'rule:default', 'Show a task.',
          [('GET', '/v2/tasks/{task_id}')],
          deprecated=_LEGACY_DEFAULT),
    _rule('get_tasks', 'rule:default', 'List tasks.',
          [('GET', '/v2/tasks')],
          deprecated=_LEGACY_DEFAULT),
    _rule('add_task', 'rule:default', 'Create a task.',
          [('POST', '/v2/tasks')],
          deprecated=_LEGACY_DEFAULT),
    _rule('modify_task', 'rule:default', 'Change a task.',
          [('DELETE', '/v2/tasks/{task_id}')]),
    _rule('stores_info_detail', '%s or %s' % (base.ADMIN, base.SERVICE),
          'Show the details of the stores.',
          [('GET', '/v2/info/stores/detail')],
          deprecated=(base.ADMIN, '2025.1')),
    _rule('manage_image_cache', base.ADMIN, 'Manage the image cache.',
          [('GET', '/v2/cache'), ('DELETE', '/v2/cache')]),
    _rule('cache_image', base.ADMIN, 'Cache an image.',
          [('PUT', '/v2/cache/{image_id}')],
          deprecated=_LEGACY_CACHE),
    _rule('cache_list', base.ADMIN, 'List the cache.',
          [('GET', '/v2/cache')],
          deprecated=_LEGACY_CACHE),
    _rule('cache_delete', base.ADMIN, 'Evict from the cache.',
          [('DELETE', '/v2/cache/{image_id}'), ('DELETE', '/v2/cache')],
          deprecated=_LEGACY_CACHE),
    _rule('cache_clean', base.ADMIN,
          'Remove stalled and invalid files from the cache.',
          [('POST', '/v2/cache/clean')]),
    _rule('cache_prune', base.ADMIN,
          'Prune the cache down to image_cache_max_size.',
          [('POST', '/v2/cache/prune')]),
    _rule('list_cached_nodes', base.ADMIN,
          'List the nodes that cache an image.',
          [('GET', '/v2/cache/nodes/{image_id}')]),
]


def list_rules():
    return rules
