"""Rules for tasks, discovery and the cache API."""

from glance.policies import base

_rule = base.rule


rules = [
    _rule('tasks_api_access', base.ADMIN,
          'Gate for every /v2/tasks call.',
          [('GET', '/v2/tasks'), ('POST', '/v2/tasks'),
           ('GET', '/v2/tasks/{task_id}')]),
    _rule('get_task', 'rule:default', 'Show a task.',
          [('GET', '/v2/tasks/{task_id}')]),
    _rule('get_tasks', 'rule:default', 'List tasks.',
          [('GET', '/v2/tasks')]),
    _rule('add_task', 'rule:default', 'Create a task.',
          [('POST', '/v2/tasks')]),
    _rule('modify_task', 'rule:default', 'Change a task.',
          [('DELETE', '/v2/tasks/{task_id}')]),
    _rule('stores_info_detail', '%s or %s' % (base.ADMIN, base.SERVICE),
          'Show the details of the stores.',
          [('GET', '/v2/info/stores/detail')]),
    _rule('manage_image_cache', base.ADMIN, 'Manage the image cache.',
          [('GET', '/v2/cache'), ('DELETE', '/v2/cache')]),
    _rule('cache_image', base.ADMIN, 'Cache an image.',
          [('PUT', '/v2/cache/{image_id}')]),
    _rule('cache_list', base.ADMIN, 'List the cache.',
          [('GET', '/v2/cache')]),
    _rule('cache_delete', base.ADMIN, 'Evict from the cache.',
          [('DELETE', '/v2/cache/{image_id}'), ('DELETE', '/v2/cache')]),
]


def list_rules():
    return rules
