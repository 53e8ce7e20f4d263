"""What a task of each type does when the executor runs it."""

from oslo_config import cfg
from oslo_log import log as logging

from glance.async_.flows import api_image_import
from glance.async_.flows import import_state
from glance.async_.flows import location_import
from glance.common import exception
from glance import context as glance_context
from glance.db import tasks as db_tasks
from glance.domain import image as domain_image
from glance.domain import task as domain_task
from glance import gateway
from glance.store import backends
from glance.store import staging

CONF = cfg.CONF
LOG = logging.getLogger(__name__)


def run(task_id, context):
    """(result, message) of a task, or raise why it failed."""
    task = db_tasks.get(task_id, include_expired=True)
    if task.type == api_image_import.TASK_TYPE:
        return api_image_import.run(task, context)
    if task.type == 'import':
        return legacy_import(task, context)
    if task.type == location_import.TASK_TYPE:
        return location_import.run(task, context)
    raise exception.GlanceError('Tasks of type %s cannot be run.'
                                % task.type)


def _new_image(task):
    """The image a legacy import task fills, owned by the task's owner."""
    values = dict(task.input.get('image_properties') or {})
    values.setdefault('disk_format', task.input.get('import_from_format'))
    values.setdefault('container_format', 'bare')
    base = {k: values.pop(k) for k in list(values)
            if k in domain_image.USER_BASE}
    base.pop('owner', None)
    extra = {k: str(v) for k, v in values.items()
             if not domain_image.is_reserved_name(k) and
             k not in domain_image.READONLY and k != 'tags'}
    tags = set(values.get('tags') or ())
    image = gateway.get().image_factory.new_image(
        owner=task.owner, extra_properties=extra, tags=tags, **base)
    image.owner = task.owner
    repo = gateway.get().get_image_repo(glance_context.admin_context())
    repo.add(image)
    return image


def legacy_import(task, context):
    """The legacy "import" task: a new image filled from import_from."""
    image = _new_image(task)
    db_tasks.set_image_id(task.id, image.id)
    store = backends.default_store_id()
    marker = domain_task.Task(**{
        name: getattr(task, name) for name in domain_task.ATTRIBUTES})
    marker.image_id = image.id
    marker.input = {
        'image_id': image.id,
        'import_req': {'method': {'name': 'web-download',
                                  'uri': task.input['import_from']}},
        'backend': [store] if store else [None],
    }
    db_tasks.begin_import(marker, image.id, 'queued', 'importing', {
        import_state.IMPORT_HOST: staging.node_id()}, insert_task=False)
    try:
        api_image_import.run(marker, context)
    except Exception:
        repo = gateway.get().get_image_repo(glance_context.admin_context())
        try:
            failed = repo.get(image.id)
            failed.delete()
            repo.remove(failed)
        except exception.GlanceError:
            LOG.info('Could not delete image %s of failed task %s',
                     image.id, task.id)
        raise
    return {'image_id': image.id}, ''
