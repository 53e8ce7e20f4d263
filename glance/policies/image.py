"""Rules for images, their data, tags and locations."""

from glance.policies import base

_rule = base.rule
_IMG = '/v2/images/{image_id}'
_PM_OWNER = '%s and project_id:%%(owner)s' % base.PROJECT_MEMBER
_GET_IMAGE = '%s or (role:reader and %s)' % (base.ADMIN, base.IMAGE_REACHABLE)
_DOWNLOAD = '%s or (role:member and %s)' % (base.ADMIN, base.IMAGE_REACHABLE)

rules = [
    _rule('add_image', '%s or (%s)' % (base.ADMIN, _PM_OWNER),
          'Create an image.', [('POST', '/v2/images')]),
    _rule('get_image', _GET_IMAGE,
          'Show an image. Also filters each image of a list.',
          [('GET', _IMG), ('GET', '/v2/images')]),
    _rule('get_images', base.ADMIN_OR_PROJECT_READER,
          'List images.', [('GET', '/v2/images')]),
    _rule('modify_image', base.ADMIN_OR_PROJECT_MEMBER,
          'Update an image and its tags.',
          [('PATCH', _IMG), ('PUT', _IMG + '/tags/{tag}'),
           ('DELETE', _IMG + '/tags/{tag}')]),
    _rule('publicize_image', base.ADMIN,
          'Make an image public.',
          [('POST', '/v2/images'), ('PATCH', _IMG)]),
    _rule('communitize_image', base.ADMIN_OR_PROJECT_MEMBER,
          'Make an image community.',
          [('POST', '/v2/images'), ('PATCH', _IMG)]),
    _rule('delete_image', base.ADMIN_OR_PROJECT_MEMBER,
          'Delete an image.', [('DELETE', _IMG)]),
    _rule('upload_image', base.ADMIN_OR_PROJECT_MEMBER,
          'Upload or stage image data.',
          [('PUT', _IMG + '/file'), ('PUT', _IMG + '/stage')]),
    _rule('download_image', _DOWNLOAD,
          'Download image data (a reader cannot).',
          [('GET', _IMG + '/file')]),
    _rule('download_from_store', _DOWNLOAD,
          'Download image data from stores of the caller\'s preference '
          '(?prefer=).',
          [('GET', _IMG + '/file')]),
    _rule('deactivate', base.ADMIN_OR_PROJECT_MEMBER,
          'Deactivate an image.',
          [('POST', _IMG + '/actions/deactivate')]),
    _rule('reactivate', base.ADMIN_OR_PROJECT_MEMBER,
          'Reactivate an image.',
          [('POST', _IMG + '/actions/reactivate')]),
    _rule('import_image', base.ADMIN_OR_PROJECT_MEMBER,
          'Import data into an image (glance-direct, web-download, '
          'glance-download).', [('POST', _IMG + '/import')]),
    _rule('copy_image', base.ADMIN,
          'Copy an active image to more stores (copy-image import).',
          [('POST', _IMG + '/import')]),
    _rule('get_image_location', base.ADMIN_OR_PROJECT_READER,
          'See the locations of an image (show_multiple_locations).',
          [('GET', _IMG)]),
    _rule('set_image_location', base.ADMIN_OR_PROJECT_MEMBER,
          'Set the locations of an image (show_multiple_locations).',
          [('PATCH', _IMG)]),
    _rule('delete_image_location', base.ADMIN,
          'Remove a location of an image.',
          [('PATCH', _IMG), ('DELETE', '/v2/stores/{store_id}/{image_id}')]),
    _rule('add_image_location', '%s or (%s)' % (base.SERVICE, _PM_OWNER),
          'Add a location to a queued image.',
          [('POST', _IMG + '/locations')]),
    _rule('fetch_image_location', base.SERVICE,
          'List the locations of an image.',
          [('GET', _IMG + '/locations')]),
    _rule('get_image_tasks', _GET_IMAGE,
          'List the import tasks of an image (only the caller\'s '
          'project\'s tasks are shown).',
          [('GET', _IMG + '/tasks')]),
]


def list_rules():
    return rules
