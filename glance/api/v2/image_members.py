"""Handlers of /v2/images/{image_id}/members: image sharing.

The owner adds and removes members (projects); a member accepts or
rejects the image. Who may do what is policy (glance.policies.member);
which images may have members is the domain's (glance.domain.member).
"""

import uuid

from glance.api.v2 import images
from glance.common import exception
from glance.common import wsgi
from glance.domain import member as domain
from glance import gateway


def member_view(member):
    return {
        'created_at': images.isotime(member.created_at),
        'image_id': member.image_id,
        'member_id': member.member_id,
        'schema': '/v2/schemas/member',
        'status': member.status,
        'updated_at': images.isotime(member.updated_at),
    }


def member_repo(request, image_id):
    try:
        uuid.UUID(image_id)
    except ValueError:
        raise exception.ImageNotFound(image_id)
    return gateway.get().get_member_repo(images.context_of(request),
                                         image_id)


def _body_field(request, name):
    body = wsgi.read_json_body(request)
    if not isinstance(body, dict):
        raise exception.BadRequest('Request body must be a JSON object.')
    if name not in body:
        raise exception.BadRequest('"%s" is required in the request body.'
                                   % name)
    return body[name]


def create(request, image_id):
    member_id = _body_field(request, 'member')
    domain.check_member_id(member_id)
    member = member_repo(request, image_id).add(member_id)
    return wsgi.json_response(member_view(member))


def index(request, image_id):
    wsgi.refuse_body(request)
    members = member_repo(request, image_id).list()
    return wsgi.json_response({
        'members': [member_view(m) for m in members],
        'schema': '/v2/schemas/members',
    })


def show(request, image_id, member_id):
    wsgi.refuse_body(request)
    member = member_repo(request, image_id).get(member_id)
    return wsgi.json_response(member_view(member))


def update(request, image_id, member_id):
    status = _body_field(request, 'status')
    domain.check_status(status)
    member = member_repo(request, image_id).update_status(member_id, status)
    return wsgi.json_response(member_view(member))


def delete(request, image_id, member_id):
    wsgi.refuse_body(request)
    member_repo(request, image_id).remove(member_id)
    return wsgi.no_content()


_MEMBERS = '/v2/images/{image_id}/members'

ROUTES = [
    (_MEMBERS, 'GET', index),
    (_MEMBERS, 'POST', create),
    (_MEMBERS + '/{member_id}', 'GET', show),
    (_MEMBERS + '/{member_id}', 'PUT', update),
    (_MEMBERS + '/{member_id}', 'DELETE', delete),
]
