"""Errors the service raises, each carrying the HTTP status it becomes.

The domain and the data layers raise these; only glance.common.wsgi turns
them into responses, so no layer below the API needs to know about HTTP
beyond the status number a kind of failure maps to.
"""


class GlanceError(Exception):
    code = 500
    title = 'Internal Server Error'
    default_message = 'An unexpected error occurred.'

    def __init__(self, message=None, headers=None):
        self.message = message or self.default_message
        self.headers = headers or {}
        super().__init__(self.message)


class BadRequest(GlanceError):
    code = 400
    title = 'Bad Request'
    default_message = 'The request is not valid.'


class Unauthorized(GlanceError):
    code = 401
    title = 'Unauthorized'
    default_message = 'Authentication is required.'


class Forbidden(GlanceError):
    code = 403
    title = 'Forbidden'
    default_message = 'You are not authorized to complete this action.'


class NotFound(GlanceError):
    code = 404
    title = 'Not Found'
    default_message = 'The resource could not be found.'


class MethodNotAllowed(GlanceError):
    code = 405
    title = 'Method Not Allowed'
    default_message = 'The method is not allowed for this resource.'


class Conflict(GlanceError):
    code = 409
    title = 'Conflict'
    default_message = 'The request conflicts with the current state.'


class Gone(GlanceError):
    code = 410
    title = 'Gone'
    default_message = 'The resource is gone.'


class LimitExceeded(GlanceError):
    code = 413
    title = 'Request Entity Too Large'
    default_message = 'The request exceeds a limit.'


class UnsupportedMediaType(GlanceError):
    code = 415
    title = 'Unsupported Media Type'
    default_message = 'The media type is not supported.'


class RangeNotSatisfiable(GlanceError):
    code = 416
    title = 'Requested Range Not Satisfiable'
    default_message = 'The requested range cannot be satisfied.'


class HeaderTooLarge(GlanceError):
    code = 431
    title = 'Request Header Fields Too Large'
    default_message = 'A request header is too large.'


class ServiceUnavailable(GlanceError):
    code = 503
    title = 'Service Unavailable'
    default_message = 'The service is unavailable; try again later.'


# Names that say what went wrong; the status comes from the parent.

class ImageNotFound(NotFound):
    def __init__(self, image_id=None, message=None):
        super().__init__(message or 'No image found with ID %s' % image_id)


class InvalidImageStatusTransition(Conflict):
    def __init__(self, cur_status, new_status):
        super().__init__('Image status transition from %s to %s is not '
                         'allowed' % (cur_status, new_status))


class Duplicate(Conflict):
    pass


class ReadonlyProperty(Forbidden):
    def __init__(self, name):
        super().__init__("Attribute '%s' is read-only." % name)


class ReservedProperty(Forbidden):
    def __init__(self, name):
        super().__init__("Attribute '%s' is reserved." % name)


class DBRetryExhausted(ServiceUnavailable):
    default_message = 'The database is busy; try again.'
