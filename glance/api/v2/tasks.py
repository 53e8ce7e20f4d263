"""Handlers of the legacy /v2/tasks API (admin only by default).

Every call first passes tasks_api_access, then its own rule (get_task,
get_tasks, add_task, modify_task). Only tasks of type "import" can be
created (and filtered by type, as in the reference): such a task creates
an image from image_properties and fills it from import_from, the way a
web-download import does. Tasks cannot be deleted (405): they expire
task_time_to_live hours after they finish.
"""

import urllib.parse

from oslo_config import cfg

from glance.api.v2 import images
from glance.async_ import executor
from glance.common import exception
from glance.common import url_filter
from glance.common import wsgi
from glance.db import tasks as db_tasks
from glance.domain import task as domain_task
from glance import gateway

CONF = cfg.CONF


def task_repo(request):
    return gateway.get().get_task_repo(images.context_of(request))


def _isotime(moment):
    return moment.strftime('%Y-%m-%dT%H:%M:%SZ') if moment else None


def task_view(task, stub=False):
    view = {
        'id': task.id,
        'type': task.type,
        'status': task.status,
        'owner': task.owner,
        'created_at': _isotime(task.created_at),
        'updated_at': _isotime(task.updated_at),
        'self': '/v2/tasks/%s' % task.id,
        'schema': '/v2/schemas/task',
    }
    if task.expires_at:
        view['expires_at'] = _isotime(task.expires_at)
    if not stub:
        view.update({
            'input': task.input,
            'result': task.result,
            'message': task.message,
            'image_id': task.image_id,
            'request_id': task.request_id,
            'user_id': task.user_id,
        })
    return view


def _int_param(params, name, default, maximum=None):
    value = params.get(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise exception.BadRequest('%s param must be an integer' % name)
    if number < 0:
        raise exception.BadRequest('%s param must be positive' % name)
    return min(number, maximum) if maximum else number


def index(request):
    repo = task_repo(request)
    params = request.GET
    known = {'status', 'type', 'limit', 'marker', 'sort_key', 'sort_dir'}
    status = params.get('status')
    if status is not None and status not in domain_task.STATUSES:
        raise exception.BadRequest('Invalid status value: %s' % status)
    task_type = params.get('type')
    if task_type is not None and task_type not in domain_task.LEGACY_TYPES:
        raise exception.BadRequest('Invalid type value: %s' % task_type)
    sort_key = params.get('sort_key', 'created_at')
    if sort_key not in db_tasks.SORT_KEYS:
        raise exception.BadRequest('Invalid sort_key: %s. It must be one '
                                   'of the following: %s.'
                                   % (sort_key,
                                      ', '.join(db_tasks.SORT_KEYS)))
    sort_dir = params.get('sort_dir', 'desc')
    if sort_dir not in ('asc', 'desc'):
        raise exception.BadRequest('Invalid sort direction: %s' % sort_dir)
    limit = _int_param(params, 'limit', CONF.limit_param_default,
                       CONF.api_limit_max)
    page = repo.list(status=status, task_type=task_type,
                     marker=params.get('marker'), limit=limit,
                     sort_key=sort_key, sort_dir=sort_dir)
    query = [(k, v) for k, v in params.items()
             if k in known and k != 'marker']
    urlencode = urllib.parse.urlencode
    body = {'tasks': [task_view(t, stub=True) for t in page],
            'first': '/v2/tasks' + ('?' + urlencode(query) if query else ''),
            'schema': '/v2/schemas/tasks'}
    if page and len(page) == limit:
        next_query = query + [('marker', page[-1].id)]
        body['next'] = '/v2/tasks?' + urlencode(next_query)
    return wsgi.json_response(body)


def show(request, task_id):
    wsgi.refuse_body(request)
    return wsgi.json_response(task_view(task_repo(request).get(task_id)))


def delete(request, task_id):
    task_repo(request).remove(task_id)


def _check_input(body):
    if not isinstance(body, dict):
        raise exception.BadRequest('Request body must be a JSON object.')
    unknown = set(body) - {'type', 'input'}
    if unknown:
        raise exception.BadRequest('Attribute(s) %s of a task cannot be '
                                   'set.' % ', '.join(sorted(unknown)))
    if body.get('type') not in domain_task.LEGACY_TYPES:
        raise exception.BadRequest('Invalid type value: %s'
                                   % body.get('type'))
    task_input = body.get('input')
    if not isinstance(task_input, dict):
        raise exception.BadRequest('Task input must be an object.')
    for field in ('import_from', 'import_from_format', 'image_properties'):
        if field not in task_input:
            raise exception.BadRequest("Input does not contain '%s' field"
                                       % field)
    if not isinstance(task_input['image_properties'], dict):
        raise exception.BadRequest('image_properties must be an object.')
    if task_input['import_from_format'] not in \
            CONF.image_format.disk_formats:
        raise exception.BadRequest('Invalid import_from_format %s.'
                                   % task_input['import_from_format'])
    url_filter.check(task_input['import_from'])
    return body['type'], task_input


def create(request):
    context = images.context_of(request)
    repo = task_repo(request)
    repo.check_access()
    task_type, task_input = _check_input(wsgi.read_json_body(request))
    task = domain_task.new_task(task_type, owner=context.project_id,
                                user_id=context.user_id,
                                request_id=context.request_id,
                                task_input=task_input)
    repo.add(task)
    executor.submit(task.id, context)
    return wsgi.json_response(task_view(task), status=201,
                              headers={'Location': '/v2/tasks/%s'
                                       % task.id})


ROUTES = [
    ('/v2/tasks', 'GET', index),
    ('/v2/tasks', 'POST', create),
    ('/v2/tasks/{task_id}', 'GET', show),
    ('/v2/tasks/{task_id}', 'DELETE', delete),
]
